"""The schema API, both ways: a Pythonic field spec or a JSON Schema document.

Both compile to the same Rust schema: :class:`Schema` turns its fields into a JSON
Schema document (see :attr:`Schema.json_schema`) and hands that to the core.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import json
import math
import types
import typing
import urllib.parse
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Set, Union

from . import _validator
from .config import check_flag
from .errors import SchemaError, SchemaWarning, warn_at_user

__all__ = ["Schema", "Field", "MAX_SCHEMA_DEPTH", "model_json_schema"]

#: How deeply a schema document may nest objects and arrays (the root is level 1); the Rust
#: compiler holds the same limit for JSON text.
MAX_SCHEMA_DEPTH = 100

_SCALARS: Dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    None: "null",
    type(None): "null",
    list: "array",
    tuple: "array",
    dict: "object",
}

_CONSTRAINTS = {
    "min_length": "minLength",
    "max_length": "maxLength",
    "pattern": "pattern",
    "format": "format",
    "ge": "minimum",
    "gt": "exclusiveMinimum",
    "le": "maximum",
    "lt": "exclusiveMaximum",
    "multiple_of": "multipleOf",
    "min_items": "minItems",
    "max_items": "maxItems",
    "unique_items": "uniqueItems",
    "min_properties": "minProperties",
    "max_properties": "maxProperties",
}


#: The JSON types each constraint applies to (``integer`` is a ``number``).
_APPLIES_TO = {
    "min_length": ("string",),
    "max_length": ("string",),
    "pattern": ("string",),
    "format": ("string",),
    "ge": ("number", "integer"),
    "gt": ("number", "integer"),
    "le": ("number", "integer"),
    "lt": ("number", "integer"),
    "multiple_of": ("number", "integer"),
    "min_items": ("array",),
    "max_items": ("array",),
    "unique_items": ("array",),
    "min_properties": ("object",),
    "max_properties": ("object",),
}

_UNION_TYPES: tuple[Any, ...] = (Union, types.UnionType) if hasattr(types, "UnionType") else (Union,)


class Field:
    """One field: a type plus constraints.

    ``type`` is ``str``, ``int``, ``float``, ``bool``, ``None``, ``list`` / ``list[T]``,
    a nested :class:`Schema` or mapping of fields, ``typing.Any``, ``Optional[T]`` or
    ``Union[...]``. Constraint names follow pydantic (``ge``, ``max_length``); errors
    report them in JSON Schema spelling (``minimum``, ``maxLength``).
    """

    __slots__ = ("type", "required", "items", "enum", "const", "constraints")

    def __init__(
        self,
        type: Any = Any,
        *,
        required: bool = True,
        items: Any = None,
        enum: Optional[Sequence[Any]] = None,
        const: Any = ...,
        min_length: Optional[int] = None,
        max_length: Optional[int] = None,
        pattern: Optional[str] = None,
        format: Optional[str] = None,
        ge: Optional[Union[int, float]] = None,
        gt: Optional[Union[int, float]] = None,
        le: Optional[Union[int, float]] = None,
        lt: Optional[Union[int, float]] = None,
        multiple_of: Optional[Union[int, float]] = None,
        min_items: Optional[int] = None,
        max_items: Optional[int] = None,
        unique_items: Optional[bool] = None,
        min_properties: Optional[int] = None,
        max_properties: Optional[int] = None,
    ) -> None:
        self.type = type
        self.required = check_flag("required", required)
        self.items = items
        self.enum = None if enum is None else list(enum)
        self.const = const
        given = {
            "min_length": min_length,
            "max_length": max_length,
            "pattern": pattern,
            "format": format,
            "ge": ge,
            "gt": gt,
            "le": le,
            "lt": lt,
            "multiple_of": multiple_of,
            "min_items": min_items,
            "max_items": max_items,
            "unique_items": unique_items,
            "min_properties": min_properties,
            "max_properties": max_properties,
        }
        self.constraints = {k: v for k, v in given.items() if v is not None}
        if self.constraints:
            try:
                declared = _type_to_json_schema(type, 1)
            except SchemaError:
                declared = {}  # an unsupported type is reported when the schema compiles
            self._check_constraints(declared)

    def _check_constraints(self, doc: Mapping[str, Any]) -> None:
        """Refuses a constraint that no value of the field's type can meet or fail."""
        declared = doc.get("type")
        if declared is None:
            return
        names = set(declared) if isinstance(declared, list) else {declared}
        for name in self.constraints:
            if not names.intersection(_APPLIES_TO[name]):
                raise SchemaError(
                    f"`{name}` cannot apply to a field of type `{_type_name(self.type)}`"
                    f" (it constrains `{_APPLIES_TO[name][0]}` values)"
                )

    def to_json_schema(self, _depth: int = 1) -> Dict[str, Any]:
        out = _type_to_json_schema(self.type, _depth)
        self._check_constraints(out)
        if self.items is not None:
            out["items"] = _spec_to_json_schema(self.items, _depth + 1)
        for name, value in self.constraints.items():
            out[_CONSTRAINTS[name]] = value
        if self.enum is not None:
            out["enum"] = self.enum
        if self.const is not ...:
            out["const"] = self.const
        return out

    def __repr__(self) -> str:
        parts = [_type_text(self.type)]
        if not self.required:
            parts.append("required=False")
        if self.items is not None:
            parts.append(f"items={_type_text(self.items)}")
        if self.enum is not None:
            parts.append(f"enum={self.enum!r}")
        if self.const is not ...:
            parts.append(f"const={self.const!r}")
        parts += [f"{k}={v!r}" for k, v in self.constraints.items()]
        return f"Field({', '.join(parts)})"


