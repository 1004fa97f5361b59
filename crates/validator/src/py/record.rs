//! Python objects as records: read in place on the single-threaded path, or
//! taken apart into [`Json`] (borrowing string data, kept alive by strong
//! references) for the thread pool.

use std::borrow::Cow;
use std::ops::ControlFlow;

use num_bigint::BigInt;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};

use crate::value::{Defect, EntryKey, Json, Kind, Number, Record, MAX_DEPTH};

#[inline]
fn kind_of(obj: &Bound<'_, PyAny>) -> Kind {
    let ptr = obj.as_ptr();
    // SAFETY: `ptr` is a live object; type checks only read its type.
    unsafe {
        let ty = ffi::Py_TYPE(ptr);
        if ty == std::ptr::addr_of_mut!(ffi::PyUnicode_Type) {
            Kind::String
        } else if ty == std::ptr::addr_of_mut!(ffi::PyLong_Type) || ty == std::ptr::addr_of_mut!(ffi::PyFloat_Type) {
            Kind::Number
        } else if ty == std::ptr::addr_of_mut!(ffi::PyDict_Type) {
            Kind::Object
        } else if ty == std::ptr::addr_of_mut!(ffi::PyBool_Type) {
            Kind::Bool
        } else if ty == std::ptr::addr_of_mut!(ffi::PyList_Type) || ty == std::ptr::addr_of_mut!(ffi::PyTuple_Type) {
            Kind::Array
        } else if ptr == ffi::Py_None() {
            Kind::Null
        } else if ffi::PyBool_Check(ptr) != 0 {
            Kind::Bool
        } else if ffi::PyLong_Check(ptr) != 0 || ffi::PyFloat_Check(ptr) != 0 {
            Kind::Number
        } else if ffi::PyUnicode_Check(ptr) != 0 {
            Kind::String
        } else if ffi::PyDict_Check(ptr) != 0 {
            Kind::Object
        } else if ffi::PyList_Check(ptr) != 0 || ffi::PyTuple_Check(ptr) != 0 {
            Kind::Array
        } else {
            Kind::Unsupported
        }
    }
}

/// The UTF-8 of a Python str, borrowed from the object's cached buffer;
/// `None` for a str with lone surrogates.
#[inline]
fn utf8<'a>(obj: &'a Bound<'_, PyAny>) -> Option<&'a str> {
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `obj` is a str (checked by the caller); the buffer lives as long as `obj`.
    unsafe {
        let data = ffi::PyUnicode_AsUTF8AndSize(obj.as_ptr(), &mut size);
        if data.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), size as usize);
        Some(std::str::from_utf8_unchecked(bytes))
    }
}

fn number_of(obj: &Bound<'_, PyAny>) -> Number {
    let ptr = obj.as_ptr();
    // SAFETY: `ptr` is an int or a float (the kind was checked).
    unsafe {
        if ffi::PyFloat_Check(ptr) != 0 {
            return Number::Float(ffi::PyFloat_AsDouble(ptr));
        }
        let mut overflow = 0;
        let v = ffi::PyLong_AsLongLongAndOverflow(ptr, &mut overflow);
        if overflow == 0 && !(v == -1 && !ffi::PyErr_Occurred().is_null()) {
            return Number::Int(v);
        }
        ffi::PyErr_Clear();
    }
    match obj.extract::<BigInt>() {
        Ok(b) => Number::from_bigint(b),
        Err(_) => Number::Float(f64::NAN),
    }
}

fn key_repr(key: &Bound<'_, PyAny>) -> String {
    key.repr().map(|r| r.to_string()).unwrap_or_else(|_| "?".to_string())
}

impl<'py> Record for Bound<'py, PyAny> {
    #[inline]
    fn kind(&self) -> Kind {
        kind_of(self)
    }
    #[inline]
    fn as_bool(&self) -> bool {
        self.is_truthy().unwrap_or(false)
    }
    #[inline]
    fn as_number(&self) -> Number {
        number_of(self)
    }
    #[inline]
    fn as_str(&self) -> Option<&str> {
        utf8(self)
    }
    fn array_len(&self) -> usize {
        if let Ok(list) = self.downcast::<PyList>() {
            list.len()
        } else if let Ok(tuple) = self.downcast::<PyTuple>() {
            tuple.len()
        } else {
            0
        }
    }
    fn array_item(&self, i: usize) -> Option<Self> {
        if let Ok(list) = self.downcast::<PyList>() {
            list.get_item(i).ok()
        } else if let Ok(tuple) = self.downcast::<PyTuple>() {
            tuple.get_item(i).ok()
        } else {
            None
        }
    }
    fn for_each_item<F: FnMut(usize, &Self) -> ControlFlow<()>>(&self, mut f: F) -> ControlFlow<()> {
        // Index each time: a list can be changed by nothing here, but `len` is re-read
        // so that no index is ever out of range.
        let mut i = 0;
        while let Some(item) = self.array_item(i) {
            f(i, &item)?;
            i += 1;
        }
        ControlFlow::Continue(())
    }
    fn object_len(&self) -> usize {
        self.downcast::<PyDict>().map(|d| d.len()).unwrap_or(0)
    }
    fn object_get(&self, key: &str) -> Option<Self> {
        let dict = self.downcast::<PyDict>().ok()?;
        dict.get_item(PyString::new(self.py(), key)).ok().flatten()
    }
    fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(&self, mut f: F) -> ControlFlow<()> {
        let Ok(dict) = self.downcast::<PyDict>() else { return ControlFlow::Continue(()) };
        let mut pos: ffi::Py_ssize_t = 0;
        let mut key: *mut ffi::PyObject = std::ptr::null_mut();
        let mut value: *mut ffi::PyObject = std::ptr::null_mut();
        let py = self.py();
        // SAFETY: PyDict_Next hands out borrowed references that we turn into owned ones at once.
        while unsafe { ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut key, &mut value) } != 0 {
            let (k, v) = unsafe { (Bound::from_borrowed_ptr(py, key), Bound::from_borrowed_ptr(py, value)) };
            if kind_of(&k) == Kind::String {
                match utf8(&k) {
                    Some(s) => f(EntryKey::Str(s), &v)?,
                    None => f(EntryKey::InvalidString, &v)?,
                }
            } else {
                f(EntryKey::NotString(key_repr(&k)), &v)?;
            }
        }
        ControlFlow::Continue(())
    }
    fn type_name(&self) -> Cow<'_, str> {
        match kind_of(self) {
            Kind::Null => Cow::Borrowed("null"),
            Kind::Bool => Cow::Borrowed("boolean"),
            Kind::Number => match number_of(self) {
                Number::Float(_) => Cow::Borrowed("number"),
                _ => Cow::Borrowed("integer"),
            },
            Kind::String => Cow::Borrowed("string"),
            Kind::Array => Cow::Borrowed("array"),
            Kind::Object => Cow::Borrowed("object"),
            Kind::Unsupported => Cow::Owned(self.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())),
        }
    }
    fn defect(&self) -> Option<Defect> {
        None
    }
}

