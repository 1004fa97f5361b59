#!/usr/bin/env python3
"""The measurements behind the budget model of :mod:`satya_adapt.budget`.

For the five named synthetic profiles and Twitter statuses (with a schema that reads three
fields, and with ``satya_adapt.tuning.realdata.TWITTER_SCHEMA``): ``peak_bytes / batch_size``
for each input kind (dicts, JSON, NDJSON bytes, an NDJSON file) at batch sizes 512 and 2048,
threads 1 and 2 (the engine's own byte count, exact), and the smallest and median
``max_gil_hold`` per record of 500-record chunks of dicts (wall-clock, so noisy on a busy
machine), beside what the model predicts.

    python benchmarks/budget_model.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

import satya_adapt as sa
from satya_adapt.budget import predict
from satya_adapt.tuning import realdata
from satya_adapt.tuning.workloads import make_workload

THREE_FIELDS = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "text": {"type": "string", "maxLength": 1000},
        "user": {"type": "object", "properties": {"screen_name": {"type": "string"}}},
    },
    "required": ["id", "text", "user"],
}


def cases(n: int) -> list[tuple[str, Any, list[Any]]]:
    out = []
    for name in ("plain3", "mixed10", "wide30", "nested", "constrained3"):
        w = make_workload(name, n, 1)
        out.append((name, w.schema, w.records))
    real = realdata.workloads(n, schemastore_limit=0)
    if real:
        out.append(("twitter (3 fields)", THREE_FIELDS, real[0].records))
        out.append(("twitter (schema)", realdata.TWITTER_SCHEMA, real[0].records))
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    n = 1000 if args.quick else 4000
    rows = []
    folder = tempfile.mkdtemp()
    for name, schema, recs in cases(n):
        v = sa.Validator(schema, adapt=False)
        prof = v.profile(recs)
        nd = b"".join(json.dumps(r).encode() + b"\n" for r in recs)
        path = os.path.join(folder, "data.ndjson")
        with open(path, "wb") as f:
            f.write(nd)
        inputs = {"dicts": recs, "json": json.dumps(recs).encode(), "ndjson": nd, "file": path}
        row: dict[str, Any] = {
            "profile": name,
            "object_size": round(prof.object_size),
            "fields": prof.field_count,
            "complexity": round(prof.constraint_complexity, 2),
            "bytes_per_record": {},
        }
        for kind, data in inputs.items():
            for t in (1, 2):
                row["bytes_per_record"][f"{kind}, {t}"] = [
                    v.validate(
                        data, input_kind="ndjson" if kind == "file" else kind,
                        batch_size=b, micro_batch_size=128, threads=t,
                    ).stats.peak_bytes / min(b, len(recs))
                    for b in (512, 2048)
                ]
        holds = []
        for _ in range(3):
            holds += [
                c.stats.max_gil_hold / len(c)
                for c in v.iter_validate(recs, batch_size=500, threads=1)
            ]
        row["hold_ns"] = [min(holds) * 1e9, statistics.median(holds) * 1e9]
        row["model_hold_ns"] = predict((1, 1, 1), prof._replace(n=None)).max_gil_hold * 1e9
        rows.append(row)
        print(
            f"{name:20} {row['object_size']:>6} B {row['fields']:>3} fields  dicts/1"
            f" {row['bytes_per_record']['dicts, 1'][1]:.0f} B  dicts/2"
            f" {row['bytes_per_record']['dicts, 2'][1]:.0f} B  json"
            f" {row['bytes_per_record']['json, 1'][1]:.0f} B  hold {row['hold_ns'][0]:.0f}-"
            f"{row['hold_ns'][1]:.0f} ns (model {row['model_hold_ns']:.0f} ns)"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
