"""What a search leaves behind: the archive (:func:`to_archive`, with the search's resume
state in ``optimizer``), its cells (:func:`archive_cells`: the corrected figures when there
are, else the search's), the ``--results`` document (:func:`results`) and the history entry of
a run (:func:`change`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from .. import archive as _archive
from ..config import DEFAULT_CONFIGURATION
from . import measure
from .correction import FinalPoint, memory_point, quantile
from .space import grid_cells

if TYPE_CHECKING:
    from .search import Search

__all__ = ["TOOL", "archive_cells", "change", "results", "to_archive"]

TOOL = "satya-adapt map-elites optimizer"


def archive_cells(search: Search) -> list[_archive.Cell]:
    """The archive's cells: the corrected figures when there are, else the search's."""
    out = []
    with_workload = "workload" in getattr(_archive.Cell, "__struct_fields__", ())
    for cell in search._parents():
        f = cell.final if search.corrected else None
        if f is not None:
            ev = f.speedup
            ship = f.ship
            throughput = f.items_per_s.tuned
            default_rate = f.items_per_s.default
            peak = f.peak_bytes.tuned
            default_peak = f.peak_bytes.default
            rounds = f.rounds
            best = f.best
            holds = f.max_gil_hold
            hold = None if holds is None else holds.tuned
            default_hold = None if holds is None else holds.default
        else:
            ev = cell.speedup
            ship = cell.elite is not None and ev.low > search.settings.ship_threshold
            throughput = cell.rate if ship else cell.default_rate
            default_rate = cell.default_rate
            peak = cell.peak_bytes if ship else cell.default_peak_bytes
            default_peak = cell.default_peak_bytes
            rounds = max(1, cell.measurements)
            best = None if cell.elite is None else cell.elite.config()[:3]
            hold = cell.max_gil_hold if ship else cell.default_max_gil_hold
            default_hold = cell.default_max_gil_hold
        elite: Any = (
            _archive.Elite(batch_size=best[0], micro_batch_size=best[1], threads=best[2])
            if ship and best is not None
            else _archive.KEEP_DEFAULT
        )
        kwargs: dict[str, Any] = {}
        if with_workload:
            # The spec (or the real workload's name), plus the data seed and the input kind
            # (extra keys a spec ignores).
            kwargs["workload"] = cell.genes.archive_workload()
        low, med, high = ev.low, ev.median, ev.high
        # The front: the default configuration (always kept) and every point whose claim
        # clears the bar; points dominated by another are dropped.
        d = DEFAULT_CONFIGURATION
        points = [
            _archive.FrontPoint(
                config=_archive.Elite(
                    batch_size=d.batch_size, micro_batch_size=d.micro_batch_size, threads=d.threads
                ),
                default=True,
                throughput=max(default_rate, 1e-9),
                speedup=1.0,
                speedup_ci_low=1.0,
                speedup_ci_high=1.0,
                peak_bytes=int(default_peak),
                max_gil_hold=default_hold,
            )
        ]
        if f is not None and f.front:
            # The correction's fresh figures: every point it kept.
            points.extend(_front_point(p) for p in f.front if p.kept)
        elif isinstance(elite, _archive.Elite):
            points.append(
                _archive.FrontPoint(
                    config=elite,
                    throughput=max(throughput, 1e-9),
                    speedup=med,
                    speedup_ci_low=min(low, med),
                    speedup_ci_high=max(high, med),
                    peak_bytes=int(peak),
                    max_gil_hold=hold,
                )
            )
            if f is None:
                # The search's front points that clear the bar (their search figures).
                for c in cell.front:
                    e = c.speedup
                    bar = search.settings.ship_threshold
                    lean = c.memory and memory_point(e.low, c.peak_bytes, default_peak, bar)
                    if c.config != cell.elite and (e.low > bar or lean):
                        g = c.config.config()
                        points.append(
                            _measured_point(
                                (g[0], g[1], g[2]), c.rate, e, c.peak_bytes, c.max_gil_hold
                            )
                        )
        kwargs["front"] = _archive.pareto_front(points)
        out.append(
            _archive.Cell(
                index=list(cell.index),
                profile=_archive.cell_profile(cell.profile),
                elite=elite,
                throughput=max(throughput, 1e-9),
                default_throughput=max(default_rate, 1e-9),
                speedup=med,
                speedup_ci_low=min(low, med),
                speedup_ci_high=max(high, med),
                peak_bytes=int(peak),
                max_gil_hold=hold,
                n_measurements=max(1, int(rounds)),
                **kwargs,
            )
        )
    return out

def _front_point(p: FinalPoint) -> _archive.FrontPoint:
    return _measured_point(p.config, p.items_per_s, p.speedup, p.peak_bytes, p.max_gil_hold)


def _measured_point(
    config: tuple[int, int, int],
    items_per_s: float,
    e: Any,
    peak_bytes: int,
    max_gil_hold: float | None,
) -> _archive.FrontPoint:
    """A front point from measured figures (``e``: the speedup's median and interval)."""
    b, m, t = config
    return _archive.FrontPoint(
        config=_archive.Elite(batch_size=b, micro_batch_size=m, threads=t),
        throughput=max(items_per_s, 1e-9),
        speedup=e.median,
        speedup_ci_low=min(e.low, e.median),
        speedup_ci_high=max(e.high, e.median),
        peak_bytes=int(peak_bytes),
        max_gil_hold=max_gil_hold,
    )


def to_archive(
    search: Search,
    previous: _archive.ArchiveFile | None = None,
    change: _archive.Change | None = None,
) -> _archive.ArchiveFile:
    """The archive of ``search`` (with its resume state), after ``previous``'s history."""
    s = search.settings
    cells = archive_cells(search)
    commit = None
    git = measure.git_commit()
    if git is not None:
        commit = git["commit"] + ("-dirty" if git["dirty"] else "")
    gates = search.gates or {}
    tuned = gates.get("tuned", {})
    note = (
        f"{'corrected' if search.corrected else 'search in progress (not corrected)'};"
        f" {len(cells)} cells, {sum(1 for c in cells if not c.keep_default)} ship an elite;"
        f" noise floor {gates.get('noise_floor', float('nan')):.3f};"
        f" knobs tuned: {', '.join(k for k, v in tuned.items() if v) or 'none'};"
        f" {s.test_size} records per workload (distinct records tiled up to it)"
    )
    provenance = _archive.provenance_here(
        tool=TOOL,
        command=s.command,
        seed=s.seed,
        generations=search.generation,
        test_size=s.test_size,
        commit=commit,
        note=note,
    )
    history = list(previous.history) if previous is not None else []
    if change is not None:
        history.append(change)
    return _archive.ArchiveFile(
        format="satya-adapt-archive",
        format_version=_archive.FORMAT_VERSION,
        provenance=provenance,
        grid=search.grid,
        selection=previous.selection if previous is not None else _archive.Selection(),
        cells=cells,
        history=history,
        optimizer=_archive.OptimizerState(
            generation=search.generation,
            evaluations=search.evaluations,
            random_state=search.state_json(),
        ),
    )

def results(search: Search, *, complete: bool, interrupted: bool = False) -> dict[str, Any]:
    """The ``--results`` document: settings, provenance, gates, per-generation statistics and
    one row per cell with its corrected figures."""
    s = search.settings
    rows = []
    shipped_speedups = []
    best_speedups = []
    keep = 0
    for cell in search._parents():
        f = cell.final if search.corrected else None
        ev = f.speedup if f is not None else cell.speedup
        ship = f.ship if f is not None else (cell.elite is not None and ev.low > s.ship_threshold)
        keep += 0 if ship else 1
        shipped_speedups.append(ev.median if ship else 1.0)
        best_speedups.append(ev.median)
        row: dict[str, Any] = {
            "index": list(cell.index),
            "profile": dict(cell.profile._asdict()),
            "workload_genes": cell.genes.to_json(),
            "elite": (f.best if f is not None else (
                None if cell.elite is None else list(cell.elite.config()[:3])))
            if ship else "keep_default",
            "best_candidate": None if cell.best is None else list(cell.best.config()[:3]),
            "speedup": ev.median,
            "speedup_ci": [ev.low, ev.high],
            "speedup_ci_coverage": ev.coverage,
            "rounds": ev.rounds,
            "search": {
                "speedup": msgspec.to_builtins(cell.speedup),
                "challenges": cell.challenges,
                "replacements": cell.replacements,
                "demotions": cell.demotions,
                "front": len(cell.front),
                "front_demotions": cell.front_demotions,
                "held_by": "elite" if cell.elite is not None else "default",
            },
        }
        if f is not None:
            rates = f.items_per_s
            msgspec_rate = rates.msgspec
            row.update(
                {
                    "items_per_s": {
                        "tuned": rates.tuned,
                        "default": rates.default,
                        "heuristic": rates.heuristic,
                        "best_candidate": rates.best,
                    },
                    "heuristic": f.heuristic,
                    "heuristic_speedup": msgspec.to_builtins(f.heuristic_speedup),
                    "spread": msgspec.to_builtins(f.spread),
                    "peak_bytes": msgspec.to_builtins(f.peak_bytes),
                    "default_over_budget": f.default_over_budget,
                    "max_gil_hold": msgspec.to_builtins(f.max_gil_hold),
                    "front": msgspec.to_builtins(f.front),
                    "confirmation": msgspec.to_builtins(f.confirmation),
                    "n": f.n,
                }
            )
            if s.msgspec:
                row["msgspec_items_per_s"] = msgspec_rate
                row["ratio_vs_msgspec"] = (
                    rates.tuned / msgspec_rate if msgspec_rate else None
                )
                if f.msgspec_note:
                    row["msgspec_note"] = f.msgspec_note
        rows.append(row)
    total = grid_cells(search.grid, s.input_kinds)
    qd_corrected = float(sum(shipped_speedups)) if search.corrected else None
    return {
        "tool": TOOL,
        "complete": complete,
        "interrupted": interrupted,
        "command": s.command,
        "archive": s.archive,
        "settings": {
            "generations": s.generations,
            "test_size": s.test_size,
            "seed": s.seed,
            "input_kinds": list(s.input_kinds),
            "memory_budget": s.memory_budget,
            "time_budget": s.time_budget,
            "population": s.population,
            "search_rounds": s.search_rounds,
            "final_rounds": s.final_rounds,
            "gate_rounds": s.gate_rounds,
            "ship_threshold": s.ship_threshold,
            "msgspec": s.msgspec,
        },
        "provenance": measure.provenance(("satya-adapt", "msgspec", "orjson")),
        "generation": search.generation,
        "evaluations": search.evaluations,
        "search_seconds": search.search_seconds,
        "noise_floor": None if search.gates is None else search.gates["noise_floor"],
        "gates": search.gates,
        "knob_sensitivity": None
        if search.gates is None
        else {k: v["sensitive"] for k, v in search.gates["knobs"].items()},
        "search_space": search.space.to_json(),
        "rejected": dict(search.rejected),
        "generations": search.history,
        "grid": {
            "features": [f.name for f in search.grid.features],
            "cells": total,
        },
        "coverage": len(search.cells) / total,
        "qd_score": search.qd_score(),
        "corrected": search.corrected,
        "corrected_qd_score": qd_corrected,
        "speedup_percentiles": {
            "shipped": _percentiles(shipped_speedups),
            "best_candidate": _percentiles(best_speedups),
        },
        "keep_default_share": keep / len(rows) if rows else None,
        "other_data": _confirmations(search),
        "cells": rows,
    }


def _confirmations(search: Search) -> dict[str, int] | None:
    """How many shipped elites the correction checked on other data of their cell, and how
    many of them held (see :func:`~satya_adapt.tuning.correction.confirm_cell`)."""
    if not search.corrected:
        return None
    finals = [c.final for c in search.cells.values() if c.final is not None]
    checked = [f.confirmation for f in finals if f.confirmation is not None]
    return {
        "checked": len(checked),
        "confirmed": sum(1 for c in checked if c.confirmed),
        "unchecked_ships": sum(1 for f in finals if f.ship and f.confirmation is None),
    }


def _percentiles(values: Sequence[float]) -> dict[str, float | None] | None:
    if not values:
        return None
    s = sorted(values)
    return {"p5": quantile(s, 0.05), "p50": quantile(s, 0.5), "p95": quantile(s, 0.95)}



def change(
    search: Search,
    previous: _archive.ArchiveFile | None,
    cells: Sequence[_archive.Cell],
    *,
    first_generation: int,
    interrupted: bool,
) -> _archive.Change:
    before = {tuple(c.index): c.elite for c in (previous.cells if previous is not None else [])}
    after = {tuple(c.index): c.elite for c in cells}
    added = sum(1 for k in after if k not in before)
    changed = sum(1 for k in after if k in before and before[k] != after[k])
    dropped = sum(1 for k in before if k not in after)
    shipped = sum(1 for c in cells if not c.keep_default)
    what = "interrupted" if interrupted else ("corrected" if search.corrected else "saved")
    return _archive.Change(
        date=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0),
        action="optimize",
        summary=(
            f"generations {first_generation + 1}..{search.generation}"
            if search.generation > first_generation
            else f"no new generation (at {search.generation})"
        )
        + f", {search.evaluations} evaluations in all; {len(cells)} cells, {shipped} ship an"
        f" elite, {len(cells) - shipped} keep the default; {what}",
        command=search.settings.command,
        cells_added=added,
        cells_changed=changed,
        cells_dropped=dropped,
    )
