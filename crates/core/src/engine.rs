//! The batch engine: validates one chunk of at most `batch_size` records,
//! split into tasks of `micro_batch_size` records run on a pool of `threads`
//! threads (1 = no pool: the direct single-threaded path).
//!
//! Callers (the Python layer, tests) cut their input into chunks; this module
//! runs a chunk and reports what it held in flight.
//!
//! One pool serves every call: it has one thread per usable core, and a call
//! with `threads = T` keeps at most `min(T, cores)` of them busy.
//!
//! A call can be interrupted: the caller passes a hook that the engine calls on
//! the caller's thread between steps of at most [`POLL_RECORDS`] records of the
//! direct path (fewer while records are slow: [`PollSteps`]) and every
//! [`POLL_INTERVAL`] while it waits for the pool; when the hook says stop, pool
//! tasks see a flag before their next record and the call returns
//! [`EngineError::Interrupted`] once no task reads the input any more.

use std::collections::VecDeque;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rayon::{ThreadPool, ThreadPoolBuilder};

use crate::check;
use crate::error::RecordError;
use crate::fused;
use crate::json::{parse_value, JsonErrorKind};
use crate::schema::Schema;
use crate::value::{Json, Record, MAX_DEPTH};

/// A batch configuration as the engine receives it (all > 0, checked by the caller).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Knobs {
    pub batch_size: usize,
    pub micro_batch_size: usize,
    pub threads: usize,
    /// The most errors a chunk collects (`usize::MAX`: all); the rest are
    /// counted in [`ChunkOutcome::omitted`], their messages never built.
    pub max_errors: usize,
    /// The verdicts alone: no error is built or counted, and a failing record
    /// is not walked again for its errors (the fastest way to filter records).
    pub verdicts_only: bool,
}

/// What stops a chunk: the input as a whole is unusable, or the engine failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// A JSON array element that is not valid JSON; `offset` is absolute in the input.
    InvalidJson { offset: usize, message: String },
    /// A panic inside a check, caught before it reaches the caller.
    Panic(String),
    /// The thread pool could not be started.
    Pool(String),
    /// The caller's interrupt hook asked to stop.
    Interrupted,
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::InvalidJson { message, .. } => write!(f, "invalid JSON array: {message}"),
            EngineError::Panic(m) => {
                write!(f, "internal error in the validator (please report it): {m}")
            }
            EngineError::Pool(m) => write!(f, "could not start the thread pool: {m}"),
            EngineError::Interrupted => write!(f, "interrupted"),
        }
    }
}

/// The results of one chunk, indexes already global.
#[derive(Debug, Default)]
pub struct ChunkOutcome {
    pub valid: Vec<bool>,
    /// The first errors in record order, at most [`Knobs::max_errors`].
    pub errors: Vec<RecordError>,
    /// Errors found past [`Knobs::max_errors`], counted, not built.
    pub omitted: usize,
    /// Tasks run: `ceil(len / micro_batch_size)` on the pool, 1 on the direct path.
    pub tasks: usize,
    /// Bytes the engine held for this chunk (see [`ChunkOutcome::result_bytes`]).
    pub bytes: usize,
}

impl ChunkOutcome {
    /// An empty outcome with room for the verdicts of `n` records.
    pub fn for_records(n: usize) -> Self {
        ChunkOutcome {
            valid: Vec::with_capacity(n),
            ..ChunkOutcome::default()
        }
    }

    /// Bytes of the pending results themselves.
    pub fn result_bytes(&self) -> usize {
        self.valid.capacity()
            + self
                .errors
                .iter()
                .map(|e| std::mem::size_of::<RecordError>() + e.heap_bytes())
                .sum::<usize>()
    }

    /// Appends the outcome of the records that follow, keeping at most `cap`
    /// errors in all (the first ones) and counting the rest.
    pub fn append(&mut self, mut other: ChunkOutcome, cap: usize) {
        self.valid.append(&mut other.valid);
        let room = cap.saturating_sub(self.errors.len());
        if other.errors.len() > room {
            self.omitted = self.omitted.saturating_add(other.errors.len() - room);
            other.errors.truncate(room);
        }
        self.errors.append(&mut other.errors);
        self.omitted = self.omitted.saturating_add(other.omitted);
    }
}

/// One record of a byte input: where it is, and the line it started on (NDJSON).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    pub range: Range<usize>,
    pub line: usize,
}

/// What a record that is not valid JSON means.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnParseError {
    /// NDJSON: the line is one bad record (keyword `json`).
    RecordError,
    /// A JSON array: the whole input is broken.
    Fail,
}

/// Records of the direct path between two calls of the interrupt hook, at most.
pub const POLL_RECORDS: usize = 64;
/// How often the caller's thread calls the interrupt hook while it waits for the pool
/// (and the longest step of the direct path that keeps its length: [`PollSteps`]).
pub const POLL_INTERVAL: Duration = Duration::from_millis(5);

/// The records of the direct path between two calls of the interrupt hook:
/// from 1, doubling up to [`POLL_RECORDS`] while a step takes at most
/// [`POLL_INTERVAL`], halving when one takes longer. Cheap records are asked
/// about every 64 as before (6 more calls at the start of a call); records of
/// 85 ms each were asked about every 64, so Ctrl-C took 2-4 s, and now after
/// each one. The steps depend on timing, the results do not.
pub struct PollSteps {
    size: usize,
    since: Instant,
}

impl PollSteps {
    pub fn new() -> Self {
        PollSteps {
            size: 1,
            since: Instant::now(),
        }
    }

    /// The length of the next step, as it starts now. Timed from here, not from
    /// where the last one ended: the poll between two steps may wait for the GIL
    /// (a thread let in under a pause budget keeps it a switch interval, 5 ms), and
    /// timed with that wait every step was slow: steps of one record, each a
    /// hand-over (3,000 small records beside a busy Python thread took 16 s).
    pub fn start(&mut self) -> usize {
        self.since = Instant::now();
        self.size
    }

    /// The length of the next step, without starting it.
    pub fn size(&self) -> usize {
        self.size
    }

    /// The step ended now: the next one's length follows its time.
    pub fn ended(&mut self) {
        let now = Instant::now();
        self.took(now.duration_since(self.since));
        self.since = now;
    }

    fn took(&mut self, time: Duration) {
        self.size = if time > POLL_INTERVAL {
            (self.size / 2).max(1)
        } else {
            (self.size * 2).min(POLL_RECORDS)
        };
    }
}

impl Default for PollSteps {
    fn default() -> Self {
        Self::new()
    }
}

