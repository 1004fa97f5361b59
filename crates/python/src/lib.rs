//! The PyO3 layer, the extension module `satya_adapt._validator`: converts
//! arguments, calls the core (`satya_adapt_core`), converts results back.
//! No policy and no check logic lives here.

mod arrow;
mod errors;
mod record;
mod schema;
mod sources;
mod threads;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use satya_adapt_core::{PointerError, MAX_DEPTH, READ_AHEAD_BYTES};

/// For tests: schemas compiled afterwards remember every visit of every node a reference
/// names (see the core's `check::revisit`); verdicts and errors must not change.
#[pyfunction]
#[pyo3(name = "_remember_every_visit")]
fn remember_every_visit(on: bool) {
    satya_adapt_core::remember_every_visit(on);
}

/// Builds this process's thread pool now when it has none: live verification asks
/// before its first answer that runs on more than one thread, so that the first
/// build (about 0.3 ms with its threads' start) never lands in that call's timing.
#[pyfunction]
#[pyo3(name = "_start_pool")]
fn start_pool(py: Python<'_>) -> PyResult<()> {
    threads::without_gil(py, satya_adapt_core::pool)
        .map(drop)
        .map_err(|e| errors::engine_error(py, e))
}

/// The byte range of the value `pointer` (a JSON Pointer) leads to in the JSON text
/// `data`: `ValueError` for a pointer that is not one, `InputError` for text that is
/// not one JSON value or has no value there. Read without the GIL.
#[pyfunction]
fn locate(py: Python<'_>, data: &Bound<'_, PyBytes>, pointer: &str) -> PyResult<(usize, usize)> {
    let bytes = data.as_bytes();
    match threads::without_gil(py, || satya_adapt_core::locate(bytes, pointer)) {
        Ok(range) => Ok((range.start, range.end)),
        Err(e @ PointerError::Syntax(_)) => Err(PyValueError::new_err(e.to_string())),
        Err(e) => Err(errors::satya_error(py, "InputError", e.to_string())),
    }
}

#[pymodule]
fn _validator(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<schema::CompiledSchema>()?;
    m.add_class::<errors::PyRecordError>()?;
    m.add_class::<sources::ChunkIter>()?;
    m.add_class::<arrow::ArrowSource>()?;
    m.add_function(wrap_pyfunction!(remember_every_visit, m)?)?;
    m.add_function(wrap_pyfunction!(locate, m)?)?;
    m.add_function(wrap_pyfunction!(start_pool, m)?)?;
    m.add("MAX_DEPTH", MAX_DEPTH)?;
    m.add("READ_AHEAD_BYTES", READ_AHEAD_BYTES)?;
    // Dict keys carry their kind in CPython 3.11 to 3.13 (see `record::only_exact_str_keys`).
    let sys = m.py().import("sys")?;
    let version = sys.getattr("version_info")?;
    let version: (u8, u8) = (
        version.getattr("major")?.extract()?,
        version.getattr("minor")?.extract()?,
    );
    let cpython = sys
        .getattr("implementation")?
        .getattr("name")?
        .extract::<String>()?
        == "cpython";
    let kind_known = cpython && ((3, 11)..=(3, 13)).contains(&version);
    record::DICT_KEYS_KIND.store(kind_known, std::sync::atomic::Ordering::Relaxed);
    // Ctrl-C is looked for on the main thread only (the only one that runs signal handlers).
    let main = m.py().import("threading")?.call_method0("main_thread")?;
    let _ = threads::MAIN_THREAD.set(main.getattr("ident")?.extract()?);
    // A daemon thread's call that ends while the interpreter exits must not take the GIL back.
    threads::find_is_finalizing();
    let exits = wrap_pyfunction!(threads::interpreter_exits, m)?;
    m.py()
        .import("atexit")?
        .call_method1("register", (&exits,))?;
    m.add_function(exits)?;
    // Recorded in archives' provenance: timings of a debug build mean nothing.
    m.add(
        "BUILD_PROFILE",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        },
    )?;
    Ok(())
}
