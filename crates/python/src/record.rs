//! Python objects as records: read in place on the single-threaded path, or
//! taken apart into [`Json`] (borrowing string data, kept alive by strong
//! references) for the thread pool.
//!
//! [`PyObj`] is a borrowed pointer: checks run with the GIL held and call no
//! Python code, so nothing can change or free the objects under it while a
//! record is checked. Every read below keeps it so:
//! - containers are read from their storage (`PyDict_Next`, `PyList_GET_ITEM`):
//!   no `__len__`, `__iter__` or `__getitem__` override of a subclass runs;
//! - a dict is searched by hash only when all its keys are exact `str` (the
//!   comparisons are then CPython's own); otherwise its entries are scanned and
//!   str keys (subclasses included) compared by content: no key's `__eq__` or
//!   `__hash__` runs;
//! - numbers are read from `int`/`float` storage (no `__index__`, `__float__`);
//!   strings from their code points (no `__str__`);
//! - nothing raises: an exception allocated mid-record could start the garbage
//!   collector, which runs `__del__` methods and weakref callbacks.

use std::borrow::Cow;
use std::ffi::CStr;
use std::marker::PhantomData;
use std::ops::ControlFlow;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicBool, Ordering};

use num_bigint::BigInt;
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

use satya_adapt_core::{
    same_text, Additional, Defect, EntryKey, Interrupt, Json, Keys, KeysOnce, Kind, Node, Number,
    ObjectChecks, Record, Schema, MAX_DEPTH, POLL_RECORDS,
};

/// A Python object borrowed for the duration of one chunk's checks (`'a`).
#[derive(Clone, Copy)]
#[repr(transparent)]
pub struct PyObj<'a> {
    ptr: NonNull<ffi::PyObject>,
    _borrow: PhantomData<&'a ()>,
}

impl<'a> PyObj<'a> {
    pub fn new(obj: &'a Bound<'_, PyAny>) -> Self {
        // SAFETY: a Bound is never null.
        PyObj {
            ptr: unsafe { NonNull::new_unchecked(obj.as_ptr()) },
            _borrow: PhantomData,
        }
    }

    /// # Safety
    /// `ptr` is a live object that outlives `'a`.
    unsafe fn borrowed(ptr: *mut ffi::PyObject) -> Self {
        PyObj {
            ptr: NonNull::new_unchecked(ptr),
            _borrow: PhantomData,
        }
    }

    #[inline]
    fn as_ptr(self) -> *mut ffi::PyObject {
        self.ptr.as_ptr()
    }

    fn type_name_str(self) -> String {
        // SAFETY: every object has a type with a NUL-terminated name.
        let name = unsafe { CStr::from_ptr((*ffi::Py_TYPE(self.as_ptr())).tp_name) };
        let name = name.to_string_lossy();
        // `module.Class` -> `Class`, as Python's own messages show it; but not where the
        // short name is a builtin's (`numpy.bool` was refused as "a `bool`, not a JSON
        // value (... bool ...)").
        let short = name.rsplit('.').next().unwrap_or(&name);
        match short {
            "dict" | "list" | "tuple" | "str" | "int" | "float" | "bool" | "NoneType"
                if short.len() < name.len() =>
            {
                name.to_string()
            }
            _ => short.to_string(),
        }
    }

    /// A printable form of a key that is not a str, made without running Python code.
    fn key_repr(self) -> String {
        let ptr = self.as_ptr();
        // SAFETY: type checks and `str()` of exact builtin floats, bools and None run
        // no user code and cannot fail; ints are formatted here (`str()` of a long
        // int raises, and a long one is shortened).
        unsafe {
            if ffi::PyLong_CheckExact(ptr) != 0 {
                return shorten(number_of(ptr).to_string());
            }
            if ffi::PyFloat_CheckExact(ptr) != 0
                || ffi::PyBool_Check(ptr) != 0
                || ptr == ffi::Py_None()
            {
                let s = ffi::PyObject_Str(ptr);
                if !s.is_null() {
                    let text = Bound::from_owned_ptr(Python::assume_gil_acquired(), s);
                    if let Ok(s) = text.downcast::<PyString>() {
                        return s.to_string_lossy().into_owned();
                    }
                }
                ffi::PyErr_Clear();
            }
        }
        format!("<{}>", self.type_name_str())
    }

    /// [`Record::object_lookup`] by a scan of the entries, str keys compared by content.
    #[cold]
    #[inline(never)]
    fn scan_lookup(self, checks: &ObjectChecks, found: &mut [Option<PyObj<'a>>]) {
        let _ = self.for_each_dict_entry(|k, v| {
            if kind_of(k.as_ptr()) == Kind::String {
                if let Some(i) = utf8(k.as_ptr()).and_then(|key| checks.find(key)) {
                    found[i] = Some(v);
                }
            }
            ControlFlow::Continue(())
        });
    }

    /// Visits a dict's entries with borrowed keys and values.
    #[inline(always)]
    fn for_each_dict_entry(
        self,
        mut f: impl FnMut(PyObj<'a>, PyObj<'a>) -> ControlFlow<()>,
    ) -> ControlFlow<()> {
        // One call of `f` (not one per way of reading the table): the walk's
        // checks inline into the loop.
        let mut entries = DictEntries::new(self.as_ptr());
        while let Some((k, v)) = entries.next() {
            f(k, v)?;
        }
        ControlFlow::Continue(())
    }
}

/// A dict's entries, borrowed: from its table in place when its keys are all
/// exact `str` (see [`unicode_entries`]), else through `PyDict_Next`.
enum DictEntries<'a> {
    Unicode(std::slice::Iter<'a, UnicodeEntry>),
    Next {
        dict: *mut ffi::PyObject,
        pos: ffi::Py_ssize_t,
    },
}

impl<'a> DictEntries<'a> {
    #[inline(always)]
    fn new(dict: *mut ffi::PyObject) -> Self {
        match unicode_entries(dict) {
            Some(entries) => DictEntries::Unicode(entries.iter()),
            None => DictEntries::Next { dict, pos: 0 },
        }
    }

    #[inline(always)]
    fn next(&mut self) -> Option<(PyObj<'a>, PyObj<'a>)> {
        match self {
            DictEntries::Unicode(entries) => loop {
                let entry = entries.next()?;
                // A deleted entry keeps its slot, emptied.
                if !entry.key.is_null() && !entry.value.is_null() {
                    // SAFETY: live entries of the dict, alive while it is; the walk
                    // runs no Python code, so nothing changes the table under it.
                    return Some(unsafe {
                        (PyObj::borrowed(entry.key), PyObj::borrowed(entry.value))
                    });
                }
            },
            DictEntries::Next { dict, pos } => {
                let mut key: *mut ffi::PyObject = std::ptr::null_mut();
                let mut value: *mut ffi::PyObject = std::ptr::null_mut();
                // SAFETY: PyDict_Next hands out borrowed references, alive while the dict is.
                if unsafe { ffi::PyDict_Next(*dict, pos, &mut key, &mut value) } == 0 {
                    return None;
                }
                Some(unsafe { (PyObj::borrowed(key), PyObj::borrowed(value)) })
            }
        }
    }
}

/// A dict key as the checks see it, read without running Python code.
#[inline(always)]
fn entry_key<'a>(k: PyObj<'a>) -> EntryKey<'a> {
    if kind_of(k.as_ptr()) == Kind::String {
        match utf8(k.as_ptr()) {
            Some(s) => EntryKey::Str(s),
            None => EntryKey::InvalidString,
        }
    } else {
        EntryKey::NotString(k.key_repr())
    }
}