/// Cores this process may run on (its CPU affinity and quota), at least 1.
pub fn usable_cores() -> usize {
    static CORES: OnceLock<usize> = OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Pool threads a call with `threads` workers keeps busy: at most one per usable core.
pub fn workers(threads: usize) -> usize {
    threads.clamp(1, usable_cores())
}

/// The stack of each thread of the pool.
const POOL_STACK_BYTES: usize = 8 << 20;

/// The one thread pool, [`usable_cores`] threads, built on first use in each
/// process.
///
/// A process forked from one that had built it (Python's `multiprocessing`
/// forks by default on Linux) holds a copy of the pool without its threads
/// (a fork copies the calling thread only): a task given to it would wait
/// forever. Such a process builds its own, and leaves the copy alone (dropping
/// it would signal threads it does not have).
pub fn pool() -> Result<Arc<ThreadPool>, EngineError> {
    static POOL: Mutex<Option<(u32, Arc<ThreadPool>)>> = Mutex::new(None);
    let pid = std::process::id();
    let mut pool = POOL.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, p)) = pool.as_ref() {
        if *owner == pid {
            return Ok(Arc::clone(p));
        }
    }
    if let Some(inherited) = pool.take() {
        std::mem::forget(inherited);
    }
    let p = ThreadPoolBuilder::new()
        .num_threads(usable_cores())
        .thread_name(|i| format!("satya-adapt-{i}"))
        // A caller's main thread has 8 MiB: as deep a walk stays on its own stack here too
        // (see `crate::stack`; reserved, not used, until a walk needs it).
        .stack_size(POOL_STACK_BYTES)
        .build()
        .map_err(|e| EngineError::Pool(e.to_string()))?;
    let p = Arc::new(p);
    *pool = Some((pid, Arc::clone(&p)));
    Ok(p)
}

/// The caller's interrupt hook: called on the caller's thread, `true` = stop.
pub type Interrupt<'a> = &'a mut dyn FnMut() -> bool;

/// Runs `f`, a panic in it becoming [`EngineError::Panic`].
fn guarded<T>(f: impl FnOnce() -> Result<T, EngineError>) -> Result<T, EngineError> {
    catch_unwind(AssertUnwindSafe(f))
        .map_err(|p| EngineError::Panic(panic_message(&*p)))
        .and_then(|r| r)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs `task` over `len` records in tasks of `micro_batch_size`, on the
/// caller's thread and `threads - 1` of the pool's (or inline for one thread,
/// in steps of [`POLL_RECORDS`], all appending to one outcome); outcomes come
/// back in record order. `task` stops early, with [`EngineError::Interrupted`],
/// once the flag it is given is set.
///
/// The caller works rather than waits: with two pool threads and the caller
/// asleep, two threads right after Python work on the caller's thread (a
/// one-thread call, or 18 ms of Python) ran 1.13-1.26 times one thread's speed
/// where they ran 1.4-1.8 back to back; with the caller as one of the two,
/// 1.47-1.62 (wide-costly JSON of `eval_live.py`, 10,000 records, three
/// processes each).
fn run_tasks<F>(
    len: usize,
    knobs: Knobs,
    interrupt: Interrupt<'_>,
    task: F,
) -> Result<ChunkOutcome, EngineError>
where
    F: Fn(Range<usize>, &AtomicBool, &mut ChunkOutcome) -> Result<(), EngineError> + Sync,
{
    if len == 0 {
        return Ok(ChunkOutcome::default());
    }
    let stop = AtomicBool::new(false);
    if knobs.threads <= 1 {
        let mut out = ChunkOutcome::for_records(len);
        let mut steps = PollSteps::new();
        let mut start = 0;
        while start < len {
            if start > 0 && interrupt() {
                return Err(EngineError::Interrupted);
            }
            let end = (start + steps.start()).min(len);
            guarded(|| task(start..end, &stop, &mut out))?;
            steps.ended();
            start = end;
        }
        out.tasks = 1;
        return Ok(out);
    }
    let m = knobs.micro_batch_size.max(1);
    let n_tasks = len.div_ceil(m);
    let pool = pool()?;
    let next = AtomicUsize::new(0);
    // The next task not taken yet, and its records (tasks are taken by any worker in turn).
    let claim = || {
        let t = next.fetch_add(1, Ordering::Relaxed);
        (t < n_tasks).then(|| (t, t * m..((t + 1) * m).min(len)))
    };
    let slots: Vec<Mutex<Option<Result<ChunkOutcome, EngineError>>>> =
        (0..n_tasks).map(|_| Mutex::new(None)).collect();
    let mut interrupted = false;
    let (done, all_done) = mpsc::channel::<()>();
    catch_unwind(AssertUnwindSafe(|| {
        pool.in_place_scope(|scope| {
            // The caller's thread is one of the workers: the pool's threads are woken for
            // the others only.
            for _ in 1..workers(knobs.threads).min(n_tasks) {
                // Each worker holds a sender: the channel closes when the last one ends.
                let done = done.clone();
                let (task, stop, claim, slots) = (&task, &stop, &claim, &slots);
                scope.spawn(move |_| {
                    let _done = done;
                    while !stop.load(Ordering::Relaxed) {
                        let Some((t, range)) = claim() else { break };
                        let outcome = guarded(|| {
                            let mut out = ChunkOutcome::for_records(range.len());
                            task(range, stop, &mut out).map(|()| out)
                        });
                        *slots[t].lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome);
                    }
                });
            }
            drop(done);
            // The caller's own tasks, in steps (as on one thread), asking the caller
            // whether to stop between two steps.
            let mut steps = PollSteps::new();
            'tasks: while !stop.load(Ordering::Relaxed) {
                let Some((t, range)) = claim() else { break };
                let mut out = ChunkOutcome::for_records(range.len());
                let mut outcome = Ok(());
                let mut start = range.start;
                while start < range.end {
                    if interrupt() {
                        interrupted = true;
                        stop.store(true, Ordering::Relaxed);
                        break 'tasks;
                    }
                    let end = (start + steps.start()).min(range.end);
                    outcome = guarded(|| task(start..end, &stop, &mut out));
                    steps.ended();
                    if outcome.is_err() {
                        break;
                    }
                    start = end;
                }
                *slots[t].lock().unwrap_or_else(|p| p.into_inner()) = Some(outcome.map(|()| out));
            }
            // Wait for the workers, asking the caller whether to stop meanwhile.
            while let Err(mpsc::RecvTimeoutError::Timeout) = all_done.recv_timeout(POLL_INTERVAL) {
                if !interrupted && interrupt() {
                    interrupted = true;
                    stop.store(true, Ordering::Relaxed);
                }
            }
        });
    }))
    .map_err(|p| EngineError::Panic(panic_message(&*p)))?;
    if interrupted {
        return Err(EngineError::Interrupted);
    }
    let mut out = ChunkOutcome::for_records(len);
    for slot in slots {
        match slot.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(r) => out.append(r?, knobs.max_errors),
            None => return Err(EngineError::Panic("a task did not report".to_string())),
        }
    }
    out.tasks = n_tasks;
    Ok(out)
}

/// Checks records in place on the caller's thread (Python objects read with the
/// GIL held), calling `interrupt` between steps of at most [`POLL_RECORDS`]
/// records ([`PollSteps`]).
pub fn validate_in_place<R: Record>(
    schema: &Schema,
    records: &[R],
    first_index: usize,
    knobs: Knobs,
    interrupt: Interrupt<'_>,
) -> Result<ChunkOutcome, EngineError> {
    let mut out = ChunkOutcome {
        valid: Vec::with_capacity(records.len()),
        tasks: 1,
        ..ChunkOutcome::default()
    };
    let mut steps = PollSteps::new();
    let mut start = 0;
    while start < records.len() {
        if start > 0 && interrupt() {
            return Err(EngineError::Interrupted);
        }
        let end = (start + steps.start()).min(records.len());
        check_in_place(
            schema,
            &records[start..end],
            first_index + start,
            knobs,
            &mut out,
        )?;
        steps.ended();
        start = end;
    }
    out.bytes = out.result_bytes() + std::mem::size_of_val(records);
    Ok(out)
}

