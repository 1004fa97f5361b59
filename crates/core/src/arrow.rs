//! Records read straight from Arrow columns (cargo feature `arrow`).
//!
//! Each row of a [`RecordBatch`] is a record: the batch's columns are its
//! properties, struct columns are objects, list columns (list views too) arrays, strings,
//! numbers and booleans the JSON values they hold, and a null is JSON `null`
//! (or, with `null_as_absent`, a property that is not there: what a null
//! usually means in Parquet data). Dictionary-encoded columns read as their
//! values. A type JSON has no value for (binary, dates, timestamps, decimals)
//! is a value no schema type accepts, named as Python's `to_pylist()` would
//! name it (`bytes`, `datetime`, `UUID` for the extension `arrow.uuid`, ...).
//!
//! The rows implement [`Record`], so the checks are the same code the dict and
//! JSON paths run; no Python object is built per row. Data imported from
//! another library is validated (offsets, UTF-8, dictionary keys) before any
//! row is read: once a record batch, in the rows the batch holds.

use std::borrow::Cow;
use std::collections::HashSet;
use std::ffi::{c_char, c_void, CStr};
use std::ops::{ControlFlow, Range};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Once};

use arrow_array::cast::AsArray;
use arrow_array::ffi::{from_ffi_and_data_type, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, RunEndIndexType,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, BooleanArray, FixedSizeListArray, Float32Array, Float64Array, GenericListArray,
    GenericListViewArray, Int16Array, Int32Array, Int64Array, Int8Array, LargeStringArray,
    RecordBatchOptions, RunArray, StringArray, StringViewArray, StructArray, UInt16Array,
    UInt32Array, UInt64Array, UInt8Array,
};
use arrow_buffer::{ArrowNativeType, BooleanBufferBuilder, Buffer, NullBuffer};
use arrow_data::ArrayData;
use arrow_schema::{
    ArrowError, DataType, Field, Schema as ArrowSchema, SchemaRef, UnionFields, UnionMode,
};
use num_bigint::BigInt;

pub use arrow_array::RecordBatch;

use crate::detect::{profile_records, Profile};
use crate::engine::{validate_records, ChunkOutcome, EngineError, Interrupt, Knobs};
use crate::profile::sample_indexes;
use crate::schema::Schema;
use crate::value::{EntryKey, Kind, Number, Record};

/// Why Arrow input cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrowInputError(pub String);

impl std::fmt::Display for ArrowInputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Runs `f`, which calls into arrow-rs, catching a panic: arrow-rs panics on some
/// malformed data (a union whose type ids repeat, a map whose entries are not a
/// struct), and each becomes an input error. The panic hook stays quiet for it
/// (else a caught panic printed its message, and with `RUST_BACKTRACE` a backtrace,
/// on the user's standard error); any other panic prints as before.
fn catch_quietly<R>(f: impl FnOnce() -> R) -> std::thread::Result<R> {
    thread_local! {
        static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(std::cell::Cell::get) {
                hook(info);
            }
        }));
    });
    let was = QUIET.with(|q| q.replace(true));
    let result = catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result
}

fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// A message from arrow-rs, which may print whole data types, cut to a readable length.
fn short(text: &str) -> String {
    match text.char_indices().nth(160) {
        None => text.to_string(),
        Some((cut, _)) => format!("{}...", &text[..cut]),
    }
}

/// Type levels a stream's schema may nest (a column is level 1). arrow-rs's
/// import, and the walks here over a batch, recurse once a level: a schema 5000
/// levels deep ran off the stack (a crash). 512 levels read within 1 MB of
/// stack, and are four times the levels records are checked to (`MAX_DEPTH`).
const MAX_TYPE_DEPTH: usize = 512;

/// The C data interface's `ArrowSchema`, field by field as the interface lays it
/// out (and `FFI_ArrowSchema` holds it): read here rather than through arrow-rs's
/// accessors, which panic on a name that is not UTF-8 or a null child.
#[repr(C)]
struct CSchema {
    format: *const c_char,
    name: *const c_char,
    _metadata: *const c_char,
    _flags: i64,
    n_children: i64,
    children: *const *const CSchema,
    dictionary: *const CSchema,
    _release: Option<unsafe extern "C" fn(*mut CSchema)>,
    _private_data: *mut c_void,
}

/// The C data interface's `ArrowArray`, as `CSchema` is its `ArrowSchema`.
#[repr(C)]
struct CArray {
    length: i64,
    null_count: i64,
    offset: i64,
    n_buffers: i64,
    n_children: i64,
    buffers: *const *const c_void,
    children: *const *const CArray,
    dictionary: *const CArray,
    release: Option<unsafe extern "C" fn(*mut CArray)>,
    private_data: *mut c_void,
}

// The layouts of arrow-rs's structs, so that a reference to one reads as the other.
const _: () = {
    use std::mem::{align_of, size_of};
    assert!(size_of::<CSchema>() == size_of::<FFI_ArrowSchema>());
    assert!(align_of::<CSchema>() == align_of::<FFI_ArrowSchema>());
    assert!(size_of::<CArray>() == size_of::<FFI_ArrowArray>());
    assert!(align_of::<CArray>() == align_of::<FFI_ArrowArray>());
};

/// The bytes of the C string at `text`, `None` for a null pointer.
///
/// # Safety
/// A non-null `text` is NUL-terminated and lives for `'a`.
unsafe fn c_text<'a>(text: *const c_char) -> Option<&'a [u8]> {
    // SAFETY: the caller's promise.
    (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) }.to_bytes())
}

/// The `n` children listed at `list`; what is wrong where one cannot be read.
///
/// # Safety
/// A non-null `list` points to `n` pointers, each null or to a `T` that lives for `'a`.
unsafe fn c_children<'a, T>(list: *const *const T, n: i64) -> Result<Vec<&'a T>, String> {
    let n = usize::try_from(n).map_err(|_| format!("{n} children"))?;
    if n > 0 && list.is_null() {
        return Err(format!("{n} children and no list of them"));
    }
    (0..n)
        .map(|i| {
            // SAFETY: the caller's promise, and `i < n`.
            unsafe { list.add(i).read_unaligned().as_ref() }
                .ok_or_else(|| format!("a null pointer to child {i}"))
        })
        .collect()
}