/// Records of one chunk taken apart for the pool. The strong references in
/// `keep` hold every str whose UTF-8 the documents borrow, so the documents stay
/// valid while the GIL is released, even if another thread changes the records.
pub struct Compact<'py> {
    // Declared first: dropped before the strings it borrows from.
    pub docs: Vec<Json<'static>>,
    keep: Vec<Bound<'py, PyAny>>,
    pub bytes: usize,
}

impl<'py> Compact<'py> {
    pub fn new(records: &[Bound<'py, PyAny>]) -> Compact<'py> {
        let mut out = Compact { docs: Vec::with_capacity(records.len()), keep: Vec::new(), bytes: 0 };
        for r in records {
            let doc = out.convert(r, 0);
            out.docs.push(doc);
        }
        out.bytes += out.docs.capacity() * std::mem::size_of::<Json>() + out.keep.capacity() * std::mem::size_of::<usize>();
        out
    }

    fn convert(&mut self, obj: &Bound<'py, PyAny>, depth: usize) -> Json<'static> {
        if depth > MAX_DEPTH {
            return Json::TooDeep;
        }
        match kind_of(obj) {
            Kind::Null => Json::Null,
            Kind::Bool => Json::Bool(obj.is_truthy().unwrap_or(false)),
            Kind::Number => Json::Number(number_of(obj)),
            Kind::String => match utf8(obj) {
                Some(s) => {
                    // SAFETY: `s` lives in `obj`'s buffer, and `obj` is kept alive in
                    // `self.keep` for as long as `self.docs` exists.
                    let s: &'static str = unsafe { std::mem::transmute::<&str, &'static str>(s) };
                    self.keep.push(obj.clone());
                    Json::String(Cow::Borrowed(s))
                }
                None => Json::InvalidString,
            },
            Kind::Array => {
                let n = obj.array_len();
                let mut items = Vec::with_capacity(n);
                let _ = obj.for_each_item(|_, item| {
                    items.push(self.convert(item, depth + 1));
                    ControlFlow::Continue(())
                });
                self.bytes += items.capacity() * std::mem::size_of::<Json>();
                Json::Array(items)
            }
            Kind::Object => {
                let mut entries: Vec<(Cow<'static, str>, Json<'static>)> = Vec::with_capacity(obj.object_len());
                let py = obj.py();
                let Ok(dict) = obj.downcast::<PyDict>() else { return Json::Object(entries) };
                let mut pos: ffi::Py_ssize_t = 0;
                let mut key: *mut ffi::PyObject = std::ptr::null_mut();
                let mut value: *mut ffi::PyObject = std::ptr::null_mut();
                // SAFETY: borrowed references from PyDict_Next become owned ones at once.
                while unsafe { ffi::PyDict_Next(dict.as_ptr(), &mut pos, &mut key, &mut value) } != 0 {
                    let (k, v) = unsafe { (Bound::from_borrowed_ptr(py, key), Bound::from_borrowed_ptr(py, value)) };
                    if kind_of(&k) == Kind::String {
                        match utf8(&k) {
                            Some(s) => {
                                // SAFETY: as for string values above.
                                let s: &'static str = unsafe { std::mem::transmute::<&str, &'static str>(s) };
                                self.keep.push(k.clone());
                                let value = self.convert(&v, depth + 1);
                                entries.push((Cow::Borrowed(s), value));
                            }
                            None => entries.push((Cow::Borrowed(""), Json::InvalidStringKey)),
                        }
                    } else {
                        let repr = key_repr(&k);
                        entries.push((Cow::Owned(repr.clone()), Json::InvalidKey(repr)));
                    }
                }
                self.bytes += entries.capacity() * std::mem::size_of::<(Cow<str>, Json)>();
                Json::Object(entries)
            }
            Kind::Unsupported => Json::Unsupported(obj.type_name().into_owned()),
        }
    }
}