/// Strong references to the records of one chunk, taken in one pass that also
/// refuses a record that is not a JSON value (see [`refuse_non_json`]); released
/// when dropped. They keep the records alive while a signal handler, run
/// between records, changes the list that holds them.
pub struct HeldRecords<'py> {
    records: Vec<PyObj<'py>>,
    _py: Python<'py>,
}

impl<'py> HeldRecords<'py> {
    /// Holds `items` (live objects borrowed from a list or a tuple, read with the
    /// GIL held before any Python code runs); `first` is the index of the first.
    ///
    /// # Safety
    /// Every pointer is a live object, and no Python code runs until this returns.
    pub unsafe fn new(
        py: Python<'py>,
        items: &[*mut ffi::PyObject],
        first: usize,
    ) -> PyResult<Self> {
        let mut held = HeldRecords {
            records: Vec::with_capacity(items.len()),
            _py: py,
        };
        let dict = std::ptr::addr_of_mut!(ffi::PyDict_Type);
        for (i, &ptr) in items.iter().enumerate() {
            // A dict (the usual record) skips the other type tests.
            if ffi::Py_TYPE(ptr) != dict && kind_of(ptr) == Kind::Unsupported {
                // Those already held are released by `held`'s drop.
                let obj = Bound::from_borrowed_ptr(py, ptr);
                return Err(non_json_error(&obj, Some(first + i)));
            }
            ffi::Py_INCREF(ptr);
            held.records.push(PyObj::borrowed(ptr));
        }
        Ok(held)
    }

    pub fn records(&self) -> &[PyObj<'_>] {
        &self.records
    }
}

impl Drop for HeldRecords<'_> {
    fn drop(&mut self) {
        for r in &self.records {
            // SAFETY: each record was increfed in `new`; the GIL is held (`'py`).
            unsafe { ffi::Py_DECREF(r.as_ptr()) };
        }
    }
}

/// The items of a list or tuple as borrowed records, each checked to be a JSON
/// value (see [`refuse_non_json`]; `first` is the input index of `items[0]`).
/// No reference is taken: the caller reads them only while no Python code can
/// run, and reads the list again after any point where some could.
///
/// # Safety
/// Every pointer is a live object (or null), read with the GIL held, and the
/// slice outlives `'a` only while no Python code runs.
pub unsafe fn borrowed_records<'a>(
    py: Python<'_>,
    items: &'a [*mut ffi::PyObject],
    first: usize,
) -> PyResult<&'a [PyObj<'a>]> {
    let dict = std::ptr::addr_of_mut!(ffi::PyDict_Type);
    for (i, &ptr) in items.iter().enumerate() {
        if ptr.is_null() {
            // Only a C extension can leave a hole in a list.
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "record {} is missing: the list holds a NULL item there",
                first + i
            )));
        }
        // A dict (the usual record) skips the other type tests.
        if ffi::Py_TYPE(ptr) != dict && kind_of(ptr) == Kind::Unsupported {
            let obj = Bound::from_borrowed_ptr(py, ptr);
            return Err(non_json_error(&obj, Some(first + i)));
        }
    }
    // SAFETY: `PyObj` is a transparent non-null pointer and none is null.
    Ok(std::slice::from_raw_parts(
        items.as_ptr().cast::<PyObj<'a>>(),
        items.len(),
    ))
}

/// Refuses a record that is not a JSON value (a dataclass instance, a model
/// instance, a set, bytes, ...) with a `TypeError` naming its type and its index
/// (`None` for a single record) and the conversion that makes it one. Only a
/// top-level record is refused so; a nested value of such a type stays a `json`
/// record error. Costs one type comparison for a dict.
#[inline]
pub fn refuse_non_json(obj: &Bound<'_, PyAny>, index: Option<usize>) -> PyResult<()> {
    if kind_of(obj.as_ptr()) == Kind::Unsupported {
        return Err(non_json_error(obj, index));
    }
    Ok(())
}

#[cold]
fn non_json_error(obj: &Bound<'_, PyAny>, index: Option<usize>) -> PyErr {
    let name = PyObj::new(obj).type_name_str();
    // Looked up on the type: some attributes warn when read from an instance.
    let ty = obj.get_type();
    let has = |attr: &str| ty.hasattr(attr).unwrap_or(false);
    let (what, hint) = if has("__dataclass_fields__") {
        ("dataclass instance", "`dataclasses.asdict(record)`")
    } else if has("__struct_fields__") {
        ("msgspec Struct", "`msgspec.to_builtins(record)`")
    } else if has("model_dump") && has("model_fields") {
        ("pydantic model instance", "`record.model_dump()`")
    } else {
        ("", "")
    };
    let who = match index {
        Some(i) => format!("Record {i}"),
        None => "The record".to_string(),
    };
    let msg = if hint.is_empty() {
        format!(
            "{who} is a `{name}`, not a JSON value (a dict, list, str, int, float, bool or None)"
        )
    } else {
        format!("{who} is a `{name}` {what}, not a JSON value; convert it with {hint}")
    };
    pyo3::exceptions::PyTypeError::new_err(msg)
}

#[inline]
fn kind_of(ptr: *mut ffi::PyObject) -> Kind {
    // SAFETY: `ptr` is a live object; type checks only read its type.
    unsafe {
        let ty = ffi::Py_TYPE(ptr);
        if ty == std::ptr::addr_of_mut!(ffi::PyUnicode_Type) {
            Kind::String
        } else if ty == std::ptr::addr_of_mut!(ffi::PyLong_Type)
            || ty == std::ptr::addr_of_mut!(ffi::PyFloat_Type)
        {
            Kind::Number
        } else if ty == std::ptr::addr_of_mut!(ffi::PyDict_Type) {
            Kind::Object
        } else if ty == std::ptr::addr_of_mut!(ffi::PyBool_Type) {
            Kind::Bool
        } else if ty == std::ptr::addr_of_mut!(ffi::PyList_Type)
            || ty == std::ptr::addr_of_mut!(ffi::PyTuple_Type)
        {
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

/// Whether a str holds a lone surrogate, read from its code points: asking
/// CPython for its UTF-8 would raise. A str whose UTF-8 CPython already made
/// has none.
#[inline]
fn has_surrogates(ptr: *mut ffi::PyObject) -> bool {
    // SAFETY: `ptr` is a str (checked by the caller).
    unsafe {
        ffi::PyUnicode_IS_ASCII(ptr) == 0 && cached_utf8(ptr).is_none() && wide_has_surrogates(ptr)
    }
}

/// The UTF-8 that CPython keeps in a compact non-ASCII str once it was asked for
/// it (`PyUnicode_AsUTF8AndSize` succeeded: valid UTF-8, so no lone surrogate):
/// read without scanning the code points again (a str read twice, or a record
/// checked again, scanned them each time).
#[inline]
fn cached_utf8<'a>(ptr: *mut ffi::PyObject) -> Option<&'a str> {
    // SAFETY: `ptr` is a str; a compact one starts with `PyCompactUnicodeObject`
    // (this build's CPython layout), whose `utf8` is null or `utf8_length` bytes
    // that live as long as the object.
    unsafe {
        if ffi::PyUnicode_IS_COMPACT(ptr) == 0 {
            return None;
        }
        let compact = ptr.cast::<ffi::PyCompactUnicodeObject>();
        let data = (*compact).utf8;
        if data.is_null() {
            return None;
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), (*compact).utf8_length as usize);
        Some(std::str::from_utf8_unchecked(bytes))
    }
}

#[inline(never)]
fn wide_has_surrogates(ptr: *mut ffi::PyObject) -> bool {
    // SAFETY: `ptr` is a str; its data holds `PyUnicode_GET_LENGTH` code points
    // of `PyUnicode_KIND` bytes each.
    unsafe {
        let n = ffi::PyUnicode_GET_LENGTH(ptr) as usize;
        let data = ffi::PyUnicode_DATA(ptr);
        // In blocks without an early exit, which the compiler vectorizes (the
        // text of a str no keyword reads is still scanned here).
        match ffi::PyUnicode_KIND(ptr) {
            ffi::PyUnicode_2BYTE_KIND => std::slice::from_raw_parts(data.cast::<u16>(), n)
                .chunks(64)
                .any(|block| block.iter().fold(false, |s, &c| s | (c & 0xF800 == 0xD800))),
            ffi::PyUnicode_4BYTE_KIND => std::slice::from_raw_parts(data.cast::<u32>(), n)
                .chunks(64)
                .any(|block| block.iter().fold(false, |s, &c| s | (c & !0x7FF == 0xD800))),
            _ => false,
        }
    }
}

/// The UTF-8 of a Python str, borrowed from the object's cached buffer;
/// `None` for a str with lone surrogates.
#[inline]
fn utf8<'a>(ptr: *mut ffi::PyObject) -> Option<&'a str> {
    // SAFETY: `ptr` is a str. A compact ASCII str (nearly every key and short
    // value) stores its characters, which are their own UTF-8, right after its
    // header: read in place, without the call into CPython.
    unsafe {
        if ffi::PyUnicode_IS_COMPACT_ASCII(ptr) != 0 {
            let data = ffi::_PyUnicode_COMPACT_DATA(ptr).cast::<u8>();
            let len = ffi::PyUnicode_GET_LENGTH(ptr) as usize;
            return Some(std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                data, len,
            )));
        }
    }
    wide_utf8(ptr)
}