def _type_text(tp: Any) -> str:
    """A field's type (or items) in a repr: a class by its name (``int``), else its repr."""
    return tp.__name__ if isinstance(tp, type) else repr(tp)


def _type_name(tp: Any) -> str:
    """How a field type is written in Python, for messages."""
    if isinstance(tp, type) and typing.get_origin(tp) is None:
        return tp.__name__
    if tp is None:
        return "None"
    if isinstance(tp, Schema):
        return "Schema"
    if isinstance(tp, Mapping):
        return "dict"
    return repr(tp).replace("typing.", "")


def _type_to_json_schema(tp: Any, depth: int) -> Dict[str, Any]:
    """The JSON Schema of a field type at nesting level ``depth`` (every level is at least one
    level of the document, so past :data:`MAX_SCHEMA_DEPTH` the document is too deep)."""
    if depth > MAX_SCHEMA_DEPTH:
        raise SchemaError(f"the schema is nested deeper than {MAX_SCHEMA_DEPTH} levels")
    if tp is Any:
        return {}
    if isinstance(tp, Schema):
        return dict(tp.json_schema)
    if isinstance(tp, Mapping):
        return _fields_to_json_schema(tp, depth)
    origin = typing.get_origin(tp)
    if origin in _UNION_TYPES:
        members = [_type_to_json_schema(a, depth) for a in typing.get_args(tp)]
        if all(set(m) == {"type"} for m in members):
            types: List[str] = []
            for m in members:
                t = m["type"]
                for name in t if isinstance(t, list) else [t]:
                    if name not in types:
                        types.append(name)
            return {"type": types[0] if len(types) == 1 else types}
        raise SchemaError(f"`Union` of non-scalar types is not supported: {tp!r}")
    if origin in (list, tuple, collections.abc.Sequence):
        args = typing.get_args(tp)
        out: Dict[str, Any] = {"type": "array"}
        if origin is tuple and args and args[-1] is not Ellipsis:
            out["prefixItems"] = [_spec_to_json_schema(a, depth + 1) for a in args]
            out["items"] = False
        elif args:
            out["items"] = _spec_to_json_schema(args[0], depth + 1)
        return out
    try:
        name = _SCALARS[tp]
    except (KeyError, TypeError):
        raise SchemaError(f"unsupported field type {tp!r}") from None
    return {"type": name}


#: The most values a schema given as Python objects may hold once written as JSON, where
#: that is more than twice what it holds (the same dict or list at many places): ``x = {}``,
#: then 60 times ``x = {"a": x, "b": x}``, is 61 dicts, and as JSON text 2**61 (writing it
#: never ended); at 20 times, 4 million values, it compiled in 39 s.
MAX_SCHEMA_VALUES = 1_000_000

