"""Peer libraries, measured the same way as satya-adapt: one adapter per way of validating.

Used by ``benchmarks/bench_peers.py`` (benchmark code: the package does not ship it). Every
adapter, given a :class:`~satya_adapt.tuning.workloads.Workload`, returns a callable that validates
the whole input of one kind (``dicts``, ``json`` or ``ndjson``) and returns one bool per record
(``None`` for a parse-only reference). Peers are imported inside functions: importing this
module costs nothing and needs none of them.

The schema of a workload is a JSON Schema document; each peer gets the closest equivalent it
has, built by a translator below (msgspec ``Struct`` with ``Meta`` constraints, a pydantic
model in strict mode, a satya ``Model``); the msgspec translation and runner live in
:mod:`satya_adapt.tuning.reference`, which the optimizer times alongside. Where a peer lacks an equivalent rule, the
translator gives it the nearest one and says so in :attr:`Adapter.note`; the correctness
check then shows what that costs.

How each peer yields per-record validity (the honest fastest way we found, see ``note``):

- msgspec stops at the first error of a list, so it validates record by record
  (``convert``; JSON: the array is split into raw elements by one typed decode to
  ``list[msgspec.Raw]``, then each is decoded to the Struct; NDJSON: ``decode_lines`` to
  ``Raw`` then the same).
- pydantic validates a whole ``list[Model]`` and reports every error with the record index
  first in its ``loc``: one call per batch, the failing indexes read from the errors.
- jsonschema-rs and fastjsonschema validate one Python object per call; JSON and NDJSON are
  parsed by ``orjson`` first.
- satya: ``TurboValidatorPy.validate_check_batch`` (its fastest bool path), the
  ``StreamValidator.validate_batch`` of ``Model.validator()``, and its JSON-array and NDJSON
  byte paths (``Model.model_validate_json_array_bytes`` / ``model_validate_ndjson_bytes``).
"""

from __future__ import annotations

import datetime as _dt
import uuid as _uuidlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable

from satya_adapt.profile import INPUT_KINDS
from satya_adapt.tuning import reference as ref
from satya_adapt.tuning.reference import msgspec_type
from satya_adapt.tuning.workloads import Workload

__all__ = [
    "INPUT_KINDS",
    "Adapter",
    "adapters",
    "msgspec_type",
    "pydantic_type",
    "satya_model",
    "satya_notes",
]

Validity = ref.Validity
Runner = ref.Runner

# -- translators: JSON Schema (the workloads' subset) -> each peer's types -----------------------


def pydantic_type(node: Mapping[str, Any]) -> Any:
    """The pydantic type equivalent to a JSON Schema node, strict (no coercion) except for
    ``format`` fields, which must parse a str into a date or a UUID (lax for that field)."""
    from typing import Annotated, Literal

    import pydantic
    from pydantic import ConfigDict, Field, Strict

    t = node.get("type")
    if t == "object":
        ref.check_supported(node, ref.OBJECT_KEYS)
        required = set(node.get("required", ()))
        fields: dict[str, Any] = {}
        for key, sub in node.get("properties", {}).items():
            fields[key] = (pydantic_type(sub), ... if key in required else None)
        return pydantic.create_model(ref.type_name("Record"), __config__=ConfigDict(strict=True), **fields)
    if t == "string":
        ref.check_supported(node, ref.STRING_KEYS)
        if "enum" in node:
            return Literal[tuple(node["enum"])]
        fmt = node.get("format")
        if fmt == "date":
            return Annotated[_dt.date, Strict(False)]
        if fmt == "uuid":
            return Annotated[_uuidlib.UUID, Strict(False)]
        if fmt is not None:
            raise ValueError(f"no pydantic equivalent for format {fmt!r}")
        kw = ref.bounds(node, ref.STRING_BOUNDS)
        return Annotated[str, Field(**kw)] if kw else str
    if t in ("integer", "number"):
        ref.check_supported(node, ref.NUMBER_KEYS)
        kw = ref.bounds(node, ref.NUMBER_BOUNDS)
        base = int if t == "integer" else float
        return Annotated[base, Field(**kw)] if kw else base
    if t == "boolean":
        return bool
    if t == "array":
        ref.check_supported(node, ref.ARRAY_KEYS)
        item = pydantic_type(node["items"]) if "items" in node else Any
        kw = ref.bounds(node, ref.ARRAY_BOUNDS)
        return Annotated[list[item], Field(**kw)] if kw else list[item]  # type: ignore[valid-type]
    raise ValueError(f"no pydantic equivalent for {dict(node)!r}")


