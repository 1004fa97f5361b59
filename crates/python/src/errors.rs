//! `RecordError` for Python, and raising the exceptions of `satya_adapt.errors`.

use std::borrow::Cow;

use pyo3::basic::CompareOp;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;

use satya_adapt_core::{EngineError, RecordError};

/// One failure of one record: `index` in the input, JSON-pointer `path`, the
/// failing `keyword` (JSON Schema spelling), a readable `message`.
#[pyclass(frozen, module = "satya_adapt", name = "RecordError")]
pub struct PyRecordError {
    #[pyo3(get)]
    index: usize,
    #[pyo3(get)]
    path: String,
    /// Borrowed from the core's names (no copy per error), owned when made
    /// from Python.
    #[pyo3(get)]
    keyword: Cow<'static, str>,
    #[pyo3(get)]
    message: String,
    /// Where the failing keyword is in the schema (a JSON pointer); not part of
    /// equality, so errors compare by what failed and where in the record.
    #[pyo3(get)]
    schema_path: String,
}

#[pymethods]
impl PyRecordError {
    #[new]
    #[pyo3(signature = (index, path, keyword, message, schema_path=String::new()))]
    fn new(
        index: usize,
        path: String,
        keyword: String,
        message: String,
        schema_path: String,
    ) -> Self {
        PyRecordError {
            index,
            path,
            keyword: Cow::Owned(keyword),
            message,
            schema_path,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "RecordError(index={}, path={:?}, keyword={:?}, message={:?})",
            self.index, self.path, self.keyword, self.message
        )
    }

    fn __richcmp__(&self, other: &Bound<'_, PyAny>, op: CompareOp, py: Python<'_>) -> PyObject {
        let Ok(other) = other.downcast::<PyRecordError>() else {
            return py.NotImplemented();
        };
        let o = other.get();
        let eq = self.index == o.index
            && self.path == o.path
            && self.keyword == o.keyword
            && self.message == o.message;
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
        (self.index, &self.path, &self.keyword, &self.message).hash(&mut h);
        h.finish()
    }
}

impl From<RecordError> for PyRecordError {
    fn from(e: RecordError) -> Self {
        PyRecordError {
            index: e.index,
            path: e.path,
            keyword: Cow::Borrowed(e.keyword),
            message: e.message,
            schema_path: e.schema_path,
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