#: The types of JSON's scalars, passed over by :func:`_shape_error` without a check.
_LEAVES = frozenset({str, int, float, bool, type(None)})


class _TooDeep(Exception):
    pass


def _shape_error(doc: Any, what: str = "the schema") -> Optional[str]:
    """Why ``doc`` (Python objects) cannot be written as a JSON schema document: its dicts and
    lists (or tuples) nest deeper than :data:`MAX_SCHEMA_DEPTH`, or, sharing containers, it
    would hold more than :data:`MAX_SCHEMA_VALUES` values as JSON; ``None`` when neither.
    Each container is walked once (its height and values remembered), so a container met at
    many places costs one walk, and one met deeper than before is still checked for depth
    there. A container that holds itself is left to ``json.dumps``, which names the cycle."""
    heights: dict[int, Any] = {}  # id -> (height, values), or None while being walked
    held = [0]  # the values it holds: each container with its scalars, once
    alive: list[Any] = []  # (a custom mapping may make its values anew: their ids stay theirs)
    leaves = _LEAVES
    mapping = collections.abc.Mapping

    def walk(value: Any, room: int) -> tuple[int, int]:
        key = id(value)
        if key in heights:
            got = heights[key]
            if got is None:  # a cycle: json.dumps says so
                return 1, 1
            if got[0] > room:
                raise _TooDeep
            return got  # type: ignore[no-any-return]
        if room <= 0:
            raise _TooDeep
        heights[key] = None
        alive.append(value)
        kind = type(value)
        children: Any = value.values() if kind is dict or (
            kind is not list and kind is not tuple and isinstance(value, mapping)
        ) else value
        height, values, scalars = 0, 1, 0
        for child in children:
            kind = type(child)
            if kind in leaves or not (
                kind is dict or kind is list or kind is tuple
                or isinstance(child, (mapping, list, tuple))
            ):
                scalars += 1
                continue
            h, v = walk(child, room - 1)
            if h > height:
                height = h
            values += v
        held[0] += 1 + scalars
        heights[key] = got = (height + 1, values + scalars)
        return got

    kind = type(doc)
    if kind in leaves or not isinstance(doc, (collections.abc.Mapping, list, tuple)):
        return None
    try:
        _, values = walk(doc, MAX_SCHEMA_DEPTH)
    except _TooDeep:
        return f"{what} is nested deeper than {MAX_SCHEMA_DEPTH} levels"
    if values > MAX_SCHEMA_VALUES and values > 2 * held[0]:
        return (
            f"{what} holds the same dicts or lists at so many places that, written as JSON, it"
            f" would hold {values:.3g} values, where it holds {held[0]:,} (at most"
            f" {MAX_SCHEMA_VALUES:,} when repeats more than double them): make each repeat a"
            " `$ref` to one definition"
        )
    return None


def _not_unicode_at(doc: Any) -> Optional[str]:
    """Where ``doc`` holds a str that is not valid Unicode (a lone surrogate, ``"\\ud800"``),
    as a JSON Pointer, ``" (a property name)"`` after it for a key; ``None`` when nowhere.
    Walked only after a compile failed on it (nested at most ``MAX_SCHEMA_DEPTH`` deep)."""

    def bad(s: Any) -> bool:
        if not isinstance(s, str):
            return False
        try:
            s.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False

    return _first_at(doc, bad, bad)


def _not_json_at(doc: Any) -> Optional[str]:
    """Where ``doc`` holds what JSON cannot (a set, a ``Decimal``, bytes, NaN, a key of
    another type than str, int, float or bool), as :func:`_not_unicode_at` says it."""

    def bad_value(v: Any) -> bool:
        if isinstance(v, float):
            return not math.isfinite(v)
        return not (v is None or isinstance(v, (str, int, dict, list, tuple)))

    def bad_key(k: Any) -> bool:
        return bad_value(k) or isinstance(k, (dict, list, tuple))

    return _first_at(doc, bad_value, bad_key)


