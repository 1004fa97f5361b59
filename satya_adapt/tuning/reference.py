"""msgspec, the reference the optimizer times alongside satya-adapt, and the JSON Schema
translation that the benchmark's peer adapters (``benchmarks/peers.py``) share.

A workload's schema is a JSON Schema document (the subset :mod:`satya_adapt.tuning.workloads`
writes); :func:`msgspec_type` builds the msgspec equivalent (a ``Struct`` with ``Meta``
constraints). msgspec stops at the first error of a list, so :func:`msgspec_runner` validates
record by record (``convert``; JSON: the array is split into raw elements by one typed decode
to ``list[msgspec.Raw]``, then each is decoded to the Struct; NDJSON: ``decode_lines`` to
``Raw``, then the same). msgspec is imported inside the functions: importing this module needs
nothing but the standard library.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import uuid as _uuidlib
from collections.abc import Mapping, Sequence
from typing import Any, Callable, Optional

__all__ = [
    "ARRAY_BOUNDS",
    "ARRAY_KEYS",
    "NUMBER_BOUNDS",
    "NUMBER_KEYS",
    "OBJECT_KEYS",
    "STRING_BOUNDS",
    "STRING_KEYS",
    "Runner",
    "Validity",
    "bounds",
    "check_supported",
    "msgspec_runner",
    "msgspec_type",
    "per_record",
    "type_name",
]

Validity = Optional[list[bool]]
Runner = Callable[[], Validity]

_counter = itertools.count()


def type_name(prefix: str) -> str:
    """A fresh name for a generated type (``Record0``, ``Record1``, ...)."""
    return f"{prefix}{next(_counter)}"


def check_supported(node: Mapping[str, Any], allowed: Sequence[str]) -> None:
    extra = set(node) - set(allowed)
    if extra:
        raise ValueError(f"the peer translators do not support {sorted(extra)}")


STRING_KEYS = ("type", "minLength", "maxLength", "pattern", "format", "enum")
NUMBER_KEYS = ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
ARRAY_KEYS = ("type", "items", "minItems", "maxItems")
OBJECT_KEYS = ("type", "properties", "required")

#: JSON Schema keyword -> the keyword argument msgspec's `Meta` and pydantic's `Field` share.
STRING_BOUNDS = (("minLength", "min_length"), ("maxLength", "max_length"), ("pattern", "pattern"))
NUMBER_BOUNDS = (("minimum", "ge"), ("maximum", "le"), ("exclusiveMinimum", "gt"), ("exclusiveMaximum", "lt"))
ARRAY_BOUNDS = (("minItems", "min_length"), ("maxItems", "max_length"))


def bounds(node: Mapping[str, Any], names: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    return {kw: node[key] for key, kw in names if key in node}


def msgspec_type(node: Mapping[str, Any]) -> Any:
    """The msgspec type equivalent to a JSON Schema node (objects become Structs)."""
    from typing import Annotated, Literal

    import msgspec

    t = node.get("type")
    if t == "object":
        check_supported(node, OBJECT_KEYS)
        required = set(node.get("required", ()))
        fields: list[tuple[Any, ...]] = []
        for key, sub in node.get("properties", {}).items():
            if key in required:
                fields.append((key, msgspec_type(sub)))
            else:
                fields.append((key, msgspec_type(sub), msgspec.UNSET))
        return msgspec.defstruct(type_name("Record"), fields)
    if t == "string":
        check_supported(node, STRING_KEYS)
        if "enum" in node:
            return Literal[tuple(node["enum"])]
        fmt = node.get("format")
        if fmt == "date":
            return _dt.date
        if fmt == "uuid":
            return _uuidlib.UUID
        if fmt is not None:
            raise ValueError(f"no msgspec equivalent for format {fmt!r}")
        meta = bounds(node, STRING_BOUNDS)
        return Annotated[str, msgspec.Meta(**meta)] if meta else str
    if t in ("integer", "number"):
        check_supported(node, NUMBER_KEYS)
        meta = bounds(node, NUMBER_BOUNDS)
        base = int if t == "integer" else float
        return Annotated[base, msgspec.Meta(**meta)] if meta else base
    if t == "boolean":
        return bool
    if t == "array":
        check_supported(node, ARRAY_KEYS)
        item = msgspec_type(node["items"]) if "items" in node else Any
        meta = bounds(node, ARRAY_BOUNDS)
        return Annotated[list[item], msgspec.Meta(**meta)] if meta else list[item]  # type: ignore[valid-type]
    raise ValueError(f"no msgspec equivalent for {dict(node)!r}")


def per_record(check: Callable[[Any], Any], error: Any) -> Callable[[Sequence[Any]], list[bool]]:
    """Runs ``check`` on each record: ``False`` where it raises ``error``, else ``True``."""

    def run(records: Sequence[Any]) -> list[bool]:
        out: list[bool] = []
        append = out.append
        for r in records:
            try:
                check(r)
            except error:
                append(False)
            else:
                append(True)
        return out

    return run


def msgspec_runner(kind: str, schema: Mapping[str, Any], data: Any) -> Runner:
    """msgspec validating ``data`` (records, a JSON array or NDJSON bytes, as ``kind`` says)
    against ``schema``, record by record; returns the call that is timed."""
    import msgspec

    struct = msgspec_type(schema)
    if kind == "dicts":
        convert = msgspec.convert
        check = per_record(lambda r: convert(r, struct), msgspec.ValidationError)
        return lambda: check(data)
    decode = msgspec.json.Decoder(struct).decode
    check = per_record(decode, msgspec.ValidationError)
    if kind == "json":
        split = msgspec.json.Decoder(list[msgspec.Raw]).decode
        return lambda: check(split(data))
    lines = msgspec.json.Decoder(msgspec.Raw).decode_lines
    return lambda: check(lines(data))