#: What satya is given for rules it has no equivalent of (shown in the adapter's note).
SATYA_SUBSTITUTES = {
    "format:date": r"pattern ^\d{4}-\d{2}-\d{2}$ (satya has no date format; no calendar check)",
    "format:uuid": "satya's UUID type",
    "items": "List[int] without item bounds (satya has no per-item constraints)",
}


def satya_model(node: Mapping[str, Any], notes: list[str] | None = None) -> Any:
    """A satya ``Model`` subclass for an object node; ``notes`` collects the substitutes used
    for rules satya cannot express (see :data:`SATYA_SUBSTITUTES`)."""

    import satya  # type: ignore[import-untyped,unused-ignore]

    notes = [] if notes is None else notes
    if node.get("type") != "object":
        raise ValueError("a satya model is built from an object schema")
    ref.check_supported(node, ref.OBJECT_KEYS)
    required = set(node.get("required", ()))
    annotations: dict[str, Any] = {}
    namespace: dict[str, Any] = {}
    for key, sub in node.get("properties", {}).items():
        t = sub.get("type")
        kw: dict[str, Any] = {"required": key in required}
        if t == "object":
            annotations[key] = satya_model(sub, notes)
            namespace[key] = satya.Field(**kw)
            continue
        if t == "string":
            ref.check_supported(sub, ref.STRING_KEYS)
            tp: Any = str
            if "enum" in sub:
                kw["enum"] = list(sub["enum"])
            fmt = sub.get("format")
            if fmt == "date":
                kw["pattern"] = r"^\d{4}-\d{2}-\d{2}$"
                _note(notes, "format:date")
            elif fmt == "uuid":
                tp = satya.UUID
                _note(notes, "format:uuid")
            elif fmt is not None:
                raise ValueError(f"no satya equivalent for format {fmt!r}")
            for j, k in (
                ("minLength", "min_length"),
                ("maxLength", "max_length"),
                ("pattern", "pattern"),
            ):
                if j in sub:
                    kw[k] = sub[j]
        elif t in ("integer", "number"):
            ref.check_supported(sub, ref.NUMBER_KEYS)
            tp = int if t == "integer" else float
            for j, k in (
                ("minimum", "ge"),
                ("maximum", "le"),
                ("exclusiveMinimum", "gt"),
                ("exclusiveMaximum", "lt"),
            ):
                if j in sub:
                    kw[k] = sub[j]
        elif t == "boolean":
            tp = bool
        elif t == "array":
            ref.check_supported(sub, ref.ARRAY_KEYS)
            item_types = {"integer": int, "number": float, "string": str, "boolean": bool}
            item_type: Any = item_types.get(sub.get("items", {}).get("type"), Any)
            tp = list[item_type]
            if set(sub.get("items", {})) - {"type"}:
                _note(notes, "items")
            for j, k in (("minItems", "min_items"), ("maxItems", "max_items")):
                if j in sub:
                    kw[k] = sub[j]
        else:
            raise ValueError(f"no satya equivalent for {dict(sub)!r}")
        annotations[key] = tp
        namespace[key] = satya.Field(**kw)
    namespace["__annotations__"] = annotations
    return type(ref.type_name("Record"), (satya.Model,), namespace)