/// [`utf8`] of a str that is not compact ASCII (out of line: the common case
/// above is inlined into every key lookup).
#[inline(never)]
fn wide_utf8<'a>(ptr: *mut ffi::PyObject) -> Option<&'a str> {
    if let Some(cached) = cached_utf8(ptr) {
        return Some(cached);
    }
    if wide_has_surrogates(ptr) {
        return None;
    }
    let mut size: ffi::Py_ssize_t = 0;
    // SAFETY: `ptr` is a str (checked by the caller); the buffer lives as long as the object.
    unsafe {
        let data = ffi::PyUnicode_AsUTF8AndSize(ptr, &mut size);
        if data.is_null() {
            ffi::PyErr_Clear();
            return None;
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), size as usize);
        Some(std::str::from_utf8_unchecked(bytes))
    }
}

/// At most 40 characters of a printed value, then `...` and its length.
fn shorten(text: String) -> String {
    if text.chars().count() <= 48 {
        return text;
    }
    let head: String = text.chars().take(40).collect();
    format!("{head}... ({} characters)", text.chars().count())
}

/// Whether CPython's dict keys carry their kind (3.11 to 3.13, see
/// [`only_exact_str_keys`]); set when the module is imported.
pub static DICT_KEYS_KIND: AtomicBool = AtomicBool::new(false);

/// The head of CPython's `PyDictKeysObject` in 3.11 to 3.13 (`Objects/dict-common.h`).
#[repr(C)]
struct DictKeysHead {
    dk_refcnt: ffi::Py_ssize_t,
    dk_log2_size: u8,
    dk_log2_index_bytes: u8,
    /// `DICT_KEYS_GENERAL` (0) once any key is not an exact str; `UNICODE` or `SPLIT` else.
    dk_kind: u8,
}

/// `PyDictKeysObject` in 3.11 to 3.13 up to its index table (`Objects/dict-common.h`;
/// the free-threaded build's one-byte `dk_mutex` sits in the padding after `dk_kind`).
#[repr(C)]
struct DictKeys {
    dk_refcnt: ffi::Py_ssize_t,
    dk_log2_size: u8,
    dk_log2_index_bytes: u8,
    dk_kind: u8,
    dk_version: u32,
    dk_usable: ffi::Py_ssize_t,
    dk_nentries: ffi::Py_ssize_t,
    // `dk_indices` follows: `1 << dk_log2_index_bytes` bytes, then the entries.
}

const _: () = assert!(
    std::mem::size_of::<DictKeys>() == 32 && std::mem::offset_of!(DictKeys, dk_version) == 12
);

/// `PyDictUnicodeEntry`: an entry of a table whose keys are all exact `str`.
#[repr(C)]
struct UnicodeEntry {
    key: *mut ffi::PyObject,
    value: *mut ffi::PyObject,
}

/// `DICT_KEYS_UNICODE`: a combined table of exact `str` keys.
const DICT_KEYS_UNICODE: u8 = 1;

/// A dict's combined table of exact str keys, in place: its keys object, its
/// index slots and its entries; `None` for any other table (split, other keys)
/// or where the layout is not known.
#[inline(always)]
fn unicode_table(
    dict: *mut ffi::PyObject,
) -> Option<(*const DictKeys, *const u8, *const UnicodeEntry)> {
    if !DICT_KEYS_KIND.load(Ordering::Relaxed) {
        return None;
    }
    // SAFETY: `dict` is a dict and the layout is CPython 3.11 to 3.13's (checked at
    // import); a combined table (`ma_values` null) of `1 << dk_log2_size` index slots
    // (`1 << dk_log2_index_bytes` bytes), then its `dk_nentries` entries, which hold
    // its values.
    unsafe {
        let dict = dict.cast::<ffi::PyDictObject>();
        if !(*dict).ma_values.is_null() {
            return None;
        }
        let keys = (*dict).ma_keys.cast::<DictKeys>();
        if (*keys).dk_kind != DICT_KEYS_UNICODE {
            return None;
        }
        let indices = keys.cast::<u8>().add(std::mem::size_of::<DictKeys>());
        let entries = indices
            .add(1usize << (*keys).dk_log2_index_bytes)
            .cast::<UnicodeEntry>();
        Some((keys, indices, entries))
    }
}

