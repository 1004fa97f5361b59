"""Folding an online cache (what live verification learned, :mod:`satya_adapt.live`) into an
archive: ``satya-adapt archive merge CACHE --into ARCHIVE``.

Only entries measured on the archive's hardware (the cache's hardware fingerprint equal to the
fingerprint of the archive's provenance) are folded; an archive without measurements takes the
entries of this machine and this machine's provenance. Each entry becomes a cell at the
descriptor of its quantized profile: the learned configuration as the elite, the evidence of
live verification (median throughputs, the throughput ratio over the default configuration with
its interval, the number of throughputs). An entry becomes an elite only when the lower bound of
its ratio is above the bar every elite of an archive clears (:data:`SHIP_THRESHOLD`; live
verification promotes on a sign test, whose interval may still reach below 1: such a cell,
folded, made a claim that ``archive refresh`` demoted at once). It replaces a cell of the
archive only when that lower bound is higher, keeping the cell's profile; among entries of one
cell, the one with the highest lower bound wins. Entries learned on calls with
``errors=False`` are left out: an archive's cells are measured on calls that keep errors; so
are entries whose choice was reverted live (``"reverted": true``: the cache keeps them so
that the next process starts reverted). The change is recorded in the archive's history
(action ``merge``).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from dataclasses import dataclass
from typing import Any, Optional

import msgspec

from .. import archive as _archive
from .. import live as _live
from ..archive import ArchiveFile, Cell, Change, Elite
from ..config import SHIP_THRESHOLD
from ..hardware import HardwareClass

__all__ = ["FoldReport", "archive_fingerprint", "fold_cache", "fold_cache_file"]


@dataclass
class FoldReport:
    archive: ArchiveFile
    change: Change
    added: list[tuple[int, ...]]
    changed: list[tuple[int, ...]]
    skipped: int  # entries of another hardware, or without evidence
    written: bool = True  # False: nothing changed, and the archive was left as it was


def archive_fingerprint(archive: ArchiveFile) -> Optional[str]:
    """The hardware fingerprint (:func:`satya_adapt.live.fingerprint`) of an archive's
    provenance; ``None`` when it records no hardware."""
    hw, sw = archive.provenance.hardware, archive.provenance.software
    recorded = _archive.hardware_class(archive.provenance)
    if hw is None or sw is None or recorded is None:
        return None
    return _fingerprint(recorded, hw.cpu_model)


def _fingerprint(h: HardwareClass, model: str) -> str:
    return "|".join(
        (h.machine, h.cpu_vendor, h.cpu_family, model, f"{h.usable_cores} cores",
         f"Python {h.python}", "GIL" if h.gil_enabled else "no GIL", f"satya-adapt {h.satya_adapt}")
    )


def _positive(x: Any) -> Optional[float]:
    """``x`` as a float when it is a finite positive number (not a bool), else ``None``."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    try:
        v = float(x)
    except OverflowError:  # an int beyond floats
        return None
    return v if 0.0 < v < math.inf else None


def _cell(archive: ArchiveFile, entry: dict[str, Any]) -> Optional[Cell]:
    """The archive cell a cache entry makes, ``None`` for an entry that cannot make one: its
    evidence not finite positive numbers, its interval out of order, its configuration not
    one an archive holds (``micro_batch_size`` above ``batch_size``), its cell beyond the
    quantization's range. Such an entry is skipped (counted), never the whole fold."""
    from ..selector import _rep

    ratio = entry.get("ratio")
    rate, base = _positive(entry.get("items_per_s")), _positive(entry.get("default_items_per_s"))
    if not isinstance(ratio, list) or len(ratio) != 3 or rate is None or base is None:
        return None
    speedup, low, high = (_positive(x) for x in ratio)
    if speedup is None or low is None or high is None or not low <= speedup <= high:
        return None
    b, m, t = entry["config"]
    if m > b:
        return None
    try:
        rep = _rep(tuple(entry["cell"]))
        index = _archive.descriptor(archive.grid, rep)
        if index is None:
            return None
        profile = _archive.cell_profile(rep._replace(n=rep.n or None))
    except (OverflowError, ValueError):  # a quantized value beyond floats (2.0 ** 1250)
        return None
    samples = entry.get("samples")
    return Cell(
        index=list(index),
        profile=profile,
        elite=Elite(batch_size=b, micro_batch_size=m, threads=t),
        throughput=rate,
        default_throughput=base,
        speedup=speedup,
        speedup_ci_low=low,
        speedup_ci_high=high,
        peak_bytes=0,
        n_measurements=(
            samples
            if type(samples) is int and 0 < samples <= _archive.MAX_INT  # (not a bool)
            else 1
        ),
    )


