#!/usr/bin/env python3
"""satya-adapt against its peers: items/s on the same records, in one interleaved run.

For every profile (``plain3``, ``constrained3``, ``mixed10``, ``wide30``, ``nested``) and input
kind (Python dicts, a JSON-array as bytes, NDJSON bytes):

1. Correctness first: every contender validates the profile's records once and its answer is
   compared with the truth (the generator knows which records it broke, one rule each). A
   contender that accepts a broken record or rejects a good one is marked and kept out of the
   "fastest correct peer".
2. Speed: all contenders are timed in interleaved rounds (shuffled order each round, warm-up
   first); medians, items/s, and the speedup over the fastest correct peer, paired by round.
3. Memory (each measurement in a fresh subprocess): the peak RSS added by validating
   ``--memory-n`` records of ``mixed10``, and NDJSON streamed from files of two sizes.

The targets of issue 2 are printed next to the figures. Results go to ``--json`` and
``--markdown`` (default ``benchmarks/results/peers.{json,md}``); the table is also printed.

    python benchmarks/bench_peers.py                 # the full run (several minutes)
    python benchmarks/bench_peers.py --quick         # a small run that only shows it works

Peers that are not installed are skipped (and listed as such). How each peer is driven is in
``benchmarks/peers.py``; the harness is ``satya_adapt/tuning/measure.py``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from typing import Any

import peers

from satya_adapt.config import DEFAULT_CONFIGURATION
from satya_adapt.tuning import measure, workloads

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
LIBRARIES = (
    "satya-adapt",
    "msgspec",
    "orjson",
    "pydantic",
    "pydantic-core",
    "jsonschema-rs",
    "fastjsonschema",
    "satya",
)
MIB = 1024 * 1024

#: Targets of issue 2 ("Speed and memory, shown by a benchmark").
TARGET_T1_VS_PEER = 1.0
TARGET_TN_VS_PEER = 1.5
TARGET_JSON_T1_VS_MSGSPEC = 2.0
TARGET_JSON_TN_VS_MSGSPEC = 3.5
TARGET_VS_ORJSON = 1.0
TARGET_MEMORY_MIB = 8.0
#: Streaming: extra peak allowed for the bigger file, per extra record (the result list holds a
#: pointer per record) plus a fixed slack for allocator noise.
STREAM_BYTES_PER_RECORD = 16
STREAM_SLACK_MIB = 4.0
MSGSPEC_BASELINE = {"json": "msgspec decode", "ndjson": "msgspec decode_lines"}
ORJSON = "orjson.loads (parse only)"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- correctness ---------------------------------------------------------------------------------


def check_answer(wl: workloads.Workload, got: Any) -> dict[str, Any]:
    """Compares one contender's per-record answer with the truth of ``wl``."""
    if got is None:
        return {"verdict": "reference"}
    got = list(got)
    if len(got) != wl.n:
        return {"verdict": "wrong length", "detail": f"{len(got)} answers for {wl.n} records"}
    missed: dict[str, int] = {}
    misses = 0
    for i in wl.invalid:
        if got[i]:
            misses += 1
            b = wl.broken[i]
            key = f"{b.keyword} ({b.detail})"
            missed[key] = missed.get(key, 0) + 1
    invalid = set(wl.broken)
    false_rejections = sum(1 for i, ok in enumerate(got) if not ok and i not in invalid)
    return {
        "verdict": "exact" if not misses and not false_rejections else "wrong",
        "invalid": len(invalid),
        "misses": misses,
        "false_rejections": false_rejections,
        "missed_by_rule": dict(sorted(missed.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def verdict_text(c: dict[str, Any]) -> str:
    """``misses 9 of 200 invalid`` and/or ``rejects 12 valid``; empty when exact."""
    parts = []
    if c.get("misses"):
        parts.append(f"misses {c['misses']} of {c['invalid']} invalid")
    if c.get("false_rejections"):
        parts.append(f"rejects {c['false_rejections']} valid")
    if c.get("verdict") == "wrong length":
        parts.append(c["detail"])
    return ", ".join(parts)


# -- one (profile, input kind) group ------------------------------------------------------------------


def run_group(
    wl: workloads.Workload, kind: str, group: Sequence[peers.Adapter], args: argparse.Namespace
) -> dict[str, Any]:
    contenders: dict[str, Any] = {}
    timed: list[measure.Contender] = []
    for a in group:
        entry: dict[str, Any] = {"library": a.library, "role": a.role, "note": a.note}
        contenders[a.name] = entry
        if not a.available():
            entry["status"] = "not installed"
            continue
        try:
            run = a.prepare(wl)
            entry["correctness"] = check_answer(wl, run())
        except Exception as exc:
            entry["status"] = "error"
            entry["error"] = f"{type(exc).__name__}: {str(exc)[:300]}"
            continue
        entry["status"] = "ok"
        timed.append(measure.Contender(a.name, run, wl.n))
    out: dict[str, Any] = {"contenders": contenders, "fastest_correct_peer": None}
    if not timed:
        return out
    seed = args.seed ^ zlib.crc32(f"{wl.name}/{kind}".encode())
    m = measure.run_rounds(timed, rounds=args.rounds, warmup=args.warmup, seed=seed)
    correct_peers = [
        c.name
        for c in timed
        if contenders[c.name]["role"] == "peer"
        and contenders[c.name]["correctness"]["verdict"] == "exact"
    ]
    best = m.fastest(correct_peers) if correct_peers else None
    out["fastest_correct_peer"] = best
    out["rounds"] = m.rounds
    out["orders"] = [list(o) for o in m.orders]
    for c in timed:
        entry = contenders[c.name]
        entry["timing"] = dict(m.summary(c.name).to_dict(), samples_ns=list(m.samples[c.name]))
        if best is not None:
            entry["vs_fastest_correct_peer"] = m.speedup(c.name, best).to_dict()
        baseline = MSGSPEC_BASELINE.get(kind)
        if baseline in m.samples and c.name != baseline:
            entry["vs_msgspec"] = m.speedup(c.name, baseline).to_dict()
        if ORJSON in m.samples and c.name != ORJSON:
            entry["vs_orjson"] = m.speedup(c.name, ORJSON).to_dict()
    return out


# -- memory (fresh subprocesses) ---------------------------------------------------------------------


def memory_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Runs in a fresh process: one validation, and the peak RSS it added."""
    schema = spec["schema"]
    if spec["mode"] == "stream":
        return _stream_child(spec, schema)
    n = spec["n"]
    with open(spec["ndjson"], "rb") as f:
        text = f.read()
    records: list[Any] = []
    if spec["kind"] == "dicts":
        records = [json.loads(line) for line in text.splitlines()]
    wl = workloads.Workload(
        workloads.profile_spec(spec["profile"]), n, spec["seed"], schema, records, {}
    )
    if spec["kind"] == "json":
        wl._json = b"[" + b",".join(text.splitlines()) + b"]"
    elif spec["kind"] == "ndjson":
        wl._ndjson = text
    del text
    adapter = _find_adapter(spec)
    run = adapter.prepare(wl)
    gc.collect()
    reset = measure.reset_peak_rss()
    before = measure.current_rss_bytes() or 0
    peak_before = measure.peak_rss_bytes()
    t0 = time.perf_counter()
    got = run()
    seconds = time.perf_counter() - t0
    peak = measure.peak_rss_bytes()
    answered = None if got is None else len(got)
    base = before if reset else peak_before
    return {
        "added_bytes": max(0, peak - base),
        "rss_before": before,
        "peak": peak,
        "peak_reset": reset,
        "answers": answered,
        "seconds": seconds,
    }


def _find_adapter(spec: dict[str, Any]) -> peers.Adapter:
    for a in peers.adapters(
        tuple(spec["threads"]),
        batch_size=spec["batch_size"],
        micro_batch_size=spec["micro_batch_size"],
        kinds=(spec["kind"],),
    ):
        if a.name == spec["adapter"]:
            return a
    raise SystemExit(f"no adapter {spec['adapter']!r} for {spec['kind']}")


def _stream_child(spec: dict[str, Any], schema: Any) -> dict[str, Any]:
    path, how = spec["path"], spec["how"]
    knobs = {
        "batch_size": spec["batch_size"],
        "micro_batch_size": spec["micro_batch_size"],
        "threads": spec["t"],
    }
    if how.startswith("satya-adapt"):
        from satya_adapt import Validator

        v = Validator(schema, adapt=False)
    else:
        import msgspec

        decode = msgspec.json.Decoder(peers.msgspec_type(schema)).decode
    gc.collect()
    reset = measure.reset_peak_rss()
    before = measure.current_rss_bytes() or 0
    peak_before = measure.peak_rss_bytes()
    invalid = 0
    if how.startswith("satya-adapt validate_ndjson"):
        invalid = v.validate_ndjson(path, **knobs).n_invalid
    elif how.startswith("satya-adapt iter_validate"):
        for part in v.iter_validate(path, input_kind="ndjson", **knobs):
            invalid += part.n_invalid
    else:
        with open(path, "rb") as f:
            for line in f:
                try:
                    decode(line)
                except msgspec.ValidationError:
                    invalid += 1
    peak = measure.peak_rss_bytes()
    base = before if reset else peak_before
    return {
        "added_bytes": max(0, peak - base),
        "rss_before": before,
        "peak": peak,
        "peak_reset": reset,
        "invalid": invalid,
    }


def _spawn(spec: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--memory-child", json.dumps(spec)],
        check=False,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=ROOT,
    )
    if proc.returncode != 0:
        return {
            "error": (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1][
                :300
            ]
        }
    try:
        return dict(json.loads(proc.stdout.strip().splitlines()[-1]))
    except (ValueError, IndexError):
        return {"error": f"unreadable child output: {proc.stdout[-200:]!r}"}


def run_memory(args: argparse.Namespace, threads: tuple[int, ...]) -> dict[str, Any]:
    profile = args.memory_profile
    spec = workloads.profile_spec(profile)
    schema = workloads.schema_for(spec)
    sizes = sorted(set(args.stream_n))
    biggest = max([args.memory_n] + sizes)
    out: dict[str, Any] = {
        "profile": profile,
        "records": args.memory_n,
        "batch_size": args.batch_size,
        "batch": [],
        "streaming": [],
    }
    with tempfile.TemporaryDirectory(prefix="bench_peers_") as tmp:
        log(f"memory: writing {biggest} records of {profile}")
        big = os.path.join(tmp, f"{profile}_{biggest}.ndjson")
        workloads.write_ndjson(big, spec, biggest, args.seed)
        files = {}
        for size in sorted(set(sizes + [args.memory_n])):
            path = os.path.join(tmp, f"{profile}_{size}.ndjson")
            if path != big:
                _head(big, path, size)
            files[size] = path
        base = {
            "schema": schema,
            "profile": profile,
            "seed": args.seed,
            "threads": list(threads),
            "batch_size": args.batch_size,
            "micro_batch_size": args.micro_batch_size,
        }
        kinds = ("dicts",) if args.quick else tuple(args.kinds)
        for a in peers.adapters(
            threads, batch_size=args.batch_size, micro_batch_size=args.micro_batch_size, kinds=kinds
        ):
            if not a.available():
                continue
            log(f"memory: {a.kind} {a.name}")
            res = _spawn(
                dict(
                    base,
                    mode="batch",
                    adapter=a.name,
                    kind=a.kind,
                    n=args.memory_n,
                    ndjson=files[args.memory_n],
                )
            )
            out["batch"].append(dict(res, contender=a.name, kind=a.kind, role=a.role))
        hows = [f"satya-adapt validate_ndjson T={t}" for t in threads]
        hows += [f"satya-adapt iter_validate T={t}" for t in threads]
        if not args.quick and importlib.util.find_spec("msgspec") is not None:
            hows.append("msgspec Decoder(Struct).decode per line of the file")
        for how in hows:
            t = int(how.rsplit("T=", 1)[1]) if "T=" in how else 1
            for size in sizes:
                log(f"memory: streaming {size} records, {how}")
                res = _spawn(dict(base, mode="stream", how=how, t=t, path=files[size]))
                out["streaming"].append(
                    dict(res, contender=how, records=size, file_bytes=os.path.getsize(files[size]))
                )
    return out


def _head(src: str, dst: str, lines: int) -> None:
    with open(src, "rb") as f, open(dst, "wb") as g:
        for i, line in enumerate(f):
            if i >= lines:
                break
            g.write(line)


# -- targets ------------------------------------------------------------------------------------------


def _has_costly_rules(schema: Any) -> bool:
    if isinstance(schema, dict):
        if "pattern" in schema or "format" in schema:
            return True
        return any(_has_costly_rules(v) for v in schema.values())
    if isinstance(schema, list):
        return any(_has_costly_rules(v) for v in schema)
    return False


def evaluate_targets(results: dict[str, Any], threads: tuple[int, ...]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    t1 = "satya-adapt T=1"
    tn = f"satya-adapt T={max(threads)}" if max(threads) > 1 else None

    def add(
        target: str,
        profile: str,
        kind: str,
        contender: str,
        baseline: str | None,
        figure: Any,
        required: float,
        strict: bool = False,
    ) -> None:
        row: dict[str, Any] = {
            "target": target,
            "profile": profile,
            "kind": kind,
            "contender": contender,
            "baseline": baseline,
            "required": required,
            "strict": strict,
        }
        if figure is None:
            row.update(status="not measured")
        else:
            ok = figure["median"] > required if strict else figure["median"] >= required
            row.update(median=figure["median"], ci=figure["ci"], status="met" if ok else "not met")
        rows.append(row)

    for profile, pr in results["profiles"].items():
        kinds = pr["kinds"]
        if "dicts" in kinds:
            g = kinds["dicts"]
            best = g["fastest_correct_peer"]
            c = g["contenders"]
            add(
                "dicts T=1 >= fastest correct peer",
                profile,
                "dicts",
                t1,
                best,
                c.get(t1, {}).get("vs_fastest_correct_peer"),
                TARGET_T1_VS_PEER,
            )
            if tn and _has_costly_rules(pr["workload"]["schema"]):
                add(
                    f"dicts T={max(threads)} >= 1.5x fastest correct peer (pattern/format profiles)",
                    profile,
                    "dicts",
                    tn,
                    best,
                    c.get(tn, {}).get("vs_fastest_correct_peer"),
                    TARGET_TN_VS_PEER,
                )
        for kind in ("json", "ndjson"):
            if kind not in kinds:
                continue
            c = kinds[kind]["contenders"]
            base = MSGSPEC_BASELINE[kind]
            add(
                f"{kind} T=1 >= 2x msgspec",
                profile,
                kind,
                t1,
                base,
                c.get(t1, {}).get("vs_msgspec"),
                TARGET_JSON_T1_VS_MSGSPEC,
            )
            if tn:
                add(
                    f"{kind} T={max(threads)} >= 3.5x msgspec",
                    profile,
                    kind,
                    tn,
                    base,
                    c.get(tn, {}).get("vs_msgspec"),
                    TARGET_JSON_TN_VS_MSGSPEC,
                )
            add(
                f"{kind} T=1 faster than orjson.loads alone",
                profile,
                kind,
                t1,
                ORJSON,
                c.get(t1, {}).get("vs_orjson"),
                TARGET_VS_ORJSON,
                strict=True,
            )
    mem = results.get("memory")
    if mem:
        for row in mem["batch"]:
            if row["role"] == "self" and row["kind"] == "dicts" and "added_bytes" in row:
                mib = row["added_bytes"] / MIB
                rows.append(
                    {
                        "target": f"memory: {mem['records']} dicts of {mem['profile']} add <= 8 MiB",
                        "profile": mem["profile"],
                        "kind": "dicts",
                        "contender": row["contender"],
                        "baseline": None,
                        "required": TARGET_MEMORY_MIB,
                        "median": mib,
                        "ci": None,
                        "status": "met" if mib <= TARGET_MEMORY_MIB else "not met",
                    }
                )
        by_how: dict[str, list[dict[str, Any]]] = {}
        for row in mem["streaming"]:
            if "added_bytes" in row and row["contender"].startswith("satya-adapt"):
                by_how.setdefault(row["contender"], []).append(row)
        for how, rs in by_how.items():
            if len(rs) < 2:
                continue
            rs = sorted(rs, key=lambda r: r["records"])
            small, large = rs[0], rs[-1]
            growth = (large["added_bytes"] - small["added_bytes"]) / MIB
            allowed = (
                STREAM_BYTES_PER_RECORD * (large["records"] - small["records"])
            ) / MIB + STREAM_SLACK_MIB
            if "iter_validate" in how:
                allowed = STREAM_SLACK_MIB
            rows.append(
                {
                    "target": "NDJSON file: peak RSS bounded whatever the file size",
                    "profile": mem["profile"],
                    "kind": "ndjson file",
                    "contender": how,
                    "baseline": None,
                    "required": allowed,
                    "median": growth,
                    "ci": None,
                    "detail": f"{small['records']} -> {large['records']} records: "
                    f"{small['added_bytes'] / MIB:.1f} -> {large['added_bytes'] / MIB:.1f} MiB",
                    "status": "met" if growth <= allowed else "not met",
                }
            )
    return rows


# -- output --------------------------------------------------------------------------------------------


def _rate(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:.2f}M/s"
    return f"{x / 1e3:.0f}k/s"


def markdown(results: dict[str, Any]) -> str:
    prov = results["provenance"]
    st = results["settings"]
    libs = ", ".join(f"{k} {v}" for k, v in prov["libraries"].items() if v)
    git = prov.get("git") or {}
    lines = [
        "# satya-adapt vs peers",
        "",
        (
            f"{prov['date']} · {prov['cpu']} · {prov['usable_cores']} usable cores · Python {prov['python']} · "
            f"commit {str(git.get('commit', '?'))[:10]}{' (dirty)' if git.get('dirty') else ''} · load {prov.get('load_average')}"
        ),
        "",
        f"Libraries: {libs}.",
        "",
        (
            f"{st['n']} records per profile (seed {st['seed']}, {st['invalid_rate']:.0%} invalid, one broken rule each); "
            f"{st['rounds']} interleaved rounds after {st['warmup']} warm-up, contenders shuffled each round. "
            f"satya-adapt: batch_size={st['batch_size']}, micro_batch_size={st['micro_batch_size']}, adapt=False."
        ),
        "",
        (
            "Cells: median items/s, and the speedup over the fastest peer that answers exactly right "
            "(median of per-round time ratios, paired by round; 95% intervals in the JSON). "
            "**x** marks that peer. A contender marked with what it misses is not a valid comparison."
        ),
    ]
    profiles = list(results["profiles"])
    for kind in st["kinds"]:
        lines += [
            "",
            f"## {kind}",
            "",
            "| contender | " + " | ".join(profiles) + " |",
            "|---|" + "---|" * len(profiles),
        ]
        names: list[str] = []
        for p in profiles:
            for name in results["profiles"][p]["kinds"].get(kind, {}).get("contenders", {}):
                if name not in names:
                    names.append(name)
        for name in names:
            cells = []
            for p in profiles:
                g = results["profiles"][p]["kinds"].get(kind, {})
                e = g.get("contenders", {}).get(name)
                cells.append(_cell(e, name == g.get("fastest_correct_peer")))
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Targets (issue 2)",
        "",
        "| target | profile | input | contender | figure | required | status |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in results["targets"]:
        if t.get("status") == "not measured":
            fig = "—"
        elif t["target"].startswith("memory") or t["target"].startswith("NDJSON"):
            fig = f"{t['median']:.1f} MiB" + (f" ({t['detail']})" if t.get("detail") else "")
        else:
            fig = f"{t['median']:.2f}x [{t['ci']['low']:.2f}, {t['ci']['high']:.2f}] vs {t['baseline']}"
        if "MiB" in fig:
            req = f"<= {t['required']:.1f} MiB"
        else:
            req = f"{'>' if t.get('strict') else '>='} {t['required']:.2f}x"
        lines.append(
            f"| {t['target']} | {t['profile']} | {t['kind']} | {t['contender']} | {fig} | {req} | {t['status']} |"
        )
    mem = results.get("memory")
    if mem:
        lines += [
            "",
            f"## Memory: peak RSS added by one call on {mem['records']} records of {mem['profile']}",
            "",
            (
                "Each in a fresh process; the peak is reset just before the call (`/proc/self/clear_refs`), "
                "so the figure is what the call itself added over the RSS it started with (its input included "
                "in that start)."
            ),
            "",
            "| contender | input | added peak RSS |",
            "|---|---|---|",
        ]
        for row in mem["batch"]:
            fig = (
                f"{row['added_bytes'] / MIB:.1f} MiB"
                if "added_bytes" in row
                else f"error: {row.get('error')}"
            )
            lines.append(f"| {row['contender']} | {row['kind']} | {fig} |")
        lines += [
            "",
            "### NDJSON streamed from a file",
            "",
            "| how | records | file | added peak RSS |",
            "|---|---|---|---|",
        ]
        for row in mem["streaming"]:
            fig = (
                f"{row['added_bytes'] / MIB:.1f} MiB"
                if "added_bytes" in row
                else f"error: {row.get('error')}"
            )
            lines.append(
                f"| {row['contender']} | {row['records']} | {row['file_bytes'] / MIB:.1f} MiB | {fig} |"
            )
    lines += ["", "## Correctness (checked before any timing)", ""]
    wrong = []
    for p in profiles:
        for kind, g in results["profiles"][p]["kinds"].items():
            for name, e in g["contenders"].items():
                c = e.get("correctness", {})
                if e.get("status") == "error":
                    wrong.append(f"| {p} | {kind} | {name} | error: {e['error']} |")
                elif c.get("verdict") in ("wrong", "wrong length"):
                    rules = "; ".join(f"{k}: {v}" for k, v in c.get("missed_by_rule", {}).items())
                    wrong.append(
                        f"| {p} | {kind} | {name} | {verdict_text(c)}{' — ' + rules if rules else ''} |"
                    )
    if wrong:
        lines += [
            "| profile | input | contender | what it gets wrong |",
            "|---|---|---|---|",
        ] + wrong
    lines += [
        "",
        "Every other contender rejected exactly the invalid records and nothing else.",
        "",
    ]
    skipped = sorted(
        {
            name
            for p in profiles
            for g in results["profiles"][p]["kinds"].values()
            for name, e in g["contenders"].items()
            if e.get("status") == "not installed"
        }
    )
    if skipped:
        lines += [f"Not installed, skipped: {', '.join(skipped)}.", ""]
    lines += ["## How each contender is driven", ""]
    seen = set()
    for p in profiles:
        for kind, g in results["profiles"][p]["kinds"].items():
            for name, e in g["contenders"].items():
                if (kind, name) not in seen:
                    seen.add((kind, name))
                    lines.append(f"- {kind} · {name}: {e['note']}")
    if results.get("satya_substitutes"):
        lines += ["", "satya lacks some rules; its models get the nearest it has:"]
        for p, notes in results["satya_substitutes"].items():
            if notes:
                lines.append(f"- {p}: " + "; ".join(notes))
    return "\n".join(lines) + "\n"


def _cell(e: dict[str, Any] | None, is_best: bool) -> str:
    if e is None:
        return ""
    if e.get("status") == "not installed":
        return "not installed"
    if e.get("status") == "error":
        return "error"
    rate = _rate(e["timing"]["items_per_s"])
    c = e.get("correctness", {})
    ratio = e.get("vs_fastest_correct_peer")
    text = rate
    if is_best:
        text += " **x**"
    elif ratio is not None:
        text += f" {ratio['median']:.2f}x"
    if c.get("verdict") in ("wrong", "wrong length"):
        text += f" ✗ {verdict_text(c)}"
    return text


# -- main ------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--quick",
        action="store_true",
        help="small sizes and few rounds: shows it works, measures little",
    )
    ap.add_argument(
        "--json", default=os.path.join(RESULTS, "peers.json"), help="results file (JSON)"
    )
    ap.add_argument(
        "--markdown", default=os.path.join(RESULTS, "peers.md"), help="table file (markdown)"
    )
    ap.add_argument("--seed", type=int, default=42, help="data and shuffle seed")
    ap.add_argument(
        "--n", type=int, default=None, help="records per profile (default 20000; quick 500)"
    )
    ap.add_argument("--rounds", type=int, default=None, help="timed rounds (default 15; quick 3)")
    ap.add_argument(
        "--warmup", type=int, default=1, help="untimed calls per contender before the rounds"
    )
    ap.add_argument(
        "--profiles", default=",".join(workloads.PROFILES), help="comma-separated profile names"
    )
    ap.add_argument("--kinds", default="dicts,json,ndjson", help="comma-separated input kinds")
    ap.add_argument(
        "--threads",
        default=None,
        help="satya-adapt thread counts (default: 1 and all usable cores)",
    )
    ap.add_argument("--batch-size", type=int, default=DEFAULT_CONFIGURATION.batch_size)
    ap.add_argument("--micro-batch-size", type=int, default=DEFAULT_CONFIGURATION.micro_batch_size)
    ap.add_argument("--no-memory", action="store_true", help="skip the memory section")
    ap.add_argument(
        "--memory-n", type=int, default=None, help="records for the memory section (default 200000)"
    )
    ap.add_argument("--memory-profile", default="mixed10")
    ap.add_argument(
        "--stream-n", default=None, help="NDJSON file sizes in records (default 100000,400000)"
    )
    ap.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    args.n = args.n or (500 if args.quick else 20000)
    args.rounds = args.rounds or (3 if args.quick else 15)
    args.profiles = [p for p in args.profiles.split(",") if p]
    for p in args.profiles:
        workloads.profile_spec(p)
    args.kinds = [k for k in args.kinds.split(",") if k]
    for k in args.kinds:
        if k not in peers.INPUT_KINDS:
            ap.error(f"unknown input kind {k!r}")
    args.memory_n = args.memory_n or (5000 if args.quick else 200_000)
    stream = args.stream_n or ("2000,8000" if args.quick else "100000,400000")
    args.stream_n = [int(x) for x in stream.split(",") if x]
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_child:
        print(json.dumps(memory_child(json.loads(args.memory_child))))
        return 0
    cores = measure.usable_cores()
    threads = (
        tuple(dict.fromkeys(int(t) for t in args.threads.split(",")))
        if args.threads
        else tuple(dict.fromkeys((1, cores)))
    )
    results: dict[str, Any] = {
        "benchmark": "peers",
        "provenance": measure.provenance(LIBRARIES),
        "settings": {
            "n": args.n,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "seed": args.seed,
            "quick": args.quick,
            "kinds": args.kinds,
            "threads": list(threads),
            "batch_size": args.batch_size,
            "micro_batch_size": args.micro_batch_size,
            "invalid_rate": workloads.WorkloadSpec().invalid_rate,
        },
        "profiles": {},
        "satya_substitutes": {},
    }
    all_adapters = peers.adapters(
        threads,
        batch_size=args.batch_size,
        micro_batch_size=args.micro_batch_size,
        kinds=args.kinds,
    )
    started = time.perf_counter()
    for profile in args.profiles:
        wl = workloads.make_workload(profile, args.n, args.seed)
        pr: dict[str, Any] = {"workload": dict(wl.summary(), schema=wl.schema), "kinds": {}}
        results["profiles"][profile] = pr
        if any(a.library == "satya" and a.available() for a in all_adapters):
            results["satya_substitutes"][profile] = peers.satya_notes(wl.schema)
        for kind in args.kinds:
            group = [a for a in all_adapters if a.kind == kind]
            log(
                f"{profile} / {kind}: {len(group)} contenders, {args.rounds} rounds "
                f"({time.perf_counter() - started:.0f} s so far)"
            )
            pr["kinds"][kind] = run_group(wl, kind, group, args)
        del wl
        gc.collect()
    if not args.no_memory:
        results["memory"] = run_memory(args, threads)
    results["targets"] = evaluate_targets(results, threads)
    results["seconds"] = time.perf_counter() - started
    table = markdown(results)
    measure.write_results(results, args.json, args.markdown, table)
    print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