/// The value of `key`, an interned compact ASCII str whose hash is `hash`, in a dict
/// whose table is a combined one of exact str keys, probed in place as CPython
/// does (`unicodekeys_lookup_unicode`, 3.11 to 3.13): `Some(None)` when absent.
/// `None` when this cannot answer (another table, or a key with that hash that is
/// not compact ASCII): the caller asks `PyDict_GetItemWithError`, three calls deep
/// (a lookup per property of an `if` or of a record with many keys).
#[inline]
fn unicode_get<'a>(
    dict: *mut ffi::PyObject,
    key: *mut ffi::PyObject,
    hash: ffi::Py_hash_t,
) -> Option<Option<PyObj<'a>>> {
    /// `DKIX_EMPTY`: the probe ends, the key is absent (`DKIX_DUMMY`, -2, goes on).
    const EMPTY: isize = -1;
    let (keys, indices, entries) = unicode_table(dict)?;
    // SAFETY: each index slot is of the width `dictkeys_get_index` reads; an index
    // is below `dk_nentries`. `key` is a compact ASCII str (the caller's).
    unsafe {
        let log2 = (*keys).dk_log2_size;
        let mask = (1usize << log2) - 1;
        let (len, data) = (
            ffi::PyUnicode_GET_LENGTH(key),
            ffi::_PyUnicode_COMPACT_DATA(key).cast::<u8>(),
        );
        let mut perturb = hash as usize;
        let mut i = hash as usize & mask;
        loop {
            let ix = match log2 {
                0..=7 => *indices.cast::<i8>().add(i) as isize,
                8..=15 => *indices.cast::<i16>().add(i) as isize,
                16..=31 => *indices.cast::<i32>().add(i) as isize,
                _ => *indices.cast::<i64>().add(i) as isize,
            };
            if ix == EMPTY {
                return Some(None);
            }
            if ix >= 0 {
                let entry = &*entries.add(ix as usize);
                let other = entry.key;
                if other == key {
                    return Some(Some(PyObj::borrowed(entry.value)));
                }
                if cached_hash(other) == hash {
                    // Equal text is equal canonical form: a compact ASCII str of
                    // the same bytes; anything else is left to CPython.
                    if ffi::PyUnicode_IS_COMPACT_ASCII(other) == 0 {
                        return None;
                    }
                    if ffi::PyUnicode_GET_LENGTH(other) == len
                        && std::slice::from_raw_parts(
                            ffi::_PyUnicode_COMPACT_DATA(other).cast::<u8>(),
                            len as usize,
                        ) == std::slice::from_raw_parts(data, len as usize)
                    {
                        return Some(Some(PyObj::borrowed(entry.value)));
                    }
                }
            }
            perturb >>= 5;
            i = (i.wrapping_mul(5).wrapping_add(perturb).wrapping_add(1)) & mask;
        }
    }
}

/// The entry slots of a dict in insertion order, read in place (what
/// `PyDict_Next` visits, without a call per entry: it was a tenth of a record
/// on schemas that walk entries), when the layout is known and the table is a
/// combined one of str keys; `None` otherwise (a split table, other keys).
#[inline]
fn unicode_entries<'a>(dict: *mut ffi::PyObject) -> Option<&'a [UnicodeEntry]> {
    let (keys, _, entries) = unicode_table(dict)?;
    // SAFETY: the entries of the dict's table, alive while it is.
    unsafe {
        let n = usize::try_from((*keys).dk_nentries).ok()?;
        Some(std::slice::from_raw_parts(entries, n))
    }
}

/// The entries [`Record::object_get`] scans before it looks the rest of a dict (of
/// exact str keys) up by hash.
const SCANNED_ENTRIES: usize = 16;

/// The value of the exact-str-keyed dict `dict` under `key`, looked up by hash
/// with a str made for it; `None` when it could not be made (the caller scans).
fn get_by_text<'a>(dict: *mut ffi::PyObject, key: &str) -> Option<Option<PyObj<'a>>> {
    let len = ffi::Py_ssize_t::try_from(key.len()).ok()?;
    // SAFETY: `key` is valid UTF-8 of `len` bytes; a new reference, released below.
    let name = unsafe { ffi::PyUnicode_FromStringAndSize(key.as_ptr().cast(), len) };
    if name.is_null() {
        unsafe { ffi::PyErr_Clear() };
        return None;
    }
    let found = dict_get(dict, name);
    unsafe { ffi::Py_DECREF(name) };
    found
}

/// `dict[key]` for a dict of exact str keys and a str `key`: `Some(None)` when
/// absent, `None` when the lookup failed (its error cleared).
fn dict_get<'a>(dict: *mut ffi::PyObject, key: *mut ffi::PyObject) -> Option<Option<PyObj<'a>>> {
    // SAFETY: every key of `dict` is an exact str: the lookup compares strs and runs
    // no Python code; the value is borrowed from the dict, which outlives it.
    let value = unsafe { ffi::PyDict_GetItemWithError(dict, key) };
    if value.is_null() {
        // A missing key sets no exception: clear only what an error set (the
        // unconditional clear cost ~30 instructions per absent property).
        if unsafe { !ffi::PyErr_Occurred().is_null() } {
            unsafe { ffi::PyErr_Clear() };
            return None;
        }
        return Some(None);
    }
    Some(Some(unsafe { PyObj::borrowed(value) }))
}

/// Whether every key of a dict is an exact `str`: a hash lookup of a str in it
/// then compares strs only, and runs no Python code.
#[inline]
fn only_exact_str_keys(dict: *mut ffi::PyObject) -> bool {
    if DICT_KEYS_KIND.load(Ordering::Relaxed) {
        // SAFETY: `dict` is a dict; in CPython 3.11 to 3.13 its keys object starts
        // as `DictKeysHead`, and insertdict turns a str-only kind into
        // DICT_KEYS_GENERAL before it stores any other key.
        return unsafe {
            let keys = (*dict.cast::<ffi::PyDictObject>()).ma_keys;
            (*keys.cast::<DictKeysHead>()).dk_kind != 0
        };
    }
    scan_for_exact_str_keys(dict)
}

#[inline(never)]
fn scan_for_exact_str_keys(dict: *mut ffi::PyObject) -> bool {
    let mut pos: ffi::Py_ssize_t = 0;
    let mut key: *mut ffi::PyObject = std::ptr::null_mut();
    let mut value: *mut ffi::PyObject = std::ptr::null_mut();
    let str_type = std::ptr::addr_of_mut!(ffi::PyUnicode_Type);
    // SAFETY: `dict` is a dict; PyDict_Next reads its storage and runs no Python code.
    unsafe {
        while ffi::PyDict_Next(dict, &mut pos, &mut key, &mut value) != 0 {
            if ffi::Py_TYPE(key) != str_type {
                return false;
            }
        }
    }
    true
}

fn number_of(ptr: *mut ffi::PyObject) -> Number {
    // SAFETY: `ptr` is an int or a float (the kind was checked).
    unsafe {
        let ty = ffi::Py_TYPE(ptr);
        if ty == std::ptr::addr_of_mut!(ffi::PyFloat_Type) {
            return Number::Float(ffi::PyFloat_AS_DOUBLE(ptr));
        }
        // An exact int skips the subclass test of a float (a call into CPython).
        if ty != std::ptr::addr_of_mut!(ffi::PyLong_Type) && ffi::PyFloat_Check(ptr) != 0 {
            return Number::Float(ffi::PyFloat_AsDouble(ptr));
        }
        let mut overflow = 0;
        let v = ffi::PyLong_AsLongLongAndOverflow(ptr, &mut overflow);
        if overflow == 0 && (v != -1 || ffi::PyErr_Occurred().is_null()) {
            return Number::Int(v);
        }
        ffi::PyErr_Clear();
        let py = Python::assume_gil_acquired();
        match Bound::from_borrowed_ptr(py, ptr).extract::<BigInt>() {
            Ok(b) => Number::from_bigint(b),
            Err(_) => Number::Float(f64::NAN),
        }
    }
}

/// A number as its type says, for the checks that need no [`Number`]: an exact int
/// (always an integer, always finite), an exact float's double, or a subclass
/// (read through [`number_of`]).
enum ExactNumber {
    Int,
    Float(f64),
    Other,
}

#[inline(always)]
fn exact_number(ptr: *mut ffi::PyObject) -> ExactNumber {
    // SAFETY: `ptr` is an int or a float (the kind was checked); an exact float's
    // double is read from its storage.
    unsafe {
        let ty = ffi::Py_TYPE(ptr);
        if ty == std::ptr::addr_of_mut!(ffi::PyLong_Type) {
            ExactNumber::Int
        } else if ty == std::ptr::addr_of_mut!(ffi::PyFloat_Type) {
            ExactNumber::Float(ffi::PyFloat_AS_DOUBLE(ptr))
        } else {
            ExactNumber::Other
        }
    }
}

