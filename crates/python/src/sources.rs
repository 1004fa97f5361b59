//! Inputs cut into chunks, and the run that validates them chunk by chunk:
//! records of a list or an iterator, a JSON array or NDJSON in bytes, NDJSON
//! from a file path or a Python binary file object.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pyo3::buffer::PyBuffer;
use pyo3::exceptions::{PyKeyboardInterrupt, PyTypeError};
use pyo3::marker::Ungil;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyIterator, PyList, PyString, PyTuple};
use pyo3::{ffi, BoundObject};

use super::errors::{engine_error, satya_error, PyRecordError};
use super::record::{borrowed_records, refuse_non_json, Compact, HeldRecords, PyObj};
use super::threads::{on_main_thread, stop_if_exiting, without_gil, InPython};
use satya_adapt_core::{
    check_in_place, validate_in_place, validate_spans, workers, ArrayChunker, ChunkOutcome,
    EngineError, Json, Knobs, NdjsonChunker, NdjsonReader, OnParseError, Pipeline, PollSteps,
    RecordTooLong, Schema, Shares, Span, POLL_INTERVAL, POLL_RECORDS,
};

/// Immutable bytes kept alive by a strong reference; the slice borrows them.
pub struct OwnedBytes {
    _obj: Py<PyBytes>,
    data: &'static [u8],
}

impl OwnedBytes {
    fn new(obj: &Bound<'_, PyBytes>) -> Self {
        let data = obj.as_bytes();
        // SAFETY: `bytes` objects are immutable and `_obj` keeps this one alive as
        // long as `self`; every borrower is a field dropped before or with it.
        let data: &'static [u8] = unsafe { std::mem::transmute::<&[u8], &'static [u8]>(data) };
        OwnedBytes {
            _obj: obj.clone().unbind(),
            data,
        }
    }
}

/// `data[start..end]` for a `span`, else `data`; a span outside it is a `ValueError`.
pub fn within(data: &[u8], span: Option<(usize, usize)>) -> PyResult<&[u8]> {
    match span {
        None => Ok(data),
        Some((start, end)) => data.get(start..end).ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(format!(
                "`span` ({start}, {end}) is not within the {} bytes",
                data.len()
            ))
        }),
    }
}

pub enum Source {
    List {
        list: Py<PyAny>,
        pos: usize,
    },
    Iter {
        iter: Py<PyIterator>,
    },
    // The chunker borrows from the bytes that follow it (dropped after it).
    JsonArray {
        chunker: ArrayChunker<'static>,
        bytes: OwnedBytes,
    },
    NdjsonBytes {
        chunker: NdjsonChunker<'static>,
        bytes: OwnedBytes,
    },
    NdjsonFile {
        reader: NdjsonReader,
        file: File,
    },
    NdjsonReader {
        reader: NdjsonReader,
        obj: Py<PyAny>,
        /// Bytes a `read` returned beyond the size asked for, served first.
        spill: Spill,
    },
}

/// What a Python `read(n)` returned beyond `n` bytes, with how much of it was served.
#[derive(Default)]
pub struct Spill {
    data: Vec<u8>,
    served: usize,
}

impl Spill {
    /// Copies the next bytes (the spill first, else one `read` of `obj`) into `buf`.
    fn read(&mut self, py: Python<'_>, obj: &Bound<'_, PyAny>, buf: &mut [u8]) -> PyResult<usize> {
        if self.served == self.data.len() {
            self.data.clear();
            self.served = 0;
            let python = InPython::enter();
            python.check(py);
            let got = obj.call_method1("read", (buf.len(),))?;
            drop(python);
            if let Ok(bytes) = got.downcast::<PyBytes>() {
                return Ok(self.take(bytes.as_bytes(), buf));
            }
            return match read_result_bytes(py, &got)? {
                Some(data) => Ok(self.take(&data, buf)),
                None => Ok(0),
            };
        }
        let n = (self.data.len() - self.served).min(buf.len());
        buf[..n].copy_from_slice(&self.data[self.served..self.served + n]);
        self.served += n;
        Ok(n)
    }

    /// Copies what fits of `data` into `buf` and keeps the rest.
    fn take(&mut self, data: &[u8], buf: &mut [u8]) -> usize {
        let n = data.len().min(buf.len());
        buf[..n].copy_from_slice(&data[..n]);
        self.data.extend_from_slice(&data[n..]);
        n
    }
}

/// The bytes of what a file object's `read` returned when it is not `bytes`:
/// any bytes-like object (`bytearray`, `memoryview`); `None` when it is empty
/// (the end of the stream). Anything else stops the run with a message.
fn read_result_bytes(py: Python<'_>, got: &Bound<'_, PyAny>) -> PyResult<Option<Vec<u8>>> {
    if got.is_none() {
        return Err(satya_error(
            py,
            "InputError",
            "`read()` of the NDJSON file object returned None (a non-blocking stream with no \
             data ready); pass a blocking binary stream"
                .into(),
        ));
    }
    if got.is_instance_of::<PyString>() {
        return Err(satya_error(
            py,
            "InputError",
            "the NDJSON file object must be opened in binary mode".into(),
        ));
    }
    match PyBuffer::<u8>::get(got) {
        Ok(buffer) => {
            let data = buffer.to_vec(py)?;
            Ok((!data.is_empty()).then_some(data))
        }
        Err(_) => Err(PyTypeError::new_err(format!(
            "`read()` of the NDJSON file object must return bytes, got {}",
            got.get_type().name()?
        ))),
    }
}