/// Checks records in place, with no interrupt, appending their verdicts and
/// errors to `out` (at most `knobs.max_errors` errors in `out`); for a caller that
/// polls between parts itself. `first_index` is the input index of `records[0]`.
pub fn check_in_place<R: Record>(
    schema: &Schema,
    records: &[R],
    first_index: usize,
    knobs: Knobs,
    out: &mut ChunkOutcome,
) -> Result<(), EngineError> {
    catch_unwind(AssertUnwindSafe(|| {
        for (i, record) in records.iter().enumerate() {
            let ok = check_record(schema, record, first_index + i, knobs, out);
            out.valid.push(ok);
        }
    }))
    .map_err(|p| EngineError::Panic(panic_message(&*p)))
}

/// Checks one record, appending its errors to `out` (at most `cap` in all),
/// and returns its verdict; `out.valid` holds the verdicts of the records
/// before it in the same task. A record inside a run of failures
/// ([`in_a_run_of_failures`]) goes straight to the collecting walk (failing
/// records come in runs: a broken producer, a file of bad rows): one walk
/// instead of [`check::is_valid`] then the collecting walk, at the cost of a
/// slower walk for a valid record that ends such a run. The verdict and the
/// errors are the same either way. With [`Knobs::verdicts_only`], the verdict
/// walk alone.
#[inline]
fn check_record<R: Record>(
    schema: &Schema,
    record: &R,
    index: usize,
    knobs: Knobs,
    out: &mut ChunkOutcome,
) -> bool {
    if knobs.verdicts_only {
        return check::is_valid(schema, record);
    }
    let (errors, omitted, cap) = (&mut out.errors, &mut out.omitted, knobs.max_errors);
    if in_a_run_of_failures(&out.valid) {
        check::collect_capped(schema, record, index, errors, cap, omitted)
    } else {
        check::validate_capped(schema, record, index, errors, cap, omitted)
    }
}

/// Verdicts looked back at for a short run of failures (see [`in_a_run_of_failures`]).
const RUN_WINDOW: usize = 64;

/// Whether the next record most likely fails, given the verdicts before it:
/// the last two failed, and none of the last [`RUN_WINDOW`] passed right after
/// a failure. Data that mixes a few failing records with valid ones (short runs)
/// would make every valid record that ends a run pay the slower collecting
/// walk; one such ending in the window turns the shortcut off.
fn in_a_run_of_failures(valid: &[bool]) -> bool {
    let [.., false, false] = valid else {
        return false;
    };
    let recent = &valid[valid.len().saturating_sub(RUN_WINDOW)..];
    // Every pair looked at, without stopping at the first ending: a loop the
    // compiler vectorizes (the stopping one measured 13% of a batch of failing
    // records, one byte at a time over the whole window for each).
    let ended = recent
        .iter()
        .zip(&recent[1..])
        .fold(false, |ended, (&before, &after)| ended | (!before & after));
    !ended
}

/// Validates records that are already Rust values: parsed JSON, or dicts taken
/// apart for the pool. `first_index` is the input index of `records[0]`.
pub fn validate_records<R: Record + Sync>(
    schema: &Schema,
    records: &[R],
    first_index: usize,
    knobs: Knobs,
    interrupt: Interrupt<'_>,
) -> Result<ChunkOutcome, EngineError> {
    let mut out = run_tasks(records.len(), knobs, interrupt, |range, stop, out| {
        check_range(range, stop, out, |i, out| {
            Ok(check_record(
                schema,
                &records[i],
                first_index + i,
                knobs,
                out,
            ))
        })
    })?;
    out.bytes = out.result_bytes() + std::mem::size_of_val(records);
    Ok(out)
}

/// Checks one task's records in order with `check_one` (its verdict, errors
/// appended to the outcome up to the call's `max_errors`, counted past it),
/// appending to `out`; stops early when the call is interrupted.
#[inline]
fn check_range(
    range: Range<usize>,
    stop: &AtomicBool,
    out: &mut ChunkOutcome,
    mut check_one: impl FnMut(usize, &mut ChunkOutcome) -> Result<bool, EngineError>,
) -> Result<(), EngineError> {
    for i in range {
        // Before every record (a relaxed load of a line no one writes until the call
        // stops): every 16, records of 85 ms each stopped 1.4 s after Ctrl-C.
        if stop.load(Ordering::Relaxed) {
            return Err(EngineError::Interrupted);
        }
        let ok = check_one(i, out)?;
        out.valid.push(ok);
    }
    Ok(())
}