/// An object check's property names as Python sees them, made once.
struct HostKeys {
    /// Interned str objects of the names.
    names: Vec<Py<PyString>>,
    /// Their Python hashes (a str caches its own: a dict key's is already there).
    hashes: Vec<ffi::Py_hash_t>,
    /// Every name is compact ASCII (see [`unicode_get`]).
    ascii: bool,
    /// With more than [`SCANNED_HASHES`] names: `(hash, property)` slots, open
    /// addressing by the hash's low bits (a Python hash is already well mixed;
    /// a scan of 98 hashes per key measured as a visible share of a record).
    table: Box<[(ffi::Py_hash_t, usize)]>,
}

/// Up to this many names, a key's hash is compared with each name's in turn.
const SCANNED_HASHES: usize = 16;

/// A slot of [`HostKeys::table`] that holds no name.
const NO_PROPERTY: usize = usize::MAX;

impl HostKeys {
    fn new(names: Vec<Py<PyString>>, hashes: Vec<ffi::Py_hash_t>) -> HostKeys {
        let mut table = Vec::new();
        if hashes.len() > SCANNED_HASHES {
            // At most half full: a missing key ends its probe early.
            table = vec![(0, NO_PROPERTY); (2 * hashes.len()).next_power_of_two()];
            let mask = table.len() - 1;
            for (i, &hash) in hashes.iter().enumerate() {
                let mut slot = hash as usize & mask;
                loop {
                    match table[slot] {
                        (_, NO_PROPERTY) => {
                            table[slot] = (hash, i);
                            break;
                        }
                        // A later name with the same hash: the first one stays.
                        (h, _) if h == hash => break,
                        _ => slot = (slot + 1) & mask,
                    }
                }
            }
        }
        HostKeys {
            // SAFETY: the names are live strs.
            ascii: names
                .iter()
                .all(|n| unsafe { ffi::PyUnicode_IS_COMPACT_ASCII(n.as_ptr()) != 0 }),
            names,
            hashes,
            table: table.into_boxed_slice(),
        }
    }

    /// The property a str key whose hash is `hash` may be: the first with that hash
    /// (the caller compares the text, once).
    #[inline]
    fn by_hash(&self, hash: ffi::Py_hash_t) -> Option<usize> {
        if self.table.is_empty() {
            return self.hashes.iter().position(|&h| h == hash);
        }
        let mask = self.table.len() - 1;
        let mut slot = hash as usize & mask;
        loop {
            match self.table[slot] {
                (_, NO_PROPERTY) => return None,
                (h, i) if h == hash => return Some(i),
                _ => slot = (slot + 1) & mask,
            }
        }
    }
}

/// [`HostKeys`] of an object check, made once.
fn host_keys(checks: &ObjectChecks) -> &HostKeys {
    let keys = checks.host_keys.get_or_init(|| {
        // SAFETY: records are only checked with the GIL held.
        let py = unsafe { Python::assume_gil_acquired() };
        let names: Vec<Py<PyString>> = checks
            .properties
            .iter()
            .map(|p| PyString::intern(py, &p.name).unbind())
            .collect();
        // SAFETY: hashing an exact str runs no Python code and cannot fail.
        let hashes = names
            .iter()
            .map(|n| unsafe { ffi::PyObject_Hash(n.as_ptr()) })
            .collect();
        Box::new(HostKeys::new(names, hashes))
    });
    // SAFETY: only this function fills `host_keys`, always with this type (a
    // checked downcast measured as a visible share of a dict lookup).
    unsafe { &*(keys.as_ref() as *const (dyn std::any::Any + Send + Sync)).cast::<HostKeys>() }
}

/// The property a dict key `k` (read as `key`) is, by its text: the property
/// `hint` first (records usually list keys in schema order); else, as a dict key
/// caches its hash, only the property with the same hash is compared, not every
/// name in turn.
#[inline(always)]
fn find_key(
    checks: &ObjectChecks,
    host: &HostKeys,
    hint: usize,
    k: PyObj<'_>,
    key: &EntryKey<'_>,
) -> Option<usize> {
    let EntryKey::Str(s) = *key else {
        return None;
    };
    if checks
        .properties
        .get(hint)
        .is_some_and(|p| same_text(&p.name, s))
    {
        return Some(hint);
    }
    match cached_hash(k.as_ptr()) {
        -1 => checks.find(s),
        hash => match host.by_hash(hash) {
            Some(i) if same_text(&checks.properties[i].name, s) => Some(i),
            // Another name with its hash (a collision): by the text.
            Some(_) => checks.find(s),
            None => None,
        },
    }
}

/// The hash a str caches, `-1` while it has none.
#[inline]
fn cached_hash(ptr: *mut ffi::PyObject) -> ffi::Py_hash_t {
    // SAFETY: `ptr` is an exact str (the caller checked its kind); the field is
    // read, never computed (no Python code runs).
    unsafe { (*ptr.cast::<ffi::PyASCIIObject>()).hash }
}

