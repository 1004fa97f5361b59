#!/usr/bin/env python3
"""Real-world speed: satya-adapt against jsonschema-rs on SchemaStore schemas and on Twitter
statuses, one interleaved run, T=1 (issue 10, "Speed").

Workloads:

- every SchemaStore schema (``../shared/schemastore``) that has instances and that both
  libraries compile, its instances (valid and invalid) repeated into a batch of ``--n``
  records (default 20,000);
- ``twitter``: the 100 statuses of ``../shared/realdata/twitter.json`` (~4.6 KB each, nested
  ``user``, ``entities``, ``retweeted_status``) repeated to ``--n`` records, against
  :data:`TWITTER_SCHEMA` (references, a recursive ``$ref``, ``anyOf``, ``patternProperties``).

For each workload and input kind, correctness first (both libraries must give the same
verdict for every record; a workload where they differ is reported and not timed), then
interleaved rounds (order shuffled per round; the harness of ``satya_adapt/tuning/measure.py``):

- dicts: ``Validator.validate_batch(records, threads=1)`` vs jsonschema-rs ``is_valid`` per item;
- json: ``validate_json(bytes, threads=1)`` vs ``orjson.loads`` + ``is_valid`` per item;
- ndjson: ``validate_ndjson(bytes, threads=1)`` vs ``orjson.loads`` per line + ``is_valid``.

satya-adapt runs twice in each round: as called by default, building every error of every
failing record (message, path, schema path), and with ``errors=False``, the verdicts alone,
which is what ``is_valid`` answers. The figure is the speedup of each (median over rounds of
the paired ratio against jsonschema-rs), then its minimum and median over the schemas.
Targets: dicts >= 1x on every schema and median >= 1.5x; json and ndjson >= 2x. With
``--iter-errors``, the default call on dicts is also timed against the peer that does its work,
jsonschema-rs ``list(iter_errors(record))`` per item (every error of every record; no target:
context for the default call, which ``is_valid`` does not do). Results go to
``--json`` and ``--markdown`` (default ``benchmarks/results/realworld.{json,md}``).

    python benchmarks/bench_realworld.py                  # every schema (long: hours on 2 cores)
    python benchmarks/bench_realworld.py --schemas 40     # a seeded sample of 40 schemas
    python benchmarks/bench_realworld.py --quick          # a small run that only shows it works
    python benchmarks/bench_realworld.py --schemas 40 --kinds dicts --iter-errors --n 2000 \
        --json benchmarks/results/realworld_errors.json --markdown benchmarks/results/realworld_errors.md
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from collections.abc import Callable, Iterator
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import jsonschema_rs
import orjson
from schemastore import Corpus

from satya_adapt import SchemaError, Validator
from satya_adapt.tuning import measure

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
KINDS = ("dicts", "json", "ndjson")
OURS, VERDICTS, THEIRS = "satya-adapt T=1", "satya-adapt T=1 errors=False", "jsonschema-rs"
#: The peer of the default call on dicts: every error of every record, as it builds them.
THEIR_ERRORS = "jsonschema-rs iter_errors"
#: Our two ways, by the key of their figures in a row and in the summary.
OUR_WAYS = {"speedup": OURS, "verdicts_speedup": VERDICTS}
TARGETS = {"dicts": (1.0, 1.5), "json": (2.0, 2.0), "ndjson": (2.0, 2.0)}

_STR = {"type": "string"}
_STR_OR_NULL = {"type": ["string", "null"]}
_INT = {"type": "integer", "minimum": 0}
_URL = {"type": "string", "pattern": "^https?://"}
#: A schema for Twitter API statuses (search results): what such a record must hold.
TWITTER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$ref": "#/$defs/status",
    "$defs": {
        "status": {
            "type": "object",
            "required": ["created_at", "id", "id_str", "text", "user", "entities", "retweet_count"],
            "properties": {
                "metadata": {"type": "object", "properties": {"result_type": _STR, "iso_language_code": _STR}},
                "created_at": {"type": "string", "pattern": "^[A-Z][a-z]{2} [A-Z][a-z]{2} [0-9]{2} "},
                "id": _INT,
                "id_str": {"type": "string", "pattern": "^[0-9]+$"},
                "text": {"type": "string", "maxLength": 1000},
                "source": _STR,
                "truncated": {"type": "boolean"},
                "in_reply_to_status_id": {"anyOf": [_INT, {"type": "null"}]},
                "in_reply_to_user_id": {"anyOf": [_INT, {"type": "null"}]},
                "in_reply_to_screen_name": _STR_OR_NULL,
                "user": {"$ref": "#/$defs/user"},
                "retweeted_status": {"$ref": "#/$defs/status"},
                "retweet_count": _INT,
                "favorite_count": _INT,
                "entities": {"$ref": "#/$defs/entities"},
                "favorited": {"type": "boolean"},
                "retweeted": {"type": "boolean"},
                "lang": _STR,
            },
            "patternProperties": {"_str$": _STR_OR_NULL},
        },
        "user": {
            "type": "object",
            "required": ["id", "id_str", "name", "screen_name", "followers_count"],
            "properties": {
                "id": _INT,
                "id_str": {"type": "string", "pattern": "^[0-9]+$"},
                "name": _STR,
                "screen_name": {"type": "string", "minLength": 1, "maxLength": 20},
                "location": _STR,
                "description": _STR,
                "url": {"anyOf": [_URL, {"type": "null"}]},
                "entities": {"type": "object"},
                "protected": {"type": "boolean"},
                "followers_count": _INT,
                "friends_count": _INT,
                "listed_count": _INT,
                "favourites_count": _INT,
                "statuses_count": _INT,
                "verified": {"type": "boolean"},
                "lang": _STR,
                "profile_image_url": _URL,
                "profile_image_url_https": {"type": "string", "pattern": "^https://"},
            },
            "patternProperties": {"_color$": {"type": "string", "pattern": "^[0-9A-F]{6}$"}},
        },
        "entities": {
            "type": "object",
            "properties": {
                "hashtags": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
                "symbols": {"type": "array", "items": {"$ref": "#/$defs/tag"}},
                "urls": {"type": "array", "items": {"type": "object", "required": ["url"], "properties": {"url": _URL}}},
                "user_mentions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["screen_name", "id"],
                        "properties": {"screen_name": _STR, "id": _INT, "indices": {"$ref": "#/$defs/indices"}},
                    },
                },
                "media": {"type": "array"},
            },
        },
        "tag": {"type": "object", "required": ["text"], "properties": {"text": _STR, "indices": {"$ref": "#/$defs/indices"}}},
        "indices": {"type": "array", "items": _INT, "minItems": 2, "maxItems": 2},
    },
}


def twitter_records() -> list[Any] | None:
    path = os.path.join(str(Corpus().root.parent), "realdata", "twitter.json")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as fh:
        statuses: list[Any] = json.load(fh)["statuses"]
    return statuses


Runner = Callable[[], list[bool]]


class Workload:
    """A schema, its two compiled validators and a batch of records in every input kind."""

    def __init__(self, name: str, schema: Any, resources: dict[str, Any], base_uri: str, retrieve: Any,
                 docs: list[Any], n: int) -> None:  # fmt: skip
        self.name = name
        self.ours = Validator(schema, adapt=False, resources=resources)
        self.theirs = jsonschema_rs.validator_for(
            schema, validate_formats=True, retriever=retrieve, base_uri=base_uri
        )
        self.records = [docs[i % len(docs)] for i in range(n)]
        self.json = orjson.dumps(self.records)
        self.ndjson = b"\n".join(orjson.dumps(r) for r in self.records) + b"\n"
        self.record_bytes = len(self.json) / n

    def runners(self, kind: str) -> tuple[Runner, Runner, Runner]:
        """Ours with every error, ours with the verdicts alone, theirs."""
        ours, is_valid = self.ours, self.theirs.is_valid
        if kind == "dicts":
            records = self.records
            return (
                lambda: ours.validate_batch(records, threads=1).valid,
                lambda: ours.validate_batch(records, threads=1, errors=False).valid,
                lambda: [is_valid(r) for r in records],
            )
        if kind == "json":
            data = self.json
            return (
                lambda: ours.validate_json(data, threads=1).valid,
                lambda: ours.validate_json(data, threads=1, errors=False).valid,
                lambda: [is_valid(r) for r in orjson.loads(data)],
            )
        lines = self.ndjson
        return (
            lambda: ours.validate_ndjson(lines, threads=1).valid,
            lambda: ours.validate_ndjson(lines, threads=1, errors=False).valid,
            lambda: [is_valid(orjson.loads(line)) for line in lines.splitlines() if line],
        )


    def errors_runner(self) -> Runner:
        """Theirs building every error of every record (dicts), as our default call does."""
        iter_errors, records = self.theirs.iter_errors, self.records
        return lambda: [not list(iter_errors(r)) for r in records]


def workloads(args: argparse.Namespace, skipped: list[dict[str, str]]) -> Iterator[Workload]:
    """The workloads, built one at a time (each holds ``--n`` records three ways: all of them
    at once would not fit in memory for the whole corpus); those that cannot be built go to
    ``skipped`` with the reason."""
    corpus = Corpus()
    names = corpus.with_instances() if corpus.present() else []
    if args.schemas is not None and args.schemas < len(names):
        names = sorted(random.Random(args.seed).sample(names, args.schemas))
    for name in names:
        docs = [d for kind in ("valid", "invalid") for _, d in corpus.instances(name, kind)]
        try:
            w = Workload(name, corpus.schema(name), corpus.resources(name), corpus.base_uri(name),
                         corpus.retrieve, docs, args.n)  # fmt: skip
        except SchemaError as exc:
            skipped.append({"workload": name, "why": f"satya-adapt: {str(exc)[:120]}"})
            continue
        except Exception as exc:  # jsonschema-rs raises its own types
            skipped.append({"workload": name, "why": f"jsonschema-rs: {str(exc).splitlines()[0][:120]}"})
            continue
        yield w
    statuses = twitter_records()
    if statuses is not None and args.twitter:
        yield Workload("twitter", TWITTER_SCHEMA, {}, "https://example.com/twitter.json", None,
                       statuses, args.n)  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    skipped: list[dict[str, str]] = []
    rows: list[dict[str, Any]] = []
    for i, w in enumerate(workloads(args, skipped)):
        for kind in args.kinds:
            ours, verdicts, theirs = w.runners(kind)
            a, v, b = ours(), verdicts(), theirs()
            row: dict[str, Any] = {"workload": w.name, "kind": kind, "records": args.n,
                                   "record_bytes": round(w.record_bytes, 1), "invalid": a.count(False)}  # fmt: skip
            contenders = [(OURS, ours), (VERDICTS, verdicts), (THEIRS, theirs)]
            if kind == "dicts" and args.iter_errors:
                their_errors = w.errors_runner()
                differ = sum(x != y for x, y in zip(their_errors(), b))
                if differ:
                    # Their two ways disagree: that peer is left out of this row.
                    row["iter_errors_disagree"] = differ
                else:
                    contenders.append((THEIR_ERRORS, their_errors))
            if a != b or v != b:
                row["disagree"] = sum(x != y or z != y for x, z, y in zip(a, v, b))
                rows.append(row)
                continue
            m = measure.run_rounds(
                [measure.Contender(name, f, args.n) for name, f in contenders],
                rounds=args.rounds,
                warmup=1,
                seed=args.seed + i,
            )
            for key, name in OUR_WAYS.items():
                s = m.speedup(name, THEIRS)
                row[key] = round(s.median, 3)
                row[key.replace("speedup", "ci")] = [round(s.ci.low, 3), round(s.ci.high, 3)]
            if len(contenders) == 4:
                s = m.speedup(OURS, THEIR_ERRORS)
                row["errors_peer_speedup"] = round(s.median, 3)
                row["errors_peer_ci"] = [round(s.ci.low, 3), round(s.ci.high, 3)]
                row["their_errors_items_per_s"] = round(m.summary(THEIR_ERRORS).items_per_s)
            row.update(
                ours_items_per_s=round(m.summary(OURS).items_per_s),
                verdicts_items_per_s=round(m.summary(VERDICTS).items_per_s),
                theirs_items_per_s=round(m.summary(THEIRS).items_per_s),
            )
            rows.append(row)
        if args.progress:
            print(f"[{i + 1}] {w.name}", file=sys.stderr, flush=True)
    return {
        "provenance": measure.provenance(["satya-adapt", "jsonschema-rs", "orjson"], repo=ROOT),
        "settings": {"n": args.n, "rounds": args.rounds, "seed": args.seed, "schemas": args.schemas},
        "rows": rows,
        "skipped": skipped,
        "summary": summarize(rows),
    }


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per input kind, and per way of ours (``speedup``: every error built, the default;
    ``verdicts_speedup``: ``errors=False``), the minimum and median speedup over the workloads."""
    out: dict[str, Any] = {}
    for kind in KINDS:
        timed = [r for r in rows if r["kind"] == kind and "speedup" in r]
        if not timed:
            continue
        floor, want_median = TARGETS[kind]
        for key in OUR_WAYS:
            ratios = sorted(r[key] for r in timed)
            med = measure.median(ratios)
            out[kind if key == "speedup" else f"{kind}, errors=False"] = {
                "workloads": len(timed),
                "min": ratios[0],
                "median": round(med, 3),
                "below_floor": sorted(r["workload"] for r in timed if r[key] < floor),
                "target": f"every workload >= {floor}x, median >= {want_median}x",
                "met": ratios[0] >= floor and med >= want_median,
            }
        against_errors = sorted(r["errors_peer_speedup"] for r in timed if "errors_peer_speedup" in r)
        if against_errors:
            out[f"{kind}, default call vs iter_errors"] = {
                "workloads": len(against_errors),
                "min": against_errors[0],
                "median": round(measure.median(against_errors), 3),
                "below_floor": sorted(r["workload"] for r in timed if r.get("errors_peer_speedup", 1) < 1),
                "target": "none (context: the peer that builds every error)",
                "met": None,
            }
    return out