type TaskReport = (usize, Result<ChunkOutcome, EngineError>, Vec<Json<'static>>);

/// Records a call first checks in place, then takes apart for the pool, to learn
/// what each costs (see [`Shares::next_piece`]).
pub const SHARES_FIRST_RECORDS: usize = 64;

/// What the caller's thread has spent on a call's tasks of Python records so far:
/// taking records apart for the pool, and checking them in place itself. A task
/// given to the pool costs the caller its taking apart and saves it its check;
/// where the first costs more (3 short strings: 0.13 us a record to take apart,
/// 0.05-0.08 to check), the pool only slows the call.
#[derive(Default, Debug)]
pub struct Shares {
    taken: Duration,
    taken_records: usize,
    checked: Duration,
    checked_records: usize,
}

impl Shares {
    /// The next piece of a task with `left` records still to run: whether it goes to
    /// the pool, and how many records it holds (the task's rest, but for the first two
    /// pieces of a call). `pool_waits`: a pool thread would find no task queued.
    ///
    /// The first [`SHARES_FIRST_RECORDS`] records are checked in place and the next
    /// as many taken apart for the pool, each side's cost measured; from then on a
    /// piece goes to the pool when it waits and taking apart has cost less per record
    /// than checking. (Before, a call's whole first task went to the pool and its second
    /// was checked in place: 20,000 Twitter statuses, tasks of 1,024, ran 10-16% slower
    /// on two threads than on one, 1-3% with the first 64 records taken apart and the
    /// rest of the task checked in place; heavy-regex records, which pay, gave the pool
    /// less of that task then, and lost 4-7%.)
    pub fn next_piece(&self, left: usize, pool_waits: bool) -> (bool, usize) {
        if self.checked_records == 0 {
            return (false, left.min(SHARES_FIRST_RECORDS));
        }
        if self.taken_records == 0 {
            return if pool_waits {
                (true, left.min(SHARES_FIRST_RECORDS))
            } else {
                (false, left)
            };
        }
        // Per record: taken / taken_records < checked / checked_records.
        let cheaper = self.taken.as_secs_f64() * (self.checked_records as f64)
            < self.checked.as_secs_f64() * (self.taken_records as f64);
        (pool_waits && cheaper, left)
    }

    /// `records` were taken apart for the pool in `spent`.
    pub fn taken(&mut self, records: usize, spent: Duration) {
        self.taken += spent;
        self.taken_records += records;
    }

    /// `records` were checked in place in `spent`.
    pub fn checked(&mut self, records: usize, spent: Duration) {
        self.checked += spent;
        self.checked_records += records;
    }
}

/// Checks a task's records (taken apart: no GIL needed), stopping when `stop` is set.
fn check_task(
    schema: &Schema,
    records: &[Json<'static>],
    first_index: usize,
    knobs: Knobs,
    stop: &AtomicBool,
) -> Result<ChunkOutcome, EngineError> {
    catch_unwind(AssertUnwindSafe(|| {
        let mut out = ChunkOutcome::for_records(records.len());
        for (i, record) in records.iter().enumerate() {
            if stop.load(Ordering::Relaxed) {
                return Err(EngineError::Interrupted);
            }
            let ok = check_record(schema, &record, first_index + i, knobs, &mut out);
            out.valid.push(ok);
        }
        Ok(out)
    }))
    .map_err(|p| EngineError::Panic(panic_message(&*p)))
    .and_then(|r| r)
}

/// A queued task: its number, its records, the input index of the first.
type QueuedTask = (usize, Vec<Json<'static>>, usize);

/// Tasks waiting for a worker, and how many workers drain them.
#[derive(Default)]
struct Queue {
    tasks: VecDeque<QueuedTask>,
    workers: usize,
}

/// Checks tasks of records on the pool while the caller prepares the next
/// ones: for Python dicts, the GIL-holding thread takes task `k + 1` apart while
/// the pool checks task `k`. Results come back in task order.
pub struct Pipeline {
    schema: Arc<Schema>,
    pool: Arc<ThreadPool>,
    /// At most this many pool threads work on this pipeline's tasks.
    max_workers: usize,
    /// What each task collects (its `max_errors`: the most errors the
    /// pipeline's outcome keeps; each task keeps as many).
    knobs: Knobs,
    queue: Arc<Mutex<Queue>>,
    stop: Arc<AtomicBool>,
    sender: mpsc::Sender<TaskReport>,
    receiver: mpsc::Receiver<TaskReport>,
    submitted: usize,
    /// Tasks queued whose outcome has not arrived yet.
    outstanding: usize,
    received: Vec<Option<Result<ChunkOutcome, EngineError>>>,
}

impl Pipeline {
    pub fn new(schema: Arc<Schema>, knobs: Knobs) -> Result<Pipeline, EngineError> {
        Pipeline::with_workers(schema, knobs, workers(knobs.threads))
    }

    /// A pipeline whose tasks at most `max_workers` (at least 1) pool threads check.
    pub fn with_workers(
        schema: Arc<Schema>,
        knobs: Knobs,
        max_workers: usize,
    ) -> Result<Pipeline, EngineError> {
        let (sender, receiver) = mpsc::channel();
        Ok(Pipeline {
            schema,
            pool: pool()?,
            max_workers: max_workers.max(1),
            knobs,
            queue: Arc::default(),
            stop: Arc::default(),
            sender,
            receiver,
            submitted: 0,
            outstanding: 0,
            received: Vec::new(),
        })
    }

    /// Queues one task: `records` are input records `first_index..`.
    ///
    /// # Safety
    /// Whatever `records` borrow (the `'static` is the caller's promise) must
    /// stay alive and unchanged until [`Pipeline::finish`] returns or the
    /// pipeline is dropped: both wait for every queued task.
    pub unsafe fn submit(&mut self, records: Vec<Json<'static>>, first_index: usize) {
        let task = self.submitted;
        self.submitted += 1;
        self.outstanding += 1;
        let mut queue = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        queue.tasks.push_back((task, records, first_index));
        if queue.workers >= self.max_workers {
            return;
        }
        queue.workers += 1;
        drop(queue);
        let knobs = self.knobs;
        let (schema, queue, stop, sender) = (
            Arc::clone(&self.schema),
            Arc::clone(&self.queue),
            Arc::clone(&self.stop),
            self.sender.clone(),
        );
        // A worker drains the queue, and ends when it finds it empty.
        self.pool.spawn(move || loop {
            let next = {
                let mut queue = queue.lock().unwrap_or_else(|p| p.into_inner());
                let next = queue.tasks.pop_front();
                if next.is_none() {
                    queue.workers -= 1;
                }
                next
            };
            let Some((task, records, first_index)) = next else {
                return;
            };
            let outcome = check_task(&schema, &records, first_index, knobs, &stop);
            let _ = sender.send((task, outcome, records));
        });
    }

    /// Tasks queued that no pool thread has started yet.
    pub fn waiting(&self) -> usize {
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .tasks
            .len()
    }

    /// Takes the next task's place with the outcome of records the caller checked
    /// itself (Python records it checked in place rather than give to the pool, see
    /// [`Shares`], or one too large to take apart): it comes out of
    /// [`Pipeline::finish`] in order among the tasks' outcomes.
    pub fn submit_checked(&mut self, outcome: ChunkOutcome) {
        let task = self.submitted;
        self.submitted += 1;
        if self.received.len() <= task {
            self.received.resize_with(task + 1, || None);
        }
        self.received[task] = Some(Ok(outcome));
    }

    /// Waits for every task and returns their outcomes in order; calls
    /// `interrupt` when it starts, after each task's report and every
    /// [`POLL_INTERVAL`] without one (the hook rate-limits itself: reports that
    /// arrive faster than the interval must not starve it).
    pub fn finish(mut self, interrupt: Interrupt<'_>) -> Result<ChunkOutcome, EngineError> {
        self.received.resize_with(self.submitted, || None);
        let mut polled = interrupt();
        // Tasks no pool thread has started are checked here rather than waited for: the
        // caller's thread is free now, and a pool thread may be sharing a busy core.
        while !polled {
            let next = self
                .queue
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .tasks
                .pop_front();
            let Some((task, records, first_index)) = next else {
                break;
            };
            let outcome = check_task(&self.schema, &records, first_index, self.knobs, &self.stop);
            self.receive((task, outcome, records));
            polled = interrupt();
        }
        while self.outstanding > 0 && !polled {
            match self.receiver.recv_timeout(POLL_INTERVAL) {
                Ok(report) => {
                    self.receive(report);
                    polled = interrupt();
                }
                Err(mpsc::RecvTimeoutError::Timeout) => polled = interrupt(),
                // Every task holds a sender until it has sent; with ours alive this
                // cannot happen, but never wait forever.
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        if polled {
            self.stop.store(true, Ordering::Relaxed);
            self.wait_all();
            return Err(EngineError::Interrupted);
        }
        let mut out = ChunkOutcome {
            tasks: self.submitted,
            ..ChunkOutcome::default()
        };
        for r in std::mem::take(&mut self.received) {
            match r {
                Some(outcome) => out.append(outcome?, self.knobs.max_errors),
                None => return Err(EngineError::Panic("a task did not report".to_string())),
            }
        }
        Ok(out)
    }

    /// Takes the reports of the tasks done so far, without waiting: the caller
    /// calls this between submits so that checked records are freed while it takes
    /// the next ones apart, whose allocations then reuse their memory (kept to the
    /// end, a call's records grew the heap by all of them and faulted its pages
    /// in again on every call).
    pub fn reclaim(&mut self) {
        while let Ok(report) = self.receiver.try_recv() {
            self.receive(report);
        }
    }

    /// Checked records come back to be freed on the caller's thread: freeing
    /// another thread's allocations contends for its malloc arena.
    fn receive(&mut self, (task, outcome, records): TaskReport) {
        self.outstanding -= 1;
        if self.received.len() <= task {
            self.received.resize_with(task + 1, || None);
        }
        self.received[task] = Some(outcome);
        drop(records);
    }

    fn wait_all(&mut self) {
        self.received.resize_with(self.submitted, || None);
        while self.outstanding > 0 {
            match self.receiver.recv() {
                Ok(report) => self.receive(report),
                Err(_) => break,
            }
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        // Tasks may still read borrowed records: tell them to stop, and wait.
        self.stop.store(true, Ordering::Relaxed);
        self.wait_all();
    }
}

/// Parses and validates the records of a byte input, each task parsing its own
/// spans: nothing but the results is built for a valid record.
pub fn validate_spans(
    schema: &Schema,
    input: &[u8],
    spans: &[Span],
    first_index: usize,
    knobs: Knobs,
    on_parse_error: OnParseError,
    interrupt: Interrupt<'_>,
) -> Result<ChunkOutcome, EngineError> {
    let cap = knobs.max_errors;
    let mut out = run_tasks(spans.len(), knobs, interrupt, |range, stop, out| {
        check_range(range, stop, out, |i, out| {
            let span = &spans[i];
            let index = first_index + i;
            let bytes = &input[span.range.clone()];
            // Inside a run of failing records (see `check_record`), straight to the
            // parse and the checks: the fused walk would only find the first failure
            // again (and it may find it late: it learns an object's size at its end).
            if !in_a_run_of_failures(&out.valid) {
                if knobs.verdicts_only {
                    // The fused walk decides most failing records too.
                    if let Some(valid) = fused::verdict(schema, bytes) {
                        return Ok(valid);
                    }
                } else if fused::is_valid(schema, bytes) {
                    return Ok(true);
                }
            }
            let full = out.errors.len() >= cap;
            let ok = match parse_value(bytes, MAX_DEPTH) {
                // The fused walk may leave an unusual valid record undecided.
                Ok(doc) if knobs.verdicts_only => check::is_valid(schema, &&doc),
                Err(e)
                    if knobs.verdicts_only
                        && (e.kind == JsonErrorKind::TooDeep
                            || on_parse_error == OnParseError::RecordError) =>
                {
                    false
                }
                // The fused walk decides every record of a static schema but
                // unusual ones: a record it did not pass most likely fails, and
                // goes straight to the collecting walk.
                Ok(doc) if !schema.dynamic => check::collect_capped(
                    schema,
                    &&doc,
                    index,
                    &mut out.errors,
                    cap,
                    &mut out.omitted,
                ),
                Ok(doc) => check_record(schema, &&doc, index, knobs, out),
                Err(e) if e.kind == JsonErrorKind::TooDeep && full => {
                    out.omitted = out.omitted.saturating_add(1);
                    false
                }
                Err(e) if e.kind == JsonErrorKind::TooDeep => {
                    out.errors.push(RecordError::new(
                        index,
                        "",
                        "depth",
                        &format!("Nesting deeper than {MAX_DEPTH} levels"),
                        "",
                    ));
                    false
                }
                Err(e) => match on_parse_error {
                    OnParseError::RecordError if full => {
                        out.omitted = out.omitted.saturating_add(1);
                        false
                    }
                    OnParseError::RecordError => {
                        out.errors.push(RecordError::new(
                            index,
                            "",
                            "json",
                            &format!("Invalid JSON on line {}: {e}", span.line + 1),
                            "",
                        ));
                        false
                    }
                    OnParseError::Fail => {
                        let offset = span.range.start + e.offset;
                        return Err(EngineError::InvalidJson {
                            offset,
                            message: format!(
                                "element {index}: {}",
                                relocate(&e.to_string(), e.offset, offset)
                            ),
                        });
                    }
                },
            };
            Ok(ok)
        })
    })?;
    out.bytes = out.result_bytes() + std::mem::size_of_val(spans);
    Ok(out)
}

/// Rewrites "at byte N" in a parser message to the offset in the whole input.
fn relocate(message: &str, local: usize, absolute: usize) -> String {
    message.replace(&format!("at byte {local}"), &format!("at byte {absolute}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::{ArrayElements, NdjsonLines};
    use crate::value::Json;

    const SCHEMA: &str = r#"{"type":"object","properties":{"a":{"type":"integer","minimum":0},"b":{"type":"string","pattern":"^x+$"}},"required":["a"]}"#;

    fn spans_of_array(input: &[u8]) -> Vec<Span> {
        ArrayElements::new(input)
            .map(|r| Span {
                range: r.unwrap(),
                line: 0,
            })
            .collect()
    }

    fn records(n: usize) -> Vec<u8> {
        let items: Vec<String> = (0..n)
            .map(|i| match i % 5 {
                0 => format!(r#"{{"a": -{i}, "b": "y"}}"#),
                1 => r#"{"b": "xx"}"#.to_string(),
                _ => format!(r#"{{"a": {i}, "b": "xxx"}}"#),
            })
            .collect();
        format!("[{}]", items.join(",")).into_bytes()
    }

    /// Knobs that collect at most `max_errors` errors with `threads` threads.
    fn collecting(threads: usize, max_errors: usize) -> Knobs {
        Knobs {
            batch_size: 1000,
            micro_batch_size: 1000,
            threads,
            max_errors,
            verdicts_only: false,
        }
    }

    #[test]
    fn results_identical_for_every_configuration() {
        let schema = Schema::from_json_text(SCHEMA).unwrap();
        let input = records(103);
        let spans = spans_of_array(&input);
        let reference = validate_spans(
            &schema,
            &input,
            &spans,
            0,
            Knobs {
                batch_size: 1000,
                micro_batch_size: 1000,
                threads: 1,
                max_errors: usize::MAX,
                verdicts_only: false,
            },
            OnParseError::Fail,
            &mut || false,
        )
        .unwrap();
        assert_eq!(reference.valid.iter().filter(|v| !**v).count(), 42);
        for threads in [1, 2, 3, 8] {
            for m in [1, 7, 64, 500] {
                let knobs = Knobs {
                    batch_size: 1000,
                    micro_batch_size: m,
                    threads,
                    max_errors: usize::MAX,
                    verdicts_only: false,
                };
                let out = validate_spans(
                    &schema,
                    &input,
                    &spans,
                    0,
                    knobs,
                    OnParseError::Fail,
                    &mut || false,
                )
                .unwrap();
                assert_eq!(out.valid, reference.valid);
                assert_eq!(out.errors, reference.errors);
                assert_eq!(
                    out.tasks,
                    if threads == 1 {
                        1
                    } else {
                        103usize.div_ceil(m)
                    }
                );
            }
        }
    }

    #[test]
    fn errors_carry_global_indexes_and_paths() {
        let schema = Schema::from_json_text(SCHEMA).unwrap();
        let input = br#"[{"a": -1, "b": "y"}]"#;
        let out = validate_spans(
            &schema,
            input,
            &spans_of_array(input),
            10,
            Knobs {
                batch_size: 1,
                micro_batch_size: 1,
                threads: 1,
                max_errors: usize::MAX,
                verdicts_only: false,
            },
            OnParseError::Fail,
            &mut || false,
        )
        .unwrap();
        assert_eq!(out.valid, vec![false]);
        let got: Vec<(usize, &str, &str, &str)> = out
            .errors
            .iter()
            .map(|e| (e.index, e.path(), e.keyword, e.message()))
            .collect();
        assert_eq!(
            got,
            vec![
                (10, "/a", "minimum", "Must be >= 0, got -1"),
                (
                    10,
                    "/b",
                    "pattern",
                    "String does not match `^x+$`, got \"y\""
                )
            ]
        );
    }

    #[test]
    fn ndjson_bad_lines_are_record_errors() {
        let schema = Schema::from_json_text(SCHEMA).unwrap();
        let input = b"{\"a\": 1}\n{\"a\": \n\n{\"a\": 2}\n";
        let spans: Vec<Span> = NdjsonLines::new(input)
            .map(|(line, range)| Span { range, line })
            .collect();
        let out = validate_spans(
            &schema,
            input,
            &spans,
            0,
            Knobs {
                batch_size: 10,
                micro_batch_size: 1,
                threads: 2,
                max_errors: usize::MAX,
                verdicts_only: false,
            },
            OnParseError::RecordError,
            &mut || false,
        )
        .unwrap();
        assert_eq!(out.valid, vec![true, false, true]);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].keyword, "json");
        assert!(
            out.errors[0]
                .message()
                .starts_with("Invalid JSON on line 2: "),
            "{}",
            out.errors[0].message()
        );
    }

    #[test]
    fn broken_array_element_fails_the_chunk() {
        let schema = Schema::from_json_text(SCHEMA).unwrap();
        let input = br#"[{"a": 1}, {"a": tru}]"#;
        let err = validate_spans(
            &schema,
            input,
            &spans_of_array(input),
            0,
            Knobs {
                batch_size: 10,
                micro_batch_size: 10,
                threads: 1,
                max_errors: usize::MAX,
                verdicts_only: false,
            },
            OnParseError::Fail,
            &mut || false,
        )
        .unwrap_err();
        assert!(matches!(err, EngineError::InvalidJson { .. }), "{err:?}");
    }

    /// Records after two failing ones skip the first walk (JSON text: the fused
    /// walk; and a record the fused walk did not pass goes straight to the
    /// collecting walk): every
    /// verdict, error and count is what checking each record on its own gives,
    /// whatever the runs of failures, the parts, the tasks and the cap.
    #[test]
    fn runs_of_failing_records_report_as_records_checked_alone() {
        let schema = Schema::from_json_text(SCHEMA).unwrap();
        let bad2 = r#"{"a": -1, "b": "y"}"#;
        let bad1 = r#"{"b": "xx"}"#;
        let good = r#"{"a": 1, "b": "xx"}"#;
        let pattern = [
            bad2, bad1, good, bad1, bad2, bad2, bad1, good, good, bad1, good, bad2, bad2, bad2,
            bad2, bad1, good, bad1, bad1, good, bad2,
        ];
        // A run first (its records skip the first walk, the fused one for JSON text,
        // and a valid record ends it), then runs too short to count.
        let run = [bad1, bad2, bad2, bad1, good];
        let texts: Vec<&str> = run
            .into_iter()
            .chain((0..3).flat_map(|_| pattern))
            .collect();
        let input = format!("[{}]", texts.join(",")).into_bytes();
        let spans = spans_of_array(&input);
        let docs: Vec<Json<'static>> = spans
            .iter()
            .map(|s| to_owned_json(&parse_value(&input[s.range.clone()], MAX_DEPTH).unwrap()))
            .collect();
        let refs: Vec<&Json> = docs.iter().collect();
        for cap in [1, 5, 17, usize::MAX] {
            // Each record alone: the first walk, then the collecting walk if it fails.
            let mut alone = ChunkOutcome::default();
            for (i, doc) in refs.iter().enumerate() {
                let ok = check::validate_capped(
                    &schema,
                    doc,
                    3 + i,
                    &mut alone.errors,
                    cap,
                    &mut alone.omitted,
                );
                alone.valid.push(ok);
            }
            assert_eq!(alone.valid.iter().filter(|v| !**v).count(), 49);
            let expected = (alone.valid.clone(), alone.errors.clone(), alone.omitted);
            if cap == usize::MAX {
                assert_eq!((expected.1.len(), expected.2), (75, 0));
            }
            let verdicts = (expected.0.clone(), Vec::new(), 0);
            for verdicts_only in [false, true] {
                let expected = if verdicts_only { &verdicts } else { &expected };
                let knobs = Knobs {
                    batch_size: 1000,
                    micro_batch_size: 1000,
                    threads: 1,
                    max_errors: cap,
                    verdicts_only,
                };
                let in_place = validate_in_place(&schema, &refs, 3, knobs, &mut || false).unwrap();
                assert_eq!(
                    &(in_place.valid, in_place.errors, in_place.omitted),
                    expected
                );
            }
            for (threads, m, verdicts_only) in [
                (1, 63, false),
                (2, 1, false),
                (2, 4, false),
                (3, 10, false),
                (1, 63, true),
                (2, 4, true),
            ] {
                let expected = if verdicts_only { &verdicts } else { &expected };
                let knobs = Knobs {
                    batch_size: 1000,
                    micro_batch_size: m,
                    threads,
                    max_errors: cap,
                    verdicts_only,
                };
                let records = validate_records(&schema, &refs, 3, knobs, &mut || false).unwrap();
                assert_eq!(&(records.valid, records.errors, records.omitted), expected);
                let spans_out = validate_spans(
                    &schema,
                    &input,
                    &spans,
                    3,
                    knobs,
                    OnParseError::Fail,
                    &mut || false,
                )
                .unwrap();
                assert_eq!(
                    &(spans_out.valid, spans_out.errors, spans_out.omitted),
                    expected
                );
            }
        }
    }

    /// `n` records of [`records`], parsed into documents that own their data.
    fn owned_records(n: usize) -> Vec<Json<'static>> {
        let input = records(n);
        spans_of_array(&input)
            .iter()
            .map(|s| parse_value(&input[s.range.clone()], MAX_DEPTH).unwrap())
            .map(|d| to_owned_json(&d))
            .collect()
    }

    #[test]
    fn pipeline_matches_direct_checks() {
        let schema = Arc::new(Schema::from_json_text(SCHEMA).unwrap());
        let docs = owned_records(57);
        let refs: Vec<&Json> = docs.iter().collect();
        let direct = validate_records(
            &schema,
            &refs,
            5,
            Knobs {
                batch_size: 57,
                micro_batch_size: 57,
                threads: 1,
                max_errors: usize::MAX,
                verdicts_only: false,
            },
            &mut || false,
        )
        .unwrap();
        for (m, reclaim) in [1, 4, 57, 100]
            .into_iter()
            .flat_map(|m| [(m, false), (m, true)])
        {
            let mut pipeline =
                Pipeline::new(Arc::clone(&schema), collecting(2, usize::MAX)).unwrap();
            for (t, task) in docs.chunks(m).enumerate() {
                // SAFETY: the documents own their data.
                unsafe { pipeline.submit(task.to_vec(), 5 + t * m) };
                if reclaim {
                    pipeline.reclaim();
                }
            }
            // Reports taken before `finish`, in whatever order the tasks ended.
            while reclaim && pipeline.outstanding > 0 {
                pipeline.reclaim();
                std::thread::yield_now();
            }
            let out = pipeline.finish(&mut || false).unwrap();
            assert_eq!(out.valid, direct.valid);
            assert_eq!(out.errors, direct.errors);
            assert_eq!(out.tasks, 57usize.div_ceil(m));
        }
        // Dropped without `finish`: waits for its tasks, never hangs.
        let mut pipeline = Pipeline::new(Arc::clone(&schema), collecting(2, usize::MAX)).unwrap();
        unsafe { pipeline.submit(docs.clone(), 0) };
        drop(pipeline);
    }

    #[test]
    fn pipeline_beside_tasks_the_caller_checked() {
        // The dicts path with several threads: one pool thread, the caller checking every
        // other task itself; `finish` checks what no pool thread has started.
        let schema = Arc::new(Schema::from_json_text(SCHEMA).unwrap());
        let docs = owned_records(57);
        let refs: Vec<&Json> = docs.iter().collect();
        let knobs = collecting(2, usize::MAX);
        let direct = validate_records(&schema, &refs, 5, knobs, &mut || false).unwrap();
        for m in [1, 4, 57] {
            let mut pipeline = Pipeline::with_workers(Arc::clone(&schema), knobs, 1).unwrap();
            for (t, task) in docs.chunks(m).enumerate() {
                if t % 2 == 1 {
                    let mut out = ChunkOutcome::for_records(task.len());
                    let task: Vec<&Json> = task.iter().collect();
                    check_in_place(&schema, &task, 5 + t * m, knobs, &mut out).unwrap();
                    pipeline.submit_checked(out);
                } else {
                    // SAFETY: the documents own their data.
                    unsafe { pipeline.submit(task.to_vec(), 5 + t * m) };
                }
            }
            assert!(pipeline.waiting() <= 57usize.div_ceil(m));
            let out = pipeline.finish(&mut || false).unwrap();
            assert_eq!(
                (out.valid, out.errors),
                (direct.valid.clone(), direct.errors.clone())
            );
            assert_eq!(out.tasks, 57usize.div_ceil(m));
        }
    }

    #[test]
    fn shares_give_the_pool_only_what_it_saves_the_caller() {
        let us = Duration::from_micros;
        let first = SHARES_FIRST_RECORDS;
        let mut shares = Shares::default();
        // A call's first records are checked here, whatever the pool does.
        assert_eq!(shares.next_piece(1024, true), (false, first));
        assert_eq!(shares.next_piece(10, false), (false, 10));
        shares.checked(first, us(96));
        // The next as many go to the pool if it waits; if it does not, the rest stays here.
        assert_eq!(shares.next_piece(960, true), (true, first));
        assert_eq!(shares.next_piece(960, false), (false, 960));
        shares.taken(first, us(32));
        // Taking apart costs 0.5 us a record, checking 1.5: the pool gets what it waits for,
        // whole pieces.
        assert_eq!(shares.next_piece(896, true), (true, 896));
        assert_eq!(shares.next_piece(1024, false), (false, 1024));
        // Checks cheaper than taking apart: nothing more goes.
        shares.checked(10_000, us(100));
        assert_eq!(shares.next_piece(1024, true), (false, 1024));
    }

    #[test]
    fn one_pool_for_every_threads_value() {
        let a = pool().unwrap();
        let b = pool().unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.current_num_threads(), usable_cores());
        assert_eq!(workers(1_000_000), usable_cores());
        assert_eq!(workers(1), 1);
    }

    #[test]
    fn direct_path_asks_every_poll_records() {
        let schema = Schema::from_json_text(SCHEMA).unwrap();
        let input = records(2 * POLL_RECORDS + 1);
        let spans = spans_of_array(&input);
        let knobs = Knobs {
            batch_size: spans.len(),
            micro_batch_size: 1,
            threads: 1,
            max_errors: usize::MAX,
            verdicts_only: false,
        };
        let mut calls = 0;
        let out = validate_spans(
            &schema,
            &input,
            &spans,
            0,
            knobs,
            OnParseError::Fail,
            &mut || {
                calls += 1;
                false
            },
        )
        .unwrap();
        // Steps of 1, 2, 4 ... 64 records, then what is left: 7 calls when no step
        // took over POLL_INTERVAL, more on a busy machine.
        assert_eq!(out.valid.len(), 2 * POLL_RECORDS + 1);
        assert!((7..=2 * POLL_RECORDS).contains(&calls), "{calls}");
        let mut calls = 0;
        let err = validate_spans(
            &schema,
            &input,
            &spans,
            0,
            knobs,
            OnParseError::Fail,
            &mut || {
                calls += 1;
                true
            },
        )
        .unwrap_err();
        assert_eq!((err, calls), (EngineError::Interrupted, 1));
        let docs: Vec<Json> = spans
            .iter()
            .map(|s| parse_value(&input[s.range.clone()], MAX_DEPTH).unwrap())
            .collect();
        let refs: Vec<&Json> = docs.iter().collect();
        let mut calls = 0;
        let err = validate_in_place(&schema, &refs, 0, collecting(1, usize::MAX), &mut || {
            calls += 1;
            calls == 2
        })
        .unwrap_err();
        assert_eq!((err, calls), (EngineError::Interrupted, 2));
    }

    #[test]
    fn poll_steps_double_while_fast_and_halve_when_slow() {
        let mut steps = PollSteps::new();
        let fast = POLL_INTERVAL / 2;
        let slow = POLL_INTERVAL * 2;
        let mut sizes = vec![steps.size()];
        for time in [fast; 8].into_iter().chain([slow; 8]).chain([fast; 2]) {
            steps.took(time);
            sizes.push(steps.size());
        }
        assert_eq!(
            sizes,
            [1, 2, 4, 8, 16, 32, 64, 64, 64, 32, 16, 8, 4, 2, 1, 1, 1, 2, 4]
        );
    }

    #[test]
    fn poll_steps_are_timed_from_their_start_not_from_the_poll_before() {
        // A poll that waited an hour for the GIL (as a hand-over to a busy thread waits a
        // switch interval) is no part of the next step's time.
        let mut steps = PollSteps::new();
        let hour = Duration::from_secs(3600);
        steps.since = Instant::now().checked_sub(hour).unwrap_or(steps.since);
        steps.start();
        assert!(steps.since.elapsed() < hour / 2);
    }

    #[test]
    fn pool_tasks_stop_when_interrupted() {
        // The caller asks between the steps of its own tasks; the pool's tasks,
        // which would not end on their own, end by the stop flag.
        let knobs = Knobs {
            batch_size: 1 << 20,
            micro_batch_size: 4 * POLL_RECORDS,
            threads: 2,
            max_errors: usize::MAX,
            verdicts_only: false,
        };
        let caller = std::thread::current().id();
        let done = AtomicUsize::new(0);
        let mut calls = 0;
        let err = run_tasks(
            1 << 20,
            knobs,
            &mut || {
                calls += 1;
                calls == 3
            },
            |range, stop, _| {
                if std::thread::current().id() == caller {
                    done.fetch_add(range.len(), Ordering::Relaxed);
                    return Ok(());
                }
                while !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(EngineError::Interrupted)
            },
        )
        .unwrap_err();
        assert_eq!((err, calls), (EngineError::Interrupted, 3));
        // Two steps of the caller's first task (1 record, then 2, or 1 again if the
        // first took over POLL_INTERVAL on a busy machine), then the third question
        // stopped it.
        assert!((2..=3).contains(&done.load(Ordering::Relaxed)));
    }

    #[test]
    fn the_caller_is_one_of_the_workers() {
        let knobs = Knobs {
            batch_size: 4096,
            micro_batch_size: 16,
            threads: 2,
            max_errors: usize::MAX,
            verdicts_only: false,
        };
        let caller = std::thread::current().id();
        let threads = Mutex::new(std::collections::HashSet::new());
        let (pool_took, caller_took) = (AtomicBool::new(false), AtomicBool::new(false));
        let out = run_tasks(4096, knobs, &mut || false, |range, _, out| {
            threads.lock().unwrap().insert(std::thread::current().id());
            // Each side, once it holds a task, waits (a bounded time, on a busy machine) for
            // the other to take one, so that neither runs through every task alone while the
            // other is descheduled.
            let (mine, theirs) = if std::thread::current().id() == caller {
                (&caller_took, &pool_took)
            } else {
                (&pool_took, &caller_took)
            };
            mine.store(true, Ordering::Relaxed);
            let start = std::time::Instant::now();
            while workers(2) > 1
                && !theirs.load(Ordering::Relaxed)
                && start.elapsed() < Duration::from_secs(30)
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            out.valid.extend(range.map(|i| i % 3 == 0));
            Ok(())
        })
        .unwrap();
        let expected: Vec<bool> = (0..4096).map(|i| i % 3 == 0).collect();
        assert_eq!(out.valid, expected);
        let threads = threads.into_inner().unwrap();
        assert!(threads.contains(&caller));
        assert_eq!(threads.len(), workers(2));
    }

    #[test]
    fn pipeline_tasks_stop_when_interrupted() {
        let schema = Arc::new(Schema::from_json_text(SCHEMA).unwrap());
        let input = records(1000);
        let doc: Vec<Json<'static>> = spans_of_array(&input)
            .iter()
            .map(|s| to_owned_json(&parse_value(&input[s.range.clone()], MAX_DEPTH).unwrap()))
            .collect();
        let mut pipeline = Pipeline::new(Arc::clone(&schema), collecting(2, usize::MAX)).unwrap();
        // The hook is asked before any task's report: interrupted at once, whatever the load.
        for t in 0..200 {
            // SAFETY: the documents own their data.
            unsafe { pipeline.submit(doc.clone(), t * 1000) };
        }
        let mut calls = 0;
        let err = pipeline
            .finish(&mut || {
                calls += 1;
                true
            })
            .unwrap_err();
        assert_eq!((err, calls), (EngineError::Interrupted, 1));
    }

    fn to_owned_json(d: &Json<'_>) -> Json<'static> {
        match d {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(*b),
            Json::Number(n) => Json::Number(n.clone()),
            Json::String(s) => Json::String(std::borrow::Cow::Owned(s.to_string())),
            Json::Array(items) => Json::Array(items.iter().map(to_owned_json).collect()),
            Json::Object(entries, keys) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| (std::borrow::Cow::Owned(k.to_string()), to_owned_json(v)))
                    .collect(),
                keys.clone(),
            ),
            other => panic!("not from the parser: {other:?}"),
        }
    }

    #[test]
    fn records_path_matches_spans_path() {
        let schema = Schema::from_json_text(SCHEMA).unwrap();
        let input = records(50);
        let spans = spans_of_array(&input);
        let docs: Vec<Json> = spans
            .iter()
            .map(|s| parse_value(&input[s.range.clone()], MAX_DEPTH).unwrap())
            .collect();
        let refs: Vec<&Json> = docs.iter().collect();
        let a = validate_records(
            &schema,
            &refs,
            0,
            Knobs {
                batch_size: 50,
                micro_batch_size: 3,
                threads: 2,
                max_errors: usize::MAX,
                verdicts_only: false,
            },
            &mut || false,
        )
        .unwrap();
        let b = validate_spans(
            &schema,
            &input,
            &spans,
            0,
            Knobs {
                batch_size: 50,
                micro_batch_size: 50,
                threads: 1,
                max_errors: usize::MAX,
                verdicts_only: false,
            },
            OnParseError::Fail,
            &mut || false,
        )
        .unwrap();
        assert_eq!(a.valid, b.valid);
        assert_eq!(a.errors, b.errors);
    }

    #[test]
    fn a_run_of_failures_is_two_failures_with_no_short_run_before() {
        let (t, f) = (true, false);
        assert!(!in_a_run_of_failures(&[]));
        assert!(!in_a_run_of_failures(&[f]));
        assert!(!in_a_run_of_failures(&[f, t]));
        assert!(in_a_run_of_failures(&[f, f]));
        assert!(in_a_run_of_failures(&[t, t, f, f, f]));
        // A short run ended by a valid record turns the shortcut off ...
        assert!(!in_a_run_of_failures(&[f, f, t, f, f]));
        // ... for RUN_WINDOW verdicts.
        let mut long = vec![f, t];
        long.extend(std::iter::repeat_n(f, RUN_WINDOW - 2));
        assert!(!in_a_run_of_failures(&long));
        long.push(f);
        assert!(in_a_run_of_failures(&long));
    }

    #[test]
    fn max_errors_keeps_the_first_errors_and_counts_the_rest_in_every_configuration() {
        let schema = Schema::from_json_text(r#"{"items": {"type": "integer"}}"#).unwrap();
        // Record i has i failing items: 0 + 1 + ... + 19 = 190 errors.
        let texts: Vec<String> = (0..20)
            .map(|i| format!("[{}]", vec!["\"x\""; i].join(",")))
            .collect();
        let records: Vec<Json<'_>> = texts
            .iter()
            .map(|t| parse_value(t.as_bytes(), MAX_DEPTH).unwrap())
            .collect();
        let refs: Vec<&Json<'_>> = records.iter().collect();
        let all =
            validate_in_place(&schema, &refs, 0, collecting(1, usize::MAX), &mut || false).unwrap();
        assert_eq!((all.errors.len(), all.omitted), (190, 0));
        for cap in [0, 1, 7, 100, 189, 190, 1000] {
            let kept = cap.min(190);
            let in_place =
                validate_in_place(&schema, &refs, 0, collecting(1, cap), &mut || false).unwrap();
            assert_eq!(in_place.errors, all.errors[..kept]);
            assert_eq!(in_place.omitted, 190 - kept);
            assert_eq!(in_place.valid, all.valid);
            for (micro_batch_size, threads) in [(20, 1), (1, 2), (3, 4), (7, 2)] {
                let knobs = Knobs {
                    batch_size: 20,
                    micro_batch_size,
                    threads,
                    max_errors: cap,
                    verdicts_only: false,
                };
                let out = validate_records(&schema, &refs, 0, knobs, &mut || false).unwrap();
                assert_eq!(out.errors, all.errors[..kept], "{cap} {knobs:?}");
                assert_eq!(out.omitted, 190 - kept);
                assert_eq!(out.valid, all.valid);
            }
        }
    }
}
