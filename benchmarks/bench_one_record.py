"""Per-call cost of checking ONE record: `Validator.is_valid`, `Validator.validate_one`,
`Validator.validate_batch([record])` and jsonschema-rs `is_valid`, on the same records.

Interleaved rounds, median per call in microseconds; every library must agree on validity
first. ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any, Callable, Dict, List

from satya_adapt import Validator

SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 50},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 10},
    },
    "required": ["name", "age"],
}
VALID = {"name": "Ada", "age": 36, "email": "ada@example.com", "tags": ["a", "b"]}
INVALID = {"name": "", "age": 200, "email": "nope", "tags": ["a", 1]}


def _time(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls * 1e6


def main(argv: List[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--rounds", type=int, default=15)
    p.add_argument("--calls", type=int, default=20000)
    p.add_argument("--json", action="store_true", help="print the medians as JSON")
    p.add_argument("--seed", type=int, default=0, help="unused: the records are fixed")
    args = p.parse_args(argv)
    rounds, calls = (3, 200) if args.quick else (args.rounds, args.calls)
    v = Validator(SCHEMA)
    contenders: Dict[str, Callable[[Any], Any]] = {
        "is_valid": v.is_valid,
        "validate_one": v.validate_one,
        "validate_batch([record])": lambda r: v.validate_batch([r]),
    }
    try:
        import jsonschema_rs

        rs = jsonschema_rs.validator_for(SCHEMA)
        contenders["jsonschema_rs.is_valid"] = rs.is_valid
    except ImportError:
        pass
    for record, expected in ((VALID, True), (INVALID, False)):
        assert v.is_valid(record) is expected
        assert (v.validate_one(record) == []) is expected
        assert v.validate_batch([record]).valid == [expected]
        if "jsonschema_rs.is_valid" in contenders:
            assert contenders["jsonschema_rs.is_valid"](record) is expected
    out: Dict[str, Dict[str, float]] = {}
    for label, record in (("valid", VALID), ("invalid", INVALID)):
        samples: Dict[str, List[float]] = {name: [] for name in contenders}
        for _ in range(rounds):
            for name, fn in contenders.items():
                samples[name].append(_time(lambda fn=fn, record=record: fn(record), calls))
        out[label] = {name: statistics.median(s) for name, s in samples.items()}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for label, medians in out.items():
            print(f"{label} record, median us per call over {rounds} interleaved rounds of {calls} calls:")
            for name, us in medians.items():
                print(f"  {name:26s} {us:8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