/// `path.name`, or `name` at the top.
fn join(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// The path `a.b` of the field whose ancestors' names are `chain` (a dictionary's values
/// add no name).
fn path_of(chain: &[Option<&[u8]>]) -> String {
    let names: Vec<Cow<'_, str>> = chain
        .iter()
        .flatten()
        .map(|n| String::from_utf8_lossy(n))
        .collect();
    names.join(".")
}

/// Checks a stream's schema where arrow-rs's import trusts it, before the import
/// runs: formats and names UTF-8 and no child pointer null (its accessors panic
/// otherwise), at most `MAX_TYPE_DEPTH` levels, no child in two places. Walked with
/// a list rather than recursion, however deep the schema; a field's path is spelled
/// out only for a message. Whether it has a list view (`+vl`, `+vL`).
///
/// A child is a pointer, and one struct may be the child of many (a DAG): the walks
/// over a schema (this one, arrow-rs's import, `check_shape` once a batch) read it
/// once a place it is in, 2^40 times for 40 levels of two fields that share one child.
/// Refused where met twice, each walk reads what the producer gave, once.
fn check_schema(schema: &FFI_ArrowSchema) -> Result<bool, ArrowInputError> {
    // SAFETY: the same layout (checked above); the schema lives while it is read.
    let root = unsafe { &*std::ptr::from_ref(schema).cast::<CSchema>() };
    // Fields to check, each with its depth and name; each column with its children
    // before the next, so `chain` holds the names of the ancestors of the one taken.
    let mut todo: Vec<(&CSchema, usize, Option<&[u8]>)> = vec![(root, 0, None)];
    let mut chain: Vec<Option<&[u8]>> = Vec::new();
    let (mut seen, mut views) = (HashSet::new(), false);
    while let Some((field, depth, name)) = todo.pop() {
        chain.truncate(depth.saturating_sub(1));
        if depth > 0 {
            chain.push(name);
        }
        let at = || {
            if depth == 0 {
                "the schema".to_string()
            } else {
                format!("column `{}`", crate::check::shorten(&path_of(&chain)))
            }
        };
        if !seen.insert(std::ptr::from_ref(field)) {
            return Err(stream_error(&format!(
                "{} is the schema of another field too (a shared child)",
                at()
            )));
        }
        // SAFETY: a C string of the schema.
        let format = unsafe { c_text(field.format) }
            .ok_or_else(|| stream_error(&format!("{} has no format", at())))?;
        let format = std::str::from_utf8(format)
            .map_err(|_| stream_error(&format!("{} has a format that is not UTF-8", at())))?;
        views |= matches!(format, "+vl" | "+vL");
        if depth > MAX_TYPE_DEPTH {
            let column = chain.first().copied().flatten().unwrap_or_default();
            return Err(ArrowInputError(format!(
                "column `{}` is nested more than {MAX_TYPE_DEPTH} levels deep, which is not \
                 read: flatten it, or leave it out of the data to validate",
                crate::check::shorten(&String::from_utf8_lossy(column))
            )));
        }
        // SAFETY: the schema's children live with it.
        let children = unsafe { c_children(field.children, field.n_children) }
            .map_err(|e| stream_error(&format!("{} has {e}", at())))?;
        // SAFETY: null, or the dictionary's schema, which lives with this one.
        if let Some(values) = unsafe { field.dictionary.as_ref() } {
            todo.push((values, depth + 1, None));
        }
        for child in children.into_iter().rev() {
            // SAFETY: a C string of the schema.
            let name = unsafe { c_text(child.name) }.unwrap_or_default();
            if std::str::from_utf8(name).is_err() {
                chain.push(Some(name));
                return Err(stream_error(&format!(
                    "column `{}` has a name that is not UTF-8",
                    crate::check::shorten(&path_of(&chain))
                )));
            }
            todo.push((child, depth + 1, Some(name)));
        }
    }
    Ok(views)
}

/// Checks that `array`, a record batch, has the shape of the stream's `schema`
/// where arrow-rs's import relies on it (it asserts, or reads past the pointers
/// it was given, otherwise): lengths and offsets not negative, the buffers and
/// children of each type, no null pointer among them, the dictionary of a
/// dictionary type. Walked with a list, as `check_schema`.
fn check_shape(array: &FFI_ArrowArray, schema: &DataType) -> Result<(), String> {
    // SAFETY: the same layout (checked above); the array lives while it is read.
    let root = unsafe { &*std::ptr::from_ref(array).cast::<CArray>() };
    let mut todo = vec![(root, schema, String::new())];
    while let Some((array, data_type, path)) = todo.pop() {
        let at = if path.is_empty() {
            "the batch".to_string()
        } else {
            format!("column `{path}`")
        };
        if array.length < 0 || array.offset < 0 || array.length.checked_add(array.offset).is_none()
        {
            return Err(format!(
                "{at} has {} rows at offset {}",
                array.length, array.offset
            ));
        }
        // The validity slot may be left out where no other buffer follows it; views
        // end with the lengths of their data buffers (list views have none, whatever
        // arrow-rs's layout of them says).
        let layout = arrow_data::layout(data_type);
        let buffers = if matches!(
            data_type,
            DataType::ListView(_) | DataType::LargeListView(_)
        ) {
            3
        } else if layout.buffers.is_empty() {
            0
        } else {
            layout.buffers.len()
                + usize::from(layout.can_contain_null_mask)
                + usize::from(layout.variadic)
        };
        if usize::try_from(array.n_buffers).map_or(true, |n| n < buffers)
            || (array.n_buffers > 0 && array.buffers.is_null())
        {
            return Err(format!(
                "{at} has {} buffers, where its type {data_type} has {buffers}",
                array.n_buffers
            ));
        }
        // SAFETY: the array's children live with it.
        let children = unsafe { c_children(array.children, array.n_children) }
            .map_err(|e| format!("{at} has {e}"))?;
        let types: Vec<(&str, &DataType)> = match data_type {
            DataType::Struct(fields) => fields
                .iter()
                .map(|f| (f.name().as_str(), f.data_type()))
                .collect(),
            DataType::Union(fields, _) => fields
                .iter()
                .map(|(_, f)| (f.name().as_str(), f.data_type()))
                .collect(),
            DataType::List(f)
            | DataType::LargeList(f)
            | DataType::FixedSizeList(f, _)
            | DataType::ListView(f)
            | DataType::LargeListView(f)
            | DataType::Map(f, _) => vec![(f.name().as_str(), f.data_type())],
            DataType::RunEndEncoded(ends, values) => vec![
                (ends.name().as_str(), ends.data_type()),
                (values.name().as_str(), values.data_type()),
            ],
            _ => Vec::new(),
        };
        // The import reads the first children of a type, and asserts that a struct
        // or union has exactly its fields.
        let exact = matches!(data_type, DataType::Struct(_) | DataType::Union(..));
        if children.len() < types.len() || (exact && children.len() != types.len()) {
            return Err(if path.is_empty() {
                format!(
                    "it has {} columns, where the schema has {}",
                    children.len(),
                    types.len()
                )
            } else {
                format!(
                    "{at} has {} child arrays, where its type {data_type} has {}",
                    children.len(),
                    types.len()
                )
            });
        }
        if let DataType::Dictionary(_, values) = data_type {
            // SAFETY: null, or the dictionary's array, which lives with this one.
            let dictionary = unsafe { array.dictionary.as_ref() }
                .ok_or_else(|| format!("{at} has no dictionary"))?;
            todo.push((dictionary, values, path.clone()));
        }
        let pairs: Vec<_> = children.into_iter().zip(types).collect();
        for (child, (name, child_type)) in pairs.into_iter().rev() {
            todo.push((child, child_type, join(&path, name)));
        }
    }
    Ok(())
}

/// Checks what reading `data` relies on, in the rows it holds only: buffer
/// sizes, offsets within bounds and in order, UTF-8 of the strings, dictionary
/// keys within their values and list views within their items where a row reads
/// them. A list's items are checked in the range its offsets reach, not in the
/// whole child a sliced list keeps, so a batch costs what its rows hold, whatever
/// the table it was cut from.
fn check_data(data: &ArrayData) -> Result<(), ArrowError> {
    // A list of arrays to check rather than recursion (one entry a type level),
    // each with the rows its parents leave readable (`None`: all of them).
    let mut todo = vec![(data.clone(), None)];
    let views = holds_view(data.data_type());
    while let Some((d, above)) = todo.pop() {
        if views && holds_view(d.data_type()) {
            without_view_items(&d).validate()?;
        } else {
            d.validate()?;
        }
        let readable = NullBuffer::union(above.as_ref(), d.nulls());
        match d.data_type() {
            DataType::Utf8 => check_strings::<i32>(&d, readable.as_ref())?,
            DataType::LargeUtf8 => check_strings::<i64>(&d, readable.as_ref())?,
            DataType::Utf8View => check_views(&d, readable.as_ref(), true)?,
            DataType::BinaryView => check_views(&d, readable.as_ref(), false)?,
            DataType::Dictionary(..) => check_keys(&d, readable.clone())?,
            _ => d.validate_values()?,
        }
        todo.extend(rows_read(&d, readable)?);
    }
    Ok(())
}

/// The keys of the dictionary `d` that a row reads (`readable`) are within its
/// values. A key under a null parent is not read, and may be anything: pyarrow
/// leaves a key 0 under a null struct over no values.
fn check_keys(d: &ArrayData, readable: Option<NullBuffer>) -> Result<(), ArrowError> {
    let builder = d.clone().into_builder().nulls(readable);
    // SAFETY: the same data with more rows null (`readable` has `d`'s nulls), for
    // `validate_values` to skip.
    unsafe { builder.build_unchecked() }.validate_values()
}

/// The children of `d` (checked by `validate` and `validate_values`), each cut to
/// the rows that `d`'s own rows read, with the rows of it that `readable` rows of
/// `d` read.
fn rows_read(
    d: &ArrayData,
    readable: Option<NullBuffer>,
) -> Result<Vec<(ArrayData, Option<NullBuffer>)>, ArrowError> {
    let (offset, len) = (d.offset(), d.len());
    match d.data_type() {
        DataType::List(_) | DataType::Map(..) => {
            items_read(d, list_offsets::<i32>(d), readable.as_ref())
        }
        DataType::LargeList(_) => items_read(d, list_offsets::<i64>(d), readable.as_ref()),
        DataType::ListView(_) => views_read::<i32>(d, readable.as_ref()),
        DataType::LargeListView(_) => views_read::<i64>(d, readable.as_ref()),
        DataType::FixedSizeList(_, size) => {
            let child = &d.child_data()[0];
            let size = usize::try_from(*size).unwrap_or(0);
            let items = offset
                .checked_mul(size)
                .zip(len.checked_mul(size))
                .and_then(|(start, n)| rows_of(child, start, n));
            let items = items.ok_or_else(|| fixed_list_error(d, child))?;
            let readable = readable.filter(|_| checks_rows_read(child.data_type()));
            Ok(vec![(items, readable.map(|rows| rows.expand(size)))])
        }
        DataType::Struct(_) => d
            .child_data()
            .iter()
            .map(|child| {
                let rows = rows_of(child, offset, len).ok_or_else(|| struct_error(d, child))?;
                Ok((rows, readable.clone()))
            })
            .collect(),
        // Dictionary values (any key may read any of them), run values, union members
        // (never read): whole, once a batch.
        _ => Ok(d.child_data().iter().map(|c| (c.clone(), None)).collect()),
    }
}

/// The offsets of a list's rows, none where it has no rows (its buffer may be empty).
fn list_offsets<O: ArrowNativeType>(d: &ArrayData) -> &[O] {
    if d.is_empty() {
        &[]
    } else {
        // `validate` checked that the buffer holds them.
        &d.buffer::<O>(0)[..=d.len()]
    }
}

/// The items of a list whose rows have `offsets` (checked by `validate_values`:
/// in order and within the items), from the first offset to the last; those of
/// its `readable` rows readable.
fn items_read<O: ArrowNativeType>(
    d: &ArrayData,
    offsets: &[O],
    readable: Option<&NullBuffer>,
) -> Result<Vec<(ArrayData, Option<NullBuffer>)>, ArrowError> {
    let child = &d.child_data()[0];
    let (first, last) = match (offsets.first(), offsets.last()) {
        (Some(first), Some(last)) => (first.as_usize(), last.as_usize()),
        _ => (0, 0),
    };
    let items = last
        .checked_sub(first)
        .and_then(|n| rows_of(child, first, n))
        .ok_or_else(|| {
            ArrowError::InvalidArgumentError(format!(
                "list offsets {first}..{last} are not within its {} items",
                child.len()
            ))
        })?;
    let readable = readable.filter(|_| checks_rows_read(child.data_type()));
    let items_readable = readable.map(|rows| {
        let mut items = BooleanBufferBuilder::new(last - first);
        items.append_n(last - first, true);
        for (row, ends) in offsets.windows(2).enumerate() {
            if rows.is_null(row) {
                for item in ends[0].as_usize()..ends[1].as_usize() {
                    items.set_bit(item - first, false);
                }
            }
        }
        NullBuffer::new(items.finish())
    });
    Ok(vec![(items, items_readable)])
}

/// `d` with the items of each list view in it left out, for `ArrayData::validate`,
/// which checks each type's children with itself, and in arrow-rs 55 a list view with
/// a size for each of its items rather than each row (a panic past the rows). The
/// views and their items are checked apart (`views_read`).
fn without_view_items(d: &ArrayData) -> ArrayData {
    if d.child_data().is_empty() {
        return d.clone();
    }
    let children = match d.data_type() {
        // Its items cut to none (their own views left out too).
        DataType::ListView(_) | DataType::LargeListView(_) => d
            .child_data()
            .iter()
            .map(|items| without_view_items(&items.slice(0, 0)))
            .collect(),
        _ => d.child_data().iter().map(without_view_items).collect(),
    };
    // SAFETY: the same data with fewer items, for `validate` to check.
    unsafe {
        d.clone()
            .into_builder()
            .child_data(children)
            .build_unchecked()
    }
}

/// The items of the list views `d` (offsets and sizes of type `O`, buffers checked by
/// `validate`) that its `readable` rows read. Each such view is checked
/// within the items (checked arithmetic: offsets and sizes are the producer's, and
/// may be negative, overlap or come in any order); the items from the lowest start to
/// the highest end are then checked, those that no readable view covers unreadable.
fn views_read<O: ArrowNativeType>(
    d: &ArrayData,
    readable: Option<&NullBuffer>,
) -> Result<Vec<(ArrayData, Option<NullBuffer>)>, ArrowError> {
    let child = &d.child_data()[0];
    let offsets = &d.buffer::<O>(0)[..d.len()];
    let sizes = &d.buffer::<O>(1)[..d.len()];
    // The items of a row where it is readable and not empty.
    let view_at = |(row, (&offset, &size)): (usize, (&O, &O))| {
        if readable.is_some_and(|r| r.is_null(row)) {
            return Ok(None);
        }
        let view = view_of(row, offset, size, child.len())?;
        Ok::<_, ArrowError>((!view.is_empty()).then_some(view))
    };
    // Each view checked; the span of them all, whether their starts ascend, and if so
    // whether they leave an item out (a gap).
    let (mut first, mut last, mut start) = (usize::MAX, 0, 0);
    let (mut sorted, mut gaps) = (true, false);
    let rows = || offsets.iter().zip(sizes).enumerate();
    for row in rows() {
        if let Some(view) = view_at(row)? {
            sorted &= view.start >= start;
            gaps |= first != usize::MAX && view.start > last;
            start = view.start;
            first = first.min(view.start);
            last = last.max(view.end);
        }
    }
    let first = first.min(last);
    // `rows_of` is within the items: every view was checked against them.
    let Some(items) = rows_of(child, first, last - first) else {
        return Err(ArrowError::InvalidArgumentError(format!(
            "list views {first}..{last} are not within its {} items",
            child.len()
        )));
    };
    if (sorted && !gaps) || !checks_rows_read(child.data_type()) {
        return Ok(vec![(items, None)]);
    }
    // The items covered, from the views in order of their starts (sorted where the
    // producer did not give them in order).
    let views = rows().filter_map(|row| view_at(row).ok().flatten());
    let covered = if sorted {
        covered_by(views, first, last)
    } else {
        let mut views: Vec<_> = views.collect();
        views.sort_unstable_by_key(|v| v.start);
        covered_by(views.into_iter(), first, last)
    };
    let gaps = covered.null_count() > 0;
    Ok(vec![(items, gaps.then_some(covered))])
}

/// Whether the checks of an array of type `t` depend on which of its rows are read:
/// a dictionary's keys or a list view's views, in it or under its lists and structs
/// (not under a fixed-size list of size 0: it has no items). Only then are the
/// rows its parents read told apart, one bit an item: items that take no memory (nulls,
/// empty structs) may be claimed by the trillion, and such a bitmap aborted the process.
fn checks_rows_read(t: &DataType) -> bool {
    match t {
        DataType::Dictionary(..) | DataType::ListView(_) | DataType::LargeListView(_) => true,
        DataType::List(f) | DataType::LargeList(f) | DataType::Map(f, _) => {
            checks_rows_read(f.data_type())
        }
        DataType::FixedSizeList(f, size) => *size > 0 && checks_rows_read(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| checks_rows_read(f.data_type())),
        _ => false,
    }
}

/// The items `offset..offset + size` of the list view at `row`, within the `items`.
fn view_of<O: ArrowNativeType>(
    row: usize,
    offset: O,
    size: O,
    items: usize,
) -> Result<Range<usize>, ArrowError> {
    let view = offset
        .to_usize()
        .zip(size.to_usize())
        .and_then(|(start, n)| {
            let end = start.checked_add(n)?;
            (end <= items).then_some(start..end)
        });
    view.ok_or_else(|| {
        ArrowError::InvalidArgumentError(format!(
            "the list view at row {row} (offset {offset:?}, size {size:?}) is not within its \
             {items} items"
        ))
    })
}

/// Which items of `first..last` the `views` cover, given in order of their starts.
fn covered_by(views: impl Iterator<Item = Range<usize>>, first: usize, last: usize) -> NullBuffer {
    let mut covered = BooleanBufferBuilder::new(last - first);
    let mut end = first;
    for view in views {
        if view.start > end {
            covered.append_n(view.start - end, false);
            end = view.start;
        }
        if view.end > end {
            covered.append_n(view.end - end, true);
            end = view.end;
        }
    }
    NullBuffer::new(covered.finish())
}

/// The strings of `d` (offsets of type `O`), in its rows only: offsets in order
/// and within the values, the bytes from the first offset to the last UTF-8,
/// each offset at the start of a character; where those bytes are not all UTF-8,
/// each string a row reads (`readable`; `None`: every row) UTF-8 on its own. A
/// null slot is never read (`Cell::as_str` answers `None` there), and may hold
/// any bytes, as pyarrow's full validation allows. arrow-rs's `validate_values`
/// reads the whole values buffer, which a slice keeps: each chunk cut from a batch
/// read the whole batch's strings again.
fn check_strings<O: ArrowNativeType>(
    d: &ArrayData,
    readable: Option<&NullBuffer>,
) -> Result<(), ArrowError> {
    let offsets = list_offsets::<O>(d);
    let (Some(first), Some(last)) = (offsets.first(), offsets.last()) else {
        return Ok(());
    };
    // `validate` checked the first and last offsets: within the values, in order.
    let (first, last) = (first.as_usize(), last.as_usize());
    let values = d.buffers()[1].as_slice();
    let invalid = |i: usize, what: &str| {
        ArrowError::InvalidArgumentError(format!("the string at index {i} {what}"))
    };
    let all_utf8 = simdutf8::basic::from_utf8(&values[first..last]).is_ok();
    let mut start = first;
    for (i, end) in offsets[1..].iter().enumerate() {
        let end = end
            .to_usize()
            .filter(|end| (start..=last).contains(end))
            .ok_or_else(|| invalid(i, "has offsets out of order or past the values"))?;
        if all_utf8 {
            // In UTF-8 text, each byte but a continuation byte starts a character.
            if end < last && (0x80..0xC0).contains(&values[end]) {
                return Err(invalid(i, "ends inside a character"));
            }
        } else if readable.is_none_or(|rows| rows.is_valid(i))
            && simdutf8::basic::from_utf8(&values[start..end]).is_err()
        {
            return Err(invalid(i, "is not UTF-8"));
        }
        start = end;
    }
    Ok(())
}

/// The views of the string (`utf8`) or binary view array `d` that a row reads
/// (`readable`): within their data buffer, starting with their prefix, UTF-8 for
/// strings. As pyarrow's full validation, a null slot's view is not checked: it
/// may hold anything, and no path reads it (`Cell::as_str`). arrow-rs's
/// `validate_values` checks every view, so a view array with such a null slot
/// was refused whole.
fn check_views(d: &ArrayData, readable: Option<&NullBuffer>, utf8: bool) -> Result<(), ArrowError> {
    // `validate` checked that the views buffer holds `d.len()` views past the offset.
    let views = &d.buffer::<u128>(0)[..d.len()];
    let data = &d.buffers()[1..];
    let what = if utf8 { "string" } else { "value" };
    let invalid = |i: usize, why: String| {
        ArrowError::InvalidArgumentError(format!("the {what} view at index {i} {why}"))
    };
    for (i, &view) in views.iter().enumerate() {
        if readable.is_some_and(|rows| rows.is_null(i)) {
            continue;
        }
        let len = view as u32;
        let bytes = if len <= 12 {
            // Inline: the bytes after the value are zero (pyarrow's full validation too).
            if len < 12 && view >> (32 + len * 8) != 0 {
                return Err(invalid(i, format!("holds bytes past its length {len}")));
            }
            &view.to_le_bytes()[4..4 + len as usize]
        } else {
            let v = arrow_data::ByteView::from(view);
            let buffer = data.get(v.buffer_index as usize).ok_or_else(|| {
                invalid(
                    i,
                    format!("names data buffer {} of {}", v.buffer_index, data.len()),
                )
            })?;
            let (start, end) = (v.offset as usize, v.offset as usize + len as usize);
            let bytes = buffer.get(start..end).ok_or_else(|| {
                invalid(
                    i,
                    format!(
                        "reads {start}..{end} of a data buffer of {} bytes",
                        buffer.len()
                    ),
                )
            })?;
            if !bytes.starts_with(&v.prefix.to_le_bytes()) {
                return Err(invalid(i, "does not start with its prefix".to_owned()));
            }
            bytes
        };
        if utf8 && simdutf8::basic::from_utf8(bytes).is_err() {
            return Err(invalid(i, "is not UTF-8".to_owned()));
        }
    }
    Ok(())
}

fn struct_error(d: &ArrayData, child: &ArrayData) -> ArrowError {
    ArrowError::InvalidArgumentError(format!(
        "a struct of {} rows at offset {} has a child of {} rows",
        d.len(),
        d.offset(),
        child.len()
    ))
}

fn fixed_list_error(d: &ArrayData, child: &ArrayData) -> ArrowError {
    ArrowError::InvalidArgumentError(format!(
        "a fixed-size list of {} rows at offset {} has {} items",
        d.len(),
        d.offset(),
        child.len()
    ))
}

/// `data` with the offset of every struct and fixed-size list pushed down into
/// its children, at any depth.
///
/// arrow-rs reads such an offset twice where the array sits at an offset in
/// another: `ArrayData::slice` of a struct slices its children and keeps the
/// offset, and `StructArray::from` then slices the already sliced children by
/// that offset again; `FixedSizeListArray::from` slices a struct child, which
/// keeps the offset for `StructArray::from` to apply once more. That runs past
/// the children's end (an assertion) or, with room to spare, reads the wrong
/// rows. Imported data has such offsets whenever the producer sliced a table
/// (`table.slice`, one-row chunks). Here no struct or fixed-size list keeps an
/// offset: each child is cut to the rows read instead, so the arrays built from
/// the result read each value once, at its place.
fn push_down_offsets(data: ArrayData) -> Result<ArrayData, ArrowError> {
    let (offset, len) = (data.offset(), data.len());
    let rows = match data.data_type() {
        DataType::Struct(_) => Some((offset, len)),
        DataType::FixedSizeList(_, size) => {
            let size = usize::try_from(*size).map_err(|_| {
                ArrowError::InvalidArgumentError(format!("a fixed-size list of size {size}"))
            })?;
            let rows = offset.checked_mul(size).zip(len.checked_mul(size));
            Some(rows.ok_or_else(|| fixed_list_error(&data, &data.child_data()[0]))?)
        }
        _ => None,
    };
    let children = data
        .child_data()
        .iter()
        .map(|child| match rows {
            Some((start, n)) => {
                let cut = rows_of(child, start, n).ok_or_else(|| match data.data_type() {
                    DataType::Struct(_) => struct_error(&data, child),
                    _ => fixed_list_error(&data, child),
                })?;
                push_down_offsets(cut)
            }
            None => push_down_offsets(child.clone()),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let builder = data.into_builder().child_data(children);
    let builder = if rows.is_some() {
        builder.offset(0)
    } else {
        builder
    };
    // SAFETY: the same buffers, and children cut within their length; the data is
    // still checked (`check_data`) before any value is read.
    Ok(unsafe { builder.build_unchecked() })
}

/// The rows `offset..offset + len` of `child`, `None` past its end. A struct keeps
/// them as its offset, over the same children (read as `StructArray::from` reads
/// them: the offset applies to the children).
fn rows_of(child: &ArrayData, offset: usize, len: usize) -> Option<ArrayData> {
    if offset.checked_add(len)? > child.len() {
        return None;
    }
    if offset == 0 && len == child.len() {
        return Some(child.clone());
    }
    if !matches!(child.data_type(), DataType::Struct(_)) {
        return Some(child.slice(offset, len));
    }
    let builder = child
        .clone()
        .into_builder()
        .offset(child.offset().checked_add(offset)?)
        .len(len)
        .nulls(child.nulls().map(|n| n.slice(offset, len)));
    // SAFETY: a window within the child's rows (checked above) over the same buffers.
    Some(unsafe { builder.build_unchecked() })
}

/// `check_data` of the column `name`; its failure, or a panic in arrow-rs, as the input error.
fn check_column(data: &ArrayData, name: &str) -> Result<(), ArrowInputError> {
    let problem = match catch_quietly(|| check_data(data)) {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => e.to_string(),
        Err(p) => panic_text(&*p),
    };
    Err(ArrowInputError(format!(
        "invalid Arrow data in column `{}`: {}",
        crate::check::shorten(name),
        short(&problem)
    )))
}

/// An imported Arrow C stream (`ArrowArrayStream`), read one record batch at a time.
pub struct ArrowStream {
    stream: FFI_ArrowArrayStream,
    schema: SchemaRef,
    /// Record batches read so far.
    batches: usize,
}

fn stream_error(text: &str) -> ArrowInputError {
    ArrowInputError(format!("invalid Arrow stream: {}", short(text)))
}

impl ArrowStream {
    /// Takes over the stream at `raw` (an `ArrowArrayStream*`, for example
    /// from the capsule `__arrow_c_stream__` returns), leaving it released.
    ///
    /// # Safety
    /// `raw` points to a valid `ArrowArrayStream` that nothing else reads.
    pub unsafe fn from_raw(raw: *mut c_void) -> Result<ArrowStream, ArrowInputError> {
        // SAFETY: the caller's promise; the stream is moved out and `raw` released.
        let mut stream = unsafe { FFI_ArrowArrayStream::from_raw(raw.cast()) };
        let get_schema = stream
            .get_schema
            .ok_or_else(|| stream_error("the stream is released"))?;
        let mut ffi_schema = FFI_ArrowSchema::empty();
        // SAFETY: a live stream and an empty schema for it to fill.
        if unsafe { get_schema(&mut stream, &mut ffi_schema) } != 0 {
            return Err(stream_error(&last_error(&mut stream)));
        }
        let views = check_schema(&ffi_schema)?;
        let schema = catch_quietly(|| import_schema(&ffi_schema, views))
            .map_err(|p| stream_error(&panic_text(&*p)))??;
        Ok(ArrowStream {
            stream,
            schema: Arc::new(schema),
            batches: 0,
        })
    }

    /// The next record batch, its data checked (`check_data`); `None` at the end
    /// of the stream. Buffers that are not aligned for their type (pandas data,
    /// for one) are copied.
    pub fn next_batch(&mut self) -> Option<Result<RecordBatch, ArrowInputError>> {
        let get_next = match self.stream.get_next {
            Some(f) => f,
            None => return Some(Err(stream_error("the stream is released"))),
        };
        let mut array = FFI_ArrowArray::empty();
        // SAFETY: a live stream and an empty array for it to fill.
        if unsafe { get_next(&mut self.stream, &mut array) } != 0 {
            return Some(Err(stream_error(&last_error(&mut self.stream))));
        }
        if array.is_released() {
            return None;
        }
        let number = self.batches;
        self.batches += 1;
        let data_type = DataType::Struct(self.schema.fields().clone());
        if let Err(why) = check_shape(&array, &data_type) {
            return Some(Err(ArrowInputError(format!(
                "record batch {number} does not match the stream's schema: {}",
                short(&why)
            ))));
        }
        let schema = Arc::clone(&self.schema);
        let batch = catch_quietly(move || {
            // SAFETY: the array was filled by the stream, in the shape of the stream's schema.
            let data = unsafe { import_batch(array, data_type) }
                .map_err(|e| stream_error(&e.to_string()))?;
            batch_of(schema, data)
        });
        Some(batch.unwrap_or_else(|p| Err(stream_error(&panic_text(&*p)))))
    }
}

/// The stream's schema. arrow-rs 55 imports no list view (`+vl`, `+vL`): where the
/// schema has one (`views`), the types on the way to each are built here, and arrow-rs
/// imports the fields beside them.
fn import_schema(schema: &FFI_ArrowSchema, views: bool) -> Result<ArrowSchema, ArrowInputError> {
    let import = || {
        if !views {
            return ArrowSchema::try_from(schema);
        }
        let children = schema
            .children()
            .map(view_field)
            .collect::<Result<_, _>>()?;
        let DataType::Struct(fields) = view_type(schema, children, None)? else {
            return Err(ArrowError::CDataInterface(
                "Unable to interpret C data struct as a Schema".to_string(),
            ));
        };
        Ok(ArrowSchema::new(fields).with_metadata(schema.metadata()?))
    };
    import().map_err(|e| stream_error(&e.to_string()))
}

/// The field of `s`, by arrow-rs where it has no list view at any depth (`None` from
/// `view_field`).
fn field_of(s: &FFI_ArrowSchema, view: Option<Field>) -> Result<Field, ArrowError> {
    view.map_or_else(|| Field::try_from(s), Ok)
}

/// The field of `s` where it has a list view at some depth, `None` where it has none.
/// One call a field (`check_schema`: none in two places, at most `MAX_TYPE_DEPTH` deep).
fn view_field(s: &FFI_ArrowSchema) -> Result<Option<Field>, ArrowError> {
    let children = s
        .children()
        .map(view_field)
        .collect::<Result<Vec<_>, _>>()?;
    let values = s.dictionary().map(view_field).transpose()?;
    let view = matches!(s.format(), "+vl" | "+vL");
    if !view && values.iter().flatten().next().is_none() && children.iter().all(Option::is_none) {
        return Ok(None);
    }
    let t = view_type(s, children, values)?;
    let field = Field::new(s.name().unwrap_or(""), t, s.nullable()).with_metadata(s.metadata()?);
    Ok(Some(field))
}

/// The type of `s`, which has a list view at some depth, as arrow-rs would import it
/// if it could; `children` and `values` (its dictionary's) as `view_field` gave them.
fn view_type(
    s: &FFI_ArrowSchema,
    children: Vec<Option<Field>>,
    values: Option<Option<Field>>,
) -> Result<DataType, ArrowError> {
    let format = s.format();
    let fields = children
        .into_iter()
        .zip(s.children())
        .map(|(view, child)| field_of(child, view))
        .collect::<Result<Vec<_>, _>>()?;
    let unknown = || ArrowError::CDataInterface(format!("the type `{format}` is not known"));
    let one = || match <[Field; 1]>::try_from(fields.clone()) {
        Ok([f]) => Ok(Arc::new(f)),
        Err(_) => Err(ArrowError::CDataInterface(format!(
            "the type `{format}` has {} children",
            fields.len()
        ))),
    };
    let mut t = match format {
        "+vl" => DataType::ListView(one()?),
        "+vL" => DataType::LargeListView(one()?),
        "+l" => DataType::List(one()?),
        "+L" => DataType::LargeList(one()?),
        "+m" => DataType::Map(one()?, s.map_keys_sorted()),
        "+s" => DataType::Struct(fields.into()),
        "+r" => match <[Field; 2]>::try_from(fields) {
            Ok([ends, values]) => DataType::RunEndEncoded(Arc::new(ends), Arc::new(values)),
            Err(_) => return Err(unknown()),
        },
        // The key type of a dictionary (its values are `s.dictionary()`).
        "c" => DataType::Int8,
        "C" => DataType::UInt8,
        "s" => DataType::Int16,
        "S" => DataType::UInt16,
        "i" => DataType::Int32,
        "I" => DataType::UInt32,
        "l" => DataType::Int64,
        "L" => DataType::UInt64,
        _ => {
            if let Some(n) = format.strip_prefix("+w:") {
                DataType::FixedSizeList(one()?, n.parse().map_err(|_| unknown())?)
            } else if let Some((mode, ids)) =
                format.strip_prefix("+u").and_then(|u| u.split_once(':'))
            {
                let mode = match mode {
                    "d" => UnionMode::Dense,
                    "s" => UnionMode::Sparse,
                    _ => return Err(unknown()),
                };
                let ids = ids
                    .split(',')
                    .map(str::parse::<i8>)
                    .collect::<Result<Vec<_>, _>>();
                let ids = ids
                    .ok()
                    .filter(|ids| ids.len() == fields.len())
                    .ok_or_else(unknown)?;
                DataType::Union(UnionFields::new(ids, fields), mode)
            } else {
                return Err(unknown());
            }
        }
    };
    if let (Some(c), Some(view)) = (s.dictionary(), values) {
        let values = field_of(c, view)?;
        t = DataType::Dictionary(Box::new(t), Box::new(values.data_type().clone()));
    }
    Ok(t)
}

/// Imports the record batch `array` as `t`. arrow-rs 55 imports no list view: the
/// arrays on the way to each are built here over the producer's buffers, and arrow-rs
/// imports those beside them (`borrowed`).
///
/// # Safety
/// `array` was filled by the stream, in the shape of `t` (`check_shape`).
unsafe fn import_batch(array: FFI_ArrowArray, t: DataType) -> Result<ArrayData, ArrowError> {
    let mut views = HashSet::new();
    if !has_view(&t, &mut views) {
        // SAFETY: the caller's promise.
        return unsafe { from_ffi_and_data_type(array, t) };
    }
    let owner = Arc::new(array);
    // SAFETY: the same layout; the array lives in `owner`.
    let root = unsafe { &*Arc::as_ptr(&owner).cast::<CArray>() };
    // SAFETY: the caller's promise.
    unsafe { import_views(root, &t, &owner, &views) }
}

/// Whether `t` has a list view at any depth.
fn holds_view(t: &DataType) -> bool {
    has_view(t, &mut HashSet::new())
}

/// Whether `t` has a list view at any depth; each type on the way to one is put in `views`.
fn has_view(t: &DataType, views: &mut HashSet<*const DataType>) -> bool {
    let found = match t {
        DataType::ListView(f) | DataType::LargeListView(f) => {
            has_view(f.data_type(), views);
            true
        }
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => has_view(f.data_type(), views),
        // Each field, for the list views inside them all.
        DataType::Struct(fields) => fields
            .iter()
            .fold(false, |any, f| has_view(f.data_type(), views) | any),
        DataType::Union(fields, _) => fields
            .iter()
            .fold(false, |any, (_, f)| has_view(f.data_type(), views) | any),
        DataType::RunEndEncoded(_, values) => has_view(values.data_type(), views),
        DataType::Dictionary(_, values) => has_view(values, views),
        _ => false,
    };
    if found {
        views.insert(std::ptr::from_ref(t));
    }
    found
}

/// The array `c` of type `t`, inside the batch `owner`; built here where `t` is in
/// `views` (holds a list view), by arrow-rs otherwise.
///
/// # Safety
/// `c` lives with `owner`, in the shape of `t` (`check_shape`).
unsafe fn import_views(
    c: &CArray,
    t: &DataType,
    owner: &Arc<FFI_ArrowArray>,
    views: &HashSet<*const DataType>,
) -> Result<ArrayData, ArrowError> {
    if !views.contains(&std::ptr::from_ref(t)) {
        // SAFETY: the caller's promise.
        return unsafe { from_ffi_and_data_type(borrowed(c, owner), t.clone()) };
    }
    let too_long = || ArrowError::CDataInterface(format!("an array of {} rows", c.length));
    // `check_shape`: neither negative, nor their sum past `i64`.
    let (len, offset) = (c.length as usize, c.offset as usize);
    let rows = len.checked_add(offset).ok_or_else(too_long)?;
    let bytes = |width: usize, extra: usize| {
        rows.checked_add(extra)
            .and_then(|n| n.checked_mul(width))
            .ok_or_else(too_long)
    };
    let buffer = |i: usize, len: usize| -> Result<Option<Buffer>, ArrowError> {
        // A struct's validity slot may be left out (no buffer at all).
        if usize::try_from(c.n_buffers).map_or(true, |n| i >= n) {
            return Ok(None);
        }
        // SAFETY: a list of `n_buffers` (`check_shape`: at least those of `t`).
        let at = unsafe { c.buffers.add(i).read_unaligned() };
        Ok(
            std::ptr::NonNull::new(at.cast_mut().cast::<u8>()).map(|at| {
                let owner: Arc<dyn arrow_buffer::alloc::Allocation> = owner.clone();
                // SAFETY: the producer's buffer, of `len` bytes for `t` by the C data interface.
                unsafe { Buffer::from_custom_allocation(at, len, owner) }
            }),
        )
    };
    let data = |i: usize, len: usize| match buffer(i, len)? {
        Some(b) => Ok(b),
        None if len == 0 => Ok(Buffer::from(Vec::<u8>::new())),
        None => Err(ArrowError::CDataInterface(format!(
            "the buffer at position {i} is null"
        ))),
    };
    // SAFETY: `check_shape`: the children of `t`, none null.
    let children =
        unsafe { c_children(c.children, c.n_children) }.map_err(ArrowError::CDataInterface)?;
    let child = |i: usize, t: &DataType| {
        // SAFETY: the caller's promise, for a child.
        unsafe { import_views(children[i], t, owner, views) }
    };
    let (buffers, child_data) = match t {
        DataType::ListView(f) => (
            vec![data(1, bytes(4, 0)?)?, data(2, bytes(4, 0)?)?],
            vec![child(0, f.data_type())?],
        ),
        DataType::LargeListView(f) => (
            vec![data(1, bytes(8, 0)?)?, data(2, bytes(8, 0)?)?],
            vec![child(0, f.data_type())?],
        ),
        DataType::List(f) | DataType::Map(f, _) => {
            (vec![data(1, bytes(4, 1)?)?], vec![child(0, f.data_type())?])
        }
        DataType::LargeList(f) => (vec![data(1, bytes(8, 1)?)?], vec![child(0, f.data_type())?]),
        DataType::FixedSizeList(f, _) => (vec![], vec![child(0, f.data_type())?]),
        DataType::Struct(fields) => {
            let children = fields
                .iter()
                .enumerate()
                .map(|(i, f)| child(i, f.data_type()));
            (vec![], children.collect::<Result<_, _>>()?)
        }
        DataType::Union(fields, mode) => {
            let children = fields
                .iter()
                .enumerate()
                .map(|(i, (_, f))| child(i, f.data_type()));
            let mut buffers = vec![data(0, bytes(1, 0)?)?];
            if *mode == UnionMode::Dense {
                buffers.push(data(1, bytes(4, 0)?)?);
            }
            (buffers, children.collect::<Result<_, _>>()?)
        }
        DataType::RunEndEncoded(ends, values) => (
            vec![],
            vec![child(0, ends.data_type())?, child(1, values.data_type())?],
        ),
        DataType::Dictionary(keys, values) => {
            let width = keys.primitive_width().unwrap_or(8);
            // SAFETY: `check_shape`: a dictionary type has its dictionary.
            let dictionary = unsafe { c.dictionary.as_ref() }
                .ok_or_else(|| ArrowError::CDataInterface("no dictionary".to_string()))?;
            // SAFETY: the caller's promise, for the dictionary.
            let values = unsafe { import_views(dictionary, values, owner, views) }?;
            (vec![data(1, bytes(width, 0)?)?], vec![values])
        }
        _ => {
            return Err(ArrowError::CDataInterface(format!(
                "a list view inside {t}"
            )))
        }
    };
    // The validity buffer comes first where the type has one (not unions, runs).
    let nulls = if arrow_data::layout(t).can_contain_null_mask {
        buffer(0, rows.div_ceil(8))?
    } else {
        None
    };
    let null_count = usize::try_from(c.null_count).ok();
    // SAFETY: the producer's buffers, of the lengths of `t`; checked (`check_data`)
    // before any value is read.
    Ok(unsafe {
        ArrayData::new_unchecked(
            t.clone(),
            len,
            null_count,
            nulls,
            offset,
            buffers,
            child_data,
        )
    })
}

/// `c`, an array inside `owner`, as an array of its own for arrow-rs's import: released,
/// it lets go of `owner` (whose release releases `c`).
fn borrowed(c: &CArray, owner: &Arc<FFI_ArrowArray>) -> FFI_ArrowArray {
    let mut copy = CArray {
        release: Some(release_borrowed),
        private_data: Box::into_raw(Box::new(Arc::clone(owner))).cast(),
        ..*c
    };
    // SAFETY: the same layout; `copy` is left empty.
    unsafe { FFI_ArrowArray::from_raw(std::ptr::from_mut(&mut copy).cast()) }
}

/// The release of an array made by `borrowed`.
unsafe extern "C" fn release_borrowed(array: *mut CArray) {
    // SAFETY: an array of `borrowed`, released once (its release is then unset).
    if let Some(array) = unsafe { array.as_mut() } {
        drop(unsafe { Box::from_raw(array.private_data.cast::<Arc<FFI_ArrowArray>>()) });
        array.release = None;
    }
}

/// The record batch whose columns are the fields of the struct `data`, imported:
/// its data is checked before arrow-rs builds arrays over it (which assert).
fn batch_of(schema: SchemaRef, mut data: ArrayData) -> Result<RecordBatch, ArrowInputError> {
    data.align_buffers();
    let data = push_down_offsets(data).map_err(|e| stream_error(&e.to_string()))?;
    for (column, field) in data.child_data().iter().zip(schema.fields()) {
        check_column(column, field.name())?;
    }
    // The rows are counted apart: a batch of no columns still has rows (empty objects;
    // without the count, arrow refused such a batch).
    let rows = data.len();
    let (_, columns, _) = StructArray::from(data).into_parts();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, columns, &options)
        .map_err(|e| stream_error(&e.to_string()))
}

/// The stream's own message for its last error.
fn last_error(stream: &mut FFI_ArrowArrayStream) -> String {
    let Some(get_last_error) = stream.get_last_error else {
        return "the producer reported an error".to_string();
    };
    // SAFETY: a live stream; the message lives until the next call on it.
    let text = unsafe { get_last_error(stream) };
    if text.is_null() {
        return "the producer reported an error".to_string();
    }
    // SAFETY: a NUL-terminated string from the producer.
    unsafe { std::ffi::CStr::from_ptr(text) }
        .to_string_lossy()
        .into_owned()
}

/// The value of one column, downcast once per batch.
enum Data<'a> {
    /// `DataType::Null`: every value is null.
    Null,
    Bool(&'a BooleanArray),
    /// The canonical extension `arrow.bool8`: an int8 column of booleans (0 false, any
    /// other value true), as `to_pylist()` reads it (its int8 read as numbers failed
    /// `"type": "boolean"`).
    Bool8(&'a Int8Array),
    I8(&'a Int8Array),
    I16(&'a Int16Array),
    I32(&'a Int32Array),
    I64(&'a Int64Array),
    U8(&'a UInt8Array),
    U16(&'a UInt16Array),
    U32(&'a UInt32Array),
    U64(&'a UInt64Array),
    F32(&'a Float32Array),
    F64(&'a Float64Array),
    Str(&'a StringArray),
    LargeStr(&'a LargeStringArray),
    StrView(&'a StringViewArray),
    List(&'a GenericListArray<i32>, Box<Col<'a>>),
    LargeList(&'a GenericListArray<i64>, Box<Col<'a>>),
    /// Row `i` reads items `offsets[i]..offsets[i] + sizes[i]` (checked by `check_data`).
    ListView(&'a GenericListViewArray<i32>, Box<Col<'a>>),
    LargeListView(&'a GenericListViewArray<i64>, Box<Col<'a>>),
    FixedList(&'a FixedSizeListArray, Box<Col<'a>>),
    Struct {
        names: Vec<&'a str>,
        fields: Vec<Col<'a>>,
        /// `null_as_absent`: a null field is a missing property.
        skip_nulls: bool,
    },
    /// Dictionary-encoded: row `i` reads `values[keys[i]]`.
    Dict(Ints<'a>, Box<Col<'a>>),
    /// Run-end encoded: row `i` reads the value of the first run whose end is
    /// past `offset + i`.
    Runs {
        ends: Ints<'a>,
        offset: usize,
        values: Box<Col<'a>>,
    },
    /// A type JSON has no value for, with the name `to_pylist()` gives its values.
    Other(&'static str),
}

/// A column (or a nested child) ready to be read row by row.
pub struct Col<'a> {
    nulls: Option<&'a NullBuffer>,
    data: Data<'a>,
    /// Values in the column (rows beyond it read as null).
    len: usize,
}

static NULL_COL: Col<'static> = Col {
    nulls: None,
    data: Data::Null,
    len: 0,
};

fn other_name(t: &DataType) -> &'static str {
    match t {
        DataType::Binary
        | DataType::LargeBinary
        | DataType::FixedSizeBinary(_)
        | DataType::BinaryView => "bytes",
        DataType::Date32 | DataType::Date64 => "date",
        DataType::Timestamp(..) => "datetime",
        DataType::Time32(_) | DataType::Time64(_) => "time",
        DataType::Duration(_) => "timedelta",
        DataType::Decimal128(..) | DataType::Decimal256(..) => "Decimal",
        DataType::Float16 => "float16",
        DataType::Map(..) => "map",
        DataType::Union(..) => "union",
        DataType::Interval(_) => "interval",
        _ => "value",
    }
}

/// Whether `field` holds the canonical extension type `name` (`arrow.bool8`, ...).
fn is_extension(field: &Field, name: &str) -> bool {
    field
        .metadata()
        .get("ARROW:extension:name")
        .is_some_and(|n| n == name)
}

impl<'a> Col<'a> {
    /// The column `array` of `field` (its extension type, if any, is read from it).
    fn new(array: &'a dyn Array, field: Option<&Field>, skip_nulls: bool) -> Col<'a> {
        let nulls = array.nulls();
        let other = || Data::Other(other_name(array.data_type()));
        let data = match array.data_type() {
            DataType::Null => Data::Null,
            // Its storage is 16 bytes; `to_pylist()` gives `UUID` objects, and so names it.
            DataType::FixedSizeBinary(16)
                if field.is_some_and(|f| is_extension(f, "arrow.uuid")) =>
            {
                Data::Other("UUID")
            }
            DataType::Boolean => array.as_boolean_opt().map_or_else(other, Data::Bool),
            DataType::Int8 if field.is_some_and(|f| is_extension(f, "arrow.bool8")) => array
                .as_primitive_opt::<Int8Type>()
                .map_or_else(other, Data::Bool8),
            DataType::Int8 => array
                .as_primitive_opt::<Int8Type>()
                .map_or_else(other, Data::I8),
            DataType::Int16 => array
                .as_primitive_opt::<Int16Type>()
                .map_or_else(other, Data::I16),
            DataType::Int32 => array
                .as_primitive_opt::<Int32Type>()
                .map_or_else(other, Data::I32),
            DataType::Int64 => array
                .as_primitive_opt::<Int64Type>()
                .map_or_else(other, Data::I64),
            DataType::UInt8 => array
                .as_primitive_opt::<UInt8Type>()
                .map_or_else(other, Data::U8),
            DataType::UInt16 => array
                .as_primitive_opt::<UInt16Type>()
                .map_or_else(other, Data::U16),
            DataType::UInt32 => array
                .as_primitive_opt::<UInt32Type>()
                .map_or_else(other, Data::U32),
            DataType::UInt64 => array
                .as_primitive_opt::<UInt64Type>()
                .map_or_else(other, Data::U64),
            DataType::Float32 => array
                .as_primitive_opt::<Float32Type>()
                .map_or_else(other, Data::F32),
            DataType::Float64 => array
                .as_primitive_opt::<Float64Type>()
                .map_or_else(other, Data::F64),
            DataType::Utf8 => array.as_string_opt::<i32>().map_or_else(other, Data::Str),
            DataType::LargeUtf8 => array
                .as_string_opt::<i64>()
                .map_or_else(other, Data::LargeStr),
            DataType::Utf8View => array.as_string_view_opt().map_or_else(other, Data::StrView),
            DataType::List(item) => array.as_list_opt::<i32>().map_or_else(other, |l| {
                Data::List(
                    l,
                    Box::new(Col::new(l.values().as_ref(), Some(item), skip_nulls)),
                )
            }),
            DataType::LargeList(item) => array.as_list_opt::<i64>().map_or_else(other, |l| {
                let items = Col::new(l.values().as_ref(), Some(item), skip_nulls);
                Data::LargeList(l, Box::new(items))
            }),
            DataType::ListView(item) => array.as_list_view_opt::<i32>().map_or_else(other, |l| {
                let items = Col::new(l.values().as_ref(), Some(item), skip_nulls);
                Data::ListView(l, Box::new(items))
            }),
            DataType::LargeListView(item) => {
                array.as_list_view_opt::<i64>().map_or_else(other, |l| {
                    let items = Col::new(l.values().as_ref(), Some(item), skip_nulls);
                    Data::LargeListView(l, Box::new(items))
                })
            }
            DataType::FixedSizeList(item, _) => {
                array.as_fixed_size_list_opt().map_or_else(other, |l| {
                    let items = Col::new(l.values().as_ref(), Some(item), skip_nulls);
                    Data::FixedList(l, Box::new(items))
                })
            }
            DataType::Struct(_) => array.as_struct_opt().map_or_else(other, |s| {
                let (names, fields) = last_of_each(
                    s.fields().iter().map(|f| f.name().as_str()).collect(),
                    s.columns()
                        .iter()
                        .zip(s.fields())
                        .map(|(c, f)| Col::new(c.as_ref(), Some(f), skip_nulls))
                        .collect(),
                );
                Data::Struct {
                    names,
                    fields,
                    skip_nulls,
                }
            }),
            // The keys were checked against the values (`check_data`) where not null.
            DataType::Dictionary(..) => array
                .as_any_dictionary_opt()
                .and_then(|d| {
                    let values = Box::new(Col::new(d.values().as_ref(), None, skip_nulls));
                    Some(Data::Dict(Ints::of(d.keys())?, values))
                })
                .unwrap_or_else(other),
            DataType::RunEndEncoded(ends, _) => match ends.data_type() {
                DataType::Int16 => array
                    .as_run_opt::<Int16Type>()
                    .map(|r| run_col(r, Ints::I16(r.run_ends().values()), skip_nulls)),
                DataType::Int32 => array
                    .as_run_opt::<Int32Type>()
                    .map(|r| run_col(r, Ints::I32(r.run_ends().values()), skip_nulls)),
                DataType::Int64 => array
                    .as_run_opt::<Int64Type>()
                    .map(|r| run_col(r, Ints::I64(r.run_ends().values()), skip_nulls)),
                _ => None,
            }
            .unwrap_or_else(other),
            _ => other(),
        };
        Col {
            nulls,
            data,
            len: array.len(),
        }
    }

    fn len(&self) -> usize {
        self.len
    }
}

/// A run-end encoded array: its run `ends` and values. Looked up per row (the
/// runs are few; rows past the last run read as null): a length the buffers do
/// not hold (a few runs may claim 2^40 rows) costs no memory.
fn run_col<'a, R: RunEndIndexType>(
    runs: &'a RunArray<R>,
    ends: Ints<'a>,
    skip_nulls: bool,
) -> Data<'a> {
    Data::Runs {
        ends,
        offset: runs.run_ends().offset(),
        values: Box::new(Col::new(runs.values().as_ref(), None, skip_nulls)),
    }
}

/// Dictionary keys or run ends: the integers of the batch's own array, read as
/// `usize` where a row needs one. (Copied into a `Vec` per chunk, they were
/// read whole for each chunk: a list's whole child, once per chunk cut from it.)
#[derive(Clone, Copy)]
enum Ints<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

impl<'a> Ints<'a> {
    /// The values of `array`, if it holds integers.
    fn of(array: &'a dyn Array) -> Option<Ints<'a>> {
        Some(match array.data_type() {
            DataType::Int8 => Ints::I8(array.as_primitive_opt::<Int8Type>()?.values()),
            DataType::Int16 => Ints::I16(array.as_primitive_opt::<Int16Type>()?.values()),
            DataType::Int32 => Ints::I32(array.as_primitive_opt::<Int32Type>()?.values()),
            DataType::Int64 => Ints::I64(array.as_primitive_opt::<Int64Type>()?.values()),
            DataType::UInt8 => Ints::U8(array.as_primitive_opt::<UInt8Type>()?.values()),
            DataType::UInt16 => Ints::U16(array.as_primitive_opt::<UInt16Type>()?.values()),
            DataType::UInt32 => Ints::U32(array.as_primitive_opt::<UInt32Type>()?.values()),
            DataType::UInt64 => Ints::U64(array.as_primitive_opt::<UInt64Type>()?.values()),
            _ => return None,
        })
    }

    /// Value `i`; `None` past the end, or where it is negative.
    #[inline]
    fn get(self, i: usize) -> Option<usize> {
        fn at<T: ArrowNativeType>(values: &[T], i: usize) -> Option<usize> {
            values.get(i)?.to_usize()
        }
        match self {
            Ints::I8(v) => at(v, i),
            Ints::I16(v) => at(v, i),
            Ints::I32(v) => at(v, i),
            Ints::I64(v) => at(v, i),
            Ints::U8(v) => at(v, i),
            Ints::U16(v) => at(v, i),
            Ints::U32(v) => at(v, i),
            Ints::U64(v) => at(v, i),
        }
    }

    /// The index of the first value past `at`, in values that ascend.
    #[inline]
    fn first_past(self, at: usize) -> usize {
        fn first<T: ArrowNativeType>(values: &[T], at: usize) -> usize {
            values.partition_point(|v| v.to_usize().is_none_or(|v| v <= at))
        }
        match self {
            Ints::I8(v) => first(v, at),
            Ints::I16(v) => first(v, at),
            Ints::I32(v) => first(v, at),
            Ints::I64(v) => first(v, at),
            Ints::U8(v) => first(v, at),
            Ints::U16(v) => first(v, at),
            Ints::U32(v) => first(v, at),
            Ints::U64(v) => first(v, at),
        }
    }

    #[cfg(test)]
    fn len(self) -> usize {
        match self {
            Ints::I8(v) => v.len(),
            Ints::I16(v) => v.len(),
            Ints::I32(v) => v.len(),
            Ints::I64(v) => v.len(),
            Ints::U8(v) => v.len(),
            Ints::U16(v) => v.len(),
            Ints::U32(v) => v.len(),
            Ints::U64(v) => v.len(),
        }
    }
}

/// The items of a list view row: `offset..offset + size`, checked on import where a row
/// reads them.
#[inline]
fn view<O: ArrowNativeType>(offset: O, size: O) -> Range<usize> {
    let start = offset.as_usize();
    start..start.saturating_add(size.as_usize())
}

/// One value of an Arrow column: a record (a row of the batch), or a value inside one.
#[derive(Clone, Copy)]
pub struct Cell<'a> {
    col: &'a Col<'a>,
    row: usize,
}

impl<'a> Cell<'a> {
    /// The value at `row` of `col`, looked up through dictionaries and runs.
    #[inline]
    fn at(mut col: &'a Col<'a>, mut row: usize) -> Cell<'a> {
        // A dictionary's values may be a dictionary again: follow each level, as many as a
        // stream's schema may have (at 128 levels, a value was read as null).
        for _ in 0..=MAX_TYPE_DEPTH {
            let (key, values) = match &col.data {
                Data::Dict(keys, values) => (keys.get(row), values),
                Data::Runs {
                    ends,
                    offset,
                    values,
                } => (Some(ends.first_past(offset.saturating_add(row))), values),
                _ => return Cell { col, row },
            };
            if col.nulls.is_some_and(|n| n.is_null(row)) {
                return Cell {
                    col: &NULL_COL,
                    row: 0,
                };
            }
            match key {
                Some(key) if key < values.len() => {
                    row = key;
                    col = values;
                }
                // A row past the last run.
                _ => {
                    return Cell {
                        col: &NULL_COL,
                        row: 0,
                    }
                }
            }
        }
        Cell {
            col: &NULL_COL,
            row: 0,
        }
    }

    #[inline]
    fn is_null(&self) -> bool {
        matches!(self.col.data, Data::Null) || self.col.nulls.is_some_and(|n| n.is_null(self.row))
    }

    /// The range of child rows of a list value.
    #[inline]
    fn items(&self) -> Option<(&'a Col<'a>, Range<usize>)> {
        if self.is_null() {
            return None;
        }
        let r = self.row;
        match &self.col.data {
            Data::List(l, items) => {
                let o = l.value_offsets();
                Some((items, o[r] as usize..o[r + 1] as usize))
            }
            Data::LargeList(l, items) => {
                let o = l.value_offsets();
                Some((items, o[r] as usize..o[r + 1] as usize))
            }
            Data::ListView(l, items) => {
                Some((items, view(l.value_offsets()[r], l.value_sizes()[r])))
            }
            Data::LargeListView(l, items) => {
                Some((items, view(l.value_offsets()[r], l.value_sizes()[r])))
            }
            Data::FixedList(l, items) => {
                let size = l.value_length() as usize;
                Some((items, r * size..(r + 1) * size))
            }
            _ => None,
        }
    }

    /// The fields of a struct value, and whether nulls are absent properties.
    #[inline]
    fn fields(&self) -> Option<(&'a [&'a str], &'a [Col<'a>], bool)> {
        if self.is_null() {
            return None;
        }
        match &self.col.data {
            Data::Struct {
                names,
                fields,
                skip_nulls,
            } => Some((names, fields, *skip_nulls)),
            _ => None,
        }
    }
}

impl<'a> Record for Cell<'a> {
    /// Its column and row.
    #[inline]
    fn identity(&self) -> Option<(usize, usize)> {
        Some((self.col as *const Col<'a> as usize, self.row))
    }
    #[inline]
    fn kind(&self) -> Kind {
        if self.is_null() {
            return Kind::Null;
        }
        match &self.col.data {
            Data::Null | Data::Dict(..) | Data::Runs { .. } => Kind::Null,
            Data::Bool(_) | Data::Bool8(_) => Kind::Bool,
            Data::I8(_)
            | Data::I16(_)
            | Data::I32(_)
            | Data::I64(_)
            | Data::U8(_)
            | Data::U16(_)
            | Data::U32(_)
            | Data::U64(_)
            | Data::F32(_)
            | Data::F64(_) => Kind::Number,
            Data::Str(_) | Data::LargeStr(_) | Data::StrView(_) => Kind::String,
            Data::List(..)
            | Data::LargeList(..)
            | Data::ListView(..)
            | Data::LargeListView(..)
            | Data::FixedList(..) => Kind::Array,
            Data::Struct { .. } => Kind::Object,
            Data::Other(_) => Kind::Unsupported,
        }
    }

    #[inline]
    fn as_bool(&self) -> bool {
        match &self.col.data {
            Data::Bool(b) => b.value(self.row),
            Data::Bool8(b) => b.value(self.row) != 0,
            _ => false,
        }
    }

    #[inline]
    fn as_number(&self) -> Number {
        let r = self.row;
        match &self.col.data {
            Data::I8(a) => Number::Int(i64::from(a.value(r))),
            Data::I16(a) => Number::Int(i64::from(a.value(r))),
            Data::I32(a) => Number::Int(i64::from(a.value(r))),
            Data::I64(a) => Number::Int(a.value(r)),
            Data::U8(a) => Number::Int(i64::from(a.value(r))),
            Data::U16(a) => Number::Int(i64::from(a.value(r))),
            Data::U32(a) => Number::Int(i64::from(a.value(r))),
            Data::U64(a) => {
                let v = a.value(r);
                i64::try_from(v)
                    .map_or_else(|_| Number::Big(Box::new(BigInt::from(v))), Number::Int)
            }
            Data::F32(a) => Number::Float(f64::from(a.value(r))),
            Data::F64(a) => Number::Float(a.value(r)),
            _ => Number::Float(f64::NAN),
        }
    }

    #[inline]
    fn as_str(&self) -> Option<&str> {
        // A null slot's bytes may be anything (see `check_strings`): never read as text.
        if self.col.nulls.is_some_and(|n| n.is_null(self.row)) {
            return None;
        }
        let r = self.row;
        match &self.col.data {
            Data::Str(a) => Some(a.value(r)),
            Data::LargeStr(a) => Some(a.value(r)),
            Data::StrView(a) => Some(a.value(r)),
            _ => None,
        }
    }

    #[inline]
    fn is_valid_unicode(&self) -> bool {
        // Checked when the batch was imported.
        true
    }

    #[inline]
    fn array_len(&self) -> usize {
        self.items().map_or(0, |(_, range)| range.len())
    }

    fn array_item(&self, i: usize) -> Option<Self> {
        let (items, range) = self.items()?;
        (i < range.len()).then(|| Cell::at(items, range.start + i))
    }

    fn for_each_item<F: FnMut(usize, &Self) -> ControlFlow<()>>(
        &self,
        mut f: F,
    ) -> ControlFlow<()> {
        if let Some((items, range)) = self.items() {
            for (i, row) in range.enumerate() {
                f(i, &Cell::at(items, row))?;
            }
        }
        ControlFlow::Continue(())
    }

    fn object_len(&self) -> usize {
        match self.fields() {
            Some((_, fields, false)) => fields.len(),
            Some((_, fields, true)) => fields
                .iter()
                .filter(|c| !Cell::at(c, self.row).is_null())
                .count(),
            None => 0,
        }
    }

    fn object_get(&self, key: &str) -> Option<Self> {
        let (names, fields, skip_nulls) = self.fields()?;
        let i = names.iter().rposition(|n| *n == key)?;
        let value = Cell::at(&fields[i], self.row);
        (!(skip_nulls && value.is_null())).then_some(value)
    }

    fn for_each_entry<F: FnMut(EntryKey<'_>, &Self) -> ControlFlow<()>>(
        &self,
        mut f: F,
    ) -> ControlFlow<()> {
        if let Some((names, fields, skip_nulls)) = self.fields() {
            for (name, col) in names.iter().zip(fields) {
                let value = Cell::at(col, self.row);
                if skip_nulls && value.is_null() {
                    continue;
                }
                f(EntryKey::Str(name), &value)?;
            }
        }
        ControlFlow::Continue(())
    }

    fn type_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(match self.kind() {
            Kind::Null => "null",
            Kind::Bool => "boolean",
            Kind::Number => match self.col.data {
                Data::F32(_) | Data::F64(_) => "number",
                _ => "integer",
            },
            Kind::String => "string",
            Kind::Array => "array",
            Kind::Object => "object",
            Kind::Unsupported => match self.col.data {
                Data::Other(name) => name,
                _ => "value",
            },
        })
    }
}

/// The fields of a struct (or a batch's columns) as an object: a name that repeats once, where
/// it first comes, with its last column, as JSON text that repeats a key is read (and as
/// `to_pylist()` makes its dicts). The other columns of that name are never read.
fn last_of_each<'a>(names: Vec<&'a str>, fields: Vec<Col<'a>>) -> (Vec<&'a str>, Vec<Col<'a>>) {
    // Linear whatever the width: each name's last column, by name.
    let mut last: std::collections::HashMap<&str, usize> =
        std::collections::HashMap::with_capacity(names.len());
    for (i, name) in names.iter().enumerate() {
        last.insert(name, i);
    }
    if last.len() == names.len() {
        return (names, fields);
    }
    let mut columns: Vec<Option<Col<'a>>> = fields.into_iter().map(Some).collect();
    let mut kept = (Vec::new(), Vec::new());
    for name in names {
        // The first of a name takes its last column; the others find it gone.
        if let Some(at) = last.remove(name) {
            if let Some(column) = columns[at].take() {
                kept.0.push(name);
                kept.1.push(column);
            }
        }
    }
    kept
}

/// The rows of one record batch as records.
pub struct ArrowRows<'a> {
    root: Col<'a>,
    len: usize,
}

impl<'a> ArrowRows<'a> {
    /// Checks `batch`'s buffers (offsets, UTF-8, dictionary keys: imported data
    /// is not trusted) and prepares its columns. `null_as_absent`: a null field
    /// is a missing property rather than JSON `null`.
    pub fn new(batch: &'a RecordBatch, null_as_absent: bool) -> Result<Self, ArrowInputError> {
        for (column, field) in batch.columns().iter().zip(batch.schema_ref().fields()) {
            check_column(&column.to_data(), field.name())?;
        }
        Ok(Self::checked(batch, null_as_absent))
    }

    /// Prepares the columns of `batch`, whose data was checked (`check_data`).
    fn checked(batch: &'a RecordBatch, null_as_absent: bool) -> Self {
        let fields = batch
            .columns()
            .iter()
            .zip(batch.schema_ref().fields())
            .map(|(c, f)| Col::new(c.as_ref(), Some(f), null_as_absent))
            .collect();
        let names = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let (names, fields) = last_of_each(names, fields);
        ArrowRows {
            root: Col {
                len: batch.num_rows(),
                nulls: None,
                data: Data::Struct {
                    names,
                    fields,
                    skip_nulls: null_as_absent,
                },
            },
            len: batch.num_rows(),
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Row `i` as a record.
    pub fn row(&self, i: usize) -> Cell<'_> {
        Cell {
            col: &self.root,
            row: i,
        }
    }

    /// Validates rows `rows` with the batch configuration `knobs`; errors are
    /// indexed from `first_index` (the input index of row `rows.start`).
    pub fn validate(
        &self,
        schema: &Schema,
        rows: Range<usize>,
        first_index: usize,
        knobs: Knobs,
        interrupt: Interrupt<'_>,
    ) -> Result<ChunkOutcome, EngineError> {
        let end = rows.end.min(self.len);
        let records: Vec<Cell<'_>> = (rows.start.min(end)..end).map(|i| self.row(i)).collect();
        validate_records(schema, &records, first_index, knobs, interrupt)
    }

    /// The profile of a sample of the rows; `n` is the number of records of
    /// the call when known.
    pub fn profile(&self, schema: &Schema, n: Option<usize>) -> Profile {
        let mut p = profile_records(schema, sample_indexes(self.len).map(|i| self.row(i)), n);
        p.kind = "arrow";
        p
    }
}

/// What stops an Arrow call: unusable input, or the engine.
#[derive(Debug)]
pub enum ArrowRunError {
    Input(ArrowInputError),
    Engine(EngineError),
}

/// Record batches, each checked once as it is read: from an imported stream
/// (`ArrowStream` checks what it imports), or built in Rust (arrow-rs's safe
/// constructors check). The chunks cut from them are not checked again: a slice
/// keeps a list's whole child, and checking it per chunk made a call quadratic.
pub type Batches = Box<dyn Iterator<Item = Result<RecordBatch, ArrowInputError>> + Send>;

impl Iterator for ArrowStream {
    type Item = Result<RecordBatch, ArrowInputError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_batch()
    }
}

/// Arrow input cut into chunks of `batch_size` rows, across record batch
/// boundaries (a chunk takes zero-copy slices of the batches it spans).
pub struct ArrowChunks {
    batches: Batches,
    /// Batches (or their unread tails) read from the stream and not yet validated.
    ahead: std::collections::VecDeque<RecordBatch>,
    null_as_absent: bool,
    next_index: usize,
}

impl ArrowChunks {
    pub fn new(batches: Batches, null_as_absent: bool) -> ArrowChunks {
        ArrowChunks {
            batches,
            ahead: std::collections::VecDeque::new(),
            null_as_absent,
            next_index: 0,
        }
    }

    /// Index of the next record to validate.
    pub fn next_index(&self) -> usize {
        self.next_index
    }

    /// The profile of the first non-empty record batch (read ahead, kept for validation).
    pub fn profile(
        &mut self,
        schema: &Schema,
        n: Option<usize>,
    ) -> Result<Profile, ArrowInputError> {
        let mut seen = 0;
        loop {
            if let Some(batch) = self.ahead.iter().skip(seen).find(|b| b.num_rows() > 0) {
                let rows = ArrowRows::checked(batch, self.null_as_absent);
                return Ok(rows.profile(schema, n));
            }
            seen = self.ahead.len();
            match self.batches.next() {
                Some(batch) => self.ahead.push_back(batch?),
                None => {
                    let mut p = profile_records::<Cell<'_>>(schema, [], n);
                    p.kind = "arrow";
                    return Ok(p);
                }
            }
        }
    }

    /// Validates the next at most `knobs.batch_size` rows; `None` at the end.
    pub fn next_chunk(
        &mut self,
        schema: &Schema,
        knobs: Knobs,
        interrupt: Interrupt<'_>,
    ) -> Result<Option<ChunkOutcome>, ArrowRunError> {
        let mut need = knobs.batch_size.max(1);
        let mut pieces = Vec::new();
        while need > 0 {
            let batch = match self.ahead.pop_front() {
                Some(b) => b,
                // The caller is asked before each read: a stream's producer may block or
                // run the caller's code (a Python generator behind pyarrow).
                None if interrupt() => return Err(ArrowRunError::Engine(EngineError::Interrupted)),
                None => match self.batches.next() {
                    Some(b) => b.map_err(ArrowRunError::Input)?,
                    None => break,
                },
            };
            let len = batch.num_rows();
            if len > need {
                self.ahead.push_front(batch.slice(need, len - need));
                pieces.push(batch.slice(0, need));
                need = 0;
            } else if len > 0 {
                need -= len;
                pieces.push(batch);
            }
        }
        if pieces.is_empty() {
            return Ok(None);
        }
        let rows: Vec<_> = pieces
            .iter()
            .map(|b| ArrowRows::checked(b, self.null_as_absent))
            .collect();
        let records: Vec<Cell<'_>> = rows
            .iter()
            .flat_map(|r| (0..r.len()).map(|i| r.row(i)))
            .collect();
        let first = self.next_index;
        let out = validate_records(schema, &records, first, knobs, interrupt)
            .map_err(ArrowRunError::Engine)?;
        self.next_index += records.len();
        Ok(Some(out))
    }
}

// The pool reads the columns from several threads.
const _: () = {
    const fn sync<T: Sync>() {}
    sync::<Cell<'static>>();
};

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::builder::{ListBuilder, StringBuilder};
    use arrow_array::{ArrayRef, DictionaryArray, ListArray, RecordBatchIterator, StructArray};
    use arrow_buffer::{Buffer, OffsetBuffer};
    use arrow_schema::Field;

    use super::*;
    use crate::check::collect;

    fn schema(text: &str) -> Schema {
        Schema::from_json_text(text).unwrap()
    }

    fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
        RecordBatch::try_from_iter(columns).unwrap()
    }

    fn errors(s: &Schema, rows: &ArrowRows<'_>) -> Vec<(usize, String, String)> {
        let mut errors = Vec::new();
        for i in 0..rows.len() {
            collect(s, &rows.row(i), i, &mut errors);
        }
        errors
            .into_iter()
            .map(|e| (e.index, e.path().to_string(), e.message().to_string()))
            .collect()
    }

    /// A struct of `len` rows at `offset` over `children` (their full length, as
    /// pyarrow exports a sliced table), with `nulls` for all of its rows.
    fn struct_data(
        name: &str,
        children: Vec<ArrayData>,
        nulls: Option<Vec<bool>>,
        offset: usize,
        len: usize,
    ) -> ArrayData {
        let fields: Vec<Field> = children
            .iter()
            .map(|c| Field::new(name, c.data_type().clone(), true))
            .collect();
        ArrayData::builder(DataType::Struct(fields.into()))
            .len(len)
            .offset(offset)
            .child_data(children)
            .null_bit_buffer(nulls.map(arrow_buffer::Buffer::from_iter))
            .build()
            .unwrap()
    }

    #[test]
    fn a_struct_in_a_struct_at_an_offset_reads_its_own_rows() {
        // The batch `{"s": {"s": {"b": ...}}}`, rows 1 and 2 of three, with the
        // offset left on the structs (pyarrow's `table.slice(1, 2)`): arrow-rs's
        // `StructArray::from` alone would read the inner struct at offset 1 + 1.
        let b = Int64Array::from(vec![Some(1), Some(2), Some(3)]).into_data();
        let inner = struct_data("b", vec![b], Some(vec![true, true, false]), 0, 3);
        let outer = struct_data("s", vec![inner], None, 0, 3);
        let top = struct_data("s", vec![outer], None, 1, 2);
        let DataType::Struct(fields) = top.data_type().clone() else {
            unreachable!()
        };
        let batch = batch_of(Arc::new(ArrowSchema::new(fields)), top).unwrap();
        let s = schema(
            r#"{"properties":{"s":{"properties":{"s":{"type":"object","properties":{"b":{"maximum":1}}}}}}}"#,
        );
        let rows = ArrowRows::new(&batch, false).unwrap();
        assert_eq!(
            errors(&s, &rows),
            vec![
                (0, "/s/s/b".into(), "Must be <= 1, got 2".into()),
                (1, "/s/s".into(), "Expected `object`, got `null`".into()),
            ]
        );
    }

    #[test]
    fn a_struct_child_shorter_than_its_parent_is_an_error() {
        let b = Int64Array::from(vec![1]).into_data();
        let inner = struct_data("b", vec![b], None, 0, 1);
        let outer = ArrayData::builder(DataType::Struct(
            vec![Field::new("s", inner.data_type().clone(), true)].into(),
        ))
        .len(2)
        .child_data(vec![inner]);
        // SAFETY: the test's own buffers; the child is short on purpose.
        let outer = unsafe { outer.build_unchecked() };
        assert_eq!(
            push_down_offsets(outer).unwrap_err().to_string(),
            "Invalid argument error: a struct of 2 rows at offset 0 has a child of 1 rows"
        );
    }

    #[test]
    fn rows_are_objects_and_nulls_are_null_or_absent() {
        let b = batch(vec![
            (
                "name",
                Arc::new(StringArray::from(vec![Some("a"), None, Some("")])) as ArrayRef,
            ),
            (
                "age",
                Arc::new(Int64Array::from(vec![Some(1), Some(-2), None])),
            ),
        ]);
        let s = schema(
            r#"{"type":"object","required":["name","age"],"properties":{
                "name":{"type":"string","minLength":1},"age":{"type":"integer","minimum":0}}}"#,
        );
        let rows = ArrowRows::new(&b, false).unwrap();
        assert_eq!(
            errors(&s, &rows),
            vec![
                (1, "/name".into(), "Expected `string`, got `null`".into()),
                (1, "/age".into(), "Must be >= 0, got -2".into()),
                (
                    2,
                    "/name".into(),
                    "String shorter than 1 character, got \"\"".into()
                ),
                (2, "/age".into(), "Expected `integer`, got `null`".into()),
            ]
        );
        let rows = ArrowRows::new(&b, true).unwrap();
        assert_eq!(
            errors(&s, &rows),
            vec![
                (1, "".into(), "Missing required property `name`".into()),
                (1, "/age".into(), "Must be >= 0, got -2".into()),
                (
                    2,
                    "/name".into(),
                    "String shorter than 1 character, got \"\"".into()
                ),
                (2, "".into(), "Missing required property `age`".into()),
            ]
        );
    }

    #[test]
    fn lists_structs_and_dictionaries() {
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.values().append_value("x");
        tags.values().append_value("y");
        tags.append(true);
        tags.append(false);
        let tags: ArrayRef = Arc::new(tags.finish());
        let inner = StructArray::from(vec![(
            Arc::new(Field::new("n", DataType::Int64, true)),
            Arc::new(Int64Array::from(vec![Some(5), None])) as ArrayRef,
        )]);
        let dict: DictionaryArray<Int32Type> = vec![Some("b"), None].into_iter().collect();
        let b = batch(vec![
            ("tags", tags),
            ("inner", Arc::new(inner)),
            ("d", Arc::new(dict)),
        ]);
        let rows = ArrowRows::new(&b, false).unwrap();
        let s = schema(
            r#"{"properties":{"tags":{"type":"array","maxItems":1},
                "inner":{"type":"object","properties":{"n":{"type":"integer"}}},
                "d":{"enum":["a"]}}}"#,
        );
        let got = errors(&s, &rows);
        assert_eq!(
            got,
            vec![
                (
                    0,
                    "/tags".into(),
                    "Array has more than 1 item, got 2".into()
                ),
                (0, "/d".into(), "Expected one of \"a\", got \"b\"".into()),
                (1, "/tags".into(), "Expected `array`, got `null`".into()),
                (
                    1,
                    "/inner/n".into(),
                    "Expected `integer`, got `null`".into()
                ),
                (1, "/d".into(), "Expected one of \"a\", got null".into()),
            ]
        );
    }

    #[test]
    fn a_run_end_encoded_column_is_read_run_by_run_whatever_its_length() {
        // Two runs over 2^40 rows: rows are looked up in the runs, never spelled out.
        let rows_n: i64 = 1 << 40;
        let ends = Int64Array::from(vec![3, rows_n]);
        let values = Int64Array::from(vec![Some(1), Some(-1)]);
        let runs = RunArray::<Int64Type>::try_new(&ends, &values).unwrap();
        let b = batch(vec![("a", Arc::new(runs) as ArrayRef)]);
        let rows = ArrowRows::new(&b, false).unwrap();
        let Data::Struct { fields, .. } = &rows.root.data else {
            panic!("a batch reads as a struct");
        };
        assert!(matches!(&fields[0].data, Data::Runs { ends, .. } if ends.len() == 2));
        let s = schema(r#"{"properties":{"a":{"minimum":0}}}"#);
        let last = usize::try_from(rows_n).unwrap() - 1;
        let got: Vec<usize> = [0, 2, 3, last]
            .into_iter()
            .filter(|&i| {
                let mut errors = Vec::new();
                collect(&s, &rows.row(i), i, &mut errors);
                !errors.is_empty()
            })
            .collect();
        assert_eq!(got, vec![3, last]);
    }

    /// What `ArrowRows::new` refuses `b` for, `""` where it reads it.
    fn refusal(b: &RecordBatch) -> String {
        ArrowRows::new(b, false)
            .err()
            .map(|e| e.0)
            .unwrap_or_default()
    }

    /// A stream of `batches` with the schema `schema`, taken over as `ArrowStream` does.
    fn stream_of(
        schema: ArrowSchema,
        batches: Vec<RecordBatch>,
    ) -> Result<ArrowStream, ArrowInputError> {
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), Arc::new(schema));
        let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
        // SAFETY: a live stream, left released by the import.
        unsafe { ArrowStream::from_raw(std::ptr::from_mut(&mut stream).cast()) }
    }

    #[test]
    fn a_schema_nested_deeper_than_the_bound_is_refused_before_it_is_imported() {
        // 5000 levels ran the import off the stack (a crash). A big stack for the test
        // itself: arrow-rs builds and drops the types by recursion.
        let refusals = std::thread::Builder::new()
            .stack_size(256 << 20)
            .spawn(|| {
                [MAX_TYPE_DEPTH - 1, MAX_TYPE_DEPTH, 5000].map(|levels| {
                    // The column `c`, `levels` structs around an integer (at level `levels + 1`).
                    let mut t = DataType::Int64;
                    for _ in 0..levels {
                        t = DataType::Struct(vec![Field::new("k", t, true)].into());
                    }
                    let schema = ArrowSchema::new(vec![Field::new("c", t, true)]);
                    stream_of(schema, vec![]).err().map(|e| e.0)
                })
            })
            .unwrap()
            .join()
            .unwrap();
        let refused = "column `c` is nested more than 512 levels deep, which is not read: \
                       flatten it, or leave it out of the data to validate";
        assert_eq!(
            refusals,
            [None, Some(refused.to_string()), Some(refused.to_string())]
        );
    }

    /// `get_schema` of a stream whose column is named in Latin-1 (`caf\xe9`).
    unsafe extern "C" fn schema_named_in_latin1(
        _: *mut FFI_ArrowArrayStream,
        out: *mut FFI_ArrowSchema,
    ) -> std::ffi::c_int {
        let schema = ArrowSchema::new(vec![Field::new("a", DataType::Int64, true)]);
        let ffi = FFI_ArrowSchema::try_from(&schema).unwrap();
        // SAFETY: the schema's one child, whose name is a `CString` arrow-rs frees as one.
        unsafe {
            let root = &*std::ptr::from_ref(&ffi).cast::<CSchema>();
            let child = (*root.children).cast_mut();
            drop(std::ffi::CString::from_raw((*child).name.cast_mut()));
            (*child).name = std::ffi::CString::new(b"caf\xe9".to_vec())
                .unwrap()
                .into_raw();
            std::ptr::write(out, ffi);
        }
        0
    }

    #[test]
    fn a_name_that_is_not_utf8_is_an_input_error_not_a_panic() {
        let schema = Arc::new(ArrowSchema::new(vec![Field::new(
            "a",
            DataType::Int64,
            true,
        )]));
        let reader = RecordBatchIterator::new(vec![], schema);
        let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
        stream.get_schema = Some(schema_named_in_latin1);
        // SAFETY: a live stream, left released by the import.
        let got = unsafe { ArrowStream::from_raw(std::ptr::from_mut(&mut stream).cast()) };
        assert_eq!(
            got.err().map(|e| e.0).as_deref(),
            Some("invalid Arrow stream: column `caf\u{FFFD}` has a name that is not UTF-8")
        );
    }

    #[test]
    fn batches_that_contradict_the_schema_are_named() {
        let int = |name: &str| Field::new(name, DataType::Int64, true);
        let schema = ArrowSchema::new(vec![int("a"), int("b")]);
        let column = |values: Vec<i64>| Arc::new(Int64Array::from(values)) as ArrayRef;
        let inner = StructArray::from(vec![(Arc::new(int("x")), column(vec![1]))]);
        let batches = vec![
            batch(vec![("a", column(vec![1])), ("b", column(vec![2]))]),
            batch(vec![("a", column(vec![1]))]),
            batch(vec![("a", Arc::new(inner)), ("b", column(vec![2]))]),
        ];
        let mut stream = stream_of(schema, batches).unwrap();
        let mut next = || stream.next_batch().unwrap().err().map(|e| e.0);
        assert_eq!(next(), None);
        assert_eq!(
            next().as_deref(),
            Some(
                "record batch 1 does not match the stream's schema: it has 1 columns, \
                 where the schema has 2"
            )
        );
        assert_eq!(
            next().as_deref(),
            Some(
                "record batch 2 does not match the stream's schema: column `a` has 1 \
                 buffers, where its type Int64 has 2"
            )
        );
    }

    #[test]
    fn a_slice_checks_the_strings_its_rows_hold_and_only_those() {
        // Each chunk cut from a batch checked the batch's whole strings again (a
        // slice keeps them): quadratic in the rows. Row 1 is not UTF-8 here.
        // SAFETY: invalid on purpose; the check must refuse row 1 where it is read.
        let strings = unsafe {
            StringArray::new_unchecked(
                OffsetBuffer::new(vec![0, 1, 3].into()),
                Buffer::from(b"a\xff\xfe".as_slice()),
                None,
            )
        };
        let item = Arc::new(Field::new("item", DataType::Utf8, true));
        let offsets = OffsetBuffer::new(vec![0, 1, 2].into());
        let lists = ListArray::new(item, offsets, Arc::new(strings.clone()), None);
        for (name, column) in [
            ("s", Arc::new(strings) as ArrayRef),
            ("l", Arc::new(lists) as ArrayRef),
        ] {
            let b = batch(vec![(name, column)]);
            assert_eq!(refusal(&b.slice(0, 1)), "");
            let expected = format!(
                "invalid Arrow data in column `{name}`: Invalid argument error: the string \
                 at index 0 is not UTF-8"
            );
            assert_eq!(refusal(&b.slice(1, 1)), expected);
        }
        // SAFETY: an offset inside `é` on purpose.
        let split = unsafe {
            StringArray::new_unchecked(
                OffsetBuffer::new(vec![0, 1, 2].into()),
                Buffer::from("é".as_bytes()),
                None,
            )
        };
        assert_eq!(
            refusal(&batch(vec![("s", Arc::new(split) as ArrayRef)])),
            "invalid Arrow data in column `s`: Invalid argument error: the string at index 0 \
             ends inside a character"
        );
    }

    #[test]
    fn a_dictionary_key_past_the_values_is_invalid_data() {
        // Key 5 of two values read as the last value, silently (the keys were clamped).
        let values: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
        let keys = Int32Array::from(vec![Some(0), Some(5), Some(1)]);
        // SAFETY: a key out of range on purpose; the check must refuse it.
        let past = unsafe { DictionaryArray::<Int32Type>::new_unchecked(keys, values.clone()) };
        let expected = "invalid Arrow data in column `d`: Invalid argument error: Value at \
                        position 1 out of bounds: 5 (should be in [0, 1])";
        let b = batch(vec![("d", Arc::new(past.clone()) as ArrayRef)]);
        assert_eq!(refusal(&b), expected);
        // Under a null parent a key is not read, and may be anything (pyarrow leaves a
        // key 0 there over no values): the row reads null.
        let under_null = StructArray::try_new(
            vec![Field::new("d", past.data_type().clone(), true)].into(),
            vec![Arc::new(past) as ArrayRef],
            Some(NullBuffer::from(vec![true, false, true])),
        )
        .unwrap();
        let b = batch(vec![("s", Arc::new(under_null) as ArrayRef)]);
        let rows = ArrowRows::new(&b, false).unwrap();
        let s = schema(r#"{"properties":{"s":{"type":"object"}}}"#);
        assert_eq!(
            errors(&s, &rows),
            vec![(1, "/s".into(), "Expected `object`, got `null`".into())]
        );
        // Nor under a null list or fixed-size list.
        let keys = Int32Array::from(vec![0, 5]);
        let one: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        // SAFETY: key 5 out of range on purpose, in the null row.
        let dict = unsafe { DictionaryArray::<Int32Type>::new_unchecked(keys, one) };
        let item = Arc::new(Field::new("item", dict.data_type().clone(), true));
        let second_null = Some(NullBuffer::from(vec![true, false]));
        let offsets = OffsetBuffer::new(vec![0, 1, 2].into());
        let lists: [ArrayRef; 2] = [
            Arc::new(ListArray::new(
                item.clone(),
                offsets,
                Arc::new(dict.clone()),
                second_null.clone(),
            )),
            Arc::new(FixedSizeListArray::new(
                item,
                1,
                Arc::new(dict),
                second_null,
            )),
        ];
        for list in lists {
            assert_eq!(refusal(&batch(vec![("l", list)])), "");
        }
        // The slot of a null key may hold anything.
        let keys = Int32Array::new(vec![1, 7].into(), Some(NullBuffer::from(vec![true, false])));
        // SAFETY: the key out of range is null.
        let null_key = unsafe { DictionaryArray::<Int32Type>::new_unchecked(keys, values) };
        let b = batch(vec![("d", Arc::new(null_key) as ArrayRef)]);
        let rows = ArrowRows::new(&b, false).unwrap();
        let s = schema(r#"{"properties":{"d":{"type":"string"}}}"#);
        assert_eq!(
            errors(&s, &rows),
            vec![(1, "/d".into(), "Expected `string`, got `null`".into())]
        );
    }

    #[test]
    fn a_fixed_size_list_of_structs_at_an_offset_reads_its_own_rows() {
        // `table.slice(1)` of `[[{x: 1}, {x: 2}], [{x: 3}, {x: 4}]]`: arrow-rs sliced the
        // struct items by the list's offset, and read that offset once more (an assertion).
        let x = Int64Array::from(vec![1, 2, 3, 4]).into_data();
        let items = struct_data("x", vec![x], None, 0, 4);
        let item = Field::new("item", items.data_type().clone(), true);
        let lists = ArrayData::builder(DataType::FixedSizeList(Arc::new(item), 2))
            .len(2)
            .child_data(vec![items])
            .build()
            .unwrap();
        let top = struct_data("c", vec![lists], None, 1, 1);
        let DataType::Struct(fields) = top.data_type().clone() else {
            unreachable!()
        };
        let batch = batch_of(Arc::new(ArrowSchema::new(fields)), top).unwrap();
        let s = schema(r#"{"properties":{"c":{"items":{"properties":{"x":{"maximum":3}}}}}}"#);
        let rows = ArrowRows::new(&batch, false).unwrap();
        assert_eq!(
            errors(&s, &rows),
            vec![(0, "/c/1/x".into(), "Must be <= 3, got 4".into())]
        );
    }

    /// The root of a schema whose levels share one child (see `dag_of`), for `get_schema`.
    static DAG_ROOT: std::sync::atomic::AtomicPtr<CSchema> =
        std::sync::atomic::AtomicPtr::new(std::ptr::null_mut());

    unsafe extern "C" fn release_nothing(schema: *mut CSchema) {
        // SAFETY: the test's own schema, left to leak.
        unsafe { (*schema)._release = None };
    }

    /// A struct schema of `levels` levels above an int64, each level's two fields one
    /// and the same child (2^levels fields read as a tree); its nodes leaked.
    fn dag_of(levels: usize) -> CSchema {
        let node = |format: &'static CStr, n: i64, children: *const *const CSchema| CSchema {
            format: format.as_ptr(),
            name: c"f".as_ptr(),
            _metadata: std::ptr::null(),
            _flags: 2,
            n_children: n,
            children,
            dictionary: std::ptr::null(),
            _release: Some(release_nothing),
            _private_data: std::ptr::null_mut(),
        };
        let mut below: *const CSchema = Box::leak(Box::new(node(c"l", 0, std::ptr::null())));
        for _ in 0..levels {
            let pair: &[*const CSchema; 2] = Box::leak(Box::new([below, below]));
            below = Box::leak(Box::new(node(c"+s", 2, pair.as_ptr())));
        }
        // SAFETY: a node built above.
        unsafe { std::ptr::read(below) }
    }

    unsafe extern "C" fn get_dag_schema(
        _: *mut FFI_ArrowArrayStream,
        out: *mut FFI_ArrowSchema,
    ) -> std::ffi::c_int {
        // SAFETY: the test's root, copied into the consumer's struct (the same layout).
        unsafe {
            std::ptr::write(
                out.cast::<CSchema>(),
                std::ptr::read(DAG_ROOT.load(std::sync::atomic::Ordering::SeqCst)),
            )
        };
        0
    }

    #[test]
    fn a_schema_whose_fields_share_a_child_is_refused_at_once() {
        // 40 levels of two fields that are one child: 2^40 fields read as a tree, which the
        // walk here and arrow-rs's import visited one by one (for days).
        DAG_ROOT.store(
            Box::leak(Box::new(dag_of(40))),
            std::sync::atomic::Ordering::SeqCst,
        );
        let schema = Arc::new(ArrowSchema::empty());
        let reader = RecordBatchIterator::new(vec![], schema);
        let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
        stream.get_schema = Some(get_dag_schema);
        // SAFETY: a live stream, left released by the import.
        let got = unsafe { ArrowStream::from_raw(std::ptr::from_mut(&mut stream).cast()) };
        // The first field met twice: the leaf, second child of the deepest struct.
        let path = ["f"; 40].join(".");
        assert_eq!(
            got.err().map(|e| e.0),
            Some(format!(
                "invalid Arrow stream: column `{}` is the schema of another field too (a \
                 shared child)",
                crate::check::shorten(&path)
            ))
        );
    }

    #[test]
    fn list_views_read_their_views_and_views_past_their_items_are_invalid() {
        use arrow_array::LargeListViewArray;
        use arrow_buffer::ScalarBuffer;
        let item = Arc::new(Field::new("item", DataType::Int64, true));
        let values: ArrayRef = Arc::new(Int64Array::from(vec![1, 2, 3]));
        // Overlapping, out of order, empty and null views.
        let views = LargeListViewArray::new(
            item.clone(),
            ScalarBuffer::from(vec![1i64, 0, 2, 3]),
            ScalarBuffer::from(vec![2i64, 3, 0, 0]),
            values.clone(),
            Some(NullBuffer::from(vec![true, true, true, false])),
        );
        let b = batch(vec![("v", Arc::new(views) as ArrayRef)]);
        let s =
            schema(r#"{"properties":{"v":{"type":"array","maxItems":2,"items":{"minimum":2}}}}"#);
        let rows = ArrowRows::new(&b, false).unwrap();
        assert_eq!(
            errors(&s, &rows),
            vec![
                (1, "/v".into(), "Array has more than 2 items, got 3".into()),
                (1, "/v/0".into(), "Must be >= 2, got 1".into()),
                (3, "/v".into(), "Expected `array`, got `null`".into()),
            ]
        );
        for (offset, size, why) in [
            (2, 2, "offset 2, size 2"),
            (-1, 1, "offset -1, size 1"),
            (0, -1, "offset 0, size -1"),
            (i32::MAX, i32::MAX, "offset 2147483647, size 2147483647"),
        ] {
            let field = Arc::new(Field::new("item", DataType::Int64, true));
            let data = ArrayData::builder(DataType::ListView(field))
                .len(2)
                .add_buffer(Buffer::from_slice_ref([0i32, offset]))
                .add_buffer(Buffer::from_slice_ref([1i32, size]))
                .child_data(vec![values.to_data()]);
            // SAFETY: a view past the items on purpose; the check must refuse it.
            let views = arrow_array::make_array(unsafe { data.build_unchecked() });
            assert_eq!(
                refusal(&batch(vec![("v", views)])),
                format!(
                    "invalid Arrow data in column `v`: Invalid argument error: the list view at \
                     row 1 ({why}) is not within its 3 items"
                )
            );
        }
    }

    #[test]
    fn items_no_readable_view_covers_are_not_read() {
        // Item 1 holds a dictionary key past the values: refused where a row's view reads it,
        // not in a gap between views (in order or not) nor under a null row.
        use arrow_array::ListViewArray;
        use arrow_buffer::ScalarBuffer;
        let keys = Int32Array::from(vec![0, 5, 0]);
        let one: ArrayRef = Arc::new(StringArray::from(vec!["a"]));
        // SAFETY: key 5 out of range on purpose.
        let dict = unsafe { DictionaryArray::<Int32Type>::new_unchecked(keys, one) };
        let item = Arc::new(Field::new("item", dict.data_type().clone(), true));
        let refused = "invalid Arrow data in column `v`: Invalid argument error: Value at \
                       position 1 out of bounds: 5 (should be in [0, 0])";
        for (offsets, sizes, nulls, expected) in [
            (vec![0, 2], vec![1, 1], None, ""),
            (vec![2, 0], vec![1, 1], None, ""),
            (vec![0, 1], vec![1, 2], Some(vec![true, false]), ""),
            (vec![0, 1], vec![1, 1], None, refused),
            (vec![2, 0], vec![1, 2], None, refused),
        ] {
            let views = ListViewArray::new(
                item.clone(),
                ScalarBuffer::from(offsets),
                ScalarBuffer::from(sizes),
                Arc::new(dict.clone()),
                nulls.map(NullBuffer::from),
            );
            assert_eq!(
                refusal(&batch(vec![("v", Arc::new(views) as ArrayRef)])),
                expected
            );
        }
    }
}
