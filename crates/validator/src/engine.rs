//! The batch engine: validates one chunk of at most `batch_size` records,
//! split into tasks of `micro_batch_size` records run on a pool of `threads`
//! threads (1 = no pool: the direct single-threaded path).
//!
//! Callers (the Python layer, tests) cut their input into chunks; this module
//! runs a chunk and reports what it held in flight.

use std::collections::HashMap;
use std::ops::Range;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Arc, Mutex, OnceLock};

use rayon::prelude::*;
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
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EngineError::InvalidJson { message, .. } => write!(f, "invalid JSON array: {message}"),
            EngineError::Panic(m) => {
                write!(f, "internal error in the validator (please report it): {m}")
            }
            EngineError::Pool(m) => write!(f, "could not start the thread pool: {m}"),
        }
    }
}

/// The results of one chunk, indexes already global.
#[derive(Debug, Default)]
pub struct ChunkOutcome {
    pub valid: Vec<bool>,
    pub errors: Vec<RecordError>,
    /// Tasks run: `ceil(len / micro_batch_size)` on the pool, 1 on the direct path.
    pub tasks: usize,
    /// Bytes the engine held for this chunk (see [`ChunkOutcome::result_bytes`]).
    pub bytes: usize,
}

impl ChunkOutcome {
    /// Bytes of the pending results themselves.
    pub fn result_bytes(&self) -> usize {
        self.valid.capacity()
            + self
                .errors
                .iter()
                .map(|e| {
                    std::mem::size_of::<RecordError>() + e.path.capacity() + e.message.capacity()
                })
                .sum::<usize>()
    }