def _first_at(doc: Any, bad_value: Callable[[Any], bool], bad_key: Callable[[Any], bool]) -> Optional[str]:
    """The JSON Pointer of the first value of ``doc`` that is ``bad_value``, or key that is
    ``bad_key``, depth first; each container walked once (a shared or cyclic one too)."""
    stack: list[tuple[Any, str]] = [(doc, "")]
    seen: set[int] = set()
    while stack:
        value, at = stack.pop()
        if bad_value(value):
            return at or "the root"
        if isinstance(value, (Mapping, list, tuple)):
            if id(value) in seen:
                continue
            seen.add(id(value))
        if isinstance(value, Mapping):
            for key, child in reversed(list(value.items())):
                here = f"{at}/{_token(key)}"
                if bad_key(key):
                    return f"{here} (a property name)"
                stack.append((child, here))
        elif isinstance(value, (list, tuple)):
            stack.extend((child, f"{at}/{i}") for i, child in reversed(list(enumerate(value))))
    return None


def _token(key: Any) -> str:
    """A dict key as a JSON Pointer reference token (RFC 6901 escaping), printable."""
    token = str(key).encode("utf-8", "backslashreplace").decode()
    return token.replace("~", "~0").replace("/", "~1")


def _cycle_at(doc: Any) -> Optional[tuple[str, str, Any]]:
    """Where ``doc`` holds itself (a dict or list that contains itself, at any depth): the
    JSON Pointer of the place where the cycle closes, that of the container met again there
    (its ancestor) and that container; ``None`` when there is no cycle (a container shared
    by two places, neither inside the other, is none). Depth first in document order, each
    container walked once."""
    on_path: dict[int, str] = {}  # the containers being walked, by id: their pointer
    done: set[int] = set()
    stack: list[tuple[Any, str, bool]] = [(doc, "", False)]
    while stack:
        value, at, leaving = stack.pop()
        if leaving:
            done.add(id(value))
            del on_path[id(value)]
            continue
        if not isinstance(value, (Mapping, list, tuple)):
            continue
        if id(value) in on_path:
            return at, on_path[id(value)], value
        if id(value) in done:
            continue
        on_path[id(value)] = at
        stack.append((value, at, True))
        if isinstance(value, Mapping):
            items = [(f"{at}/{_token(key)}", child) for key, child in value.items()]
        else:
            items = [(f"{at}/{i}", child) for i, child in enumerate(value)]
        stack.extend((child, here, False) for here, child in reversed(items))
    return None


def _fragment(pointer: str) -> str:
    """A JSON Pointer as a URI fragment (RFC 6901, section 6)."""
    import urllib.parse  # only for this message: `import satya_adapt` stays light

    return urllib.parse.quote(pointer, safe="/~!$&'()*+,;=:@")


#: How the compiler names a reference it cannot resolve, then the reference (shortened past
#: 200 characters: "... (300 characters)") and where it is: "` (at /properties/a)".
UNRESOLVED = "cannot resolve `$ref` `"


def _unresolved_hint(message: str, doc: Any, draft: Optional[str]) -> str:
    """What to do about the reference to another document that ``message`` says ``doc``
    (of ``draft``, if given) cannot resolve: nothing is fetched or read, so the document it
    names is given in ``resources`` under the URI the reference resolves to (against the
    ids around it, read from ``doc``), or embedded. ``""`` for another message, or a
    reference within the document (``#...``: the message says it all)."""
    start = message.find(UNRESOLVED)
    if start < 0:
        return ""
    ref, _, at = message[start + len(UNRESOLVED):].partition("` (at ")
    if ref.startswith("#"):
        return ""
    declared = str(doc.get("$schema", "")) if isinstance(doc, dict) else ""
    old = draft if draft is not None else declared
    defs = "definitions" if any(n in old for n in ("4", "6", "7")) else "$defs"
    id_ = "id" if "4" in old else "$id"
    if ref.endswith(" characters)"):  # shortened: not repeated
        return (
            " (nothing is fetched or read from files: pass the document it names in"
            " `resources={uri: document}` under the URI it resolves to, or embed it in"
            f" `{defs}` with that URI as its `{id_}`)"
        )
    base = _base_uri(doc, at.removesuffix(")"), id_)
    uri = urllib.parse.urljoin(base, ref).split("#", 1)[0]
    return (
        f" (nothing is fetched or read from files: pass the document it names as"
        f' `resources={{"{uri}": document}}`, or embed it in `{defs}` with `"{id_}": "{uri}"`)'
    )


