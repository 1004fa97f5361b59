"""The optimizer's gates, run once per search (a resumed search keeps their result).

On probe workloads of every input kind searched, one interleaved run times the default
configuration against itself (the A/A run: the *noise floor* of this machine) and against
one-knob variants (the *sensitivity* pass). A knob whose variants never move throughput beyond
the noise floor with an interval that excludes 1 is reported and frozen at its default value:
it is not tuned on noise. ``batch_size`` is the exception when it moves memory in flight (its
variants' ``peak_bytes``, counted exactly by the engine, at least :data:`MEMORY_EFFECT` times
apart from the default's): it is then tuned for the front, where memory is an objective.
``micro_batch_size`` is probed twice: on the direct path (``threads = 1``, where it has no
effect) and inside the pool (``threads > 1``); it is tuned only in the pool. Every timing is
checked for plausibility: a throughput above that of merely touching the data is rejected as
a measurement error.

The result is a JSON document (kept in the search state and the results file); the variants
and the knob each one probes are typed (:class:`Variant`, :class:`Knob`).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Callable, Optional

from ..config import DEFAULT_CONFIGURATION
from .space import WorkloadGenes

__all__ = ["GATE_LEVEL", "MEMORY_EFFECT", "PROBES", "Gates", "Knob", "Variant", "run_gates", "variants"]

#: Confidence level of the sensitivity pass (stricter than the search's 0.95: many variants).
GATE_LEVEL = 0.99

#: How far (a factor of peak bytes) a batch_size variant must move memory in flight from the
#: default configuration's for batch_size to be tuned although throughput does not move.
MEMORY_EFFECT = 2.0

#: The probes of the gates: (name, workload genes without kind and seed).
PROBES = (
    ("small-cheap", {"field_count": 4, "string_length": 8, "constrained": 0.3, "costly": 0.0,
                         "nesting": 0, "list_length": 0}),
    ("large-costly", {"field_count": 24, "string_length": 48, "constrained": 1.0, "costly": 1.0,
                          "nesting": 0, "list_length": 0}),
)


class Knob(enum.Enum):
    """What a variant probes."""

    BATCH_SIZE = "batch_size"
    MICRO_DIRECT = "micro_batch_size on the direct path"
    THREADS = "threads"
    MICRO_POOL = "micro_batch_size in the pool"

    def label(self, cores: int) -> str:
        """The knob's name in the gates document."""
        return {
            Knob.BATCH_SIZE: "batch_size",
            Knob.MICRO_DIRECT: "micro_batch_size (threads=1)",
            Knob.THREADS: "threads",
            Knob.MICRO_POOL: f"micro_batch_size (threads={cores})",
        }[self]

    @property
    def note(self) -> str:
        return {
            Knob.BATCH_SIZE: "batch_size variants against the default configuration (threads=1)",
            Knob.MICRO_DIRECT: (
                "the direct path has no pool: micro_batch_size should have no effect here"
            ),
            Knob.THREADS: "the pool against the direct path (same batch_size and micro_batch_size)",
            Knob.MICRO_POOL: (
                "micro_batch_size variants inside the pool, against micro_batch_size=1024"
            ),
        }[self]


@dataclass(frozen=True)
class Variant:
    """One configuration timed in the gates: ``knob`` is what it probes (``None`` for the
    default and its A/A twin), ``against`` the variant it is compared with."""

    name: str
    config: tuple[int, int, int]
    knob: Optional[Knob] = None
    against: str = "default"