def fold_cache(
    archive: ArchiveFile, entries: list[dict[str, Any]], *, name: str, command: Optional[str] = None
) -> FoldReport:
    """``archive`` with the cache's ``entries`` folded in (see the module docstring)."""
    target = archive_fingerprint(archive)
    provenance = archive.provenance
    if target is None:
        target = _live.fingerprint()
        provenance = _archive.provenance_here(
            tool=provenance.tool, command=provenance.command, seed=provenance.seed,
            generations=provenance.generations, test_size=provenance.test_size,
            note=provenance.note,
        )
    best: dict[tuple[int, ...], Cell] = {}
    skipped = below = verdicts = reverted = 0
    for entry in entries:
        if entry.get("reverted", False) is True:
            # Its choice was reverted live, behind the default by more than a tie: what the
            # cache keeps so that the next process starts reverted, not an elite.
            reverted += 1
            continue
        if entry.get("errors", True) is False:
            # Learned on calls with `errors=False`: an archive's cells are measured on calls
            # that keep errors (the default), which run slower on failing records.
            verdicts += 1
            continue
        cell = _cell(archive, entry) if entry.get("hardware") == target else None
        if cell is None:
            skipped += 1
            continue
        if not cell.speedup_ci_low > SHIP_THRESHOLD:
            below += 1
            continue
        index = tuple(cell.index)
        if index not in best or cell.speedup_ci_low > best[index].speedup_ci_low:
            best[index] = cell
    cells = {tuple(c.index): c for c in archive.cells}
    added, changed = [], []
    for index, cell in sorted(best.items()):
        old = cells.get(index)
        if old is None:
            added.append(index)
        elif cell.speedup_ci_low > old.speedup_ci_low:
            changed.append(index)
            cell = msgspec.structs.replace(cell, profile=old.profile)  # (the cell's own data)
        else:
            continue
        cells[index] = cell
    summary = (
        f"Folded online cache {name}: {len(added)} cells added, {len(changed)} changed"
        f" (higher lower bound of the throughput ratio over the default)"
    )
    if skipped:
        summary += (
            f"; {skipped} entries skipped (another hardware, no evidence, or evidence that"
            " cannot make a cell)"
        )
    if below:
        summary += (
            f"; {below} entries not ahead of the default beyond noise (lower bound of the ratio"
            f" at most {SHIP_THRESHOLD})"
        )
    if reverted:
        summary += f"; {reverted} entries left out whose choice was reverted live"
    if verdicts:
        summary += (
            f"; {verdicts} entries of calls with errors=False left out (an archive's cells are"
            " measured on calls that keep errors)"
        )
    change = Change(
        date=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0),
        action="merge",
        summary=summary + ".",
        command=command,
        cells_added=len(added),
        cells_changed=len(changed),
    )
    merged = msgspec.structs.replace(
        archive,
        provenance=provenance,
        cells=[cells[i] for i in sorted(cells)],
        history=[*archive.history, change],
    )
    _archive.check_archive(merged, name)
    return FoldReport(merged, change, added, changed, skipped)


def fold_cache_file(
    cache: str, into: Any, out: Any, *, command: Optional[str] = None
) -> FoldReport:
    """Reads the cache file and the archive ``into``, folds, writes ``out`` atomically; when
    nothing changed and ``out`` is ``into``, writes nothing (not even a history record)."""
    entries = _live.read_cache(cache)
    archive = _archive.load_archive(into)
    report = fold_cache(archive, entries, name=os.fspath(cache), command=command)
    if report.added or report.changed or os.fspath(out) != os.fspath(into):
        _archive.write_archive(report.archive, out)
    else:
        report.written = False
    return report