def _base_uri(doc: Any, at: str, id_: str) -> str:
    """The base URI at ``at`` (a JSON pointer, or ``"the root"``) in ``doc``: the ids (the
    ``id_`` keyword) of the schemas on the way, each resolved against the one before; ``""``
    where there is none, or where the pointer leaves ``doc``."""
    base = ""
    node = doc
    parts = [] if at == "the root" else at.split("/")[1:]
    for i in range(len(parts) + 1):
        if isinstance(node, dict):
            own = node.get(id_)
            if isinstance(own, str):
                base = urllib.parse.urljoin(base, own)
        if i == len(parts):
            break
        part = parts[i].replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            break
    return base


def _not_json_message(doc: Any, resources: Optional[Mapping[str, Any]], exc: Exception) -> str:
    """The message of a schema (or ``resources``) that ``json.dumps`` refused with ``exc``:
    a cycle (json's own message, "Circular reference detected", names no place) or the first
    value JSON cannot hold, placed by a JSON Pointer."""
    for where, tree in (("", doc), (" in `resources`", None if resources is None else dict(resources))):
        cycle = _cycle_at(tree)
        if cycle is None:
            continue
        at, again, node = cycle
        hint = ""
        if isinstance(node, Mapping):
            inside = again
            if where:  # a `$ref` points into its own document: after the resource's key
                cut = again.find("/", 1)
                inside = again[cut:] if cut > 0 else ""
            hint = f' (to refer back, write {{"$ref": "#{_fragment(inside)}"}} there)'
        what = "dict" if isinstance(node, Mapping) else "list"
        return (
            f"the schema is cyclic: the value{where} at {at} is the {what} at"
            f" {again or 'the root'}{hint}"
        )
    place = _not_json_at(doc)
    if place is None and resources is not None:
        place = _not_json_at(dict(resources))
        where = "" if place is None else f" in `resources` at {place}"
    else:
        where = "" if place is None else f" at {place}"
    return f"the schema is not a JSON document{where}: {exc}"


def _spec_to_json_schema(spec: Any, depth: int) -> Dict[str, Any]:
    if isinstance(spec, Field):
        return spec.to_json_schema(depth)
    return _type_to_json_schema(spec, depth)


def _fields_to_json_schema(
    fields: Mapping[str, Any],
    depth: int,
    *,
    additional_properties: bool = True,
    min_properties: Optional[int] = None,
    max_properties: Optional[int] = None,
) -> Dict[str, Any]:
    """The JSON Schema document of an object whose fields are ``fields``, at level ``depth``."""
    properties: Dict[str, Any] = {}
    required: List[str] = []
    for name, spec in fields.items():
        if not isinstance(name, str):
            raise SchemaError(f"field names must be str, got {name!r}")
        properties[name] = _spec_to_json_schema(spec, depth + 1)
        if not (isinstance(spec, Field) and not spec.required):
            required.append(name)
    doc: Dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        doc["required"] = required
    if not additional_properties:
        doc["additionalProperties"] = False
    if min_properties is not None:
        doc["minProperties"] = min_properties
    if max_properties is not None:
        doc["maxProperties"] = max_properties
    return doc


