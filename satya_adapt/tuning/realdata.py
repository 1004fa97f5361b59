"""Real-data workloads: real schemas and real record shapes, beside the synthetic generators.

Two sources in the shared data folder (``<repo>/../shared``, or ``SATYA_ADAPT_SHARED``):

- ``realdata/`` (simdjson's ``jsonexamples``): Twitter statuses (``twitter.json``, 100 records of
  about 4.6 KB, nested), the performances of an event catalogue (``citm_catalog.json``) and
  product rows (``amazon_cellphones.ndjson``, a header line of column names, then one product
  per line as a JSON array, turned into objects here). No schema comes with them: the schemas
  below are written for them (types, required fields, bounds, a pattern or a format where the
  data has one).
- ``schemastore/``: real-world JSON Schemas with their test instances; a schema is used when
  it compiles without other files and all of its valid instances are objects that it accepts.
  Its records are those instances.

Records are repeated to ``n`` (a shallow copy per record, so that records are distinct
objects). Every record of a real-data workload is valid (the instances are SchemaStore's
``valid`` ones, the hand-written schemas accept their data; :func:`check` verifies it).

**Held out.** :func:`workloads` marks each workload ``held_out`` or not: Twitter statuses and
every third SchemaStore schema (by a stable hash of its name) are kept out of training, for
``benchmarks/eval_budgets.py``; the others are training workloads.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

__all__ = [
    "SHARED_ENV_VAR",
    "RealWorkload",
    "check",
    "encode",
    "shared_dir",
    "tiled",
    "training_workloads",
    "workloads",
]

#: Environment variable naming the shared data folder (default ``<repo>/../shared``).
SHARED_ENV_VAR = "SATYA_ADAPT_SHARED"
#: SchemaStore instances larger than this are skipped (bytes of compact JSON).
MAX_INSTANCE_BYTES = 256 * 1024


class RealWorkload(NamedTuple):
    """A real schema with records: ``source`` is ``"realdata"`` or ``"schemastore"``."""

    name: str
    source: str
    schema: Any
    records: list[Any]
    held_out: bool

    @property
    def object_size(self) -> float:
        """Mean bytes of compact JSON per distinct record."""
        distinct = self.records[: min(len(self.records), 200)]
        return sum(len(_compact(r)) for r in distinct) / max(1, len(distinct))


def _compact(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def shared_dir(root: str | None = None) -> str | None:
    """The shared data folder: ``SATYA_ADAPT_SHARED``, else ``<repo>/../shared``; ``None``
    when neither exists."""
    env = os.environ.get(SHARED_ENV_VAR)
    if env:
        return env if os.path.isdir(env) else None
    if root is None:
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    candidate = os.path.join(os.path.dirname(root), "shared")
    return candidate if os.path.isdir(candidate) else None


def _repeat(records: Sequence[Any], n: int | None) -> list[Any]:
    if n is None:
        return list(records)  # the distinct records
    out: list[Any] = []
    while len(out) < n and records:
        for r in records:
            if len(out) >= n:
                break
            out.append(dict(r) if isinstance(r, dict) else r)
    return out


def _held_out(name: str) -> bool:
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 3 == 0


TWITTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "id_str", "text", "created_at", "user", "entities", "retweet_count"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "id_str": {"type": "string", "pattern": "^[0-9]+$"},
        "text": {"type": "string", "minLength": 1, "maxLength": 1000},
        "created_at": {"type": "string", "minLength": 20},
        "lang": {"type": "string", "maxLength": 8},
        "retweet_count": {"type": "integer", "minimum": 0},
        "favorite_count": {"type": "integer", "minimum": 0},
        "user": {
            "type": "object",
            "required": ["id", "screen_name", "followers_count"],
            "properties": {
                "id": {"type": "integer", "minimum": 0},
                "screen_name": {"type": "string", "minLength": 1, "maxLength": 50},
                "followers_count": {"type": "integer", "minimum": 0},
                "lang": {"type": "string"},
                "url": {"type": ["string", "null"]},
            },
        },
        "entities": {
            "type": "object",
            "properties": {
                "hashtags": {"type": "array", "items": {"type": "object"}},
                "urls": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
}

CITM_PERFORMANCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "eventId", "start", "venueCode", "prices", "seatCategories"],
    "properties": {
        "id": {"type": "integer", "minimum": 0},
        "eventId": {"type": "integer", "minimum": 0},
        "start": {"type": "integer", "minimum": 0},
        "venueCode": {"type": "string", "minLength": 1},
        "name": {"type": ["string", "null"]},
        "prices": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["amount", "seatCategoryId"],
                "properties": {
                    "amount": {"type": "integer", "minimum": 0},
                    "seatCategoryId": {"type": "integer"},
                },
            },
        },
        "seatCategories": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["areas", "seatCategoryId"],
                "properties": {"areas": {"type": "array"}, "seatCategoryId": {"type": "integer"}},
            },
        },
    },
}

AMAZON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["asin", "brand", "title", "rating", "totalReviews"],
    "properties": {
        "asin": {"type": "string", "pattern": "^[A-Z0-9]{10}$"},
        "brand": {"type": "string"},
        "title": {"type": "string", "minLength": 1},
        "url": {"type": "string"},
        "image": {"type": "string"},
        "rating": {"type": "number", "minimum": 0, "maximum": 5},
        "reviewUrl": {"type": "string"},
        "totalReviews": {"type": "integer", "minimum": 0},
        "prices": {"type": ["string", "number", "null"]},
    },
}


def _realdata(folder: str, n: int | None) -> Iterator[RealWorkload]:
    path = os.path.join(folder, "twitter.json")
    if os.path.isfile(path):
        with open(path, "rb") as f:
            statuses = json.load(f)["statuses"]
        yield RealWorkload("twitter-statuses", "realdata", TWITTER_SCHEMA, _repeat(statuses, n), True)
    path = os.path.join(folder, "citm_catalog.json")
    if os.path.isfile(path):
        with open(path, "rb") as f:
            performances = json.load(f)["performances"]
        yield RealWorkload(
            "citm-performances", "realdata", CITM_PERFORMANCE_SCHEMA, _repeat(performances, n), False
        )
    path = os.path.join(folder, "amazon_cellphones.ndjson")
    if os.path.isfile(path):
        with open(path, "rb") as f:
            lines = [json.loads(line) for line in f if line.strip()]
        header, rows = lines[0], lines[1:]
        products = [dict(zip(header, row)) for row in rows if isinstance(row, list)]
        yield RealWorkload("amazon-products", "realdata", AMAZON_SCHEMA, _repeat(products, n), False)


def _schemastore(folder: str, n: int | None, limit: int | None) -> Iterator[RealWorkload]:
    from ..schema import Schema

    schemas = os.path.join(folder, "schemas")
    valid = os.path.join(folder, "valid")
    if not os.path.isdir(schemas) or not os.path.isdir(valid):
        return
    count = 0
    for name in sorted(os.listdir(valid)):
        if limit is not None and count >= limit:
            return
        schema_path = os.path.join(schemas, f"{name}.json")
        if not os.path.isfile(schema_path):
            continue
        instances = []
        folder_of = os.path.join(valid, name)
        for file in sorted(os.listdir(folder_of)):
            try:
                with open(os.path.join(folder_of, file), "rb") as f:
                    instances.append(json.load(f))
            except (OSError, ValueError):
                instances = []
                break
        if not instances or not all(isinstance(i, dict) for i in instances):
            continue
        if any(len(_compact(i)) > MAX_INSTANCE_BYTES for i in instances):
            continue
        try:
            with open(schema_path, "rb") as f:
                document = json.load(f)
            compiled = Schema.from_json_schema(document)
        except Exception:  # a schema that needs other files, or that this engine refuses
            continue
        from ..validator import Validator

        if not Validator(compiled, adapt=False).validate_batch(instances).all_valid:
            continue
        count += 1
        yield RealWorkload(name, "schemastore", document, _repeat(instances, n), _held_out(name))


def workloads(
    n: int | None = 2000,
    *,
    shared: str | None = None,
    schemastore_limit: int | None = None,
) -> list[RealWorkload]:
    """The real-data workloads of ``n`` records each (``None``: the distinct records as read;
    none when the shared folder is missing): the three of ``realdata/``, then the usable
    SchemaStore schemas (at most ``schemastore_limit``), in a stable order."""
    folder = shared or shared_dir()
    if folder is None:
        return []
    out = list(_realdata(os.path.join(folder, "realdata"), n))
    out.extend(_schemastore(os.path.join(folder, "schemastore"), n, schemastore_limit))
    return out


def check(workload: RealWorkload) -> bool:
    """Whether every record of ``workload`` is valid against its schema."""
    from ..validator import Validator

    return Validator(workload.schema, adapt=False).validate_batch(workload.records).all_valid


_TRAINING: dict[str, dict[str, RealWorkload]] = {}


def training_workloads(shared: str | None = None) -> dict[str, RealWorkload]:
    """The training workloads (never a held-out one) by name, each with its distinct records;
    read once per folder (empty when the shared folder is missing). The optimizer draws its
    real-data workloads from these."""
    folder = shared or shared_dir()
    if folder is None:
        return {}
    if folder not in _TRAINING:
        _TRAINING[folder] = {
            w.name: w for w in workloads(None, shared=folder) if not w.held_out
        }
    return _TRAINING[folder]


def tiled(workload: RealWorkload, n: int, seed: int) -> list[Any]:
    """``n`` records of ``workload``: its distinct records in the order ``seed`` shuffles them,
    repeated (the same objects)."""
    import random

    records = list(workload.records)
    random.Random(seed).shuffle(records)
    reps = -(-n // max(1, len(records)))
    return (records * reps)[:n]


def encode(records: Sequence[Any], kind: str) -> Any:
    """``records`` as the input kind gives them: the list itself (``"dicts"``), a compact JSON
    array or NDJSON (bytes)."""
    import orjson

    if kind == "dicts":
        return list(records)
    texts = [orjson.dumps(r) for r in records]
    if kind == "json":
        return b"[" + b",".join(texts) + b"]"
    return b"\n".join(texts) + b"\n"