def _note(notes: list[str], key: str) -> None:
    text = SATYA_SUBSTITUTES[key]
    if text not in notes:
        notes.append(text)


# -- adapters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Adapter:
    """One way of validating one kind of input with one library.

    ``role`` is ``"self"`` (satya-adapt), ``"peer"`` (a validator compared with) or
    ``"reference"`` (parse only; no validity). ``prepare(workload)`` does the one-time work
    (compiling a schema, building a model) and returns the runner that is timed.
    """

    name: str
    library: str
    kind: str
    role: str
    prepare: Callable[[Workload], Runner]
    note: str = ""
    module: str = ""

    def available(self) -> bool:
        """Whether the library can be imported here."""
        import importlib.util

        return importlib.util.find_spec(self.module or self.library) is not None


# satya-adapt --------------------------------------------------------------------------------------


def _satya_adapt(
    kind: str, threads: int, batch_size: int, micro_batch_size: int
) -> Callable[[Workload], Runner]:
    def prepare(wl: Workload) -> Runner:
        from satya_adapt.validator import Validator

        v = Validator(wl.schema, adapt=False)
        knobs = {"batch_size": batch_size, "micro_batch_size": micro_batch_size, "threads": threads}
        data = wl.data(kind)
        return lambda: v.validate(data, input_kind=kind, **knobs).valid

    return prepare


# msgspec ----------------------------------------------------------------------------------------------


def _msgspec(kind: str) -> Callable[[Workload], Runner]:
    return lambda wl: ref.msgspec_runner(kind, wl.schema, wl.data(kind))


# pydantic ----------------------------------------------------------------------------------------------


def _pydantic(kind: str, mode: str) -> Callable[[Workload], Runner]:
    """``mode`` ``"list"``: one ``TypeAdapter(list[Model])`` call, the failing indexes read from
    the errors; ``"each"``: one ``TypeAdapter(Model)`` call per record (JSON: per element of
    the array, split by ``msgspec.json.decode(..., type=list[msgspec.Raw])`` and copied to
    bytes)."""

    def prepare(wl: Workload) -> Runner:
        from pydantic import TypeAdapter, ValidationError

        model = pydantic_type(wl.schema)
        n = wl.n
        if mode == "list":
            many = TypeAdapter(list[model])  # type: ignore[valid-type]

            def run_many(validate: Callable[[Any], Any], arg: Any) -> list[bool]:
                out = [True] * n
                try:
                    validate(arg)
                except ValidationError as exc:
                    for err in exc.errors(
                        include_url=False, include_context=False, include_input=False
                    ):
                        loc = err["loc"]
                        if loc and isinstance(loc[0], int):
                            out[loc[0]] = False
                        else:  # the whole input failed (not a list): nothing is valid
                            return [False] * n
                return out

            if kind == "dicts":
                records = wl.records
                return lambda: run_many(many.validate_python, records)
            data = wl.json_bytes()
            return lambda: run_many(many.validate_json, data)
        one = TypeAdapter(model)
        if kind == "dicts":
            check = ref.per_record(one.validate_python, ValidationError)
            records = wl.records
            return lambda: check(records)
        validate_json = one.validate_json
        if kind == "json":
            import msgspec

            # pydantic takes str, bytes or bytearray only: each raw element is copied to bytes.
            check = ref.per_record(lambda raw: validate_json(bytes(raw)), ValidationError)
            split = msgspec.json.Decoder(list[msgspec.Raw]).decode
            data = wl.json_bytes()
            return lambda: check(split(data))
        check = ref.per_record(validate_json, ValidationError)
        text = wl.ndjson_bytes()
        return lambda: check(text.splitlines())

    return prepare


# jsonschema-rs and fastjsonschema ------------------------------------------------------------------------


def _parsed(kind: str, wl: Workload) -> Callable[[], Sequence[Any]]:
    if kind == "dicts":
        records = wl.records
        return lambda: records
    import orjson

    loads = orjson.loads
    if kind == "json":
        data = wl.json_bytes()
        return lambda: loads(data)
    text = wl.ndjson_bytes()
    return lambda: [loads(line) for line in text.splitlines()]


