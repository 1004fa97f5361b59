//! Which Python thread runs a call, and how a call lets the GIL go and takes
//! it back, also while the interpreter exits.

use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pyo3::marker::Ungil;
use pyo3::prelude::*;

extern "C" {
    /// CPython's identifier of the calling thread (`threading.get_ident()`).
    fn PyThread_get_thread_ident() -> std::os::raw::c_ulong;
}

/// `threading.main_thread().ident`, learnt when the module is imported.
pub static MAIN_THREAD: OnceLock<u64> = OnceLock::new();

/// Set by an `atexit` hook (registered when the module is imported): the
/// interpreter is about to finalize.
static EXITING: AtomicBool = AtomicBool::new(false);

/// When the hook ran.
static EXITED_AT: OnceLock<Instant> = OnceLock::new();

/// Threads between the end of their work without the GIL and having the GIL
/// back (see [`without_gil`]).
static TAKING_BACK: AtomicUsize = AtomicUsize::new(0);

/// Threads in a stretch of Python code the engine calls (an iterator's
/// `__next__`, a reader's `read`: see [`InPython`]).
static IN_PYTHON: AtomicUsize = AtomicUsize::new(0);

/// The longest the `atexit` hook waits for them all (a thread blocked in its
/// Python code, a generator waiting on a socket, is left where it is).
const EXIT_WAIT: Duration = Duration::from_millis(200);

/// How long after the hook a thread whose work ends waits for the interpreter
/// to finalize before it takes the GIL back after all: an `atexit` hook that
/// runs after this module's may be waiting for it.
const FINALIZE_WAIT: Duration = Duration::from_secs(1);

/// `Py_IsFinalizing` (Python 3.13 on) or `_Py_IsFinalizing` (before), found
/// when the module is imported; callable without the GIL (an atomic load).
static IS_FINALIZING: OnceLock<Option<unsafe extern "C" fn() -> c_int>> = OnceLock::new();

/// Finds [`IS_FINALIZING`] among the interpreter's symbols.
pub(crate) fn find_is_finalizing() {
    IS_FINALIZING.get_or_init(|| {
        #[cfg(unix)]
        for name in [c"Py_IsFinalizing", c"_Py_IsFinalizing"] {
            // SAFETY: a lookup in the symbols already loaded; either function takes
            // nothing and returns an int.
            let found = unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) };
            if !found.is_null() {
                return Some(unsafe {
                    std::mem::transmute::<*mut libc::c_void, unsafe extern "C" fn() -> c_int>(found)
                });
            }
        }
        None
    });
}

/// Whether the interpreter finalizes (`false` when that cannot be told).
fn finalizing() -> bool {
    match IS_FINALIZING.get() {
        // SAFETY: see `find_is_finalizing`.
        Some(Some(f)) => unsafe { f() != 0 },
        _ => false,
    }
}

/// Whether the caller is Python's main thread (asked without running Python
/// code, which would run pending signal handlers); `true` when unknown.
#[allow(clippy::useless_conversion)] // `c_ulong` is 32 bits on Windows
pub(crate) fn on_main_thread() -> bool {
    // SAFETY: a plain query of the calling thread's identifier.
    let me = u64::from(unsafe { PyThread_get_thread_ident() });
    MAIN_THREAD.get().is_none_or(|main| *main == me)
}

/// The `atexit` hook, run before the interpreter finalizes.
///
/// Up to Python 3.13, a thread other than the main one that takes the GIL back
/// once the interpreter finalizes (a daemon thread still validating at exit) is
/// ended with `pthread_exit`, whose unwinding through Rust frames dropped
/// Python objects without the GIL and crashed the process (a segfault, or an
/// abort with a pool call or a generator that let the GIL go). So the threads
/// already taking it back, or running Python code the engine called, get it
/// now (the hook lets it go for them), before the interpreter finalizes; a
/// thread whose work without the GIL ends, or that would call Python code, from
/// now on waits for the interpreter to finalize, then for good (see
/// [`wait_for_the_end`]). The main thread, which finalizes, is never stopped.
#[pyfunction]
#[pyo3(name = "_interpreter_exits")]
pub(crate) fn interpreter_exits(py: Python<'_>) {
    EXITED_AT.get_or_init(Instant::now);
    EXITING.store(true, Ordering::SeqCst);
    let busy = || TAKING_BACK.load(Ordering::SeqCst) + IN_PYTHON.load(Ordering::SeqCst) > 0;
    if !busy() {
        return;
    }
    py.allow_threads(|| {
        let start = Instant::now();
        while busy() && start.elapsed() < EXIT_WAIT {
            std::thread::sleep(Duration::from_micros(100));
        }
    });
}

/// A stretch of calls from the engine into Python code (counted for the
/// `atexit` hook while it lasts); [`InPython::check`] before each call with
/// the GIL held, [`stop_if_exiting`] before each one without it (an Arrow
/// stream's producer takes the GIL itself).
pub(crate) struct InPython;

impl InPython {
    pub(crate) fn enter() -> Self {
        IN_PYTHON.fetch_add(1, Ordering::SeqCst);
        InPython
    }

    /// Before a call into Python code: once the `atexit` hook has run, a thread
    /// other than the main one stops here (without the GIL) rather than run
    /// Python code that may let the GIL go and be ended taking it back.
    #[inline]
    pub(crate) fn check(&self, py: Python<'_>) {
        if EXITING.load(Ordering::Relaxed) && !on_main_thread() {
            IN_PYTHON.fetch_sub(1, Ordering::SeqCst);
            without_gil(py, || ());
            IN_PYTHON.fetch_add(1, Ordering::SeqCst);
        }
    }
}

impl Drop for InPython {
    fn drop(&mut self) {
        IN_PYTHON.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Without the GIL, before the engine calls what may run Python code: once the
/// `atexit` hook has run, a thread other than the main one stops here (see
/// [`wait_for_the_end`]).
pub(crate) fn stop_if_exiting() {
    if EXITING.load(Ordering::Relaxed) && !on_main_thread() {
        wait_for_the_end();
    }
}

/// Runs `f` with the GIL released; a thread other than the main one takes it
/// back only before the interpreter finalizes (see [`interpreter_exits`]).
pub(crate) fn without_gil<T: Ungil>(py: Python<'_>, f: impl Send + FnOnce() -> T) -> T {
    let out = py.allow_threads(|| {
        let out = f();
        // Counted before looking at the flag: the hook either sees this thread
        // taking the GIL back (and waits for it) or this thread sees the flag.
        TAKING_BACK.fetch_add(1, Ordering::SeqCst);
        if EXITING.load(Ordering::SeqCst) && !on_main_thread() {
            TAKING_BACK.fetch_sub(1, Ordering::SeqCst);
            wait_for_the_end();
            TAKING_BACK.fetch_add(1, Ordering::SeqCst);
        }
        out
    });
    TAKING_BACK.fetch_sub(1, Ordering::SeqCst);
    out
}

/// After the `atexit` hook: waits, without the GIL, for the interpreter to
/// finalize, and then for good (the process ends). Returns when it has not
/// begun to [`FINALIZE_WAIT`] after the hook (at once from then on).
fn wait_for_the_end() {
    let start = *EXITED_AT.get_or_init(Instant::now);
    loop {
        if finalizing() {
            loop {
                std::thread::park();
            }
        }
        if start.elapsed() >= FINALIZE_WAIT {
            return;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}