impl Source {
    pub fn objects(items: &Bound<'_, PyAny>) -> PyResult<Source> {
        if items.is_instance_of::<PyList>() || items.is_instance_of::<PyTuple>() {
            return Ok(Source::List {
                list: items.clone().unbind(),
                pos: 0,
            });
        }
        Ok(Source::Iter {
            iter: items.try_iter()?.unbind(),
        })
    }

    /// The JSON array in `data`, or in `data[start..end]` with a `span` (an array
    /// inside a document: read where it lies, not copied out).
    pub fn json_array(data: &Bound<'_, PyBytes>, span: Option<(usize, usize)>) -> PyResult<Source> {
        let mut bytes = OwnedBytes::new(data);
        bytes.data = within(bytes.data, span)?;
        Ok(Source::JsonArray {
            chunker: ArrayChunker::new(bytes.data),
            bytes,
        })
    }

    pub fn ndjson(
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        prefix: &[u8],
        max_record_bytes: usize,
    ) -> PyResult<Source> {
        if let Ok(data) = source.downcast::<PyBytes>() {
            let bytes = OwnedBytes::new(data);
            return Ok(Source::NdjsonBytes {
                chunker: NdjsonChunker::new(bytes.data, max_record_bytes),
                bytes,
            });
        }
        // A path as the OS has it (`PathBuf` takes a str whose bytes are not UTF-8, which
        // Python holds with surrogate escapes; as a `String` it read as a file object).
        if source.is_instance_of::<PyString>() {
            let path: PathBuf = source.extract()?;
            let file = File::open(&path).map_err(|e| {
                satya_error(
                    py,
                    "InputError",
                    format!("cannot open NDJSON file {path:?}: {e}"),
                )
            })?;
            return Ok(Source::NdjsonFile {
                reader: NdjsonReader::new(Vec::new(), max_record_bytes),
                file,
            });
        }
        Ok(Source::NdjsonReader {
            reader: NdjsonReader::new(prefix.to_vec(), max_record_bytes),
            obj: source.clone().unbind(),
            spill: Spill::default(),
        })
    }
}

/// The message of a failed NDJSON read: a line over `max_record_bytes` says so.
fn read_error(what: &str, e: std::io::Error) -> String {
    match e.get_ref().and_then(|r| r.downcast_ref::<RecordTooLong>()) {
        Some(too_long) => too_long.to_string(),
        None => format!("{what}: {e}"),
    }
}

/// Ctrl-C during a call: Python's signal handlers run between records, and
/// what they raise (`KeyboardInterrupt`) stops the call.
pub struct Signals {
    /// Whether this call runs on the main thread, the only one that runs signal
    /// handlers.
    main_thread: bool,
    last: Instant,
    raised: Option<PyErr>,
}

impl Signals {
    pub(crate) fn new() -> Self {
        Signals {
            main_thread: on_main_thread(),
            last: Instant::now(),
            raised: None,
        }
    }

    /// With the GIL held, between records: runs pending signal handlers.
    pub(crate) fn check(&mut self, py: Python<'_>) -> bool {
        match py.check_signals() {
            Ok(()) => false,
            Err(e) => {
                self.raised = Some(e);
                true
            }
        }
    }

    /// With the GIL released: takes it back at most every [`POLL_INTERVAL`], on
    /// the main thread only, to run pending signal handlers. Another thread
    /// stops here once the interpreter exits (see [`stop_if_exiting`]).
    pub(crate) fn check_released(&mut self) -> bool {
        if !self.main_thread {
            stop_if_exiting();
            return false;
        }
        if self.last.elapsed() < POLL_INTERVAL {
            return false;
        }
        let stop = Python::with_gil(|py| self.check(py));
        self.last = Instant::now();
        stop
    }

    /// The exception for an engine error: what a signal handler raised, for an interrupt.
    pub(crate) fn error(&mut self, py: Python<'_>, e: EngineError) -> PyErr {
        match e {
            EngineError::Interrupted => self
                .raised
                .take()
                .unwrap_or_else(|| PyKeyboardInterrupt::new_err(())),
            e => engine_error(py, e),
        }
    }
}

/// The longest stretch a call held the GIL: from the call's start, or from
/// each time it took the GIL back, to the next time it let it go (the pause
/// every other Python thread saw). A brief retake to run signal handlers while
/// released is not counted (it runs no Python code but the handlers').
/// How long a release under a pause budget leaves the GIL free (see
/// [`GilClock::hand_over`]).
const HAND_OVER: Duration = Duration::from_micros(HAND_OVER_US);
const HAND_OVER_US: u64 = 120;

pub struct GilClock {
    since: Instant,
    longest: Duration,
    /// With a pause budget: the longest stretch the direct path holds the GIL
    /// before it lets other threads run (checked between records, every
    /// [`satya_adapt_core::POLL_RECORDS`]).
    limit: Option<Duration>,
}

impl GilClock {
    pub(crate) fn new() -> Self {
        GilClock {
            since: Instant::now(),
            longest: Duration::ZERO,
            limit: None,
        }
    }

    pub(crate) fn set_limit(&mut self, limit: Option<Duration>) {
        self.limit = limit;
    }

    /// Whether the call has a pause budget.
    pub(crate) fn limited(&self) -> bool {
        self.limit.is_some()
    }

