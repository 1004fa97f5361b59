//! `RecordError` for Python, and raising the exceptions of `satya_adapt.errors`.

use std::borrow::Cow;

use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyInt;

use satya_adapt_core::{one_string, EngineError, RecordError};

/// One failure of one record: `index` in the input, JSON-pointer `path`, the
/// failing `keyword` (JSON Schema spelling), a readable `message`.
#[pyclass(frozen, module = "satya_adapt", name = "RecordError")]
pub struct PyRecordError {
    #[pyo3(get)]
    index: usize,
    /// Borrowed from the core's names (no copy per error), owned when made
    /// from Python.
    #[pyo3(get)]
    keyword: Cow<'static, str>,
    /// The core's one string per error, kept as it is: `path` is
    /// `text[..path_end]`, `message` `text[path_end..message_end]`, and
    /// `schema_path` (where the failing keyword is in the schema, a JSON
    /// pointer; not part of equality, so errors compare by what failed and
    /// where in the record) the rest.
    text: String,
    path_end: usize,
    message_end: usize,
}

impl PyRecordError {
    fn path_str(&self) -> &str {
        self.text.get(..self.path_end).unwrap_or("")
    }

    fn message_str(&self) -> &str {
        self.text.get(self.path_end..self.message_end).unwrap_or("")
    }
}

#[pymethods]
impl PyRecordError {
    #[new]
    #[pyo3(signature = (index, path, keyword, message, schema_path=""))]
    fn new(
        index: &Bound<'_, PyAny>,
        path: &str,
        keyword: String,
        message: &str,
        schema_path: &str,
    ) -> PyResult<Self> {
        // A negative int is a bad argument, not the `OverflowError` of its conversion.
        let index = match index.extract::<usize>() {
            Ok(index) => index,
            Err(_) if index.is_instance_of::<PyInt>() && index.lt(0).unwrap_or(false) => {
                return Err(PyValueError::new_err(format!(
                    "`index` must be >= 0 (the record's place in the input), got {index}"
                )));
            }
            Err(err) => return Err(err),
        };
        let (text, path_end, message_end) = one_string(path, message, schema_path);
        Ok(PyRecordError {
            index,
            keyword: Cow::Owned(keyword),
            text,
            path_end,
            message_end,
        })
    }

    #[getter]
    fn path(&self) -> &str {
        self.path_str()
    }

    #[getter]
    fn message(&self) -> &str {
        self.message_str()
    }

    #[getter]
    fn schema_path(&self) -> &str {
        self.text.get(self.message_end..).unwrap_or("")
    }

    /// Pickling (a multiprocessing worker returns its errors) and `copy`: the
    /// constructor's arguments, `schema_path` included.
    fn __reduce__<'py>(
        slf: &Bound<'py, Self>,
    ) -> (Bound<'py, PyAny>, (usize, String, String, String, String)) {
        let e = slf.get();
        let schema_path = e.text.get(e.message_end..).unwrap_or("");
        (
            slf.get_type().into_any(),
            (
                e.index,
                e.path_str().to_owned(),
                e.keyword.to_string(),
                e.message_str().to_owned(),
                schema_path.to_owned(),
            ),
        )
    }

    fn __repr__(&self) -> String {
        format!(
            "RecordError(index={}, path={:?}, keyword={:?}, message={:?})",
            self.index,
            self.path_str(),
            self.keyword,
            self.message_str()
        )
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp, py: Python<'_>) -> PyObject {
        let Ok(other) = other.downcast::<PyRecordError>() else {
            return py.NotImplemented();
        };
        let o = other.get();
        let eq = self.index == o.index
            && self.path_str() == o.path_str()
            && self.keyword == o.keyword
            && self.message_str() == o.message_str();
        match op {
            CompareOp::Eq => eq
                .into_pyobject(py)
                .map(|b| b.to_owned().into_any().unbind())
                .unwrap_or_else(|_| py.None()),
            CompareOp::Ne => (!eq)
                .into_pyobject(py)
                .map(|b| b.to_owned().into_any().unbind())
                .unwrap_or_else(|_| py.None()),
            _ => py.NotImplemented(),
        }
    }

    fn __hash__(&self) -> u64 {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (
            self.index,
            self.path_str(),
            &self.keyword,
            self.message_str(),
        )
            .hash(&mut h);
        h.finish()
    }
}

impl From<RecordError> for PyRecordError {
    fn from(e: RecordError) -> Self {
        let (index, keyword, text, path_end, message_end) = e.into_parts();
        PyRecordError {
            index,
            keyword: Cow::Borrowed(keyword),
            text,
            path_end,
            message_end,
        }
    }
}

/// An exception of `satya_adapt.errors` (`SchemaError`, `InputError`), or a
/// `ValueError` if that module cannot be imported.
pub fn satya_error(py: Python<'_>, class: &str, message: String) -> PyErr {
    let made = py
        .import("satya_adapt.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|cls| cls.call1((message.clone(),)));
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(_) => PyValueError::new_err(message),
    }
}

pub fn engine_error(py: Python<'_>, e: EngineError) -> PyErr {
    match e {
        EngineError::InvalidJson { .. } => satya_error(py, "InputError", e.to_string()),
        EngineError::Panic(_) | EngineError::Pool(_) => PyRuntimeError::new_err(e.to_string()),
        EngineError::Interrupted => PyKeyboardInterrupt::new_err(()),
    }
}