    pub fn append(&mut self, mut other: ChunkOutcome) {
        self.valid.append(&mut other.valid);
        self.errors.append(&mut other.errors);
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

/// The thread pool for `threads` workers, built once and reused.
pub fn pool(threads: usize) -> Result<Arc<ThreadPool>, EngineError> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let pools = POOLS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut pools = pools.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = pools.get(&threads) {
        return Ok(Arc::clone(p));
    }
    let p = ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(move |i| format!("satya-adapt-{threads}-{i}"))
        .build()
        .map_err(|e| EngineError::Pool(e.to_string()))?;
    let p = Arc::new(p);
    pools.insert(threads, Arc::clone(&p));
    Ok(p)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Runs `task` over `len` records in tasks of `micro_batch_size` on the pool
/// (or inline for one thread); outcomes come back in record order.
fn run_tasks<F>(len: usize, knobs: Knobs, task: F) -> Result<ChunkOutcome, EngineError>
where
    F: Fn(Range<usize>) -> Result<ChunkOutcome, EngineError> + Sync,
{
    if len == 0 {
        return Ok(ChunkOutcome::default());
    }
    if knobs.threads <= 1 {
        let mut out = catch_unwind(AssertUnwindSafe(|| task(0..len)))
            .map_err(|p| EngineError::Panic(panic_message(&*p)))??;
        out.tasks = 1;
        return Ok(out);
    }
    let m = knobs.micro_batch_size.max(1);
    let n_tasks = len.div_ceil(m);
    let pool = pool(knobs.threads)?;
    let results: Vec<Result<ChunkOutcome, EngineError>> = catch_unwind(AssertUnwindSafe(|| {
        pool.install(|| {
            (0..n_tasks)
                .into_par_iter()
                .with_max_len(1)
                .map(|t| task(t * m..((t + 1) * m).min(len)))
                .collect()
        })
    }))
    .map_err(|p| EngineError::Panic(panic_message(&*p)))?;
    let mut out = ChunkOutcome {
        valid: Vec::with_capacity(len),
        ..ChunkOutcome::default()
    };
    for r in results {
        out.append(r?);
    }
    out.tasks = n_tasks;
    Ok(out)
}

/// Validates records that are already Rust values: parsed JSON, or dicts taken
/// apart for the pool. `first_index` is the input index of `records[0]`.
pub fn validate_records<R: Record + Sync>(
    schema: &Schema,
    records: &[R],
    first_index: usize,
    knobs: Knobs,
) -> Result<ChunkOutcome, EngineError> {
    let mut out = run_tasks(records.len(), knobs, |range| {
        let mut out = ChunkOutcome {
            valid: Vec::with_capacity(range.len()),
            ..ChunkOutcome::default()
        };
        for i in range {
            let ok = check::validate(schema, &records[i], first_index + i, &mut out.errors);
            out.valid.push(ok);
        }
        Ok(out)
    })?;
    out.bytes = out.result_bytes() + std::mem::size_of_val(records);
    Ok(out)
}

type TaskReport = (usize, Result<ChunkOutcome, EngineError>, Vec<Json<'static>>);

/// Checks tasks of records on the pool while the caller prepares the next
/// ones: for Python dicts, the GIL-holding thread takes task `k + 1` apart while
/// the pool checks task `k`. Results come back in task order.
pub struct Pipeline {
    schema: Arc<Schema>,
    pool: Arc<ThreadPool>,
    sender: mpsc::Sender<TaskReport>,
    receiver: mpsc::Receiver<TaskReport>,
    /// Checked records come back to be freed on the caller's thread: freeing
    /// another thread's allocations contends for its malloc arena.
    spent: Vec<Vec<Json<'static>>>,
    submitted: usize,
    /// Tasks queued whose outcome has not arrived yet.
    outstanding: usize,
    received: Vec<Option<Result<ChunkOutcome, EngineError>>>,
}

impl Pipeline {
    pub fn new(schema: Arc<Schema>, threads: usize) -> Result<Pipeline, EngineError> {
        let (sender, receiver) = mpsc::channel();
        Ok(Pipeline {
            schema,
            pool: pool(threads)?,
            sender,
            receiver,
            spent: Vec::new(),
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
        let schema = Arc::clone(&self.schema);
        let sender = self.sender.clone();
        self.pool.spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| {
                let mut out = ChunkOutcome {
                    valid: Vec::with_capacity(records.len()),
                    ..ChunkOutcome::default()
                };
                for (i, record) in records.iter().enumerate() {
                    let ok = check::validate(&schema, &record, first_index + i, &mut out.errors);
                    out.valid.push(ok);
                }
                out
            }))
            .map_err(|p| EngineError::Panic(panic_message(&*p)));
            let _ = sender.send((task, outcome, records));
        });
    }

    /// Waits for every task and returns their outcomes in order.
    pub fn finish(mut self) -> Result<ChunkOutcome, EngineError> {
        self.wait_all();
        let mut out = ChunkOutcome {
            tasks: self.submitted,
            ..ChunkOutcome::default()
        };
        for r in std::mem::take(&mut self.received) {
            match r {
                Some(outcome) => out.append(outcome?),
                None => return Err(EngineError::Panic("a task did not report".to_string())),
            }
        }
        Ok(out)
    }

    fn wait_all(&mut self) {
        self.received.resize_with(self.submitted, || None);
        while self.outstanding > 0 {
            match self.receiver.recv() {
                Ok((task, outcome, records)) => {
                    self.outstanding -= 1;
                    self.received[task] = Some(outcome);
                    self.spent.push(records);
                }
                // Every task holds a sender until it has sent; with ours alive this
                // cannot happen, but never wait forever.
                Err(_) => break,
            }
        }
    }
}

impl Drop for Pipeline {
    fn drop(&mut self) {
        // Tasks may still read borrowed records: wait for them.
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
) -> Result<ChunkOutcome, EngineError> {
    let mut out = run_tasks(spans.len(), knobs, |range| {
        let mut out = ChunkOutcome {
            valid: Vec::with_capacity(range.len()),
            ..ChunkOutcome::default()
        };
        for i in range {
            let span = &spans[i];
            let index = first_index + i;
            let bytes = &input[span.range.clone()];
            if fused::is_valid(schema, bytes) {
                out.valid.push(true);
                continue;
            }
            let ok = match parse_value(bytes, MAX_DEPTH) {
                Ok(doc) => check::validate(schema, &&doc, index, &mut out.errors),
                Err(e) if e.kind == JsonErrorKind::TooDeep => {
                    out.errors.push(RecordError {
                        index,
                        path: String::new(),
                        keyword: "depth",
                        message: format!("Nesting deeper than {MAX_DEPTH} levels"),
                        schema_path: String::new(),
                    });
                    false
                }
                Err(e) => match on_parse_error {
                    OnParseError::RecordError => {
                        out.errors.push(RecordError {
                            index,
                            path: String::new(),
                            keyword: "json",
                            message: format!("Invalid JSON on line {}: {e}", span.line + 1),
                            schema_path: String::new(),
                        });
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
            out.valid.push(ok);
        }
        Ok(out)
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
            },
            OnParseError::Fail,
        )
        .unwrap();
        assert_eq!(reference.valid.iter().filter(|v| !**v).count(), 42);
        for threads in [1, 2, 3, 8] {
            for m in [1, 7, 64, 500] {
                let knobs = Knobs {
                    batch_size: 1000,
                    micro_batch_size: m,
                    threads,
                };
                let out =
                    validate_spans(&schema, &input, &spans, 0, knobs, OnParseError::Fail).unwrap();
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
            },
            OnParseError::Fail,
        )
        .unwrap();
        assert_eq!(out.valid, vec![false]);
        let got: Vec<(usize, &str, &str, &str)> = out
            .errors
            .iter()
            .map(|e| (e.index, e.path.as_str(), e.keyword, e.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (10, "/a", "minimum", "Must be >= 0, got -1"),
                (10, "/b", "pattern", "String does not match `^x+$`")
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
            },
            OnParseError::RecordError,
        )
        .unwrap();
        assert_eq!(out.valid, vec![true, false, true]);
        assert_eq!(out.errors.len(), 1);
        assert_eq!(out.errors[0].keyword, "json");
        assert!(
            out.errors[0]
                .message
                .starts_with("Invalid JSON on line 2: "),
            "{}",
            out.errors[0].message
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
            },
            OnParseError::Fail,
        )
        .unwrap_err();
        assert!(matches!(err, EngineError::InvalidJson { .. }), "{err:?}");
    }

    #[test]
    fn pipeline_matches_direct_checks() {
        let schema = Arc::new(Schema::from_json_text(SCHEMA).unwrap());
        let input = records(57);
        let spans = spans_of_array(&input);
        let docs: Vec<Json<'static>> = spans
            .iter()
            .map(|s| parse_value(&input[s.range.clone()], MAX_DEPTH).unwrap())
            .map(|d| to_owned_json(&d))
            .collect();
        let refs: Vec<&Json> = docs.iter().collect();
        let direct = validate_records(
            &schema,
            &refs,
            5,
            Knobs {
                batch_size: 57,
                micro_batch_size: 57,
                threads: 1,
            },
        )
        .unwrap();
        for m in [1, 4, 57, 100] {
            let mut pipeline = Pipeline::new(Arc::clone(&schema), 2).unwrap();
            for (t, task) in docs.chunks(m).enumerate() {
                // SAFETY: the documents own their data.
                unsafe { pipeline.submit(task.to_vec(), 5 + t * m) };
            }
            let out = pipeline.finish().unwrap();
            assert_eq!(out.valid, direct.valid);
            assert_eq!(out.errors, direct.errors);
            assert_eq!(out.tasks, 57usize.div_ceil(m));
        }
        // Dropped without `finish`: waits for its tasks, never hangs.
        let mut pipeline = Pipeline::new(Arc::clone(&schema), 2).unwrap();
        unsafe { pipeline.submit(docs.clone(), 0) };
        drop(pipeline);
    }

    fn to_owned_json(d: &Json<'_>) -> Json<'static> {
        match d {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(*b),
            Json::Number(n) => Json::Number(n.clone()),
            Json::String(s) => Json::String(std::borrow::Cow::Owned(s.to_string())),
            Json::Array(items) => Json::Array(items.iter().map(to_owned_json).collect()),
            Json::Object(entries) => Json::Object(
                entries
                    .iter()
                    .map(|(k, v)| (std::borrow::Cow::Owned(k.to_string()), to_owned_json(v)))
                    .collect(),
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
            },
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
            },
            OnParseError::Fail,
        )
        .unwrap();
        assert_eq!(a.valid, b.valid);
        assert_eq!(a.errors, b.errors);
    }
}