impl<'a> Record for PyObj<'a> {
    /// A container may be held by several others of the record (a DAG).
    const MAY_SHARE: bool = true;
    /// The object's address: it lives, unchanged, while the record is checked.
    #[inline]
    fn identity(&self) -> Option<(usize, usize)> {
        Some((self.as_ptr() as usize, 0))
    }
    #[inline]
    fn kind(&self) -> Kind {
        kind_of(self.as_ptr())
    }
    #[inline]
    fn as_bool(&self) -> bool {
        // SAFETY: comparing with the `True` singleton.
        self.as_ptr() == unsafe { ffi::Py_True() }
    }
    #[inline]
    fn as_number(&self) -> Number {
        number_of(self.as_ptr())
    }
    #[inline]
    fn as_str(&self) -> Option<&str> {
        utf8(self.as_ptr())
    }
    #[inline(always)]
    fn is_finite_number(&self) -> bool {
        match exact_number(self.as_ptr()) {
            ExactNumber::Int => true,
            ExactNumber::Float(f) => f.is_finite(),
            ExactNumber::Other => self.as_number().is_finite(),
        }
    }
    #[inline(always)]
    fn is_integer_number(&self) -> bool {
        match exact_number(self.as_ptr()) {
            ExactNumber::Int => true,
            ExactNumber::Float(f) => f.is_finite() && f.fract() == 0.0,
            ExactNumber::Other => self.as_number().is_integer(),
        }
    }
    #[inline(always)]
    fn is_valid_unicode(&self) -> bool {
        let ptr = self.as_ptr();
        // SAFETY: kind is String; its code points are read in place (no UTF-8 is
        // made for a str that no string keyword reads).
        unsafe { ffi::PyUnicode_Check(ptr) != 0 && !has_surrogates(ptr) }
    }
    fn array_len(&self) -> usize {
        let ptr = self.as_ptr();
        // SAFETY: kind is Array: a list or a tuple.
        unsafe {
            if ffi::PyList_Check(ptr) != 0 {
                ffi::PyList_GET_SIZE(ptr) as usize
            } else if ffi::PyTuple_Check(ptr) != 0 {
                ffi::PyTuple_GET_SIZE(ptr) as usize
            } else {
                0
            }
        }
    }
    fn array_item(&self, i: usize) -> Option<Self> {
        if i >= self.array_len() {
            return None;
        }
        let ptr = self.as_ptr();
        // SAFETY: `i` is in range; the item is borrowed from its container.
        unsafe {
            let item = if ffi::PyList_Check(ptr) != 0 {
                ffi::PyList_GET_ITEM(ptr, i as ffi::Py_ssize_t)
            } else {
                ffi::PyTuple_GET_ITEM(ptr, i as ffi::Py_ssize_t)
            };
            Some(PyObj::borrowed(item))
        }
    }
    fn for_each_item<F: FnMut(usize, &Self) -> ControlFlow<()>>(
        &self,
        mut f: F,
    ) -> ControlFlow<()> {
        for i in 0..self.array_len() {
            if let Some(item) = self.array_item(i) {
                f(i, &item)?;
            }
        }
        ControlFlow::Continue(())
    }
    #[inline]
    fn object_len(&self) -> usize {
        // SAFETY: kind is Object: a dict (or a subclass); its entry count is read
        // from its storage, as `PyDict_GET_SIZE` does (no call into CPython).
        unsafe { (*self.as_ptr().cast::<ffi::PyDictObject>()).ma_used as usize }
    }
    fn object_get(&self, key: &str) -> Option<Self> {
        // The last entry of that content, as the property checks read it (a str
        // subclass key may repeat an exact str one); the first is the only one
        // when every key is an exact str.
        let unique = only_exact_str_keys(self.as_ptr());
        // The first entries are scanned (a tag is mostly among them, and making a str
        // to look it up by hash cost more: apibuilder 0.84x); past them, in a dict of
        // exact str keys, the rest is one hash lookup, not a walk of every key per
        // `if` probe or union tag (100,000 keys, 50 probes: 14 ms a record).
        let hashed = unique && self.object_len() > SCANNED_ENTRIES;
        let mut found = None;
        let mut entries = DictEntries::new(self.as_ptr());
        let mut scanned = 0;
        while let Some((k, v)) = entries.next() {
            if kind_of(k.as_ptr()) == Kind::String && utf8(k.as_ptr()) == Some(key) {
                found = Some(v);
                if unique {
                    return found;
                }
            }
            scanned += 1;
            if hashed && scanned == SCANNED_ENTRIES {
                if let Some(found) = get_by_text(self.as_ptr(), key) {
                    return found;
                }
                // No str could be made for the lookup: the scan goes on.
            }
        }
        found
    }
    #[inline]
    fn object_lookup(&self, checks: &ObjectChecks, found: &mut [Option<Self>]) {
        if !only_exact_str_keys(self.as_ptr()) {
            // A hash lookup would call the `__eq__` of a key of another type (or of a
            // str subclass) whose hash collides: scan, comparing str keys by content.
            return self.scan_lookup(checks, found);
        }
        let host = host_keys(checks);
        for ((slot, key), &hash) in found.iter_mut().zip(&host.names).zip(&host.hashes) {
            if host.ascii {
                if let Some(value) = unicode_get(self.as_ptr(), key.as_ptr(), hash) {
                    *slot = value;
                    continue;
                }
            }
            // Every key is an exact str; a failed lookup (a cleared error) finds nothing.
            *slot = dict_get(self.as_ptr(), key.as_ptr()).flatten();
        }
    }
    #[inline]
    fn object_keys_unique(&self) -> bool {
        // A str subclass key may equal an exact str one by content.
        only_exact_str_keys(self.as_ptr())
    }
    fn object_find_each<F: FnMut(usize, Self)>(&self, checks: &ObjectChecks, mut f: F) {
        // As `scan_lookup`: str keys compared by content, no Python code run.
        let _ = self.for_each_dict_entry(|k, v| {
            if kind_of(k.as_ptr()) == Kind::String {
                if let Some(i) = utf8(k.as_ptr()).and_then(|key| checks.find(key)) {
                    f(i, v);
                }
            }
            ControlFlow::Continue(())
        });
    }
    fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(
        &self,
        mut f: F,
    ) -> ControlFlow<()> {
        self.for_each_dict_entry(|k, v| f(entry_key(k), &v))
    }
    fn for_each_property<F: FnMut(Option<usize>, EntryKey<'_>, &Self) -> ControlFlow<()>>(
        &self,
        checks: &ObjectChecks,
        mut f: F,
    ) -> ControlFlow<()> {
        let host = host_keys(checks);
        let names = &host.names;
        let mut hint = 0;
        self.for_each_dict_entry(|k, v| {
            // A key that is the interned name itself (a dict written with literal
            // keys) is that property, found without reading its text.
            let (found, key) = if names
                .get(hint)
                .is_some_and(|name| name.as_ptr() == k.as_ptr())
            {
                (Some(hint), EntryKey::Str(&checks.properties[hint].name))
            } else {
                let key = entry_key(k);
                (find_key(checks, host, hint, k, &key), key)
            };
            if let Some(i) = found {
                hint = i + 1;
            }
            // One call of `f`, inlined here.
            f(found, key, &v)
        })
    }
    #[inline]
    fn defect(&self) -> Option<Defect> {
        // A str with lone surrogates is reported before any keyword, as the
        // compact form for the pool reports it.
        if kind_of(self.as_ptr()) == Kind::String && !self.is_valid_unicode() {
            return Some(Defect::InvalidString);
        }
        None
    }
    fn type_name(&self) -> Cow<'_, str> {
        match self.kind() {
            Kind::Null => Cow::Borrowed("null"),
            Kind::Bool => Cow::Borrowed("boolean"),
            Kind::Number => match self.as_number() {
                Number::Float(_) => Cow::Borrowed("number"),
                _ => Cow::Borrowed("integer"),
            },
            Kind::String => Cow::Borrowed("string"),
            Kind::Array => Cow::Borrowed("array"),
            Kind::Object => Cow::Borrowed("object"),
            Kind::Unsupported => Cow::Owned(self.type_name_str()),
        }
    }
}

/// Records of one chunk taken apart for the pool. The strong references in
/// `keep` hold every str whose UTF-8 the documents borrow, so the documents stay
/// valid while the GIL is released, even if another thread changes the records.
pub struct Compact {
    pub docs: Vec<Json<'static>>,
    /// Strong references (raw, released in `Drop` with the GIL held: a `Py`
    /// per string measured as a visible share of the pool path).
    keep: Vec<*mut ffi::PyObject>,
    pub bytes: usize,
    /// Items the record being taken apart may still have converted (see
    /// [`MAX_CONVERTED`]).
    left: usize,
    /// Whether the record being taken apart ran past [`MAX_CONVERTED`], or holds a
    /// container twice (see [`Compact::held_twice`]).
    over: bool,
    /// The containers with other references met in the record being taken apart.
    held: rustc_hash::FxHashSet<usize>,
}

/// The most items of containers taken apart for the pool in one record. A Python
/// record is an object graph, and taking it apart copies its tree expansion, which
/// is exponential in the graph when containers are shared (`x = {"a": y, "b": y}`,
/// nested) and reaches [`MAX_DEPTH`] when one holds itself. A record that expands
/// past this is not taken apart but checked in place on the caller's thread, as with
/// one thread, where the checks read only what they need: the same results, and
/// memory for at most this many values. Far above a record that is data (its
/// checks then run on the caller's thread, with the same results).
pub const MAX_CONVERTED: usize = 1 << 18;

impl Drop for Compact {
    fn drop(&mut self) {
        // The documents go first: they borrow from the strings.
        self.docs.clear();
        for &ptr in &self.keep {
            // SAFETY: each pointer was increfed in `borrow_str`; a Compact is made
            // and dropped on the thread that holds the GIL.
            unsafe { ffi::Py_DecRef(ptr) };
        }
    }
}

/// Properties of a schema object looked up in an array on the stack (more: on the heap).
const FOUND_ON_STACK: usize = 32;