    /// Lets other Python threads run when the current stretch has reached the
    /// limit (see [`GilClock::hand_over`]).
    pub(crate) fn yield_if_due(&mut self, py: Python<'_>) {
        if let Some(limit) = self.limit {
            if self.since.elapsed() >= limit {
                self.hand_over(py);
            }
        }
    }

    /// Releases the GIL between two stretches; with a limit, long enough for a
    /// waiting thread to take it. CPython's waiter only asks for the GIL after
    /// waiting a whole switch interval (5 ms) without being woken, and every
    /// release wakes it: released and taken back at once more often than that,
    /// the GIL never changes hands (a 1,000-record chunk of 3 ms starved
    /// another thread for a whole second). Pausing [`HAND_OVER`] lets the woken
    /// waiter take it: a waiter whose core has to wake first may take longer than
    /// the window, and each miss restarts its 5 ms wait (a heartbeat thread beside
    /// `max_pause="5ms"` stalled 11-13 ms in 3 runs of 10 with 60 us, at most 7.8 ms
    /// with 120 us; 200 us cost 13% of throughput against 8% at 120 us).
    pub(crate) fn hand_over(&mut self, py: Python<'_>) {
        if self.limit.is_some() {
            // Spun, not slept: a sleep lasts the timer slack (50 us) more.
            self.release(py, || {
                let start = Instant::now();
                while start.elapsed() < HAND_OVER {
                    std::thread::yield_now();
                }
            });
        } else {
            self.release(py, || ());
        }
    }

    /// Starts a new call: the GIL is held from now (returned).
    pub fn restart(&mut self) -> Instant {
        self.since = Instant::now();
        self.longest = Duration::ZERO;
        self.since
    }

    /// Runs `f` with the GIL released, closing the current stretch.
    pub(crate) fn release<T: Ungil>(&mut self, py: Python<'_>, f: impl Send + FnOnce() -> T) -> T {
        self.longest = self.longest.max(self.since.elapsed());
        let out = without_gil(py, f);
        self.since = Instant::now();
        out
    }

    /// The longest stretch so far, the current one included, in seconds.
    pub fn longest(&self) -> f64 {
        self.longest.max(self.since.elapsed()).as_secs_f64()
    }
}

/// One validate call in progress.
pub struct Run {
    schema: Arc<Schema>,
    source: Source,
    knobs: Knobs,
    /// A sliced trial: `knobs` run the records before `Switch::at`, the switch's the rest.
    then: Option<Switch>,
    next_index: usize,
    done: bool,
    signals: Signals,
    pub gil: GilClock,
    /// What sharing tasks with the pool has cost the caller's thread so far in this call.
    shares: Shares,
}

/// Where a call changes its batch configuration (live verification's sliced trial: a
/// candidate on the first records, the incumbent on the rest).
#[derive(Clone, Copy)]
pub struct Switch {
    /// The first records of the first part that warm the candidate up: run with its knobs
    /// but timed apart (a second thread right after one-thread work ran about 1.2 times
    /// faster than one thread, and 1.5 times once warm, on a shared VM).
    pub warm: usize,
    /// The index of the first record run with `knobs`.
    pub at: usize,
    /// The rest's knobs (its `max_errors` is ignored: the call's budget carries on).
    pub knobs: Knobs,
}

/// A chunk's outcome with the index of its first record.
pub struct Chunk {
    pub outcome: ChunkOutcome,
    pub start: usize,
    pub seconds: f64,
    /// The longest GIL hold since the clock was last restarted, up to the chunk's end.
    pub max_gil_hold: f64,
}

impl Run {
    pub fn new(schema: Arc<Schema>, source: Source, knobs: Knobs) -> Self {
        Run {
            schema,
            source,
            knobs,
            then: None,
            next_index: 0,
            done: false,
            signals: Signals::new(),
            gil: GilClock::new(),
            shares: Shares::default(),
        }
    }

    /// The run's first `switch.at` records with its knobs, the rest with `switch.knobs`.
    pub fn switch_at(mut self, switch: Switch) -> Self {
        self.then = Some(switch);
        self
    }

    /// Whether the next chunk is the first one run with the switch's knobs.
    pub fn switch_due(&self) -> bool {
        self.then.is_some_and(|s| self.next_index >= s.at)
    }

    /// Whether the next chunk is the first one after the switch's warm-up.
    pub fn warm_done(&self) -> bool {
        self.then.is_some_and(|s| self.next_index >= s.warm)
    }

    /// Records run so far.
    pub fn records(&self) -> usize {
        self.next_index
    }

