//! `CompiledSchema`: the Python handle on a compiled [`Schema`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use std::panic::{catch_unwind, AssertUnwindSafe};

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

use super::errors::{satya_error, PyRecordError};
use super::record::{refuse_non_json, PyObj};
use super::sources::{pool_cost, run_all, run_split, within, ChunkIter, Run, Source, Switch};
use super::threads::without_gil;
use satya_adapt_core::{
    profile_json, profile_ndjson, profile_ndjson_file, profile_ndjson_prefix, profile_records,
    spread_indexes, validate_capped, Draft, Knobs, Options, Profile, Schema, SAMPLE_RECORDS,
};

const PANIC: &str = "internal error in the validator (please report it)";

#[pyclass(frozen, module = "satya_adapt._validator")]
pub struct CompiledSchema {
    pub(crate) schema: Arc<Schema>,
}

pub(crate) fn knobs(
    batch_size: usize,
    micro_batch_size: usize,
    threads: usize,
    max_errors: Option<usize>,
    verdicts_only: bool,
) -> PyResult<Knobs> {
    for (name, v) in [
        ("batch_size", batch_size),
        ("micro_batch_size", micro_batch_size),
        ("threads", threads),
    ] {
        if v == 0 {
            return Err(PyValueError::new_err(format!(
                "`{name}` must be a positive int, got 0"
            )));
        }
    }
    Ok(Knobs {
        batch_size,
        micro_batch_size,
        threads,
        max_errors: max_errors.unwrap_or(usize::MAX),
        verdicts_only,
    })
}

/// A sliced trial's first part as the bindings receive it: `(records, batch_size,
/// micro_batch_size, threads, warm)`.
type Trial = (usize, usize, usize, usize, usize);

/// A run whose first `trial.4 + trial.0` records run the trial's knobs (the first `trial.4`
/// of them a warm-up, timed apart) and the rest `rest` (live verification's sliced trial), or
/// with no trial one that runs `knobs` throughout.
/// `k` records spread evenly over a list or a tuple (all when fewer), as the core samples.
fn spread_sample<'py>(items: &Bound<'py, PyAny>, k: usize) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if let Ok(list) = items.downcast::<PyList>() {
        spread_indexes(list.len(), k)
            .map(|i| list.get_item(i))
            .collect()
    } else if let Ok(tuple) = items.downcast::<PyTuple>() {
        spread_indexes(tuple.len(), k)
            .map(|i| tuple.get_item(i))
            .collect()
    } else {
        Err(PyValueError::new_err("`items` must be a list or a tuple"))
    }
}

fn start(schema: &Arc<Schema>, source: Source, rest: Knobs, trial: Option<Trial>) -> PyResult<Run> {
    let Some((records, b, m, t, warm)) = trial else {
        return Ok(Run::new(Arc::clone(schema), source, rest));
    };
    if records == 0 {
        return Err(PyValueError::new_err(
            "a trial's `records` must be positive, got 0",
        ));
    }
    let first = knobs(b, m, t, Some(rest.max_errors), rest.verdicts_only)?;
    let switch = Switch {
        warm,
        at: warm.saturating_add(records),
        knobs: rest,
    };
    Ok(Run::new(Arc::clone(schema), source, first).switch_at(switch))
}

/// A run to its end (the raw result tuple), or as an iterator of chunks; with a trial, the
/// raw result and `(records, seconds, warm_records, warm_seconds)` of its first part after
/// and during its warm-up (no chunks).
fn finish(py: Python<'_>, run: Run, chunked: bool, trial: bool) -> PyResult<PyObject> {
    if trial {
        if chunked {
            return Err(PyValueError::new_err(
                "a trial runs a whole call, not `chunked`",
            ));
        }
        let (raw, split) = run_split(py, run)?;
        return Ok((raw, split).into_pyobject(py)?.into_any().unbind());
    }
    if chunked {
        Ok(Bound::new(py, ChunkIter::new(run))?.into_any().unbind())
    } else {
        Ok(run_all(py, run)?.into_any().unbind())
    }
}