/// `Vec::push`, inlined (the standard one was not, here: each value went through
/// the stack to it).
#[inline(always)]
fn push<T>(v: &mut Vec<T>, x: T) {
    if v.len() == v.capacity() {
        v.reserve(1);
    }
    // SAFETY: there is room for one more element, written before the length grows.
    unsafe {
        v.as_mut_ptr().add(v.len()).write(x);
        v.set_len(v.len() + 1);
    }
}

/// [`push`] of a pair, each half written in place: built as a pair first, the
/// pair was stored in pieces on the stack and read back whole (a store-forwarding
/// stall per value).
#[inline(always)]
fn push_pair<A, B>(v: &mut Vec<(A, B)>, a: A, b: B) {
    if v.len() == v.capacity() {
        v.reserve(1);
    }
    // SAFETY: there is room for one more pair, both halves written before the
    // length grows.
    unsafe {
        let slot = v.as_mut_ptr().add(v.len());
        std::ptr::addr_of_mut!((*slot).0).write(a);
        std::ptr::addr_of_mut!((*slot).1).write(b);
        v.set_len(v.len() + 1);
    }
}

/// Converts `$obj` to be checked as `$guide` says (`None`: no check reads it; see
/// [`Compact::convert`]) and hands the value to `$put`, spelled out at each kind: a scalar (most values)
/// is then built where `$put` stores it. Made in one place and moved there, each value
/// was stored in pieces and read back whole, a store-forwarding stall or two per value
/// that cost as much as the rest of its conversion.
macro_rules! put_converted {
    ($compact:expr, $obj:expr, $guide:expr, $depth:expr, |$json:ident| $put:expr) => {{
        let obj: PyObj<'_> = $obj;
        let depth: usize = $depth;
        let kind = obj.kind();
        match $guide {
            _ if depth > MAX_DEPTH => {
                let $json = Json::TooDeep;
                $put
            }
            None => {
                let $json = Json::Skipped(kind);
                $put
            }
            Some(Guide::Node(n)) if n.trivial => {
                let $json = Json::Skipped(kind);
                $put
            }
            Some(guide) => match kind {
                Kind::Null => {
                    let $json = Json::Null;
                    $put
                }
                Kind::Bool => {
                    let $json = Json::Bool(obj.as_bool());
                    $put
                }
                Kind::Number => {
                    let $json = Json::Number(obj.as_number());
                    $put
                }
                Kind::String => match $compact.borrow_str(obj) {
                    Some(s) => {
                        let $json = Json::String(Cow::Borrowed(s));
                        $put
                    }
                    None => {
                        let $json = Json::InvalidString;
                        $put
                    }
                },
                Kind::Array | Kind::Object => {
                    let $json = $compact.convert_container(obj, kind, guide, depth);
                    $put
                }
                Kind::Unsupported => {
                    let $json = Json::Unsupported(obj.type_name_str());
                    $put
                }
            },
        }
    }};
}

/// What a process's allocator keeps of its freed heap once records have been taken
/// apart for the pool (see [`keep_heap_between_calls`]).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const HEAP_KEPT_BYTES: usize = 16 << 20;

/// glibc gives a freed heap top back to the kernel once it exceeds its trim
/// threshold: 128 KiB until a block it had mapped on its own is freed, then twice
/// that block's size (`mallopt(3)`, "dynamic mmap threshold", at most 64 MiB). The
/// pool path takes a call's records apart into a few MiB of small blocks and frees
/// them by the call's end: given back, the next call faulted them in again, 1,000 to
/// 1,400 pages a call of 10,000 dicts of 15 strings of 120 characters on two threads,
/// for a process's first 15 or so such calls, and in most calls for good with a
/// `batch_size` of 16,384 or more (in a fresh process, calls of 10,000 dicts on two
/// threads ran in 0.78-0.99 of the time once kept: `benchmarks/compare_builds.py`,
/// five profiles). One block of `HEAP_KEPT_BYTES`
/// mapped and freed untouched (no page faulted in) raises the thresholds once, as
/// glibc does after freeing any such block, so that the heap keeps a call's records'
/// memory for the next one.
fn keep_heap_between_calls() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: a block from malloc, freed once; `black_box` keeps the pair from
            // being optimised away.
            unsafe { libc::free(std::hint::black_box(libc::malloc(HEAP_KEPT_BYTES))) };
        });
    }
}

impl Compact {
    /// Takes apart the records of a chunk, guided by the schema: only what a check
    /// will look at is converted (see [`Compact::convert`]).
    pub fn new() -> Compact {
        keep_heap_between_calls();
        Compact {
            docs: Vec::new(),
            keep: Vec::new(),
            bytes: 0,
            left: MAX_CONVERTED,
            over: false,
            held: rustc_hash::FxHashSet::default(),
        }
    }