    /// The next chunk; `started`: when its time (`Chunk::seconds`) starts counting.
    pub fn next_chunk(&mut self, py: Python<'_>, started: Instant) -> PyResult<Option<Chunk>> {
        if self.done {
            return Ok(None);
        }
        if self.switch_due() {
            let switch = self.then.take().expect("switch_due");
            self.knobs = Knobs {
                max_errors: self.knobs.max_errors,
                verdicts_only: self.knobs.verdicts_only,
                ..switch.knobs
            };
        }
        let start = self.next_index;
        let result = self.run_chunk(py, start);
        let outcome = match result {
            Ok(Some(o)) => o,
            Ok(None) => {
                self.done = true;
                return Ok(None);
            }
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        self.next_index += outcome.valid.len();
        // The call's error budget: what later chunks may still collect.
        self.knobs.max_errors = self.knobs.max_errors.saturating_sub(outcome.errors.len());
        let max_gil_hold = self.gil.longest();
        Ok(Some(Chunk {
            outcome,
            start,
            seconds: started.elapsed().as_secs_f64(),
            max_gil_hold,
        }))
    }

    fn run_chunk(&mut self, py: Python<'_>, first: usize) -> PyResult<Option<ChunkOutcome>> {
        let mut knobs = self.knobs;
        if let Some(switch) = self.then {
            // No chunk runs across the switch, nor across the end of the warm-up.
            let end = if first < switch.warm {
                switch.warm
            } else {
                switch.at
            };
            knobs.batch_size = knobs.batch_size.min(end.saturating_sub(first).max(1));
        }
        let b = knobs.batch_size;
        let schema_arc = &self.schema;
        let schema = &**schema_arc;
        let signals = &mut self.signals;
        let gil = &mut self.gil;
        let shares = &mut self.shares;
        match &mut self.source {
            Source::List { list, pos } => {
                let list = list.bind(py);
                let items: &[*mut pyo3::ffi::PyObject] = sequence_items(list);
                if *pos >= items.len() {
                    return Ok(None);
                }
                if knobs.threads <= 1 {
                    return validate_list_in_place(
                        py, schema, list, pos, first, knobs, signals, gil,
                    )
                    .map(Some);
                }
                let end = (*pos + b).min(items.len());
                // Strong references: a signal handler run between records may change
                // the list.
                // SAFETY: the items are live objects of the list, read with the GIL held
                // before any Python code runs.
                let held = unsafe { HeldRecords::new(py, &items[*pos..end], first)? };
                *pos = end;
                validate_objects(
                    py,
                    schema_arc,
                    held.records(),
                    first,
                    knobs,
                    signals,
                    gil,
                    shares,
                )
                .map(Some)
            }
            Source::Iter { iter } => {
                let iter = iter.bind(py);
                let mut owned = Vec::with_capacity(b.min(1 << 16));
                let python = InPython::enter();
                while owned.len() < b {
                    python.check(py);
                    match iter.clone().next() {
                        Some(item) => owned.push(item?),
                        None => break,
                    }
                    if owned.len() % POLL_RECORDS == 0 {
                        gil.yield_if_due(py); // (between two items: nothing is borrowed)
                    }
                }
                drop(python);
                if owned.is_empty() {
                    return Ok(None);
                }
                for (i, record) in owned.iter().enumerate() {
                    refuse_non_json(record, Some(first + i))?;
                }
                let records: Vec<PyObj<'_>> = owned.iter().map(PyObj::new).collect();
                validate_objects(py, schema_arc, &records, first, knobs, signals, gil, shares)
                    .map(Some)
            }
            Source::JsonArray { chunker, bytes } => {
                // Cutting a chunk reads all its bytes: without the GIL.
                let spans = gil.release(py, || chunker.next_chunk(b)).map_err(|e| {
                    satya_error(py, "InputError", format!("invalid JSON array: {e}"))
                })?;
                validate_bytes(
                    py,
                    schema,
                    bytes.data,
                    &spans,
                    first,
                    knobs,
                    OnParseError::Fail,
                    0,
                    signals,
                    gil,
                )
            }
            Source::NdjsonBytes { chunker, bytes } => {
                let spans = gil
                    .release(py, || chunker.next_chunk(b))
                    .map_err(|e| satya_error(py, "InputError", e.to_string()))?;
                validate_bytes(
                    py,
                    schema,
                    bytes.data,
                    &spans,
                    first,
                    knobs,
                    OnParseError::RecordError,
                    0,
                    signals,
                    gil,
                )
            }
            Source::NdjsonFile { reader, file } => {
                // A read failure or an engine error.
                let result = gil.release(
                    py,
                    || -> Result<Option<ChunkOutcome>, Result<String, EngineError>> {
                        let spans = reader
                            .next_chunk(b, &mut |buf| file.read(buf))
                            .map_err(|e| Ok(read_error("cannot read NDJSON file", e)))?;
                        if spans.is_empty() {
                            return Ok(None);
                        }
                        let mut out = validate_spans(
                            schema,
                            reader.buffer(),
                            &spans,
                            first,
                            knobs,
                            OnParseError::RecordError,
                            &mut || signals.check_released(),
                        )
                        .map_err(Err)?;
                        out.bytes += reader.held_bytes();
                        Ok(Some(out))
                    },
                );
                result.map_err(|e| match e {
                    Err(EngineError::Interrupted) => signals.error(py, EngineError::Interrupted),
                    Ok(m) => satya_error(py, "InputError", m),
                    Err(e) => {
                        satya_error(py, "InputError", format!("cannot read NDJSON file: {e}"))
                    }
                })
            }
            Source::NdjsonReader { reader, obj, spill } => {
                let obj = obj.bind(py);
                let mut failure: Option<PyErr> = None;
                let spans = reader.next_chunk(b, &mut |buf: &mut [u8]| {
                    spill.read(py, obj, buf).map_err(|e| {
                        failure = Some(e);
                        std::io::Error::other("read failed")
                    })
                });
                let spans = match (spans, failure) {
                    (_, Some(e)) => return Err(e),
                    (Err(e), None) => {
                        return Err(satya_error(
                            py,
                            "InputError",
                            read_error("cannot read NDJSON", e),
                        ))
                    }
                    (Ok(spans), None) => spans,
                };
                let held = reader.held_bytes() + spill.data.capacity();
                let out = validate_bytes(
                    py,
                    schema,
                    reader.buffer(),
                    &spans,
                    first,
                    knobs,
                    OnParseError::RecordError,
                    held,
                    signals,
                    gil,
                )?;
                Ok(out)
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn validate_bytes(
    py: Python<'_>,
    schema: &Schema,
    input: &[u8],
    spans: &[Span],
    first: usize,
    knobs: Knobs,
    mode: OnParseError,
    held: usize,
    signals: &mut Signals,
    gil: &mut GilClock,
) -> PyResult<Option<ChunkOutcome>> {
    if spans.is_empty() {
        return Ok(None);
    }
    let mut out = gil
        .release(py, || {
            validate_spans(schema, input, spans, first, knobs, mode, &mut || {
                signals.check_released()
            })
        })
        .map_err(|e| signals.error(py, e))?;
    out.bytes += held;
    Ok(Some(out))
}

/// Once this many bytes of records have been taken apart since the last time, the
/// records the pool has checked meanwhile are freed, and taking apart reuses their
/// memory. Measured on 10,000 dicts with two threads (CPU time per record pinned to one
/// core / wall time on two idle ones): freed only at the end of a call, the heap grew
/// by every record and faulted its pages in again each call (15 strings of 120
/// characters 1.89 / 1.22 us, 12 mixed fields 0.86 / 0.31 us); freed after every task,
/// records of 3 short strings ran 0.23 us where they had run 0.14 (memory just read
/// on the other core, written again here); at 4 MiB: 1.75 / 0.97, 0.55 / 0.32, 0.14.
const RECLAIM_BYTES: usize = 4 << 20;

/// Records that are live Python objects: read in place with one thread; with
/// several, the caller's thread is one of them. It takes a task apart for the pool
/// only while a pool thread waits for one and taking apart has cost it less than
/// checking in place (`Shares`), and checks every other task in place itself (every
/// task, with one usable core).
#[allow(clippy::too_many_arguments)]
fn validate_objects(
    py: Python<'_>,
    schema: &Arc<Schema>,
    records: &[PyObj<'_>],
    first: usize,
    knobs: Knobs,
    signals: &mut Signals,
    gil: &mut GilClock,
    shares: &mut Shares,
) -> PyResult<ChunkOutcome> {
    let refs_bytes = std::mem::size_of_val(records);
    if knobs.threads <= 1 {
        // Under a pause budget other threads run at the polls, between records (held:
        // each is checked as it is when reached), as for a list; a generator's chunk
        // ignored the budget (100 ms held under `max_pause="2ms"`).
        let result = validate_in_place(schema, records, first, knobs, &mut || {
            if signals.check(py) {
                return true;
            }
            gil.yield_if_due(py);
            false
        });
        let out = result.map_err(|e| signals.error(py, e))?;
        // Between chunks, let other Python threads run.
        gil.hand_over(py);
        return Ok(out);
    }
    // Tasks go to the pool or are checked here, as `shares` says; what the pool checks is
    // taken apart here first.
    let helpers = workers(knobs.threads) - 1;
    let mut compact = Compact::new();
    let mut pipeline = Pipeline::with_workers(Arc::clone(schema), knobs, helpers)
        .map_err(|e| engine_error(py, e))?;
    let m = knobs.micro_batch_size.max(1);
    // Under a pause budget the GIL is handed over while records are taken apart
    // too, at the signal polls: the records are held, and what was taken apart
    // keeps its strings alive, so Python code running meanwhile (as a signal
    // handler already may) changes nothing already read.
    let mut poll = || {
        if signals.check(py) {
            return true;
        }
        gil.yield_if_due(py);
        false
    };
    let mut reclaimed_at = 0;
    let tasks = records.len().div_ceil(m);
    for (t, task) in records.chunks(m).enumerate() {
        let mut done = 0;
        while done < task.len() {
            let left = task.len() - done;
            // (The chunk's last task stays here: given to the pool, the caller would only
            // wait for it.)
            let (to_pool, len) = if t + 1 == tasks {
                (false, left)
            } else {
                shares.next_piece(left, pipeline.waiting() < helpers)
            };
            let piece = &task[done..done + len];
            let at = first + t * m + done;
            done += len;
            let started = Instant::now();
            if !to_pool {
                let out = match validate_in_place(schema, piece, at, knobs, &mut poll) {
                    Ok(out) => out,
                    Err(e) => return Err(signals.error(py, e)),
                };
                shares.checked(piece.len(), started.elapsed());
                pipeline.submit_checked(out);
                continue;
            }
            let mut start = 0;
            while start < piece.len() {
                let part = &piece[start..];
                let at = at + start;
                let (docs, too_large) = match compact.take_apart(part, schema, &mut poll) {
                    Some(taken) if !poll() => taken,
                    // Dropping the pipeline stops its tasks and waits for them.
                    _ => return Err(signals.error(py, EngineError::Interrupted)),
                };
                if !docs.is_empty() {
                    // SAFETY: the documents borrow strings kept alive by `compact`, which
                    // is dropped after `finish` (or after the pipeline's drop) has waited
                    // for them.
                    unsafe { pipeline.submit(docs, at) };
                }
                let Some(k) = too_large else { break };
                // A record that expands past what is taken apart (`MAX_CONVERTED`), or
                // holds a container twice: checked here, read in place as with one thread.
                let mut out = ChunkOutcome::for_records(1);
                // (It fails only with a caught panic, which `signals` has no part in.)
                check_in_place(schema, &part[k..=k], at + k, knobs, &mut out)
                    .map_err(|e| engine_error(py, e))?;
                pipeline.submit_checked(out);
                start += k + 1;
            }
            shares.taken(piece.len(), started.elapsed());
        }
        if compact.bytes - reclaimed_at >= RECLAIM_BYTES {
            reclaimed_at = compact.bytes;
            pipeline.reclaim();
        }
    }
    let out = gil.release(py, || pipeline.finish(&mut || signals.check_released()));
    let mut out = out.map_err(|e| signals.error(py, e))?;
    out.bytes = out.result_bytes() + compact.bytes + refs_bytes;
    // Tasks of `micro_batch_size` records, however the caller and the pool shared them.
    out.tasks = tasks;
    drop(compact);
    Ok(out)
}

/// What the pool path costs the caller's thread on `records` (a sample of a
/// call's): seconds of checking them in place, and of taking them apart as for
/// the pool and checking what came out, both on this thread, each the best of
/// `rounds`. Live verification's prior for trying a second thread on dicts is
/// made from the first over the second (`satya_adapt.live.sharing_worst`: the
/// caller hands the pool only what this says saves it time). `None` when a check
/// stopped (a caught panic).
pub fn pool_cost(
    schema: &Schema,
    records: &[PyObj<'_>],
    knobs: Knobs,
    rounds: usize,
) -> Option<(f64, f64)> {
    let mut best = (f64::INFINITY, f64::INFINITY);
    for _ in 0..rounds {
        let started = Instant::now();
        let mut out = ChunkOutcome::for_records(records.len());
        check_in_place(schema, records, 0, knobs, &mut out).ok()?;
        drop(out);
        let in_place = started.elapsed();
        let started = Instant::now();
        let mut compact = Compact::new();
        // A sample with a record too large to take apart says nothing of the pool.
        let (docs, None) = compact.take_apart(records, schema, &mut || false)? else {
            return None;
        };
        let mut out = ChunkOutcome::for_records(records.len());
        let refs: Vec<&Json<'_>> = docs.iter().collect();
        check_in_place(schema, &refs, 0, knobs, &mut out).ok()?;
        // The pool path frees them too (the caller's thread, `Pipeline::reclaim`);
        // the documents before what keeps their strings alive.
        drop((out, refs));
        drop(docs);
        drop(compact);
        let taken_apart = started.elapsed();
        best.0 = best.0.min(in_place.as_secs_f64());
        best.1 = best.1.min(taken_apart.as_secs_f64());
    }
    Some(best)
}

/// Checks up to `batch_size` records of a list or a tuple on the caller's thread,
/// from `*pos` on, read in place without a reference to each: between two polls
/// for signals (at most [`satya_adapt_core::POLL_RECORDS`] records: [`PollSteps`]) no Python code runs, and after each
/// poll the items are read again from the list, since a signal handler (or,
/// with a pause budget, another thread let in at the poll) may have changed it
/// (records it removed are not checked; the call ends where the list now ends). Holding every record of the chunk instead cost two extra passes
/// over its records' memory (an incref and a decref each).
#[allow(clippy::too_many_arguments)]
fn validate_list_in_place(
    py: Python<'_>,
    schema: &Schema,
    list: &Bound<'_, PyAny>,
    pos: &mut usize,
    first: usize,
    knobs: Knobs,
    signals: &mut Signals,
    gil: &mut GilClock,
) -> PyResult<ChunkOutcome> {
    let mut out = ChunkOutcome {
        valid: Vec::with_capacity(
            knobs
                .batch_size
                .min(sequence_items(list).len().saturating_sub(*pos)),
        ),
        tasks: 1,
        ..ChunkOutcome::default()
    };
    let mut index = first;
    let mut steps = PollSteps::new();
    while out.valid.len() < knobs.batch_size {
        if !out.valid.is_empty() {
            if signals.check(py) {
                return Err(signals.error(py, EngineError::Interrupted));
            }
            // Other threads may run here: the list is read again below.
            gil.yield_if_due(py);
        }
        let items = sequence_items(list);
        let room = knobs.batch_size - out.valid.len();
        let end = items.len().min(*pos + room.min(steps.start()));
        if *pos >= end {
            break;
        }
        // SAFETY: the items were just read with the GIL held; no Python code runs
        // until the next poll, after which they are read again.
        let part = unsafe { borrowed_records(py, &items[*pos..end], index)? };
        check_in_place(schema, part, index, knobs, &mut out).map_err(|e| signals.error(py, e))?;
        steps.ended();
        index += part.len();
        *pos = end;
    }
    out.bytes = out.result_bytes();
    // Between chunks, let other Python threads run.
    gil.hand_over(py);
    Ok(out)
}

/// The item pointers of a list or a tuple, borrowed.
fn sequence_items<'a>(seq: &'a Bound<'_, PyAny>) -> &'a [*mut pyo3::ffi::PyObject] {
    let ptr = seq.as_ptr();
    // SAFETY: `seq` is a list or a tuple (checked when the source was made); the
    // slice is read before any Python code can run and change the list.
    unsafe {
        if pyo3::ffi::PyList_Check(ptr) != 0 {
            let list = ptr.cast::<pyo3::ffi::PyListObject>();
            std::slice::from_raw_parts((*list).ob_item, pyo3::ffi::PyList_GET_SIZE(ptr) as usize)
        } else {
            let tuple = ptr.cast::<pyo3::ffi::PyTupleObject>();
            std::slice::from_raw_parts(
                (*tuple).ob_item.as_ptr(),
                pyo3::ffi::PyTuple_GET_SIZE(ptr) as usize,
            )
        }
    }
}

/// Converts a chunk's results to Python lists.
pub fn to_python<'py>(
    py: Python<'py>,
    outcome: ChunkOutcome,
) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
    let valid = PyList::new(py, outcome.valid)?;
    // Made first, then put in a list of the right size (no growing by appends).
    let made = outcome
        .errors
        .into_iter()
        .map(|e| Bound::new(py, PyRecordError::from(e)))
        .collect::<PyResult<Vec<_>>>()?;
    let errors = PyList::new(py, made)?;
    Ok((valid, errors))
}

/// A call's results, gathered chunk by chunk. Without a pause budget: the verdicts as
/// bytes, the errors as the Python objects made from each chunk's (as its part of the call
/// is timed), each list made once, at the end ([`paced_list`]). Added to growing lists chunk
/// by chunk (the first chunk's lists the call's), 60,000 small dicts took 2.45-2.56 ms in
/// 4-30 chunks against 2.29 in one (the lists' copies and reallocations; made once,
/// 2.27-2.30), and a sliced trial's first part, the candidate's, skipped the copy every
/// later part paid: with the same knobs on both parts it read 1.07-1.09 times as fast per
/// record as the rest (made once, each part charged its share: 0.96-0.98). With a pause
/// budget (no trial runs there) the lists still grow chunk by chunk: a list made at once
/// needs its whole allocation in one stretch, which glibc may clear first (3,000,000
/// records: 1.3-2.5 ms held where `max_pause="1ms"` had kept every stretch under 0.3 ms).
pub struct Gathered<'py> {
    grow: bool,
    valid: Vec<bool>,
    errors: Vec<Bound<'py, PyAny>>,
    lists: Option<(Bound<'py, PyList>, Bound<'py, PyList>)>,
}

impl<'py> Gathered<'py> {
    /// For a call timed by `gil` (whose pause budget, if any, decides how lists are made).
    pub fn new(gil: &GilClock) -> Self {
        Gathered {
            grow: gil.limited(),
            valid: Vec::new(),
            errors: Vec::new(),
            lists: None,
        }
    }

    /// Adds a chunk's outcome (its verdicts after the ones before).
    pub fn add(&mut self, py: Python<'py>, outcome: ChunkOutcome) -> PyResult<()> {
        if self.grow {
            let (v, e) = to_python(py, outcome)?;
            match &mut self.lists {
                None => self.lists = Some((v, e)),
                Some((valid, errors)) => {
                    let n = valid.len();
                    valid.set_slice(n, n, &v)?;
                    let n = errors.len();
                    errors.set_slice(n, n, &e)?;
                }
            }
            return Ok(());
        }
        if self.valid.is_empty() {
            self.valid = outcome.valid;
        } else {
            self.valid.extend_from_slice(&outcome.valid);
        }
        self.errors.reserve(outcome.errors.len());
        for e in outcome.errors {
            self.errors
                .push(Bound::new(py, PyRecordError::from(e))?.into_any());
        }
        Ok(())
    }

    /// The call's lists: its verdicts and its errors.
    pub fn into_lists(
        self,
        py: Python<'py>,
        gil: &mut GilClock,
    ) -> PyResult<(Bound<'py, PyList>, Bound<'py, PyList>)> {
        if let Some(lists) = self.lists {
            return Ok(lists);
        }
        if self.grow {
            return Ok((PyList::empty(py), PyList::empty(py)));
        }
        let valid = paced_list(py, gil, self.valid.into_iter())?;
        let errors = paced_list(py, gil, self.errors.into_iter())?;
        Ok((valid, errors))
    }
}

/// Items of a result list made between two releases of the GIL (as between chunks).
const LIST_STRETCH: usize = 1 << 16;

/// A list of `items`, made with the GIL released and taken back every [`LIST_STRETCH`]
/// of them, as between chunks (made whole, 3,000,000 verdicts held it 6-11 ms; so,
/// 0.4-0.9 ms).
fn paced_list<'py, T: IntoPyObject<'py>>(
    py: Python<'py>,
    gil: &mut GilClock,
    items: impl ExactSizeIterator<Item = T>,
) -> PyResult<Bound<'py, PyList>>
where
    PyErr: From<T::Error>,
{
    let n = items.len();
    if n <= LIST_STRETCH {
        return PyList::new(py, items);
    }
    let size = ffi::Py_ssize_t::try_from(n)?;
    // SAFETY: the list is made with `n` empty slots and filled in order; it is left
    // untracked by the garbage collector until every slot holds an item, so that no other
    // thread can reach it (`gc.get_objects()` lists tracked objects only) while the GIL is
    // let go and a slot is still empty. Dropped part-filled (an item that fails), it frees
    // what it holds: a list's deallocation skips empty slots and untracks only if tracked.
    unsafe {
        let ptr = ffi::PyList_New(size);
        if ptr.is_null() {
            return Err(PyErr::fetch(py));
        }
        let list = Bound::from_owned_ptr(py, ptr).downcast_into_unchecked::<PyList>();
        ffi::PyObject_GC_UnTrack(ptr.cast());
        let mut filled: usize = 0;
        for item in items.take(n) {
            let object = item.into_pyobject(py)?.into_any().into_bound();
            ffi::PyList_SET_ITEM(ptr, filled as ffi::Py_ssize_t, object.into_ptr());
            filled += 1;
            if filled.is_multiple_of(LIST_STRETCH) {
                gil.hand_over(py);
            }
        }
        if filled != n {
            // (An iterator shorter than it said: never, for a Vec's.)
            return Err(PyErr::new::<pyo3::exceptions::PySystemError, _>(
                "a result list was given fewer items than its length",
            ));
        }
        ffi::PyObject_GC_Track(ptr.cast());
        Ok(list)
    }
}

/// Runs to the end and returns the raw result tuple
/// `(valid, errors, chunks, tasks, peak_bytes, seconds, start, max_gil_hold, errors_omitted)`.
pub fn run_all<'py>(py: Python<'py>, run: Run) -> PyResult<Bound<'py, PyTuple>> {
    Ok(run_split(py, run)?.0)
}

/// Records and seconds of the parts of a run with a [`Switch`]: its first part after the
/// warm-up (up to the switch), then the warm-up.
pub type Split = (usize, f64, usize, f64);

/// [`run_all`], and where a run with a [`Switch`] changed its knobs: the records and seconds
/// of the first part after its warm-up, then of the warm-up (the whole run is the first part
/// when it never switched).
pub fn run_split<'py>(py: Python<'py>, mut run: Run) -> PyResult<(Bound<'py, PyTuple>, Split)> {
    let started = Instant::now();
    run.gil.restart();
    let mut gathered = Gathered::new(&run.gil);
    let (mut chunks, mut tasks, mut peak, mut omitted) = (0usize, 0usize, 0usize, 0usize);
    let mut warm: Option<(usize, f64)> = None;
    let mut split = None;
    loop {
        if warm.is_none() && run.warm_done() {
            let w = run.records();
            warm = Some((
                w,
                if w == 0 {
                    0.0
                } else {
                    started.elapsed().as_secs_f64()
                },
            ));
        }
        if split.is_none() && run.switch_due() {
            split = Some((run.records(), started.elapsed().as_secs_f64()));
        }
        let Some(chunk) = run.next_chunk(py, Instant::now())? else {
            break;
        };
        chunks += 1;
        omitted = omitted.saturating_add(chunk.outcome.omitted);
        tasks += chunk.outcome.tasks;
        peak = peak.max(chunk.outcome.bytes);
        gathered.add(py, chunk.outcome)?;
    }
    let listing = Instant::now();
    let (valid, errors) = gathered.into_lists(py, &mut run.gil)?;
    let listed = listing.elapsed().as_secs_f64();
    let max_gil_hold = run.gil.longest();
    let seconds = started.elapsed().as_secs_f64();
    let raw = PyTuple::new(
        py,
        [
            valid.into_any(),
            errors.into_any(),
            chunks.into_pyobject(py)?.into_any(),
            tasks.into_pyobject(py)?.into_any(),
            peak.into_pyobject(py)?.into_any(),
            seconds.into_pyobject(py)?.into_any(),
            0usize.into_pyobject(py)?.into_any(),
            max_gil_hold.into_pyobject(py)?.into_any(),
            omitted.into_pyobject(py)?.into_any(),
        ],
    )?;
    // The lists are made at the end: each part of a sliced trial is charged its records'
    // share of making them (the rest's share is what is left of the call's seconds).
    let n = run.records().max(1) as f64;
    let share = |records: usize| listed * records as f64 / n;
    let (k, at) = split.map_or((run.records(), seconds), |(k, at)| (k, at + share(k)));
    let (w, warmed) = warm.map_or((k, at), |(w, warmed)| (w, warmed + share(w)));
    Ok((raw, (k - w, at - warmed, w, warmed)))
}

/// Yields the raw result of one chunk at a time (for `iter_validate`).
#[pyclass(module = "satya_adapt._validator")]
pub struct ChunkIter {
    run: Run,
}

impl ChunkIter {
    pub fn new(run: Run) -> Self {
        ChunkIter { run }
    }
}

#[pymethods]
impl ChunkIter {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let started = self.run.gil.restart();
        let Some(chunk) = self.run.next_chunk(py, started)? else {
            return Ok(None);
        };
        let max_gil_hold = chunk.max_gil_hold;
        let (tasks, bytes, start, seconds, omitted) = (
            chunk.outcome.tasks,
            chunk.outcome.bytes,
            chunk.start,
            chunk.seconds,
            chunk.outcome.omitted,
        );
        let (valid, errors) = to_python(py, chunk.outcome)?;
        Ok(Some(PyTuple::new(
            py,
            [
                valid.into_any(),
                errors.into_any(),
                1usize.into_pyobject(py)?.into_any(),
                tasks.into_pyobject(py)?.into_any(),
                bytes.into_pyobject(py)?.into_any(),
                seconds.into_pyobject(py)?.into_any(),
                start.into_pyobject(py)?.into_any(),
                max_gil_hold.into_pyobject(py)?.into_any(),
                omitted.into_pyobject(py)?.into_any(),
            ],
        )?))
    }
}