def model_json_schema(source: Any) -> Optional[Any]:
    """The JSON Schema document of a Python model, or ``None`` when ``source`` is not one.

    A pydantic model class (``model_json_schema()``) or ``TypeAdapter`` (``json_schema()``),
    a msgspec ``Struct`` type, a dataclass or a ``TypedDict`` (``msgspec.json.schema``, else
    pydantic's ``TypeAdapter``; pydantic's when the fields carry its constraints, such as
    ``Annotated[int, Field(gt=0)]``, or its models, or the class is a pydantic dataclass).
    Their own export is used whole, so ``$defs``, ``$ref`` and ``anyOf`` carry nested models
    and optional fields.
    """
    export = getattr(source, "model_json_schema", None)
    if isinstance(source, type) and callable(export):
        return _exported(export(), f"{source.__name__}.model_json_schema()")  # a pydantic model class
    if type(source).__module__.startswith("pydantic") and callable(getattr(source, "json_schema", None)):
        return _exported(source.json_schema(), "the TypeAdapter's json_schema()")
    if not isinstance(source, type):
        kind = type(source)
        if dataclasses.is_dataclass(source) or callable(export) or _is_struct(kind):
            raise TypeError(
                f"a schema is a model class, got an instance of `{kind.__name__}`;"
                f" pass the class `{kind.__name__}` itself"
            )
        return None
    is_struct = _is_struct(source)
    if not (is_struct or dataclasses.is_dataclass(source) or _is_typeddict(source)):
        return None
    # Each library's export drops the other's constraints without a word (pydantic's
    # `Field(gt=0)` in a dataclass read by msgspec, msgspec's `Meta` by pydantic): the
    # library whose constraints the annotations carry exports them.
    flavours = _constraint_flavours(source)
    if len(flavours) > 1 or (is_struct and "pydantic" in flavours):
        raise TypeError(
            f"`{source.__name__}` mixes pydantic and msgspec in its fields: each library's JSON"
            " Schema export drops the other's constraints; use one of them"
        )
    if "pydantic" not in flavours:
        try:
            import msgspec
        except ImportError:
            pass
        else:
            return msgspec.json.schema(source)
    try:
        from pydantic import TypeAdapter
    except ImportError:
        raise ImportError(
            f"a schema from `{source.__name__}` needs `msgspec` or `pydantic`: pip install msgspec"
        ) from None
    try:
        return TypeAdapter(source).json_schema()
    except Exception as exc:
        if "pydantic" not in flavours or type(exc).__module__.partition(".")[0] != "pydantic":
            raise
        # Its fields carry pydantic's constraints, which only pydantic exports.
        reason = str(exc).partition("\n")[0]
        raise TypeError(
            f"`{source.__name__}` carries pydantic constraints, and pydantic cannot export it: {reason}"
        ) from exc


def _exported(document: Any, what: str) -> Any:
    """A model's own export, which must be a JSON Schema (else a ``TypeError`` naming it)."""
    if not isinstance(document, (Mapping, bool)):
        raise TypeError(f"`{what}` returned {type(document).__name__}, not a JSON Schema (a dict)")
    return document


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and any(
        base.__module__ == "msgspec" and base.__name__ == "Struct" for base in tp.__mro__[1:]
    )


#: Top-level modules whose objects in an annotation (or a dataclass default) are constraints
#: of that library (`pydantic.Field`, `annotated_types.Gt`, `msgspec.Meta`), or whose classes
#: only it exports (a pydantic model field).
_FLAVOURS = {"pydantic": "pydantic", "pydantic_core": "pydantic", "annotated_types": "pydantic",
             "msgspec": "msgspec"}


def _constraint_flavours(source: type) -> Set[str]:
    """The libraries (``"pydantic"``, ``"msgspec"``) whose constraints or model classes the
    fields of ``source`` carry, nested dataclasses, TypedDicts and generics included."""
    found: Set[str] = set()
    seen: Set[int] = set()
    held: List[Any] = []  # (keeps what was seen alive, so no id is reused)

    def note(obj: Any) -> None:
        flavour = _FLAVOURS.get(type(obj).__module__.partition(".")[0])
        if flavour is not None:
            found.add(flavour)

    def walk(tp: Any) -> None:
        if id(tp) in seen:
            return
        seen.add(id(tp))
        held.append(tp)
        args = typing.get_args(tp)
        if typing.get_origin(tp) is typing.Annotated:
            walk(args[0])
            for meta in args[1:]:
                note(meta)
            return
        for arg in args:
            walk(arg)
        if not isinstance(tp, type):
            return
        if hasattr(tp, "__pydantic_fields__") or callable(getattr(tp, "model_json_schema", None)):
            found.add("pydantic")  # a pydantic dataclass or model
            return
        if not (dataclasses.is_dataclass(tp) or _is_typeddict(tp) or _is_struct(tp)):
            return
        try:
            hints = typing.get_type_hints(tp, include_extras=True)
        except Exception:  # (unresolved forward references: the export says so)
            hints = {}
        for hint in hints.values():
            walk(hint)
        if dataclasses.is_dataclass(tp):
            for field in dataclasses.fields(tp):
                note(field.default)

    walk(source)
    return found


