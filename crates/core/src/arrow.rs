//! Records read straight from Arrow columns (cargo feature `arrow`).
//!
//! Each row of a [`RecordBatch`] is a record: the batch's columns are its
//! properties, struct columns are objects, list columns arrays, strings,
//! numbers and booleans the JSON values they hold, and a null is JSON `null`
//! (or, with `null_as_absent`, a property that is not there: what a null
//! usually means in Parquet data). Dictionary-encoded columns read as their
//! values. A type JSON has no value for (binary, dates, timestamps, decimals)
//! is a value no schema type accepts, named as Python's `to_pylist()` would
//! name it (`bytes`, `datetime`, ...).
//!
//! The rows implement [`Record`], so the checks are the same code the dict and
//! JSON paths run; no Python object is built per row. Data imported from
//! another library is validated (offsets, UTF-8, dictionary keys) before any
//! row is read.

use std::borrow::Cow;
use std::ffi::c_void;
use std::ops::{ControlFlow, Range};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::ffi::{from_ffi_and_data_type, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::{
    Float32Type, Float64Type, Int16Type, Int32Type, Int64Type, Int8Type, RunEndIndexType,
    UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{
    Array, BooleanArray, FixedSizeListArray, Float32Array, Float64Array, GenericListArray,
    Int16Array, Int32Array, Int64Array, Int8Array, LargeStringArray, RecordBatchOptions, RunArray,
    StringArray, StringViewArray, StructArray, UInt16Array, UInt32Array, UInt64Array, UInt8Array,
};
use arrow_buffer::{ArrowNativeType, NullBuffer};
use arrow_data::ArrayData;
use arrow_schema::{ArrowError, DataType, Schema as ArrowSchema, SchemaRef};
use num_bigint::BigInt;

pub use arrow_array::RecordBatch;

use crate::detect::{profile_records, Profile};
use crate::engine::{validate_records, ChunkOutcome, EngineError, Interrupt, Knobs};
use crate::profile::sample_indexes;
use crate::schema::Schema;
use crate::value::{EntryKey, Kind, Number, Record, MAX_DEPTH};

/// Why Arrow input cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArrowInputError(pub String);

impl std::fmt::Display for ArrowInputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
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

/// Checks what reading the data relies on: buffer sizes, offsets within
/// bounds, UTF-8. Dictionary keys are not checked against their values (a key
/// under a null parent may point anywhere); reading clamps them instead.
fn check_data(d: &arrow_data::ArrayData) -> Result<(), arrow_schema::ArrowError> {
    d.validate()?;
    if !matches!(d.data_type(), DataType::Dictionary(..)) {
        d.validate_values()?;
    }
    for child in d.child_data() {
        check_data(child)?;
    }
    Ok(())
}

/// `data` with every struct's offset pushed down into its children, at any depth.
///
/// arrow-rs reads a struct's offset twice when the struct sits at an offset in
/// another struct: `ArrayData::slice` of a struct slices its children and keeps
/// the offset, and `StructArray::from` then slices the already sliced children
/// by that offset again, which runs past their end (an assertion) or, with room
/// to spare, reads the wrong rows. Imported data has such offsets whenever the
/// producer sliced a table (`table.slice`, one-row chunks). Here no struct keeps
/// an offset: each child is cut to the struct's rows instead, so the arrays
/// built from the result read each value once, at its place.
fn unslice_structs(data: ArrayData) -> Result<ArrayData, ArrowError> {
    let is_struct = matches!(data.data_type(), DataType::Struct(_));
    let (offset, len) = (data.offset(), data.len());
    let children = data
        .child_data()
        .iter()
        .map(|child| {
            if is_struct {
                unslice_structs(rows_of(child, offset, len)?)
            } else {
                unslice_structs(child.clone())
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let builder = data.into_builder().child_data(children);
    let builder = if is_struct {
        builder.offset(0)
    } else {
        builder
    };
    // SAFETY: the same buffers, and children cut within their length; the data is
    // still validated (`check_data`) before any value is read.
    Ok(unsafe { builder.build_unchecked() })
}

/// The rows `offset..offset + len` of `child` (the struct's own offset stays
/// on it, for `unslice_structs` to push down further).
fn rows_of(child: &ArrayData, offset: usize, len: usize) -> Result<ArrayData, ArrowError> {
    if offset.checked_add(len).is_none_or(|end| end > child.len()) {
        return Err(ArrowError::InvalidArgumentError(format!(
            "a struct of {len} rows at offset {offset} has a child of {} rows",
            child.len()
        )));
    }
    if offset == 0 && len == child.len() {
        return Ok(child.clone());
    }
    if !matches!(child.data_type(), DataType::Struct(_)) {
        return Ok(child.slice(offset, len));
    }
    let builder = child
        .clone()
        .into_builder()
        .offset(child.offset().checked_add(offset).ok_or_else(|| {
            ArrowError::InvalidArgumentError("a struct's offset is too large".to_string())
        })?)
        .len(len)
        .nulls(child.nulls().map(|n| n.slice(offset, len)));
    // SAFETY: a window within the child's rows (checked above) over the same buffers.
    Ok(unsafe { builder.build_unchecked() })
}

/// An imported Arrow C stream (`ArrowArrayStream`), read one record batch at a time.
pub struct ArrowStream {
    stream: FFI_ArrowArrayStream,
    schema: SchemaRef,
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
        if let Some((column, format)) = unread_column(&ffi_schema, "") {
            return Err(ArrowInputError(format!(
                "column `{column}` is a {format}, which is not read (arrow-rs cannot import \
                 it): give it as a list, for example `pa.array(values.to_pylist(), \
                 pa.list_(...))`"
            )));
        }
        let schema = catch_unwind(AssertUnwindSafe(|| ArrowSchema::try_from(&ffi_schema)))
            .map_err(|p| stream_error(&panic_text(&*p)))?
            .map_err(|e| stream_error(&e.to_string()))?;
        Ok(ArrowStream {
            stream,
            schema: Arc::new(schema),
        })
    }

    /// The next record batch, `None` at the end of the stream. Buffers that
    /// are not aligned for their type (pandas data, for one) are copied.
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
        let fields = self.schema.fields().clone();
        let schema = Arc::clone(&self.schema);
        let batch = catch_unwind(AssertUnwindSafe(move || {
            // SAFETY: the array was filled by the stream, of the stream's schema.
            let data = unsafe { from_ffi_and_data_type(array, DataType::Struct(fields)) }?;
            batch_of(schema, data)
        }));
        Some(match batch {
            Ok(Ok(batch)) => Ok(batch),
            Ok(Err(e)) => Err(stream_error(&e.to_string())),
            Err(p) => Err(stream_error(&panic_text(&*p))),
        })
    }
}

/// The first column (by its path, `a.b` inside a struct) of a type arrow-rs cannot
/// import, with the type's name: list views, whose message said only that the
/// datatype `+vl` is not supported.
fn unread_column(schema: &FFI_ArrowSchema, path: &str) -> Option<(String, &'static str)> {
    for child in schema.children() {
        let name = child.name().unwrap_or("");
        let at = if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        };
        match child.format() {
            "+vl" => return Some((at, "list_view")),
            "+vL" => return Some((at, "large_list_view")),
            _ => {}
        }
        if let Some(found) = unread_column(child, &at) {
            return Some(found);
        }
    }
    None
}

/// The record batch whose columns are the fields of the struct `data`.
fn batch_of(schema: SchemaRef, mut data: ArrayData) -> Result<RecordBatch, ArrowError> {
    data.align_buffers();
    let data = unslice_structs(data)?;
    // The rows are counted apart: a batch of no columns still has rows (empty objects;
    // without the count, arrow refused such a batch).
    let rows = data.len();
    let (_, columns, _) = StructArray::from(data).into_parts();
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema, columns, &options)
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
    FixedList(&'a FixedSizeListArray, Box<Col<'a>>),
    Struct {
        names: Vec<&'a str>,
        fields: Vec<Col<'a>>,
        /// `null_as_absent`: a null field is a missing property.
        skip_nulls: bool,
    },
    /// Dictionary-encoded: row `i` reads `values[keys[i]]`.
    Dict(Vec<usize>, Box<Col<'a>>),
    /// Run-end encoded: row `i` reads the value of the first run whose end is
    /// past `offset + i`.
    Runs {
        ends: Vec<usize>,
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

impl<'a> Col<'a> {
    fn new(array: &'a dyn Array, skip_nulls: bool) -> Col<'a> {
        let nulls = array.nulls();
        let other = || Data::Other(other_name(array.data_type()));
        let data = match array.data_type() {
            DataType::Null => Data::Null,
            DataType::Boolean => array.as_boolean_opt().map_or_else(other, Data::Bool),
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
            DataType::List(_) => array.as_list_opt::<i32>().map_or_else(other, |l| {
                Data::List(l, Box::new(Col::new(l.values().as_ref(), skip_nulls)))
            }),
            DataType::LargeList(_) => array.as_list_opt::<i64>().map_or_else(other, |l| {
                Data::LargeList(l, Box::new(Col::new(l.values().as_ref(), skip_nulls)))
            }),
            DataType::FixedSizeList(..) => array.as_fixed_size_list_opt().map_or_else(other, |l| {
                Data::FixedList(l, Box::new(Col::new(l.values().as_ref(), skip_nulls)))
            }),
            DataType::Struct(_) => array.as_struct_opt().map_or_else(other, |s| Data::Struct {
                names: s.fields().iter().map(|f| f.name().as_str()).collect(),
                fields: s
                    .columns()
                    .iter()
                    .map(|c| Col::new(c.as_ref(), skip_nulls))
                    .collect(),
                skip_nulls,
            }),
            DataType::Dictionary(..) => array.as_any_dictionary_opt().map_or_else(other, |d| {
                let values = d.values();
                // Keys were validated against the values; with no values every key is null.
                let keys = if values.is_empty() {
                    vec![0; d.len()]
                } else {
                    d.normalized_keys()
                };
                Data::Dict(keys, Box::new(Col::new(values.as_ref(), skip_nulls)))
            }),
            DataType::RunEndEncoded(ends, _) => match ends.data_type() {
                DataType::Int16 => array
                    .as_run_opt::<Int16Type>()
                    .map(|r| run_col(r, skip_nulls)),
                DataType::Int32 => array
                    .as_run_opt::<Int32Type>()
                    .map(|r| run_col(r, skip_nulls)),
                DataType::Int64 => array
                    .as_run_opt::<Int64Type>()
                    .map(|r| run_col(r, skip_nulls)),
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

/// A run-end encoded array: its run ends (as `usize`) and values. Looked up per
/// row (the runs are few; rows past the last run read as null): a length the
/// buffers do not hold (a few runs may claim 2^40 rows) costs no memory.
fn run_col<'a, R: RunEndIndexType>(runs: &'a RunArray<R>, skip_nulls: bool) -> Data<'a> {
    let ends = runs.run_ends();
    Data::Runs {
        ends: ends.values().iter().map(|e| e.as_usize()).collect(),
        offset: ends.offset(),
        values: Box::new(Col::new(runs.values().as_ref(), skip_nulls)),
    }
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
        // A dictionary's values may be a dictionary again: follow each level.
        for _ in 0..MAX_DEPTH {
            let (key, values) = match &col.data {
                Data::Dict(keys, values) => (keys.get(row).copied(), values),
                Data::Runs {
                    ends,
                    offset,
                    values,
                } => {
                    let at = offset.saturating_add(row);
                    (Some(ends.partition_point(|&end| end <= at)), values)
                }
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
                // No values (every key should be null), or a key under a null parent.
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
            Data::Bool(_) => Kind::Bool,
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
            Data::List(..) | Data::LargeList(..) | Data::FixedList(..) => Kind::Array,
            Data::Struct { .. } => Kind::Object,
            Data::Other(_) => Kind::Unsupported,
        }
    }

    #[inline]
    fn as_bool(&self) -> bool {
        match &self.col.data {
            Data::Bool(b) => b.value(self.row),
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
            let checked = catch_unwind(AssertUnwindSafe(|| check_data(&column.to_data())));
            let problem = match checked {
                Ok(Ok(())) => continue,
                Ok(Err(e)) => e.to_string(),
                Err(p) => panic_text(&*p),
            };
            return Err(ArrowInputError(format!(
                "invalid Arrow data in column `{}`: {}",
                crate::check::shorten(field.name()),
                short(&problem)
            )));
        }
        let fields = batch
            .columns()
            .iter()
            .map(|c| Col::new(c.as_ref(), null_as_absent))
            .collect();
        let names = batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        Ok(ArrowRows {
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
        })
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

/// Record batches, from an imported stream or from Rust.
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
                let rows = ArrowRows::new(batch, self.null_as_absent)?;
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
        let rows = pieces
            .iter()
            .map(|b| ArrowRows::new(b, self.null_as_absent))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ArrowRunError::Input)?;
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
    use arrow_array::{ArrayRef, DictionaryArray, StructArray};
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
            unslice_structs(outer).unwrap_err().to_string(),
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
}
