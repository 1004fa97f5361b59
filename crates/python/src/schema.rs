//! `CompiledSchema`: the Python handle on a compiled [`Schema`].

use std::fs::File;
use std::io::Read;
use std::sync::Arc;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyTuple};

use super::errors::satya_error;
use super::record::PyObj;
use super::sources::{run_all, ChunkIter, Run, Source};
use satya_adapt_core::{
    parse_value, sample_indexes, skip_bom, ArrayElements, Knobs, NdjsonLines, SampleStats, Schema,
    MAX_DEPTH, SAMPLE_SPANS,
};

/// Bytes of a file read to detect its profile.
const PROFILE_PREFIX: usize = 64 * 1024;

#[pyclass(frozen, module = "satya_adapt._validator")]
pub struct CompiledSchema {
    schema: Arc<Schema>,
}

fn knobs(batch_size: usize, micro_batch_size: usize, threads: usize) -> PyResult<Knobs> {
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
    })
}

type RawProfile = (usize, f64, f64, f64, &'static str, Option<usize>);

impl CompiledSchema {
    fn profile(
        &self,
        stats: &SampleStats,
        object_size: f64,
        kind: &'static str,
        n: Option<usize>,
    ) -> RawProfile {
        (
            self.schema.field_count,
            stats.avg_string_length(),
            self.schema.constraint_complexity,
            object_size,
            kind,
            n,
        )
    }

    /// Profile of byte records given as spans: exact sizes, strings from parsing the sample.
    fn profile_spans(
        &self,
        input: &[u8],
        spans: impl Iterator<Item = std::ops::Range<usize>>,
        total_bytes: Option<usize>,
        kind: &'static str,
        exhausted_means_exact: bool,
    ) -> RawProfile {
        let mut stats = SampleStats::default();
        let mut span_bytes = 0usize;
        let mut count = 0usize;
        let mut exhausted = true;
        for (i, range) in spans.enumerate() {
            if i == SAMPLE_SPANS {
                exhausted = false;
                break;
            }
            span_bytes += range.len();
            count += 1;
            if let Ok(doc) = parse_value(&input[range], MAX_DEPTH) {
                stats.add(&&doc);
            }
        }
        let object_size = if count == 0 {
            0.0
        } else {
            span_bytes as f64 / count as f64
        };
        let n = if exhausted && exhausted_means_exact {
            Some(count)
        } else {
            // An estimate from the sampled sizes, rounded up by a quarter: the
            // selector clamps `batch_size` to `n`, and an estimate a little short
            // would split a call into a full chunk and a tiny one.
            total_bytes.map(|t| {
                if object_size > 0.0 {
                    (t as f64 / (object_size + 1.0) * 1.25).ceil() as usize
                } else {
                    0
                }
            })
        };
        self.profile(&stats, object_size, kind, n)
    }
}

#[pymethods]
impl CompiledSchema {
    #[new]
    fn new(py: Python<'_>, schema_json: &str) -> PyResult<Self> {
        let schema =
            Schema::from_json_text(schema_json).map_err(|e| satya_error(py, "SchemaError", e.0))?;
        Ok(CompiledSchema {
            schema: Arc::new(schema),
        })
    }

    #[getter]
    fn field_count(&self) -> usize {
        self.schema.field_count
    }

    #[getter]
    fn constraint_complexity(&self) -> f64 {
        self.schema.constraint_complexity
    }

    fn validate_objects<'py>(
        &self,
        py: Python<'py>,
        items: &Bound<'py, PyAny>,
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let knobs = knobs(batch_size, micro_batch_size, threads)?;
        run_all(
            py,
            Run::new(Arc::clone(&self.schema), Source::objects(items)?, knobs),
        )
    }

    fn iter_objects(
        &self,
        items: &Bound<'_, PyAny>,
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
    ) -> PyResult<ChunkIter> {
        let knobs = knobs(batch_size, micro_batch_size, threads)?;
        Ok(ChunkIter::new(Run::new(
            Arc::clone(&self.schema),
            Source::objects(items)?,
            knobs,
        )))
    }

    fn validate_json<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyBytes>,
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let knobs = knobs(batch_size, micro_batch_size, threads)?;
        run_all(
            py,
            Run::new(Arc::clone(&self.schema), Source::json_array(data), knobs),
        )
    }

    fn iter_json(
        &self,
        data: &Bound<'_, PyBytes>,
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
    ) -> PyResult<ChunkIter> {
        let knobs = knobs(batch_size, micro_batch_size, threads)?;
        Ok(ChunkIter::new(Run::new(
            Arc::clone(&self.schema),
            Source::json_array(data),
            knobs,
        )))
    }

    #[allow(clippy::too_many_arguments)]
    fn validate_ndjson<'py>(
        &self,
        py: Python<'py>,
        source: &Bound<'py, PyAny>,
        prefix: &[u8],
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
        max_record_bytes: usize,
    ) -> PyResult<Bound<'py, PyTuple>> {
        let knobs = knobs(batch_size, micro_batch_size, threads)?;
        run_all(
            py,
            Run::new(
                Arc::clone(&self.schema),
                Source::ndjson(py, source, prefix, max_record_bytes)?,
                knobs,
            ),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn iter_ndjson(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        prefix: &[u8],
        batch_size: usize,
        micro_batch_size: usize,
        threads: usize,
        max_record_bytes: usize,
    ) -> PyResult<ChunkIter> {
        let knobs = knobs(batch_size, micro_batch_size, threads)?;
        Ok(ChunkIter::new(Run::new(
            Arc::clone(&self.schema),
            Source::ndjson(py, source, prefix, max_record_bytes)?,
            knobs,
        )))
    }

    /// Profile of records given as Python objects: a sample spread over a
    /// list or tuple (or the read-ahead of an iterator).
    #[pyo3(signature = (items, n))]
    fn profile_objects(&self, items: &Bound<'_, PyAny>, n: Option<usize>) -> PyResult<RawProfile> {
        let mut stats = SampleStats::default();
        if let Ok(list) = items.downcast::<PyList>() {
            for i in sample_indexes(list.len()) {
                stats.add(&PyObj::new(&list.get_item(i)?));
            }
        } else if let Ok(tuple) = items.downcast::<PyTuple>() {
            for i in sample_indexes(tuple.len()) {
                stats.add(&PyObj::new(&tuple.get_item(i)?));
            }
        } else {
            return Err(PyValueError::new_err("`items` must be a list or a tuple"));
        }
        Ok(self.profile(&stats, stats.avg_object_size(), "dicts", n))
    }

    fn profile_json(&self, data: &Bound<'_, PyBytes>) -> RawProfile {
        let input = skip_bom(data.as_bytes());
        let spans = ArrayElements::new(input).map_while(Result::ok);
        self.profile_spans(input, spans, Some(input.len()), "json", true)
    }

    fn profile_ndjson(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        prefix: &[u8],
    ) -> PyResult<RawProfile> {
        if let Ok(data) = source.downcast::<PyBytes>() {
            let input = skip_bom(data.as_bytes());
            let spans = NdjsonLines::new(input).map(|(_, r)| r);
            return Ok(self.profile_spans(input, spans, Some(input.len()), "ndjson", true));
        }
        if let Ok(path) = source.extract::<String>() {
            let read = || -> std::io::Result<(Vec<u8>, u64)> {
                let file = File::open(&path)?;
                let size = file.metadata()?.len();
                let mut head = Vec::with_capacity(PROFILE_PREFIX);
                file.take(PROFILE_PREFIX as u64).read_to_end(&mut head)?;
                Ok((head, size))
            };
            let (head, size) = py.allow_threads(read).map_err(|e| {
                satya_error(
                    py,
                    "InputError",
                    format!("cannot read NDJSON file {path:?}: {e}"),
                )
            })?;
            let complete = size as usize == head.len();
            let head = skip_bom(&head);
            let spans = complete_lines(head, complete);
            return Ok(self.profile_spans(
                head,
                spans.into_iter(),
                Some(size as usize),
                "ndjson",
                complete,
            ));
        }
        // A stream: only its read-ahead is known, and not its length.
        let prefix = skip_bom(prefix);
        let spans = complete_lines(prefix, false);
        let mut p = self.profile_spans(prefix, spans.into_iter(), None, "ndjson", false);
        p.5 = None;
        Ok(p)
    }
}

/// Line spans of a head of NDJSON, without a last line that may be cut off.
fn complete_lines(head: &[u8], complete: bool) -> Vec<std::ops::Range<usize>> {
    let end = if complete {
        head.len()
    } else {
        head.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1)
    };
    NdjsonLines::new(&head[..end])
        .map(|(_, r)| r)
        .take(SAMPLE_SPANS + 1)
        .collect()
}
