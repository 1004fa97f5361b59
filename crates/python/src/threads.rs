//! Which Python thread runs a call, and how a call lets the GIL go and takes
//! it back, also while the interpreter exits.

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

/// Threads between the end of their work without the GIL and having the GIL
/// back (see [`without_gil`]).
static TAKING_BACK: AtomicUsize = AtomicUsize::new(0);

/// The longest the `atexit` hook waits for them.
const EXIT_WAIT: Duration = Duration::from_secs(2);

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
/// abort with a pool call). So from now on such threads never take it back
/// once their work without it ends: they wait, without it, until the process
/// ends. The ones already taking it back get it now (the hook lets it go for
/// them), before the interpreter finalizes. The main thread, which finalizes,
/// is never stopped.
#[pyfunction]
#[pyo3(name = "_interpreter_exits")]
pub(crate) fn interpreter_exits(py: Python<'_>) {
    EXITING.store(true, Ordering::SeqCst);
    if TAKING_BACK.load(Ordering::SeqCst) == 0 {
        return;
    }
    py.allow_threads(|| {
        let start = Instant::now();
        while TAKING_BACK.load(Ordering::SeqCst) > 0 && start.elapsed() < EXIT_WAIT {
            std::thread::sleep(Duration::from_micros(100));
        }
    });
}

/// Runs `f` with the GIL released; a thread other than the main one takes it
/// back only before the interpreter exits (see [`interpreter_exits`]).
pub(crate) fn without_gil<T: Ungil>(py: Python<'_>, f: impl Send + FnOnce() -> T) -> T {
    let out = py.allow_threads(|| {
        let out = f();
        // Counted before looking at the flag: the hook either sees this thread
        // taking the GIL back (and waits for it) or this thread sees the flag.
        TAKING_BACK.fetch_add(1, Ordering::SeqCst);
        if EXITING.load(Ordering::SeqCst) && !on_main_thread() {
            TAKING_BACK.fetch_sub(1, Ordering::SeqCst);
            loop {
                std::thread::park();
            }
        }
        out
    });
    TAKING_BACK.fetch_sub(1, Ordering::SeqCst);
    out
}