def _jsonschema_rs(kind: str) -> Callable[[Workload], Runner]:
    def prepare(wl: Workload) -> Runner:
        import jsonschema_rs

        is_valid = jsonschema_rs.validator_for(wl.schema, validate_formats=True).is_valid
        get = _parsed(kind, wl)
        return lambda: [is_valid(r) for r in get()]

    return prepare


def _fastjsonschema(kind: str) -> Callable[[Workload], Runner]:
    def prepare(wl: Workload) -> Runner:
        import fastjsonschema

        check = ref.per_record(fastjsonschema.compile(wl.schema), fastjsonschema.JsonSchemaException)
        get = _parsed(kind, wl)
        return lambda: check(get())

    return prepare


# satya (PyPI) -------------------------------------------------------------------------------------------


def _satya(kind: str, path: str) -> Callable[[Workload], Runner]:
    """``path`` ``"check"``: ``validate_check_batch`` (JSON and NDJSON parsed by ``orjson``
    first); ``"batch"``: ``StreamValidator.validate_batch``; ``"bytes"``: satya's own JSON-array
    and NDJSON byte paths."""

    def prepare(wl: Workload) -> Runner:
        model = satya_model(wl.schema)
        sv = model.validator()
        if path == "bytes":
            if kind == "json":
                # streaming=True (the default) raises on the first record of a wrong type
                # instead of answering per record; streaming=False answers.
                data = wl.json_bytes()
                return lambda: list(model.model_validate_json_array_bytes(data, streaming=False))
            text = wl.ndjson_bytes()
            return lambda: list(model.model_validate_ndjson_bytes(text))
        batch = sv._turbo_validator.validate_check_batch if path == "check" else sv.validate_batch
        get = _parsed(kind, wl)
        return lambda: list(batch(get()))

    return prepare


def satya_notes(schema: Mapping[str, Any]) -> list[str]:
    """The substitutes satya gets for ``schema`` (rules it cannot express)."""
    notes: list[str] = []
    try:
        satya_model(schema, notes)
    except Exception as exc:
        notes.append(f"cannot build a model: {exc}")
    return notes


# orjson (parse only) -------------------------------------------------------------------------------------


def _orjson(kind: str) -> Callable[[Workload], Runner]:
    def prepare(wl: Workload) -> Runner:
        import orjson

        loads = orjson.loads
        if kind == "json":
            data = wl.json_bytes()

            def run_json() -> Validity:
                loads(data)
                return None

            return run_json
        text = wl.ndjson_bytes()

        def run_lines() -> Validity:
            [loads(line) for line in text.splitlines()]
            return None

        return run_lines

    return prepare


