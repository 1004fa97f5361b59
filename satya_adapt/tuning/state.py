"""The optimizer's resume state, as typed msgspec structures.

An optimizer's ``--archive`` file keeps, in ``optimizer.random_state``, the state of its
``random.Random`` (see :func:`satya_adapt.archive.rng_state_to_json`) with one more key,
``search``: a :class:`SearchState` (the gates' results, every cell's :class:`CellRecord` with
its workload genes and measured rounds, the per-generation statistics), so that the same
command resumes the search. The shipped archive carries no such state
(:func:`satya_adapt.archive.sync_shipped_archive` drops it).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Tuple

import msgspec

from .. import archive as _archive
from ..errors import ArchiveError
from ..profile import Profile
from .correction import CellFinal, Evidence, speedup_evidence
from .space import ConfigGenes, SearchSpace, WorkloadGenes
from .workloads import WorkloadSpec

__all__ = [
    "FRONT_CAP",
    "OTHER_DATA_CAP",
    "SEARCH_STATE_VERSION",
    "CellRecord",
    "FrontCandidate",
    "SearchState",
    "decode_search_state",
    "front_of",
    "stored_genes",
    "stored_workloads",
]

#: Version of the ``search`` block inside ``optimizer.random_state``.
SEARCH_STATE_VERSION = 1


#: Front candidates a cell keeps at most (the slowest beyond it are dropped).
FRONT_CAP = 8
#: Other data a cell remembers for the correction's check (the latest ones kept).
OTHER_DATA_CAP = 4


class FrontCandidate(msgspec.Struct):
    """A configuration of a cell's front in the search: its paired speedups over the default
    configuration (pooled over its evaluations and re-measurements), items/s, peak bytes and
    longest GIL hold (seconds) from the run that checked its results. ``memory``: kept for its
    memory in flight, not its speed (a *memory point*: the default's throughput within the
    shipping margin, less memory; never the elite)."""

    config: ConfigGenes
    ratios: List[float] = []
    rate: float = 0.0
    peak_bytes: int = 0
    max_gil_hold: Optional[float] = None
    memory: bool = False

    @property
    def speedup(self) -> Evidence:
        return speedup_evidence(self.ratios)


def _hold(c: FrontCandidate) -> float:
    return float("inf") if c.max_gil_hold is None else c.max_gil_hold


def _dominates(a: FrontCandidate, b: FrontCandidate) -> bool:
    sa, sb = a.speedup.median, b.speedup.median
    no_worse = sa >= sb and a.peak_bytes <= b.peak_bytes and _hold(a) <= _hold(b)
    return no_worse and (sa > sb or a.peak_bytes < b.peak_bytes or _hold(a) < _hold(b))


def front_of(candidates: List[FrontCandidate], cap: int = FRONT_CAP) -> List[FrontCandidate]:
    """The non-dominated candidates (median speedup higher, peak bytes and GIL hold lower; an
    unmeasured hold counts as the worst), fastest first, at most ``cap``: beyond it the slowest
    are dropped, except the one with the least memory in flight (the front's other end)."""
    kept = [c for c in candidates if not any(_dominates(o, c) for o in candidates)]
    kept.sort(key=lambda c: -c.speedup.median)
    if len(kept) <= cap:
        return kept
    leanest = min(kept, key=lambda c: (c.peak_bytes, -c.speedup.median))
    fastest = [c for c in kept if c is not leanest][: cap - 1]
    return sorted([*fastest, leanest], key=lambda c: -c.speedup.median) if cap > 0 else []


def same_data(genes: WorkloadGenes) -> WorkloadGenes:
    """What makes two workloads the same data, whatever their seeds (which only draw other
    records of the same kind)."""
    return dataclasses.replace(genes, seed=0)


class CellRecord(msgspec.Struct):
    """One cell of the search: the data it was found on, its elite (or, while the default holds
    the cell, the best candidate), the paired speedups behind it and the correction's outcome."""

    index: Tuple[int, ...]
    genes: WorkloadGenes
    profile: Profile
    elite: Optional[ConfigGenes] = None
    candidate: Optional[ConfigGenes] = None
    ratios: List[float] = []
    rate: float = 0.0  # items/s of the configuration behind the evidence
    default_rate: float = 0.0
    peak_bytes: int = 0  # of the configuration behind the evidence
    default_peak_bytes: int = 0
    measurements: int = 0  # timed rounds behind the evidence
    challenges: int = 0
    replacements: int = 0
    demotions: int = 0
    final: Optional[CellFinal] = None
    # Longest GIL hold (seconds) of the configuration behind the evidence, and the default's
    # (``None`` in a state saved before the search measured them).
    max_gil_hold: Optional[float] = None
    default_max_gil_hold: Optional[float] = None
    # Every evaluated configuration whose speedup over the default has a lower bound above 1,
    # filtered to the non-dominated ones (:func:`front_of`); empty in an older state.
    front: List[FrontCandidate] = []
    front_demotions: int = 0
    # Workload genes of other data that fell in the cell (another real schema or other synthetic
    # genes, not only another seed), the latest :data:`OTHER_DATA_CAP`; empty in an older state.
    other_data: List[WorkloadGenes] = []

    def note_data(self, genes: WorkloadGenes) -> None:
        """Remembers ``genes`` as other data of the cell when they are not the same data as
        any already known (the seed aside)."""
        key = same_data(genes)
        if key == same_data(self.genes) or any(same_data(g) == key for g in self.other_data):
            return
        self.other_data = [*self.other_data, genes][-OTHER_DATA_CAP:]

    def other_data_now(self) -> List[WorkloadGenes]:
        """The other data, without what became the cell's own data since (a new elite's)."""
        own = same_data(self.genes)
        return [g for g in self.other_data if same_data(g) != own]

    @property
    def best(self) -> ConfigGenes | None:
        return self.elite if self.elite is not None else self.candidate

    @property
    def speedup(self) -> Evidence:
        return speedup_evidence(self.ratios)

    @property
    def fitness(self) -> float:
        """The cell's contribution to the QD-score: the elite's median speedup over the default
        configuration, 1.0 while the default holds the cell."""
        return self.speedup.median if self.elite is not None else 1.0

    def to_json(self) -> Dict[str, Any]:
        doc: Dict[str, Any] = msgspec.to_builtins(self)
        return doc

    @classmethod
    def from_json(cls, doc: Any) -> CellRecord:
        return msgspec.convert(doc, cls)


class SearchState(msgspec.Struct, kw_only=True):
    """The ``search`` block: what the next generation needs."""

    version: int
    test_size: Optional[int] = None
    input_kinds: List[str] = []
    memory_budget: Optional[int] = None
    seed: Optional[int] = None
    space: SearchSpace
    gates: Optional[Dict[str, Any]] = None
    cells: List[CellRecord] = []
    history: List[Dict[str, Any]] = []
    rejected: Dict[str, int] = {}
    search_seconds: float = 0.0
    corrected: bool = False
    sessions: int = 0


def decode_search_state(random_state: Any) -> SearchState:
    """The search state inside an archive's ``optimizer.random_state``; :class:`ArchiveError`
    when there is none, it has another version, or it cannot be read."""
    search = random_state.get("search") if isinstance(random_state, dict) else None
    if not isinstance(search, dict):
        raise ArchiveError("the archive holds no optimizer search state to resume")
    if search.get("version") != SEARCH_STATE_VERSION:
        raise ArchiveError(
            f"the archive's search state has version {search.get('version')!r};"
            f" this optimizer resumes version {SEARCH_STATE_VERSION}"
        )
    try:
        return msgspec.convert(search, SearchState)
    except msgspec.ValidationError as exc:
        raise ArchiveError(f"the archive's search state cannot be read: {exc}") from None


def _state_cells(archive: _archive.ArchiveFile) -> List[CellRecord]:
    state = archive.optimizer.random_state if archive.optimizer is not None else None
    if not isinstance(state, dict) or not isinstance(state.get("search"), dict):
        return []
    return decode_search_state(state).cells


def stored_genes(archive: _archive.ArchiveFile) -> Dict[Tuple[int, ...], WorkloadGenes]:
    """The workload genes each cell was measured on, from the optimizer's search state, else
    from a cell's ``workload`` (when it carries ``seed``); ``Prepared(genes, n)`` regenerates
    the data. Cells without either are left out."""
    out: Dict[Tuple[int, ...], WorkloadGenes] = {}
    for cell in archive.cells:
        w = cell.workload
        if isinstance(w, dict) and "seed" in w:
            try:
                out[tuple(cell.index)] = WorkloadGenes.from_json(
                    {**w, "input_kind": cell.profile.input_kind}
                )
            except (KeyError, TypeError, ValueError):
                pass
    for record in _state_cells(archive):
        out[tuple(record.index)] = record.genes
    return out


def stored_workloads(archive: _archive.ArchiveFile) -> Dict[Tuple[int, ...], Tuple[WorkloadSpec, int]]:
    """The workload (a :class:`~satya_adapt.tuning.workloads.WorkloadSpec`, with its data seed)
    each cell of an optimizer-written archive was measured on: ``{index: (spec, seed)}``; empty
    for archives without search state, and without the cells of real-data workloads (their
    ``workload`` names them). :class:`ArchiveError` when the state cannot be read."""
    return {
        tuple(r.index): (r.genes.spec(), r.genes.seed)
        for r in _state_cells(archive)
        if not r.genes.real
    }