def _is_typeddict(tp: Any) -> bool:
    is_typeddict = getattr(typing, "is_typeddict", None)
    if is_typeddict is not None and is_typeddict(tp):
        return True
    return isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__total__")


class Schema:
    """A compiled schema.

    Pythonic: ``Schema({"name": Field(str, min_length=1), "age": int}, additional_properties=False)``;
    or from JSON Schema: ``Schema.from_json_schema({"type": "object", ...})``. Compiling checks
    every keyword's value; unknown keywords are annotations unless ``strict=True``.
    ``additional_properties`` is ``True`` or ``False`` (anything else raises ``TypeError``).
    """

    __slots__ = ("_json_schema", "_compiled", "_options")

    def __init__(
        self,
        fields: Mapping[str, Any],
        *,
        additional_properties: bool = True,
        min_properties: Optional[int] = None,
        max_properties: Optional[int] = None,
    ) -> None:
        if not isinstance(fields, Mapping):
            raise TypeError(f"`fields` must be a mapping of names to types, got {type(fields).__name__}")
        if isinstance(additional_properties, Mapping):
            raise TypeError(
                f"`additional_properties` must be True or False, got {additional_properties!r:.60};"
                " a schema for the other properties needs Schema.from_json_schema"
                ' ("additionalProperties": {...})'
            )
        doc = _fields_to_json_schema(
            fields,
            1,
            # checked: a schema dict here (as JSON Schema allows) would be read as True
            additional_properties=check_flag("additional_properties", additional_properties),
            min_properties=min_properties,
            max_properties=max_properties,
        )
        self._init(doc)

    def _init(
        self,
        doc: Any,
        draft: Optional[str] = None,
        strict: bool = False,
        resources: Optional[Mapping[str, Any]] = None,
        formats: bool = True,
        warn: bool = True,
    ) -> None:
        self._json_schema = doc
        # What `from_json_schema` needs to compile the same schema again (pickling a Validator).
        self._options = (draft, strict, None if resources is None else dict(resources), formats)
        shape = _shape_error(doc)
        if shape is None and resources is not None:
            shape = _shape_error(dict(resources), "`resources`")
        if shape is not None:
            raise SchemaError(shape)
        try:
            # (not ASCII-escaped: a lone surrogate, escaped, read as broken JSON text, "unexpected
            # end of hex escape at line 1 column 24", of a text the user never wrote)
            text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
            resources_text = (
                None if resources is None
                else json.dumps(dict(resources), allow_nan=False, ensure_ascii=False)
            )
        except (TypeError, ValueError) as exc:
            raise SchemaError(_not_json_message(doc, resources, exc)) from None
        # What was compiled, kept apart from the caller's document (changed after, it changed
        # what a pickled validator compiled in another process), its keys as compiled.
        self._json_schema = json.loads(text)
        if resources_text is not None:
            self._options = (draft, strict, json.loads(resources_text), formats)
        try:
            self._compiled = _validator.CompiledSchema(text, draft, strict, resources_text, formats)
        except SchemaError as exc:
            hint = _unresolved_hint(str(exc), self._json_schema, draft)
            if not hint:
                raise
            error = SchemaError(str(exc) + hint)
            # (the command line gives its own hint: files under the schema's folder)
            error.without_hint = str(exc)  # type: ignore[attr-defined]
            raise error from None
        except UnicodeEncodeError:
            at = _not_unicode_at(doc)
            where = f"at {at}" if at is not None else f"in `resources` at {_not_unicode_at(resources)}"
            raise SchemaError(
                f"the schema holds a string that is not valid Unicode (a lone surrogate) {where}"
            ) from None
        if warn:
            for message in self._compiled.warnings:
                warn_at_user(message, SchemaWarning, may_raise=True)

    @classmethod
    def from_json_schema(
        cls,
        document: Union[Mapping[str, Any], bool],
        *,
        draft: Optional[str] = None,
        strict: bool = False,
        resources: Optional[Mapping[str, Any]] = None,
        formats: bool = True,
    ) -> Schema:
        """Compiles a JSON Schema document (drafts 4, 6, 7, 2019-09, 2020-12).

        The draft is the one ``$schema`` names, else 2020-12; ``draft`` (``"4"``, ``"6"``,
        ``"7"``, ``"2019-09"``, ``"2020-12"``) overrides it. Each name may also follow
        ``draft`` or ``draft-`` (``"draft7"``, ``"draft-2020-12"``), and those of drafts 4, 6
        and 7 have two digits too, as their meta-schemas' URIs write them (``"07"``,
        ``"draft-07"``); any other str is a ``ValueError``. Unknown keywords are annotations,
        unless ``strict``: then one :class:`SchemaError` lists them all. ``resources`` maps
        URIs to documents that references may name (nothing is fetched). ``formats`` (default
        ``True``) asserts the formats the draft defines; ``False`` makes ``format`` an annotation.
        """
        if not isinstance(document, (Mapping, bool)):
            raise TypeError(f"a JSON Schema is a dict or a bool, got {type(document).__name__}")
        if draft is not None and not isinstance(draft, str):
            raise TypeError(f"`draft` must be a str, got {type(draft).__name__}")
        if resources is not None:
            if not isinstance(resources, Mapping):
                raise TypeError(f"`resources` must be a mapping of URIs to documents, got {type(resources).__name__}")
            for uri in resources:
                if not isinstance(uri, str):
                    raise TypeError(f"`resources` keys must be str URIs, got {type(uri).__name__}")
        self = cls.__new__(cls)
        self._init(
            # (the caller's dict itself: a cycle back to its root is then placed there)
            dict(document) if isinstance(document, Mapping) and not isinstance(document, dict) else document,
            draft,
            check_flag("strict", strict),
            resources,
            check_flag("formats", formats),
        )
        return self

    @classmethod
    def from_model(
        cls,
        model: Any,
        *,
        strict: bool = False,
        resources: Optional[Mapping[str, Any]] = None,
        formats: bool = True,
    ) -> Schema:
        """Compiles the JSON Schema that a Python model exports (see :func:`model_json_schema`):
        a pydantic model class or ``TypeAdapter``, a msgspec ``Struct`` type, a dataclass, a
        ``TypedDict``. ``strict``, ``resources`` and ``formats`` as in
        :meth:`from_json_schema`."""
        document = model_json_schema(model)
        if document is None:
            raise TypeError(
                "`model` must be a pydantic model or TypeAdapter, a msgspec Struct type, a dataclass"
                f" or a TypedDict, got {_describe(model)}"
            )
        return cls.from_json_schema(document, strict=strict, resources=resources, formats=formats)

    @property
    def json_schema(self) -> Any:
        """The JSON Schema document this schema compiles."""
        return self._json_schema

    @property
    def field_count(self) -> int:
        """Leaf fields of the schema (a profile feature)."""
        return int(self._compiled.field_count)

    @property
    def constraint_complexity(self) -> float:
        """0..1, the cost-weighted score of the schema's checks (a profile feature)."""
        return float(self._compiled.constraint_complexity)

    def __repr__(self) -> str:
        return f"Schema({json.dumps(self._json_schema)[:200]})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles (and copies) as its document and options, compiled again on arrival, as a
        :class:`~satya_adapt.Validator` does (the compiled schema itself cannot be)."""
        return (_compiled_again, (self._json_schema, *self._options))


def _compiled_again(
    doc: Any, draft: Optional[str], strict: bool, resources: Optional[Mapping[str, Any]], formats: bool
) -> Schema:
    """A :class:`Schema` from what :meth:`Schema.__reduce__` pickled (its warnings were said
    where it was compiled first)."""
    schema = Schema.__new__(Schema)
    schema._init(doc, draft, strict, resources, formats, warn=False)
    return schema


def _describe(value: Any) -> str:
    """A value's kind for a message: a class by its name, anything else by its type."""
    if isinstance(value, type):
        return f"the class `{value.__name__}`"
    return f"`{type(value).__name__}`"