    /// Takes apart one task's records, calling `interrupt` every
    /// [`POLL_RECORDS`] records (`None`: it said stop), up to the first record that
    /// expands past [`MAX_CONVERTED`] items or holds a container twice
    /// ([`Compact::held_twice`]): the documents of the records before it,
    /// and its index in `records` (`None`: every record was taken apart). The
    /// documents borrow strings that `self` keeps alive: `self` must outlive them.
    pub fn take_apart(
        &mut self,
        records: &[PyObj<'_>],
        schema: &Schema,
        interrupt: Interrupt<'_>,
    ) -> Option<(Vec<Json<'static>>, Option<usize>)> {
        let mut docs: Vec<Json<'static>> = Vec::with_capacity(records.len());
        let mut too_large = None;
        for (i, r) in records.iter().enumerate() {
            if i > 0 && i % POLL_RECORDS == 0 && interrupt() {
                return None;
            }
            self.left = MAX_CONVERTED;
            self.over = false;
            if !self.held.is_empty() {
                self.held.clear();
            }
            let doc = self.convert(*r, Guide::Node(&schema.root), 0);
            if self.over {
                too_large = Some(i);
                break;
            }
            docs.push(doc);
        }
        self.bytes += docs.capacity() * std::mem::size_of::<Json>()
            + docs.len() * std::mem::size_of::<usize>();
        Some((docs, too_large))
    }

    /// Counts `n` more items converted in the record: `false` once past
    /// [`MAX_CONVERTED`] (the record is then not taken apart: what is left of it
    /// is not converted).
    #[inline(always)]
    fn spend(&mut self, n: usize) -> bool {
        match self.left.checked_sub(n) {
            Some(rest) if !self.over => {
                self.left = rest;
                true
            }
            _ => {
                self.over = true;
                false
            }
        }
    }

    /// Borrows the UTF-8 of a str and keeps the str alive as long as `self`.
    fn borrow_str(&mut self, obj: PyObj<'_>) -> Option<&'static str> {
        let s = utf8(obj.as_ptr())?;
        // SAFETY: the buffer lives in the str, which `self.keep` keeps alive for as
        // long as `self.docs` exists.
        unsafe {
            ffi::Py_IncRef(obj.as_ptr());
            self.keep.push(obj.as_ptr());
            Some(std::mem::transmute::<&str, &'static str>(s))
        }
    }

    /// Converts `obj`, to be checked as `guide` says.
    ///
    /// What no check reads is left out, so that the results are those of checking
    /// the Python object itself: a value under a trivial node becomes
    /// [`Json::Skipped`] (checks return before reading it); a container whose node
    /// checks its type only keeps its kind; an object keeps the schema's
    /// properties, and its other entries only when `additionalProperties`,
    /// `minProperties` or `maxProperties` read them. Values under `const`,
    /// `enum` or `uniqueItems`, which compare whole values, are converted whole.
    fn convert(&mut self, obj: PyObj<'_>, guide: Guide<'_>, depth: usize) -> Json<'static> {
        put_converted!(self, obj, Some(guide), depth, |json| json)
    }

    /// Whether `obj`, a container, was met before in the record being taken apart
    /// (which then is not: see [`Compact::take_apart`]). A copy of a container held
    /// twice is a tree that no longer tells its parts are one: checked in place, a
    /// record whose walk meets the same containers many times remembers their verdicts
    /// (see `check::revisit` in the core) and counts the errors found again at another
    /// path; its copy would list them, so the two paths would differ. Only a container
    /// with other references can be held twice: one with a single reference (any record
    /// `json.loads` made) costs a read of its count.
    #[inline(always)]
    fn held_twice(&mut self, obj: PyObj<'_>) -> bool {
        // SAFETY: `obj` is alive (the record holds it) and the GIL is held.
        if unsafe { ffi::Py_REFCNT(obj.as_ptr()) } <= 1 {
            return false;
        }
        !self.held.insert(obj.as_ptr() as usize)
    }

    /// [`Compact::convert`] of a list, a tuple or a dict (out of line).
    #[inline(never)]
    fn convert_container(
        &mut self,
        obj: PyObj<'_>,
        kind: Kind,
        guide: Guide<'_>,
        depth: usize,
    ) -> Json<'static> {
        // (A record is not held by itself unless it holds itself, which its first
        // child that does meets.)
        if depth > 0 && self.held_twice(obj) {
            self.over = true;
            return Json::Skipped(kind);
        }
        let guide = match guide {
            Guide::Node(n)
                if n.const_value.is_some() || n.enum_values.is_some() || n.reads_whole() =>
            {
                Guide::Whole
            }
            other => other,
        };
        if kind == Kind::Array {
            self.convert_array(obj, guide, depth)
        } else {
            self.convert_object(obj, guide, depth)
        }
    }

    fn convert_array(&mut self, obj: PyObj<'_>, guide: Guide<'_>, depth: usize) -> Json<'static> {
        let checks = match guide {
            Guide::Node(n) => match &n.array {
                Some(a) if !a.unique_items => Some(a),
                Some(_) => None,
                None => return Json::Skipped(Kind::Array),
            },
            Guide::Whole => None,
        };
        if !self.spend(obj.array_len()) {
            return Json::Skipped(Kind::Array);
        }
        let mut items = Vec::with_capacity(obj.array_len());
        let _ = obj.for_each_item(|i, item| {
            let guide = match checks {
                None => Some(Guide::Whole),
                Some(a) => a
                    .prefix_items
                    .get(i)
                    .or(a.items.as_deref())
                    .map(Guide::Node),
            };
            put_converted!(self, *item, guide, depth + 1, |json| push(&mut items, json));
            ControlFlow::Continue(())
        });
        self.bytes += items.capacity() * std::mem::size_of::<Json>();
        Json::Array(items)
    }

    fn convert_object(&mut self, obj: PyObj<'_>, guide: Guide<'_>, depth: usize) -> Json<'static> {
        let checks = match guide {
            Guide::Node(n) => match &n.object {
                Some(o) => Some(o),
                None => return Json::Skipped(Kind::Object),
            },
            Guide::Whole => None,
        };
        if !self.spend(obj.object_len()) {
            return Json::Skipped(Kind::Object);
        }
        let all_entries = checks.is_none_or(|o| {
            !matches!(o.additional, Additional::Allow)
                || o.min_properties.is_some()
                || o.max_properties.is_some()
        });
        let mut entries: Vec<(Cow<'static, str>, Json<'static>)> = Vec::new();
        if let (Some(o), false) = (checks, all_entries) {
            // The properties the dict holds, in schema order.
            let len = obj.object_len();
            let put = |this: &mut Self, entries: &mut Vec<_>, i: usize, value: PyObj<'_>| {
                let property = &o.properties[i];
                let name = Cow::Borrowed(static_name(&property.name));
                let guide = property.node.as_ref().map(Guide::Node);
                put_converted!(this, value, guide, depth + 1, |json| push_pair(
                    entries, name, json
                ));
            };
            if o.walks_record(len) {
                let mut held: Vec<(usize, PyObj<'_>)> = Vec::with_capacity(len);
                obj.object_find_each(o, |i, value| held.push((i, value)));
                held.sort_unstable_by_key(|&(i, _)| i);
                entries.reserve(held.len());
                for (i, value) in held {
                    put(self, &mut entries, i, value);
                }
            } else {
                // Looked up in place of the properties (on the stack for most schemas:
                // an allocation less per object).
                let mut on_stack = [None; FOUND_ON_STACK];
                let mut on_heap = Vec::new();
                let found = if o.properties.len() <= FOUND_ON_STACK {
                    &mut on_stack[..o.properties.len()]
                } else {
                    on_heap.resize(o.properties.len(), None);
                    &mut on_heap[..]
                };
                obj.object_lookup(o, found);
                entries.reserve(found.iter().filter(|v| v.is_some()).count());
                for (i, value) in found.iter().enumerate() {
                    if let Some(value) = *value {
                        put(self, &mut entries, i, value);
                    }
                }
            }
            self.bytes += entries.capacity() * std::mem::size_of::<(Cow<str>, Json)>();
            return Json::Object(entries, dict_keys(obj));
        }
        entries.reserve(obj.object_len());
        let _ = obj.for_each_dict_entry(|k, v| {
            if kind_of(k.as_ptr()) != Kind::String {
                let repr = k.key_repr();
                entries.push((Cow::Owned(repr.clone()), Json::InvalidKey(repr)));
                return ControlFlow::Continue(());
            }
            let Some(key) = self.borrow_str(k) else {
                entries.push((Cow::Borrowed(""), Json::InvalidStringKey));
                return ControlFlow::Continue(());
            };
            let value_guide = match checks {
                None => Some(Guide::Whole),
                Some(o) => match o.find_declared(key) {
                    Some(i) => o.properties[i].node.as_ref().map(Guide::Node),
                    None => match &o.additional {
                        Additional::Schema(n) => Some(Guide::Node(n)),
                        _ => None,
                    },
                },
            };
            let name = Cow::Borrowed(key);
            put_converted!(self, v, value_guide, depth + 1, |json| push_pair(
                &mut entries,
                name,
                json
            ));
            ControlFlow::Continue(())
        });
        self.bytes += entries.capacity() * std::mem::size_of::<(Cow<str>, Json)>();
        Json::Object(entries, dict_keys(obj))
    }
}

/// The [`Keys`] of a dict's compact form: its keys are unique when they are all exact `str`;
/// otherwise each entry stays its own, as the dict is checked ([`Keys::AsHeld`]).
fn dict_keys(obj: PyObj<'_>) -> KeysOnce {
    KeysOnce::known(if obj.object_keys_unique() {
        Keys::Unique
    } else {
        Keys::AsHeld
    })
}

/// How much of a value the checks will read.
#[derive(Clone, Copy)]
enum Guide<'n> {
    /// What this node's checks read.
    Node(&'n Node),
    /// Everything: the value is compared whole (`const`, `enum`, `uniqueItems`).
    Whole,
}

/// A property name borrowed for the life of the compact form.
fn static_name(name: &str) -> &'static str {
    // SAFETY: the name lives in the compiled schema, which the run holds (an `Arc`)
    // for longer than any compact form made for it.
    unsafe { std::mem::transmute::<&str, &'static str>(name) }
}