def markdown(doc: dict[str, Any]) -> str:
    p = doc["provenance"]
    lines = [
        "# Real-world benchmark: satya-adapt vs jsonschema-rs (T=1)",
        "",
        f"{p['cpu']}, {p['usable_cores']} usable cores, load {p['load_average']}; "
        f"n={doc['settings']['n']} records per batch, {doc['settings']['rounds']} rounds.",
        "",
        "## Summary",
        "",
        "Each kind twice: satya-adapt as called by default (every error of every failing record",
        "built) and with `errors=False` (the verdicts alone, as `is_valid` answers).",
        "",
        "| kind | workloads | min | median | target | met | below the floor |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for kind, s in doc["summary"].items():
        below = ", ".join(s["below_floor"][:12]) + (" ..." if len(s["below_floor"]) > 12 else "")
        met = "-" if s["met"] is None else "yes" if s["met"] else "no"
        lines.append(f"| {kind} | {s['workloads']} | {s['min']:.2f}x | {s['median']:.2f}x | {s['target']} | "
                     f"{met} | {below} |")  # fmt: skip
    lines += ["", "## Per workload", "", "| workload | kind | bytes/record | invalid | speedup | 95% CI | errors=False | 95% CI | satya-adapt items/s | errors=False items/s | jsonschema-rs items/s |",
              "|---|---|---:|---:|---:|---|---:|---|---:|---:|---:|"]  # fmt: skip
    for r in doc["rows"]:
        if "speedup" in r:
            lines.append(f"| {r['workload']} | {r['kind']} | {r['record_bytes']:.0f} | {r['invalid']:,} | {r['speedup']:.2f}x | "
                         f"{r['ci'][0]:.2f}-{r['ci'][1]:.2f} | {r['verdicts_speedup']:.2f}x | "
                         f"{r['verdicts_ci'][0]:.2f}-{r['verdicts_ci'][1]:.2f} | {r['ours_items_per_s']:,} | "
                         f"{r['verdicts_items_per_s']:,} | {r['theirs_items_per_s']:,} |")  # fmt: skip
        else:
            lines.append(f"| {r['workload']} | {r['kind']} | {r['record_bytes']:.0f} | {r['invalid']:,} | not timed: the "
                         f"verdicts differ on {r['disagree']} records | | | | | | |")  # fmt: skip
    against = [r for r in doc["rows"] if "errors_peer_speedup" in r]
    if against:
        lines += ["", "## The default call against jsonschema-rs building its errors (dicts)", "",
                  "`validate_batch(records, threads=1)` (every error of every failing record built) against",
                  "`list(iter_errors(record))` per item, in the same rounds.", "",
                  "| workload | invalid | speedup | 95% CI | satya-adapt items/s | iter_errors items/s |",
                  "|---|---:|---:|---|---:|---:|"]  # fmt: skip
        for r in against:
            lines.append(f"| {r['workload']} | {r['invalid']:,} | {r['errors_peer_speedup']:.2f}x | "
                         f"{r['errors_peer_ci'][0]:.2f}-{r['errors_peer_ci'][1]:.2f} | {r['ours_items_per_s']:,} | "
                         f"{r['their_errors_items_per_s']:,} |")  # fmt: skip
    if doc["skipped"]:
        lines += ["", "## Not measured", ""] + [f"- {s['workload']}: {s['why']}" for s in doc["skipped"]]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: only shows that it works")
    parser.add_argument("--n", type=int, default=20_000, help="records per batch (default 20,000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--schemas", type=int, default=None, help="a seeded sample of this many schemas")
    parser.add_argument("--no-twitter", dest="twitter", action="store_false")
    parser.add_argument("--iter-errors", action="store_true",
                        help="also time the default call on dicts against jsonschema-rs iter_errors "
                        "(slow: building every error costs it 2-200x its is_valid)")
    parser.add_argument("--kinds", default=",".join(KINDS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--json", default=os.path.join(RESULTS, "realworld.json"))
    parser.add_argument("--markdown", default=os.path.join(RESULTS, "realworld.md"))
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.rounds = min(args.n, 200), min(args.rounds, 2)
        args.schemas = 3 if args.schemas is None else args.schemas
    args.kinds = [k for k in args.kinds.split(",") if k]
    if not set(args.kinds) <= set(KINDS):
        parser.error(f"--kinds must name {', '.join(KINDS)}")
    doc = run(args)
    table = markdown(doc)
    measure.write_results(doc, args.json, args.markdown, table)
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