def variants(cores: int) -> list[Variant]:
    """The variants of the sensitivity pass on a machine of ``cores`` usable cores."""
    d = DEFAULT_CONFIGURATION
    default = (d.batch_size, d.micro_batch_size, d.threads)
    out = [
        Variant("default", default),
        Variant("default (A/A)", default),
        Variant("batch_size=256", (256, 256, 1), Knob.BATCH_SIZE),
        Variant("batch_size=65536", (65536, 1024, 1), Knob.BATCH_SIZE),
        Variant("micro_batch_size=64, threads=1", (8192, 64, 1), Knob.MICRO_DIRECT),
    ]
    if cores > 1:
        t = cores
        pool = f"threads={t}"
        out += [
            Variant(pool, (8192, 1024, t), Knob.THREADS),
            Variant(f"threads={t}, micro_batch_size=64", (8192, 64, t), Knob.MICRO_POOL, pool),
            Variant(f"threads={t}, micro_batch_size=4096", (8192, 4096, t), Knob.MICRO_POOL, pool),
        ]
    return out


@dataclass(frozen=True)
class Gates:
    """The gates' document (JSON values) and which knobs the search may tune."""

    document: dict[str, Any]
    tune_batch: bool
    tune_micro: bool
    tune_threads: bool


def run_gates(
    measurer: Any,
    *,
    input_kinds: Sequence[str],
    seed: int,
    rounds: int,
    cores: int,
    ship_threshold: float,
    memory_budget: Optional[int],
    rng: random.Random,
    log: Callable[[int, str], None],
) -> Gates:
    """The A/A noise floor, the knob sensitivity and the plausibility check (see the module
    documentation); raises ``RuntimeError`` on implausible timings."""
    table = variants(cores)
    configs = {v.name: v.config for v in table}
    probes: list[dict[str, Any]] = []
    for kind in input_kinds:
        for name, params in PROBES:
            genes = WorkloadGenes(**params, input_kind=kind, seed=seed)  # type: ignore[arg-type]
            prepared = measurer.prepare(genes)
            m = measurer.compare(prepared, configs, rounds=rounds, seed=rng.randrange(1 << 31))
            rates = {v: m.summary(v).items_per_s for v in configs}
            # Memory in flight is counted exactly by the engine: one run per batch_size variant.
            peaks = {"default": int(measurer.default_peak(prepared))}
            for v in table:
                if v.knob is Knob.BATCH_SIZE:
                    peaks[v.name] = int(measurer.check(prepared, v.config)[1])
            aa = m.speedup("default (A/A)", "default")
            effects = {}
            for v in table:
                if v.knob is None:
                    continue
                sp = m.speedup(v.name, v.against, level=GATE_LEVEL)
                effects[v.name] = {
                    "against": v.against,
                    "speedup": sp.median,
                    "ci_low": sp.ci.low,
                    "ci_high": sp.ci.high,
                    "ci_coverage": sp.ci.coverage,
                }
            probes.append(
                {
                    "probe": f"{name} {kind}",
                    "genes": genes.to_json(),
                    "profile": dict(prepared.profile._asdict()),
                    "n": prepared.n,
                    "items_per_s": rates,
                    "touch_items_per_s": prepared.touch_rate,
                    "implausible": [v for v, r in rates.items() if r > prepared.touch_rate],
                    "aa_speedup": aa.median,
                    "aa_ci": [aa.ci.low, aa.ci.high],
                    "aa_half_width": max(aa.ci.high - 1.0, 1.0 - aa.ci.low),
                    "aa_rounds": len(aa.ratios),
                    "effects": effects,
                    "peak_bytes": peaks,
                }
            )
            log(
                2,
                f"gate {name} {kind}: A/A {aa.median:.3f} [{aa.ci.low:.3f}, {aa.ci.high:.3f}]"
                f", default {rates['default']:,.0f} items/s",
            )
    implausible = [p["probe"] for p in probes if p["implausible"]]
    if implausible:
        raise RuntimeError(
            "implausible timings in the gates (faster than touching the data) on "
            + ", ".join(implausible)
            + ": the measurement is broken, not searching"
        )
    half_widths = sorted(p["aa_half_width"] for p in probes)
    deviations = sorted(abs(p["aa_speedup"] - 1.0) for p in probes)
    floor = deviations[-1]
    least = max(floor, ship_threshold - 1.0)

    def moved(e: Mapping[str, Any]) -> bool:
        outside = e["ci_low"] > 1.0 or e["ci_high"] < 1.0
        return bool(outside and abs(e["speedup"] - 1.0) > least)

    knob_of = {v.name: v.knob for v in table}
    knobs: dict[str, dict[str, Any]] = {}
    # On one core both micro_batch_size knobs are labelled "threads=1": the pool's (no
    # variants, so not sensitive) takes the label, as nothing is tuned in a pool there.
    for knob in Knob:
        rows = [
            {"probe": p["probe"], "variant": v, **e, "beyond_floor": moved(e)}
            for p in probes
            for v, e in p["effects"].items()
            if knob_of[v] is knob
        ]
        knobs[knob.label(cores)] = {
            "sensitive": any(r["beyond_floor"] for r in rows),
            "note": knob.note,
            "effects": rows,
        }
    sensitive = {knob: knobs[knob.label(cores)]["sensitive"] for knob in Knob}
    # batch_size is an objective's knob even when throughput does not move: the front trades
    # memory in flight (and the GIL hold that follows it) against throughput.
    memory_ratios = [
        max(peak, p["peak_bytes"]["default"]) / max(1, min(peak, p["peak_bytes"]["default"]))
        for p in probes
        for v, peak in p["peak_bytes"].items()
        if v != "default"
    ]
    moves_memory = any(r >= MEMORY_EFFECT for r in memory_ratios)
    knobs["batch_size"]["moves_memory"] = moves_memory
    knobs["batch_size"]["largest_peak_ratio"] = max(memory_ratios, default=1.0)
    tune_threads = sensitive[Knob.THREADS] if cores > 1 else False
    tune_micro = tune_threads and sensitive[Knob.MICRO_POOL]
    tune_batch = sensitive[Knob.BATCH_SIZE] or moves_memory or memory_budget is not None
    tuned = {"batch_size": tune_batch, "micro_batch_size": tune_micro, "threads": tune_threads}
    reasons = {}
    if not sensitive[Knob.BATCH_SIZE]:
        why = (
            "tuned for memory in flight (the front)"
            if moves_memory
            else "tuned anyway for the memory budget"
            if tune_batch
            else "kept at 8192"
        )
        reasons["batch_size"] = f"no throughput effect beyond the noise floor; {why}"
    if cores <= 1:
        reasons["threads"] = "one usable core; kept at 1"
    elif not tune_threads:
        reasons["threads"] = "no effect beyond the noise floor; kept at 1"
    if not tune_micro:
        reasons["micro_batch_size"] = (
            "tuned only inside the pool, and the pool is not tuned"
            if not tune_threads
            else "no effect beyond the noise floor inside the pool; kept at 1024"
        )
    document = {
        "noise_floor": floor,
        "noise_floor_definition": (
            "the largest distance from 1 of the A/A median speedup over the probes (the"
            " default configuration timed against itself, interleaved, paired by round):"
            " how far a comparison without a difference strays on this machine. A knob moves"
            " throughput when the 99% interval of a variant's speedup excludes 1 (many"
            " variants are tried: a stricter level than the search's 95%) and its median is"
            " further from 1 than both the floor and the shipping margin"
        ),
        "least_effect": least,
        "aa_deviations": deviations,
        "aa_half_widths": half_widths,
        "aa_max_half_width": half_widths[-1],
        "rounds": rounds,
        "probes": probes,
        "knobs": knobs,
        "tuned": tuned,
        "frozen_because": reasons,
    }
    log(
        1,
        f"noise floor {floor:.3f} (A/A medians off 1 by {', '.join(f'{d:.3f}' for d in deviations)});"
        f" tuned: {', '.join(k for k, v in tuned.items() if v) or 'nothing'}"
        + "".join(f"; {k}: {why}" for k, why in reasons.items()),
    )
    return Gates(document, tune_batch, tune_micro, tune_threads)