def adapters(
    threads: Sequence[int] = (1,),
    *,
    batch_size: int = 8192,
    micro_batch_size: int = 1024,
    kinds: Sequence[str] = INPUT_KINDS,
    include_self: bool = True,
) -> list[Adapter]:
    """Every adapter, for each input kind in ``kinds``: satya-adapt once per thread count in
    ``threads`` (with the given batch and micro-batch sizes), then the peers."""
    out: list[Adapter] = []
    call = {
        "dicts": "validate_batch(records",
        "json": "validate_json(array",
        "ndjson": "validate_ndjson(data",
    }
    for kind in kinds:
        if include_self:
            for t in dict.fromkeys(threads):
                out.append(
                    Adapter(
                        f"satya-adapt T={t}",
                        "satya-adapt",
                        kind,
                        "self",
                        _satya_adapt(kind, t, batch_size, micro_batch_size),
                        f"Validator(schema, adapt=False).{call[kind]}, batch_size={batch_size}, "
                        f"micro_batch_size={micro_batch_size}, threads={t})",
                        module="satya_adapt._validator",
                    )
                )
        parse = "" if kind == "dicts" else "orjson.loads, then "
        if kind == "dicts":
            out.append(
                _a(
                    "msgspec convert",
                    "msgspec",
                    kind,
                    _msgspec(kind),
                    "msgspec.convert(record, Struct) per record (a list stops at its first error)",
                )
            )
            out.append(
                _a(
                    "pydantic list",
                    "pydantic",
                    kind,
                    _pydantic(kind, "list"),
                    "TypeAdapter(list[Model], strict).validate_python(records); failing indexes from the errors",
                )
            )
            out.append(
                _a(
                    "pydantic each",
                    "pydantic",
                    kind,
                    _pydantic(kind, "each"),
                    "TypeAdapter(Model, strict).validate_python per record",
                )
            )
        elif kind == "json":
            out.append(
                _a(
                    "msgspec decode",
                    "msgspec",
                    kind,
                    _msgspec(kind),
                    "Decoder(list[Raw]).decode(array), then Decoder(Struct).decode per element",
                )
            )
            out.append(
                _a(
                    "pydantic list",
                    "pydantic",
                    kind,
                    _pydantic(kind, "list"),
                    "TypeAdapter(list[Model], strict).validate_json(array); failing indexes from the errors",
                )
            )
            out.append(
                _a(
                    "pydantic each",
                    "pydantic",
                    kind,
                    _pydantic(kind, "each"),
                    "array split by msgspec Decoder(list[Raw]), then TypeAdapter(Model, strict).validate_json(bytes(element)) per element",
                )
            )
        else:
            out.append(
                _a(
                    "msgspec decode_lines",
                    "msgspec",
                    kind,
                    _msgspec(kind),
                    "Decoder(Raw).decode_lines(data), then Decoder(Struct).decode per line",
                )
            )
            out.append(
                _a(
                    "pydantic each",
                    "pydantic",
                    kind,
                    _pydantic(kind, "each"),
                    "TypeAdapter(Model, strict).validate_json per line",
                )
            )
        out.append(
            _a(
                "jsonschema-rs",
                "jsonschema-rs",
                kind,
                _jsonschema_rs(kind),
                f"{parse}validator_for(schema, validate_formats=True).is_valid per record",
                module="jsonschema_rs",
            )
        )
        out.append(
            _a(
                "fastjsonschema",
                "fastjsonschema",
                kind,
                _fastjsonschema(kind),
                f"{parse}fastjsonschema.compile(schema) per record, try/except",
            )
        )
        out.append(
            _a(
                "satya check_batch",
                "satya",
                kind,
                _satya(kind, "check"),
                f"{parse}Model.validator()._turbo_validator.validate_check_batch(records)",
            )
        )
        if kind == "dicts":
            out.append(
                _a(
                    "satya validate_batch",
                    "satya",
                    kind,
                    _satya(kind, "batch"),
                    "Model.validator().validate_batch(records)",
                )
            )
        elif kind == "json":
            out.append(
                _a(
                    "satya json_array_bytes",
                    "satya",
                    kind,
                    _satya(kind, "bytes"),
                    "Model.model_validate_json_array_bytes(array, streaming=False)",
                )
            )
        else:
            out.append(
                _a(
                    "satya ndjson_bytes",
                    "satya",
                    kind,
                    _satya(kind, "bytes"),
                    "Model.model_validate_ndjson_bytes(data)",
                )
            )
        if kind != "dicts":
            out.append(
                Adapter(
                    "orjson.loads (parse only)",
                    "orjson",
                    kind,
                    "reference",
                    _orjson(kind),
                    "orjson.loads(array)" if kind == "json" else "orjson.loads per line",
                )
            )
    return out


def _a(
    name: str,
    library: str,
    kind: str,
    prepare: Callable[[Workload], Runner],
    note: str,
    module: str = "",
) -> Adapter:
    return Adapter(name, library, kind, "peer", prepare, note, module)
