"""Small hostile-input fixes: `max_record_bytes` counted alike for every input kind, flags
checked, messages that name what the user passed, results that pickle."""

from __future__ import annotations

import copy
import gzip
import inspect
import io
import pickle
from pathlib import Path
from typing import Any, Callable

import pytest

from satya_adapt import InputError, RecordError, Schema, ValidationResult, Validator

# -- 1. max_record_bytes: the record's bytes, without its line ending --------------------------

LINE = b'{"a":"xxxxxxxxxx"}'  # 18 bytes


class _Trickle:
    """A binary stream that answers each read with one byte (a `\\r` then ends the buffer)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self._data.read(1)


def _sources(data: bytes, tmp_path: Path) -> dict[str, Callable[[], Any]]:
    plain = tmp_path / "records.ndjson"
    plain.write_bytes(data)
    packed = tmp_path / "records.ndjson.gz"
    packed.write_bytes(gzip.compress(data))
    return {
        "bytes": lambda: data,
        "str": lambda: data.decode(),
        "path": lambda: plain,
        "str path": lambda: str(plain),
        "BytesIO": lambda: io.BytesIO(data),
        "one byte a read": lambda: _Trickle(data),
        "gzip path": lambda: packed,
        "gzip bytes": lambda: gzip.compress(data),
    }


def _outcome(v: Validator, source: Any, limit: int, chunked: bool) -> Any:
    """The verdicts of a call, or the message of its `InputError`."""
    try:
        if chunked:
            chunks = v.iter_validate(source, input_kind="ndjson", batch_size=1, max_record_bytes=limit)
            return [ok for r in chunks for ok in r.valid]
        return v.validate_ndjson(source, max_record_bytes=limit).valid
    except InputError as exc:
        return str(exc)


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["", "BOM"])
@pytest.mark.parametrize("eol", [b"\n", b"\r\n", b""], ids=["LF", "CRLF", "no EOL"])
@pytest.mark.parametrize("limit", [17, 18, 19])
def test_max_record_bytes_agrees_for_every_input_kind(
    tmp_path: Path, limit: int, eol: bytes, bom: bytes
) -> None:
    """Before: an 18-byte line ending in `\\r\\n` passed `max_record_bytes=18` as bytes but was
    refused from a path or a stream, which counted the `\\r` (and the byte order mark)."""
    data = bom + LINE + b"\r\n" + LINE + eol
    v = Validator({}, adapt=False)
    expected = (
        [True, True]
        if limit >= len(LINE)
        else f"NDJSON line 1 is longer than `max_record_bytes` ({limit} bytes)"
    )
    for name, source in _sources(data, tmp_path).items():
        assert _outcome(v, source(), limit, False) == expected, name
        assert _outcome(v, source(), limit, True) == expected, f"iter_validate, {name}"


# -- 2. additional_properties is a bool --------------------------------------------------------


@pytest.mark.parametrize("bad", [{"type": "string"}, "no", 0, None])
def test_additional_properties_must_be_a_bool(bad: Any) -> None:
    """Before: any value was taken for its truth (a schema dict allowed every extra key)."""
    with pytest.raises(TypeError) as info:
        Schema({"a": int}, additional_properties=bad)
    assert str(info.value).startswith(
        f"`additional_properties` must be True or False, got {bad!r}"
    )
    if isinstance(bad, dict):
        assert "Schema.from_json_schema" in str(info.value)


def test_additional_properties_false_and_true_still_work() -> None:
    closed = Validator(Schema({"a": int}, additional_properties=False), adapt=False)
    opened = Validator(Schema({"a": int}, additional_properties=True), adapt=False)
    assert not closed.is_valid({"a": 1, "b": 2})
    assert opened.is_valid({"a": 1, "b": 2})


# -- 3. messages name what the user passed -----------------------------------------------------


def test_validate_names_its_own_parameter() -> None:
    """Before: `validate(None)` said "`items` must be ...", a parameter of another method."""
    v = Validator({}, adapt=False)
    takes = "an iterable of records, bytes, str, a path or a binary file object"
    with pytest.raises(TypeError) as info:
        v.validate(None)
    assert str(info.value) == f"`data` must be {takes}, got NoneType"
    with pytest.raises(TypeError) as info:
        list(v.iter_validate(5))
    assert str(info.value) == f"`source` must be {takes}, got int"
    with pytest.raises(TypeError) as info:
        v.validate({"a": 1})
    assert str(info.value) == (
        f"`data` must be {takes}, got one dict; wrap it in a list (`validate([record])`)"
        " or use `validate_one(record)`"
    )
    with pytest.raises(TypeError) as info:
        v.validate(None, input_kind="dicts")
    assert str(info.value) == "`data` must be an iterable of records, got NoneType"
    with pytest.raises(TypeError) as info:
        v.validate_batch(None)  # type: ignore[arg-type]
    assert str(info.value) == "`items` must be an iterable of records, got NoneType"
    assert v.validate([{}, 1]).valid == [True, True]

    # A kind of text asked for: the message names the parameter and the kind (it said
    # "`source` must be NDJSON bytes, ..." for `validate(records, input_kind="json")`).
    for call, said in [
        (lambda: v.validate([{}], input_kind="json"), "`data` must be JSON text"),
        (lambda: v.validate([{}], pointer="/a"), "`data` must be JSON text"),
        (lambda: v.profile([{}], input_kind="ndjson"), "`source` must be NDJSON text"),
        (lambda: v.validate_ndjson([{}]), "`source` must be NDJSON text"),  # type: ignore[arg-type]
    ]:
        with pytest.raises(TypeError) as info:
            call()
        assert str(info.value) == (
            f"{said} (bytes or str), a path or a binary file object, got list; records in a"
            " list are validated with validate_batch"
        )


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "the input is empty, not a JSON array"),
        (b"\xef\xbb\xbf", "the input is empty, not a JSON array"),
        (b"   \n  ", "the input is whitespace only, not a JSON array"),
        ("  \r\n", "the input is whitespace only, not a JSON array"),
        (
            b'\xc2\xa0{"a":1}\n',
            "the input starts with U+00A0 (NO-BREAK SPACE) at byte 0, which begins no JSON"
            " value (JSON whitespace is only space, tab, CR and LF): not NDJSON or JSON",
        ),
        (
            '\x0b{"a":1}\n',
            "the input starts with U+000B (VERTICAL TAB) at byte 0, which begins no JSON"
            " value (JSON whitespace is only space, tab, CR and LF): not NDJSON or JSON",
        ),
        (
            b'  \x0c{"a":1}',
            "the input starts with U+000C (FORM FEED) at byte 2, which begins no JSON"
            " value (JSON whitespace is only space, tab, CR and LF): not NDJSON or JSON",
        ),
        (b"~", "the input starts with '~' at byte 0, which begins no JSON value: not NDJSON or JSON"),
        (
            gzip.compress(b" \n "),
            "the decompressed gzip input is whitespace only, not a JSON array",
        ),
    ],
)
def test_guessed_input_that_is_no_array_says_what_it_looks_like(data: Any, message: str) -> None:
    """Before: "invalid JSON array: expected a JSON array at byte N" of input that never looked
    like an array (empty, whitespace only, a first character that begins no JSON value)."""
    v = Validator({}, adapt=False)
    for call in (v.validate, lambda d: list(v.iter_validate(d)), v.profile):
        with pytest.raises(InputError) as info:
            call(data)
        assert str(info.value).startswith(message)
    # A forced kind reads as asked: empty text is NDJSON of no records.
    if not data.strip():
        assert v.validate(data, input_kind="ndjson").valid == []


def test_files_and_streams_of_whitespace_are_still_ndjson(tmp_path: Path) -> None:
    v = Validator({}, adapt=False)
    (tmp_path / "blank.ndjson").write_bytes(b"  \n ")
    assert v.validate(tmp_path / "blank.ndjson").valid == []
    assert v.validate(io.BytesIO(b"  \n ")).valid == []
    assert v.validate(io.BytesIO(b"\x0c{}\n")).valid == [False]


# -- 4. results pickle ------------------------------------------------------------------------


def _error_fields(e: RecordError) -> tuple[Any, ...]:
    return (type(e), e.index, e.path, e.keyword, e.message, e.schema_path)


def _result_fields(r: ValidationResult) -> tuple[Any, ...]:
    return (
        type(r),
        r.valid,
        [_error_fields(e) for e in r.errors],
        r.config,
        r.stats,
        r.start,
        r.errors_omitted,
    )


def test_every_validator_option_survives_pickling_and_copying() -> None:
    """Before: `max_errors` was lost, so a Dask, Ray or multiprocessing worker built every
    error of a validator made with `max_errors=1`. Every option of `Validator` is given here
    (the signature is checked, so a new option must be added)."""
    archive = Path(__file__).resolve().parent.parent / "satya_adapt" / "archives" / "default.json"
    options: dict[str, Any] = {
        "archive": archive, "adapt": False, "max_record_bytes": 1234, "draft": "7",
        "strict": True, "resources": {"urn:x": {"type": "integer"}}, "formats": False,
        "online": False, "alpha": 0.05, "memory_budget": 64 << 20, "max_pause": 0.5,
        "max_errors": 1,
    }  # fmt: skip
    assert set(options) == set(inspect.signature(Validator).parameters) - {"schema"}
    schema = {"type": "object", "properties": {"a": {"$ref": "urn:x"}, "b": {"format": "email"}}}
    v = Validator(schema, **options)

    def seen(w: Validator) -> tuple[Any, ...]:
        records = [{"a": "x", "b": "nope"}, {"a": "y"}]
        r = w.validate_batch(records)
        return (
            w.adapt, w.max_record_bytes, w.online, w.alpha, w.budget, w.max_errors,
            w.schema._options, w._archive, len(r.errors), r.errors_omitted,
        )  # fmt: skip

    assert seen(v)[-2:] == (1, 1)
    for w in (pickle.loads(pickle.dumps(v)), copy.deepcopy(v), copy.copy(v)):
        assert seen(w) == seen(v)


def test_a_result_has_no_truth_value() -> None:
    """Before: `bool(result)` was `len(result) > 0`, so `if v.validate_batch(records):` was
    true when every record failed and false for no records."""
    v = Validator({"type": "integer"}, adapt=False)
    for records in (["x"], []):
        r = v.validate_batch(records)
        with pytest.raises(TypeError, match="^the truth of a ValidationResult is ambiguous: use `result.all_valid`"):
            bool(r)
        assert r.all_valid == (not records) and len(r) == len(records)


def test_results_and_errors_pickle_and_copy() -> None:
    """Before: `pickle.dumps(result)` raised "cannot pickle 'satya_adapt.RecordError' object",
    so a multiprocessing worker could not return a result."""
    v = Validator(
        {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"minLength": 2}}},
        adapt=False,
        max_errors=2,
    )
    records = [{"a": "x", "b": "y"}, {"a": 1}, {"a": 2.5, "b": ""}]
    results = [v.validate_batch(records)]
    results += v.iter_validate(records, batch_size=1)
    assert results[0].errors_omitted == 2
    assert results[2].start == 1
    assert results[0].errors[0].schema_path == "/properties/a/type"
    made = RecordError(7, "/x", "custom", "a message", "/$defs/x")
    for r in results:
        for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
            back = pickle.loads(pickle.dumps(r, protocol=protocol))
            assert _result_fields(back) == _result_fields(r)
            assert back.errors == r.errors
        assert _result_fields(copy.deepcopy(r)) == _result_fields(r)
        assert _result_fields(copy.copy(r)) == _result_fields(r)
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        assert _error_fields(pickle.loads(pickle.dumps(made, protocol=protocol))) == _error_fields(made)
    assert _error_fields(copy.deepcopy(made)) == _error_fields(made)
    assert hash(pickle.loads(pickle.dumps(made))) == hash(made)


def test_a_non_json_type_named_as_a_builtin_is_named_in_full() -> None:
    # numpy's `bool` is not Python's: "a `bool`, not a JSON value (... bool ...)" said both.
    np = pytest.importorskip("numpy")
    v = Validator({"properties": {"a": {"type": "boolean"}}}, adapt=False)
    with pytest.raises(TypeError, match=r"Record 0 is a `numpy\.bool_?`, not a JSON value"):
        v.validate_batch([np.bool_(True)])
    result = v.validate_batch([{"a": np.bool_(True)}])
    assert [e.message for e in result.errors] in (
        ["Expected a JSON value, got `numpy.bool`"], ["Expected a JSON value, got `numpy.bool_`"]
    )


def test_profile_of_one_dict_or_no_records_says_so() -> None:
    # `profile({"a": 1})` profiled the dict's keys as records.
    v = Validator({"type": "object"}, adapt=False)
    with pytest.raises(TypeError, match=r"`source` must be .*, got one dict; wrap it in a list"):
        v.profile({"a": 1})
    with pytest.raises(TypeError, match=r"`source` must be an iterable of records, got int"):
        v.profile(5, input_kind="dicts")
    assert v.profile([{"a": 1}]).input_kind == "dicts"


def test_json_looking_text_read_as_a_path_says_why(tmp_path: Path) -> None:
    v = Validator({}, adapt=False)
    with pytest.raises(InputError, match=r"no such NDJSON file: .*read as a path unless it starts"):
        v.validate_ndjson('\xa0{"a": 1}')
    with pytest.raises(InputError, match=r"no such NDJSON file: 'missing\.ndjson'$"):
        v.validate_ndjson("missing.ndjson")
    # An empty or blank str is no records, as empty bytes and every other entry point (it was
    # "no such NDJSON file: ''").
    for blank in ("", "  ", " \t", "\ufeff"):
        assert v.validate_ndjson(blank).valid == []
        assert v.validate(blank, input_kind="ndjson").valid == []

    # With input_kind="json", a str follows the same rule (it was always text: a path read as
    # "expected a JSON array at byte 0"), and a missing path is a "JSON file".
    path = tmp_path / "a.json"
    path.write_text('[{"a": 1}, 2]')
    w = Validator({"type": "object"}, adapt=False)
    assert w.validate(str(path), input_kind="json").valid == [True, False]
    assert w.validate(' [{"a": 1}, 2]', input_kind="json").valid == [True, False]
    with pytest.raises(InputError, match=r"^no such JSON file: 'missing\.json'$"):
        w.validate("missing.json", input_kind="json")
    with pytest.raises(InputError, match=r"^no such file: 'missing\.json'$"):
        w.validate("missing.json")
