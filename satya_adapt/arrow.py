"""Arrow input: tables, record batches and anything exporting the Arrow C stream interface.

:meth:`Validator.validate_arrow` hands the data's ``ArrowArrayStream`` to Rust, which reads
each row as a record straight from the columns (struct columns are objects, list columns
arrays, nulls JSON ``null``, or absent properties with ``null_as_absent=True``); no Python
object is built per row. :func:`with_validity` returns the data as a ``pyarrow.Table`` with a
boolean column of validity (and optionally the errors of each row) for filtering.

pyarrow is imported only where it is needed (``pip install 'satya-adapt[arrow]'``): a Polars
DataFrame or any other object with ``__arrow_c_stream__`` validates without it; a pandas
DataFrame is converted with ``pyarrow.Table.from_pandas``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Optional, Tuple

from .errors import InputError

if TYPE_CHECKING:
    from .validator import Validator

__all__ = ["arrow_stream", "to_table", "with_validity"]

#: The type of the errors column of :func:`with_validity`: one entry per failure of the row.
ERRORS_TYPE_FIELDS = ("path", "keyword", "message")


def arrow_stream(data: Any) -> Tuple[Any, Optional[int], List[InputError]]:
    """The ``arrow_array_stream`` capsule of ``data``, its number of rows when known, and a
    list that holds the :class:`InputError` of a batch refused while the stream is read (the
    stream's reader reports it wrapped in Arrow's text: raise it instead)."""
    n = _rows(data)
    _refuse_columns(data)
    refused: List[InputError] = []
    if _module(data) == "polars":
        data = _polars_for_arrow(data)
    elif _module(data) == "pyarrow":
        import pyarrow as pa

        if isinstance(data, pa.RecordBatchReader):
            data = _checked_reader(data, refused)
    export = getattr(data, "__arrow_c_stream__", None)
    if export is None:
        data = to_table(data)
        export = data.__arrow_c_stream__
    try:
        return export(), n, refused
    except Exception as e:
        if type(e).__module__.split(".")[0] != "pyarrow":
            raise
        raise _unreadable(data, e) from e


def _module(data: Any) -> str:
    return type(data).__module__.split(".")[0]


#: Arrow data of one column, not of rows: (module, type name).
_COLUMNS = {("pyarrow", "ChunkedArray"), ("polars", "Series"), ("pandas", "Series")}


def _refuse_columns(data: Any) -> None:
    """A column (a ``pyarrow.ChunkedArray`` or ``Array`` that is not of structs, a Polars or
    pandas Series) has no rows of records: a ``TypeError`` that says how to make a table of
    it (Arrow's own message was "Unable to interpret C data struct as a Schema")."""
    name = type(data).__name__
    column = (_module(data), name) in _COLUMNS or (
        _module(data) == "pyarrow" and name.endswith("Array") and name != "StructArray"
    )
    if column:
        raise TypeError(
            f"`data` must be a table of rows, got one column (a {name}): make a table of it"
            " (`pyarrow.table({'name': column})`, `series.to_frame()`), or validate its values"
            " with validate_batch(column.to_pylist())"
        )


def _checked_reader(reader: Any, refused: List[InputError]) -> Any:
    """``reader`` (a ``pyarrow.RecordBatchReader``) with each batch's column types checked
    against its schema as it is read. The Arrow C stream carries no type per batch: a batch of
    ``int8`` data under an ``int64`` schema (``RecordBatchReader.from_batches`` takes it
    unchecked) was read as ``int64``, past the end of its buffer. The batch objects still
    know their types, so the check costs one comparison per batch. The refusal is also put
    in ``refused``."""
    import pyarrow as pa

    schema = reader.schema
    types = schema.types

    def batches() -> Any:
        for number, batch in enumerate(reader):
            if batch.schema.types != types:
                refused.append(InputError(
                    f"record batch {number} does not match the stream's schema: "
                    + _type_difference(batch.schema, schema)
                ))
                raise refused[-1]
            yield batch

    return pa.RecordBatchReader.from_batches(schema, batches())


def _type_difference(got: Any, want: Any) -> str:
    if len(got) != len(want):
        return f"it has {len(got)} columns, where the schema has {len(want)}"
    for field, expected in zip(got, want):
        if field.type != expected.type:
            return f"column `{expected.name}` is {field.type}, where the schema has {expected.type}"
    return "its column types differ"


def _polars_for_arrow(df: Any) -> Any:
    """A Polars DataFrame as the reader takes it: its columns of Polars' ``Null`` type (nested
    too: ``List(Null)``, a struct field) cast to ``Int8``, all null as before (Polars exports
    them with a buffer that the Arrow C data interface gives that type none of, and the reader
    refused them); an :class:`InputError` that says what to do for 128-bit integers."""
    import polars as pl

    def fixed(dtype: Any) -> Any:
        if dtype == pl.Null:
            return pl.Int8
        if isinstance(dtype, pl.List):
            return pl.List(fixed(dtype.inner))
        if isinstance(dtype, pl.Array):
            return pl.Array(fixed(dtype.inner), dtype.size)
        if isinstance(dtype, pl.Struct):
            return pl.Struct([pl.Field(f.name, fixed(f.dtype)) for f in dtype.fields])
        return dtype

    schema = getattr(df, "schema", None)
    if not isinstance(df, pl.DataFrame) or schema is None:
        return df
    for name, dtype in schema.items():
        if any(wide in str(dtype) for wide in ("Int128", "UInt128")):
            # Exported as an extension type arrow-rs cannot import ("_pli128"), which its
            # message named and no more.
            raise InputError(
                f"column `{name}` ({dtype}) holds Polars' 128-bit integers, which have no"
                " Arrow type the reader takes: cast them to Int64 or String, or validate the"
                " rows as dicts, validate_batch(df.to_dicts())"
            )
    casts = {name: new for name, dtype in schema.items() if (new := fixed(dtype)) != dtype}
    return df.cast(casts) if casts else df


def _unreadable(data: Any, e: BaseException) -> InputError:
    """The error of ``data`` that Arrow cannot hold (pyarrow's ``e``): a pandas column of
    objects of mixed kinds has no Arrow type, and pyarrow's message did not say what to do."""
    why = "; ".join(str(a) for a in e.args) or type(e).__name__
    hint = ""
    if _module(data) == "pandas":
        hint = (". A column whose values differ in kind has no Arrow type: validate the rows"
                " as dicts instead, validate_batch(df.to_dict('records'))")
    return InputError(f"`data` cannot be read as Arrow: {why}{hint}")


def to_table(data: Any) -> Any:
    """``data`` as a ``pyarrow.Table``: a table, a record batch, a pandas DataFrame, or any
    object exporting ``__arrow_c_stream__`` or ``__arrow_c_array__``."""
    try:
        import pyarrow as pa
    except ImportError:
        raise TypeError(
            f"`data` must export `__arrow_c_stream__` (or install pyarrow: pip install"
            f" 'satya-adapt[arrow]'), got {type(data).__name__}"
        ) from None
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if _module(data) == "pandas":
        try:
            return pa.Table.from_pandas(data, preserve_index=False)
        except pa.ArrowException as e:
            raise _unreadable(data, e) from e
    if hasattr(data, "__arrow_c_stream__") or hasattr(data, "__arrow_c_array__"):
        try:
            return pa.table(data)
        except pa.ArrowException as e:
            raise _unreadable(data, e) from e
    raise TypeError(
        "`data` must be a pyarrow Table or RecordBatch, a pandas or Polars DataFrame, or an"
        f" object exporting `__arrow_c_stream__`, got {type(data).__name__}"
    )


def with_validity(
    validator: Validator,
    data: Any,
    *,
    column: str = "valid",
    errors_column: Optional[str] = None,
    null_as_absent: bool = False,
    batch_size: Optional[int] = None,
    micro_batch_size: Optional[int] = None,
    threads: Optional[int] = None,
) -> Any:
    """``data`` as a ``pyarrow.Table`` with a boolean column ``column`` (row valid or not), and
    with ``errors_column`` a ``list<struct<path, keyword, message>>`` column of each row's
    errors (empty for a valid row; every error of each row, whatever the validator's
    ``max_errors``). Filter with ``table.filter(table[column])``."""
    import pyarrow as pa

    _refuse_columns(data)
    table = to_table(data)
    if errors_column is not None and errors_column == column:
        raise ValueError(f"`column` and `errors_column` are both `{column}`: name them apart")
    for name in (column, errors_column):
        if name is not None and name in table.column_names:
            raise ValueError(f"the table already has a column `{name}`")
    result = validator.validate_arrow(
        table,
        null_as_absent=null_as_absent,
        batch_size=batch_size,
        micro_batch_size=micro_batch_size,
        threads=threads,
        # The errors column lists each invalid row's errors: none may be left out (with the
        # validator's max_errors, rows past it had an empty list). Without it, verdicts only.
        max_errors=None,
        errors=errors_column is not None,
    )
    table = table.append_column(column, pa.array(result.valid, pa.bool_()))
    if errors_column is not None:
        per_row: list[list[dict[str, str]]] = [[] for _ in range(len(result.valid))]
        for e in result.errors:
            per_row[e.index].append({"path": e.path, "keyword": e.keyword, "message": e.message})
        kind = pa.list_(pa.struct([(name, pa.string()) for name in ERRORS_TYPE_FIELDS]))
        table = table.append_column(errors_column, pa.array(per_row, kind))
    return table


def _rows(data: Any) -> Optional[int]:
    rows = getattr(data, "num_rows", None)
    if isinstance(rows, int):
        return rows
    try:
        return len(data)
    except TypeError:
        return None