pub(crate) type RawProfile = (usize, f64, f64, f64, &'static str, Option<usize>, bool);

pub(crate) fn raw(p: Profile) -> RawProfile {
    (
        p.field_count,
        p.avg_string_length,
        p.constraint_complexity,
        p.object_size,
        p.kind,
        p.n,
        p.n_estimated,
    )
}

#[pymethods]
impl CompiledSchema {
    #[new]
    #[pyo3(signature = (schema_json, draft=None, strict=false, resources_json=None, formats=true))]
    fn new(
        py: Python<'_>,
        schema_json: &str,
        draft: Option<&str>,
        strict: bool,
        resources_json: Option<&str>,
        formats: bool,
    ) -> PyResult<Self> {
        let error = |m: String| satya_error(py, "SchemaError", m);
        let draft = match draft {
            None => None,
            Some(name) => Some(Draft::from_name(name).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "`draft` must be one of 4, 6, 7, 2019-09, 2020-12, got {name:?}"
                ))
            })?),
        };
        let resources = match resources_json {
            None => Vec::new(),
            Some(text) => Options::parse_resources(text).map_err(|e| error(e.0))?,
        };
        let doc = Schema::parse_document(schema_json).map_err(|e| error(e.0))?;
        let options = Options {
            draft,
            strict,
            resources,
            annotate_formats: !formats,
        };
        let schema = Schema::compile_with(&doc, &options).map_err(|e| error(e.0))?;
        Ok(CompiledSchema {
            schema: Arc::new(schema),
        })
    }

    /// What compiling noticed that the schema's author should hear (each `$schema`
    /// that names no draft); the Python layer issues them as `SchemaWarning`s.
    #[getter]
    fn warnings(&self) -> Vec<String> {
        self.schema.warnings.clone()
    }

    #[getter]
    fn field_count(&self) -> usize {
        self.schema.field_count
    }

    #[getter]
    fn constraint_complexity(&self) -> f64 {
        self.schema.constraint_complexity
    }

    /// Validates records given as Python objects: the raw result tuple of the
    /// whole call, or with `chunked` an iterator of one raw result per chunk.
    #[allow(clippy::too_many_arguments)]
    /// `max_hold` (seconds): the GIL is released whenever it has been held that
    /// long, checked every 64 records (the engine's signal poll): on the direct
    /// path (`threads == 1`) while records are checked, in the pool while they
    /// are taken apart.
    /// `trial` (`(records, batch_size, micro_batch_size, threads, warm)`): the first
    /// `warm + records` records run these knobs, the rest the call's; the answer is then
    /// `(raw, (records, seconds, warm, warm_seconds))` of the first part after and during its
    /// warm-up (live verification's sliced trial).
    /// `verdicts_only`: no error built or counted, a failing record not walked for them.
    #[pyo3(signature = (items, batch_size, micro_batch_size, threads, max_errors, chunked=false, max_hold=None, trial=None, verdicts_only=false))]
    fn validate_objects(
        &self,
        py: Python<'_>,
        items: &Bound<'_, PyAny>,
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
        max_errors: Option<usize>,
        chunked: bool,
        max_hold: Option<f64>,
        trial: Option<Trial>,
        verdicts_only: bool,
    ) -> PyResult<PyObject> {
        let knobs = knobs(
            batch_size,
            micro_batch_size,
            threads,
            max_errors,
            verdicts_only,
        )?;
        let limit = match max_hold {
            None => None,
            Some(s) if s.is_finite() && s >= 0.0 => Some(Duration::from_secs_f64(s.min(1e9))),
            Some(s) => {
                return Err(PyValueError::new_err(format!(
                    "`max_hold` must be a finite number of seconds >= 0, got {s:?}"
                )))
            }
        };
        let mut run = start(&self.schema, Source::objects(items)?, knobs, trial)?;
        run.gil.set_limit(limit);
        finish(py, run, chunked, trial.is_some())
    }

    /// Validates the elements of a JSON array, as `validate_objects`; with a
    /// `span`, the array is `data[start..end]` (records inside a JSON document).
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (data, batch_size, micro_batch_size, threads, max_errors, chunked=false, trial=None, verdicts_only=false, span=None))]
    fn validate_json(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyBytes>,
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
        max_errors: Option<usize>,
        chunked: bool,
        trial: Option<Trial>,
        verdicts_only: bool,
        span: Option<(usize, usize)>,
    ) -> PyResult<PyObject> {
        let knobs = knobs(
            batch_size,
            micro_batch_size,
            threads,
            max_errors,
            verdicts_only,
        )?;
        let run = start(&self.schema, Source::json_array(data, span)?, knobs, trial)?;
        finish(py, run, chunked, trial.is_some())
    }

    /// Validates NDJSON (bytes, a path, or a binary reader whose first bytes are
    /// `prefix`), as `validate_objects`.
    #[allow(clippy::too_many_arguments)]
    #[pyo3(signature = (source, prefix, batch_size, micro_batch_size, threads, max_record_bytes, max_errors, chunked=false, trial=None, verdicts_only=false))]
    fn validate_ndjson(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        prefix: &[u8],
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
        max_record_bytes: usize,
        max_errors: Option<usize>,
        chunked: bool,
        trial: Option<Trial>,
        verdicts_only: bool,
    ) -> PyResult<PyObject> {
        let knobs = knobs(
            batch_size,
            micro_batch_size,
            threads,
            max_errors,
            verdicts_only,
        )?;
        let source = Source::ndjson(py, source, prefix, max_record_bytes)?;
        let run = start(&self.schema, source, knobs, trial)?;
        finish(py, run, chunked, trial.is_some())
    }

    /// Whether one record (a Python object) is valid: the cheap path, read in
    /// place, nothing built.
    fn is_valid(&self, record: &Bound<'_, PyAny>) -> PyResult<bool> {
        refuse_non_json(record, None)?;
        let schema = &*self.schema;
        catch_unwind(AssertUnwindSafe(|| {
            satya_adapt_core::is_valid(schema, &PyObj::new(record))
        }))
        .map_err(|_| PyRuntimeError::new_err(PANIC))
    }

    /// The errors of one record (index 0), at most `max_errors` of them, and
    /// how many more there were.
    #[pyo3(signature = (record, max_errors))]
    fn errors_of<'py>(
        &self,
        py: Python<'py>,
        record: &Bound<'py, PyAny>,
        max_errors: Option<usize>,
    ) -> PyResult<(Bound<'py, PyList>, usize)> {
        refuse_non_json(record, None)?;
        let schema = &*self.schema;
        let mut errors = Vec::new();
        let mut omitted = 0;
        catch_unwind(AssertUnwindSafe(|| {
            validate_capped(
                schema,
                &PyObj::new(record),
                0,
                &mut errors,
                max_errors.unwrap_or(usize::MAX),
                &mut omitted,
            )
        }))
        .map_err(|_| PyRuntimeError::new_err(PANIC))?;
        let list = PyList::empty(py);
        for e in errors {
            list.append(Bound::new(py, PyRecordError::from(e))?)?;
        }
        Ok((list, omitted))
    }

    /// Profile of records given as Python objects: a sample spread over a
    /// list or tuple (or the read-ahead of an iterator).
    #[pyo3(signature = (items, n))]
    fn profile_objects(&self, items: &Bound<'_, PyAny>, n: Option<usize>) -> PyResult<RawProfile> {
        let sample = spread_sample(items, SAMPLE_RECORDS)?;
        Ok(raw(profile_records(
            &self.schema,
            sample.iter().map(PyObj::new),
            n,
        )))
    }

    /// Seconds of checking `k` records spread over a list or a tuple in place, and of
    /// taking them apart for the pool and checking them, on this thread (each the best
    /// of `rounds`; see `sources::pool_cost`). `None` when a sampled record is not a JSON value
    /// (the call itself says which) or a check stopped.
    #[pyo3(signature = (items, k, rounds, verdicts_only=false))]
    fn pool_cost(
        &self,
        items: &Bound<'_, PyAny>,
        k: usize,
        rounds: usize,
        verdicts_only: bool,
    ) -> PyResult<Option<(f64, f64)>> {
        if k == 0 || rounds == 0 {
            return Err(PyValueError::new_err(format!(
                "`k` and `rounds` must be positive ints, got {k} and {rounds}"
            )));
        }
        let sample = spread_sample(items, k)?;
        if sample.is_empty() || sample.iter().any(|r| refuse_non_json(r, None).is_err()) {
            return Ok(None);
        }
        // Held here, so no record goes while it is read.
        let records: Vec<PyObj<'_>> = sample.iter().map(PyObj::new).collect();
        let knobs = knobs(k, k, 1, None, verdicts_only)?;
        Ok(pool_cost(&self.schema, &records, knobs, rounds))
    }

    #[pyo3(signature = (data, span=None))]
    fn profile_json(
        &self,
        data: &Bound<'_, PyBytes>,
        span: Option<(usize, usize)>,
    ) -> PyResult<RawProfile> {
        Ok(raw(profile_json(
            &self.schema,
            within(data.as_bytes(), span)?,
        )))
    }

    fn profile_ndjson(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        prefix: &[u8],
    ) -> PyResult<RawProfile> {
        if let Ok(data) = source.downcast::<PyBytes>() {
            return Ok(raw(profile_ndjson(&self.schema, data.as_bytes())));
        }
        // (As `Source::ndjson` reads it: a path whose bytes are not UTF-8 too.)
        if source.is_instance_of::<PyString>() {
            let path: PathBuf = source.extract()?;
            let schema = &self.schema;
            let profile = without_gil(py, || profile_ndjson_file(schema, &path)).map_err(|e| {
                satya_error(
                    py,
                    "InputError",
                    format!("cannot read NDJSON file {path:?}: {e}"),
                )
            })?;
            return Ok(raw(profile));
        }
        // A stream: only its read-ahead is known, and not its length.
        Ok(raw(profile_ndjson_prefix(&self.schema, prefix)))
    }
}
