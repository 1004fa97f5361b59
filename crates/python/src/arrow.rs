//! Arrow input: an `ArrowArrayStream` capsule (from `__arrow_c_stream__`)
//! handed to the core, which reads the records straight from the columns.

use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyCapsule, PyTuple};

use super::errors::satya_error;
use super::schema::{knobs, raw, CompiledSchema, RawProfile};
use super::sources::{Gathered, GilClock, Signals};
use super::threads::{without_gil, InPython};
use satya_adapt_core::arrow::{ArrowChunks, ArrowInputError, ArrowRunError, ArrowStream};

/// An Arrow C stream being validated: record batches read on demand.
#[pyclass(module = "satya_adapt._validator")]
pub struct ArrowSource {
    /// Behind a mutex: a pyclass is shared between threads; `None` once validated.
    chunks: Mutex<Option<ArrowChunks>>,
}

fn input_error(py: Python<'_>, e: ArrowInputError) -> PyErr {
    satya_error(py, "InputError", e.0)
}

#[pymethods]
impl ArrowSource {
    /// Takes over the stream of an `arrow_array_stream` capsule.
    #[new]
    #[pyo3(signature = (capsule, null_as_absent))]
    fn new(py: Python<'_>, capsule: &Bound<'_, PyCapsule>, null_as_absent: bool) -> PyResult<Self> {
        let name = capsule.name()?.map(|n| n.to_string_lossy().into_owned());
        if name.as_deref() != Some("arrow_array_stream") {
            return Err(PyValueError::new_err(format!(
                "`__arrow_c_stream__` must return an 'arrow_array_stream' capsule, got {name:?}"
            )));
        }
        // SAFETY: a capsule named `arrow_array_stream` holds an `ArrowArrayStream*`
        // (the Arrow PyCapsule interface); the import moves the stream out and
        // leaves it released, so the capsule's destructor frees nothing twice.
        let stream =
            unsafe { ArrowStream::from_raw(capsule.pointer()) }.map_err(|e| input_error(py, e))?;
        Ok(ArrowSource {
            chunks: Mutex::new(Some(ArrowChunks::new(Box::new(stream), null_as_absent))),
        })
    }

    /// The profile of the first non-empty record batch; `n` rows in all when known.
    #[pyo3(signature = (schema, n))]
    fn profile(
        &self,
        py: Python<'_>,
        schema: &CompiledSchema,
        n: Option<usize>,
    ) -> PyResult<RawProfile> {
        let mut guard = lock(&self.chunks)?;
        let chunks = guard.as_mut().ok_or_else(consumed)?;
        let schema = &schema.schema;
        without_gil(py, || chunks.profile(schema, n))
            .map(raw)
            .map_err(|e| input_error(py, e))
    }

    /// Validates the whole stream; the raw result tuple of `run_all`. `max_errors`: the
    /// errors built over the whole stream (the others counted); `verdicts_only`: no error
    /// built or counted, a failing row not walked for them.
    #[pyo3(signature = (schema, batch_size, micro_batch_size, threads, max_errors=None, verdicts_only=false))]
    #[allow(clippy::too_many_arguments)]
    fn validate<'py>(
        &self,
        py: Python<'py>,
        schema: &CompiledSchema,
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
        max_errors: Option<usize>,
        verdicts_only: bool,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let mut knobs = knobs(
            batch_size,
            micro_batch_size,
            threads,
            max_errors,
            verdicts_only,
        )?;
        let taken = lock(&self.chunks)?.take();
        let mut chunks = taken.ok_or_else(consumed)?;
        let schema = Arc::clone(&schema.schema);
        let mut gil = GilClock::new();
        let started = gil.restart();
        let mut signals = Signals::new();
        let mut gathered = Gathered::new(&gil);
        let (mut n_chunks, mut tasks, mut peak, mut omitted) = (0usize, 0usize, 0usize, 0usize);
        loop {
            // Reading the stream may run Python code (the producer takes the GIL).
            let python = InPython::enter();
            let next = gil.release(py, || {
                chunks.next_chunk(&schema, knobs, &mut || signals.check_released())
            });
            drop(python);
            let outcome = match next {
                Ok(Some(outcome)) => outcome,
                Ok(None) => break,
                Err(ArrowRunError::Input(e)) => return Err(input_error(py, e)),
                Err(ArrowRunError::Engine(e)) => return Err(signals.error(py, e)),
            };
            n_chunks += 1;
            tasks += outcome.tasks;
            peak = peak.max(outcome.bytes);
            omitted = omitted.saturating_add(outcome.omitted);
            // The call's error budget: what later chunks may still build.
            knobs.max_errors = knobs.max_errors.saturating_sub(outcome.errors.len());
            gathered.add(py, outcome)?;
        }
        let (valid, errors) = gathered.into_lists(py, &mut gil)?;
        let seconds = started.elapsed().as_secs_f64();
        PyTuple::new(
            py,
            [
                valid.into_any(),
                errors.into_any(),
                n_chunks.into_pyobject(py)?.into_any(),
                tasks.into_pyobject(py)?.into_any(),
                peak.into_pyobject(py)?.into_any(),
                seconds.into_pyobject(py)?.into_any(),
                0usize.into_pyobject(py)?.into_any(),
                gil.longest().into_pyobject(py)?.into_any(),
                omitted.into_pyobject(py)?.into_any(),
            ],
        )
    }
}

/// The stream, unless another thread is reading it (waiting for it, without the GIL
/// released, could deadlock with a stream that needs the GIL to read).
fn lock(chunks: &Mutex<Option<ArrowChunks>>) -> PyResult<MutexGuard<'_, Option<ArrowChunks>>> {
    match chunks.try_lock() {
        Ok(guard) => Ok(guard),
        Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
        Err(TryLockError::WouldBlock) => Err(PyValueError::new_err(
            "this Arrow stream is being read by another thread",
        )),
    }
}

fn consumed() -> PyErr {
    PyValueError::new_err("this Arrow stream was already validated")
}
