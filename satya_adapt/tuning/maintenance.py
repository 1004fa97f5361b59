"""Archive maintenance: refresh an archive on this machine, merge two archives.

These are the archive's life jobs: re-measure an existing archive on the current machine and
build, drop elites that no longer beat the default, merge archives, and record what changed
(``archives/README.md`` describes the format and the history entries). The command line (``satya-adapt archive refresh`` and
``satya-adapt archive merge``) is a thin layer over :func:`refresh_file` and
:func:`merge_files`.

**Refresh.** For every cell with an elite, the cell's workload is regenerated
(:func:`cell_workload`): from workload genes stored with the cell when the archive has them,
otherwise from the cell's measured profile, by searching the parameters of
:class:`~satya_adapt.tuning.workloads.WorkloadSpec` whose generated data has that profile
(:func:`spec_for_profile`). The regenerated data must fall in the cell (its descriptor is
checked); a cell whose workload cannot be regenerated is left as it was and reported as
skipped. The elite and the default configuration are then timed interleaved on that data
(:func:`satya_adapt.tuning.measure.run_rounds`, warm-up, ``rounds`` paired rounds, the median of the
per-round speedups and its order-statistic confidence interval). An elite whose lower
confidence bound of the speedup is at most ``min_speedup`` (1.03, the optimizer's bar) is
demoted: the cell becomes ``"keep_default"``. Otherwise the elite stays with its fresh
evidence. Cells that already keep the default have no candidate to re-measure and are left
as they are. The archive's provenance becomes this machine and build (that is what a refresh
is for), and one :class:`~satya_adapt.archive.Change` is appended to its history.

When the archive was measured with another number of usable cores, an elite's ``threads`` is
rescaled to the cores here before it is measured, as the selector would use it.

**Merge.** Two archives over the same grid, measured on the same hardware class, are merged
cell by cell. A cell found in one archive only is taken as it is; for a cell found in both,
the *better-evidenced* one is kept (:func:`better_evidenced`): the one with the higher lower
confidence bound of its speedup over the default configuration, then (on a tie) the one with
more measurements, then the first archive's. The lower bound comes first because it already
pays for few measurements: an order-statistic interval widens as the number of measurements
falls, so a lucky elite measured three times does not outrank one measured twenty times.

Both jobs write atomically (:func:`satya_adapt.archive.write_archive`): an interrupted job
leaves the original file as it was.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Union

import msgspec

from .. import archive as _archive
from .. import hardware as _hardware
from . import measure as _measure
from . import realdata as _realdata
from . import workloads as _workloads
from ..archive import ArchiveFile, Cell, CellProfile, Change, Elite
from ..config import DEFAULT_CONFIGURATION, SHIP_THRESHOLD, BatchConfig
from ..errors import ArchiveError
from ..profile import Profile
from ..schema import Schema
from ..validator import Validator
from .correction import memory_point
from .measurer import Prepared
from .space import WorkloadGenes
from .state import stored_workloads

__all__ = [
    "DEFAULT_MIN_SPEEDUP",
    "DEFAULT_RECORDS",
    "DEFAULT_ROUNDS",
    "CellRefresh",
    "MergeReport",
    "RefreshReport",
    "better_evidenced",
    "cell_workload",
    "merge_archives",
    "merge_files",
    "optimizer_workloads",
    "refresh_archive",
    "refresh_file",
    "robust_profile",
    "spec_for_profile",
]

#: An elite stays only when the lower confidence bound of its speedup exceeds this: the bar the
#: optimizer ships an elite by.
DEFAULT_MIN_SPEEDUP = SHIP_THRESHOLD
#: Paired rounds per cell (9 gives a 96% order-statistic interval from the 2nd and 8th ratio).
DEFAULT_ROUNDS = 9
#: Records per measured call when neither the cell nor the provenance gives a size.
DEFAULT_RECORDS = 20_000
#: A timed sample lasts at least this long (calls are repeated inside a sample to reach it).
SAMPLE_NS = 5_000_000
#: Records generated per candidate while searching a workload for a profile.
_PROBE_RECORDS = 64

PathLike = Union[str, "os.PathLike[str]"]


# -- regenerating a cell's workload ------------------------------------------------------------


def _feature_gap(name: str, measured: float, target: float, grid: _archive.Grid) -> float:
    """Distance between two values of a numeric feature, in the grid's units (one bin ~ 1)."""
    for f in grid.features:
        if f.name == name and f.scale != "category":
            unit = _archive.feature_unit(f)
            return (
                abs(_archive.transform(measured, f.scale) - _archive.transform(target, f.scale))
                / unit
            )
    if name == "constraint_complexity":
        return abs(measured - target) / 0.25
    return abs(math.log2(1.0 + max(measured, 0.0)) - math.log2(1.0 + max(target, 0.0)))


def _gap(measured: Profile, target: CellProfile, grid: _archive.Grid) -> float:
    return math.sqrt(
        sum(
            _feature_gap(name, float(getattr(measured, name)), float(getattr(target, name)), grid)
            ** 2
            for name in ("field_count", "avg_string_length", "constraint_complexity", "object_size")
        )
    )


#: Interleaved slices a profile is averaged over (the detector samples only a few records).
_PROFILE_SLICES = 8


def robust_profile(workload: _workloads.Workload, kind: str, validator: Validator) -> Profile:
    """The profile of ``workload``'s records given as ``kind``, averaged over interleaved slices.

    The run-time detector samples a handful of records (it must cost microseconds), so one
    detection is noisy; refresh jobs compare regenerated data with a cell's bins, where that
    noise would flip records near a bin edge into the next cell. ``avg_string_length`` and
    ``object_size`` are the means over :data:`_PROFILE_SLICES` slices; ``n`` is the record count.
    """
    n = workload.n
    k = max(1, min(_PROFILE_SLICES, n // 4))
    if kind == "dicts":
        parts: list[Any] = [workload.records[j::k] for j in range(k)]
    else:
        lines = workload.ndjson_bytes().split(b"\n")[:n]
        if kind == "json":
            parts = [b"[" + b",".join(lines[j::k]) + b"]" for j in range(k)]
        else:
            parts = [b"\n".join(lines[j::k]) + b"\n" for j in range(k)]
    profiles = [validator.profile(part, input_kind=kind) for part in parts if len(part)]
    if not profiles:
        return validator.profile(workload.data(kind), input_kind=kind)
    first = profiles[0]
    return Profile(
        first.field_count,
        sum(p.avg_string_length for p in profiles) / len(profiles),
        first.constraint_complexity,
        sum(p.object_size for p in profiles) / len(profiles),
        kind,
        n,
    )


def _probe(spec: _workloads.WorkloadSpec, kind: str, seed: int) -> Profile:
    """The profile of a small sample of ``spec``'s records, given as ``kind``."""
    w = _workloads.make_workload(spec, _PROBE_RECORDS, seed=seed)
    return robust_profile(w, kind, Validator(w.schema, adapt=False))


def _complexity_of(spec: _workloads.WorkloadSpec) -> float:
    return Schema.from_json_schema(_workloads.schema_for(spec)).constraint_complexity


#: The ladders the search walks: string lengths a quarter octave apart, list lengths by octaves.
_LENGTHS = sorted({max(1, round(2 ** (i / 4))) for i in range(45)})
_LISTS = [0] + [2**i for i in range(1, 11)]


def spec_for_profile(
    profile: CellProfile, grid: _archive.Grid | None = None, *, seed: int = 0
) -> tuple[_workloads.WorkloadSpec, Profile]:
    """A workload spec whose generated data has (about) ``profile``, and the profile measured
    on a sample of it (given as ``profile.input_kind``).

    ``field_count`` is taken as it is; ``constrained`` and ``costly`` are chosen on a grid of
    tenths so that the schema's ``constraint_complexity`` is closest; ``string_length`` (on a
    quarter-octave ladder) and ``list_length`` (a bounded list of ints adds bytes without
    strings) by a local search from the profile's string length, so that ``avg_string_length``
    and ``object_size`` are closest in the units of ``grid`` (one bin about one unit).
    Deterministic for a given ``seed``.
    """
    grid = grid or _archive.Grid(features=[])
    kind = profile.input_kind
    fc = max(1, int(profile.field_count))
    shapes: dict[int, tuple[float, float]] = {}

    def shape(list_length: int) -> tuple[float, float]:
        """(constrained, costly) closest to the profile's complexity with this list length."""
        if list_length not in shapes:
            best: tuple[float, float, float] | None = None
            for c in range(11):
                for k in range(11) if c else (0,):
                    spec = _workloads.WorkloadSpec(
                        field_count=fc, constrained=c / 10, costly=k / 10, list_length=list_length
                    )
                    gap = abs(_complexity_of(spec) - profile.constraint_complexity)
                    if best is None or gap < best[0] - 1e-12:
                        best = (gap, c / 10, k / 10)
            assert best is not None
            shapes[list_length] = best[1:]
        return shapes[list_length]

    target = _archive.descriptor(grid, _archive.as_profile(profile))
    probes: dict[tuple[int, int], tuple[float, _workloads.WorkloadSpec, Profile]] = {}

    def probe(i: int, j: int) -> tuple[float, _workloads.WorkloadSpec, Profile]:
        key = (i, j)
        if key not in probes:
            list_length = _LISTS[j] if fc > 1 else 0
            constrained, costly = shape(list_length)
            spec = _workloads.WorkloadSpec(
                name="refresh",
                field_count=fc,
                string_length=_LENGTHS[i],
                constrained=constrained,
                costly=costly,
                list_length=list_length,
            )
            measured = _probe(spec, kind, seed)
            # Landing in the profile's cell matters more than being close to it.
            outside = 0.0 if _archive.descriptor(grid, measured) == target else 1.0
            probes[key] = (_gap(measured, profile, grid) + outside, spec, measured)
        return probes[key]

    i = min(
        range(len(_LENGTHS)),
        key=lambda k: abs(math.log2(_LENGTHS[k]) - math.log2(max(1.0, profile.avg_string_length))),
    )
    j = 0
    steps = [(1, 0), (-1, 0), (4, 0), (-4, 0), (0, 1), (0, -1), (1, -1), (-1, 1), (0, 2)]
    while True:
        here = probe(i, j)
        moves = [
            (i + di, j + dj)
            for di, dj in steps
            if 0 <= i + di < len(_LENGTHS) and 0 <= j + dj < len(_LISTS)
        ]
        best = min(moves, key=lambda ij: probe(*ij)[0])
        if probe(*best)[0] >= here[0] - 1e-9:
            return here[1], here[2]
        i, j = best


def _stored_workload(cell: Cell) -> tuple[_workloads.WorkloadSpec, int | None] | None:
    """The workload spec stored with a cell (``WorkloadSpec.to_dict()`` values, optionally with
    the data ``seed``), or ``None`` when there is none or it cannot be read."""
    genes = getattr(cell, "workload", None)
    if genes is None:
        return None
    if isinstance(genes, _workloads.WorkloadSpec):
        return genes, None
    if not isinstance(genes, dict):
        genes = msgspec.to_builtins(genes)
    if not isinstance(genes, dict):
        return None
    params = {k: v for k, v in genes.items() if k in _workloads.WorkloadSpec.__dataclass_fields__}
    seed = genes.get("seed")
    try:
        fields = params.pop("fields", None)
        if fields is not None:
            params["fields"] = _layout_from_json(fields)
        spec = _workloads.WorkloadSpec(**params)
    except (TypeError, ValueError):
        return None  # unreadable genes: search a workload from the cell's profile instead
    return spec, seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def _layout_from_json(layout: Any) -> Any:
    return tuple(
        (name, kind if isinstance(kind, str) else _layout_from_json(kind)) for name, kind in layout
    )


@dataclass
class CellWorkload:
    """The data a cell is re-measured on."""

    spec: _workloads.WorkloadSpec
    #: ``"stored"`` (genes stored with the cell), ``"profile"`` (searched from its profile) or
    #: ``"real"`` (a real-data workload's records; ``data`` ``None`` when it is not found here).
    origin: str
    data: Any
    n: int
    profile: Profile
    index: tuple[int, ...] | None
    schema: dict[str, Any]

    @property
    def in_cell(self) -> bool:
        return self.index is not None


def optimizer_workloads(archive: ArchiveFile) -> dict[tuple[int, ...], tuple[Any, int]]:
    """``{index: (spec, seed)}`` from the search state an optimizer run left in the archive
    (empty when there is none or it cannot be read: :class:`ArchiveError`)."""
    try:
        return dict(stored_workloads(archive))
    except ArchiveError:
        return {}


def cell_workload(
    cell: Cell,
    grid: _archive.Grid,
    n: int,
    *,
    seed: int = 0,
    stored: tuple[_workloads.WorkloadSpec, int] | None = None,
) -> tuple[CellWorkload, tuple[int, ...] | None]:
    """Regenerates ``n`` records for ``cell`` (as the cell's input kind) and returns them with
    the descriptor of the regenerated data.

    The spec comes from the cell's stored ``workload`` genes, else ``stored`` (a spec and its
    data seed from the optimizer's search state), else :func:`spec_for_profile`.
    ``workload.in_cell`` tells whether the data falls in the cell.
    """
    kind = cell.profile.input_kind
    real = cell.workload.get("real") if isinstance(cell.workload, dict) else None
    if isinstance(real, str) and real:
        return _real_cell_workload(cell, grid, n, real, seed)
    spec: _workloads.WorkloadSpec | None = None
    origin = "stored"
    own = _stored_workload(cell)
    if own is not None:
        spec, own_seed = own
        seed = own_seed if own_seed is not None else seed
    elif stored is not None:
        spec, seed = stored
    if spec is None:
        spec, _ = spec_for_profile(cell.profile, grid, seed=seed)
        origin = "profile"
    w = _workloads.make_workload(spec, n, seed=seed)
    data = w.data(kind)
    measured = robust_profile(w, kind, Validator(w.schema, adapt=False))
    index = _archive.descriptor(grid, measured)
    ok = index == tuple(cell.index)
    return (
        CellWorkload(spec, origin, data, n, measured, tuple(cell.index) if ok else None, w.schema),
        index,
    )


def _real_cell_workload(
    cell: Cell, grid: _archive.Grid, n: int, name: str, seed: int
) -> tuple[CellWorkload, tuple[int, ...] | None]:
    """``n`` records of the training real-data workload ``name`` in the order the cell's data
    seed gives (``origin`` ``"real"``); not in the cell when the workload is not found here."""
    kind = cell.profile.input_kind
    stored_seed = cell.workload.get("seed") if isinstance(cell.workload, dict) else None
    if isinstance(stored_seed, int) and not isinstance(stored_seed, bool):
        seed = stored_seed
    w = _realdata.training_workloads().get(name)
    if w is None:
        p = cell.profile
        stored = Profile(
            p.field_count, p.avg_string_length, p.constraint_complexity, p.object_size, kind, n
        )
        return CellWorkload(_workloads.WorkloadSpec(name=name), "real", None, n, stored, None, {}), None
    # The data as the search prepared it (the same records, order and tiling).
    prepared = Prepared(WorkloadGenes.of_real(name, kind, seed), n)
    index = _archive.descriptor(grid, prepared.profile)
    ok = index == tuple(cell.index)
    return (
        CellWorkload(
            _workloads.WorkloadSpec(name=name),
            "real",
            prepared.payload,
            prepared.n,
            prepared.profile,
            tuple(cell.index) if ok else None,
            w.schema,
        ),
        index,
    )


# -- refresh --------------------------------------------------------------------------------------


RefreshAction = Literal["kept", "demoted", "keep_default", "skipped"]


@dataclass(frozen=True)
class CellRefresh:
    """What a refresh did to one cell.

    ``action``: ``"kept"`` (the elite still wins; fresh evidence stored), ``"demoted"`` (it no
    longer wins: the cell keeps the default), ``"keep_default"`` (nothing to re-measure) or
    ``"skipped"`` (its workload could not be regenerated inside the cell; left as it was).
    """

    index: tuple[int, ...]
    input_kind: str
    action: RefreshAction
    before: Cell
    after: Cell
    records: int = 0
    workload: str = ""
    note: str = ""

    def describe(self) -> str:
        """One line for people: the cell, the elite, the evidence before and after."""
        where = f"cell {list(self.index)} {self.input_kind}"
        b = self.before
        if self.action == "keep_default":
            return f"{where}: keeps the default (no elite to re-measure)"
        if self.action == "skipped":
            return f"{where}: skipped, {self.note}"
        elite = _elite_text(b.elite)
        old = _speedup_text(b)
        new = _speedup_text(self.after)
        if self.action == "demoted":
            return (
                f"{where}: elite {elite} demoted to keep_default: speedup {old} -> {new}"
                f" ({self.after.n_measurements} rounds of {self.records} records)"
            )
        changed = ""
        after = self.after.elite
        if _elite_text(after) != elite:
            # The fastest point of the cell's front re-measured; the old elite's threads
            # rescaled to the cores here when that is all that differs.
            why = (
                "threads rescaled to the cores here"
                if not isinstance(b.elite, str) and not isinstance(after, str)
                and (b.elite.batch_size, b.elite.micro_batch_size)
                == (after.batch_size, after.micro_batch_size)
                else "the fastest of the cell's front, re-measured"
            )
            changed = f" -> {_elite_text(after)} ({why})"
        return (
            f"{where}: elite {elite}{changed} kept: speedup {old} -> {new}"
            f" ({self.after.n_measurements} rounds of {self.records} records)"
        )


@dataclass
class RefreshReport:
    """The refreshed archive, what happened to each cell, and the history entry added."""

    archive: ArchiveFile
    cells: list[CellRefresh]
    change: Change

    def count(self, action: str) -> int:
        return sum(1 for c in self.cells if c.action == action)


def _elite_text(elite: Any) -> str:
    if isinstance(elite, str):
        return elite
    return f"{elite.batch_size}/{elite.micro_batch_size}/{elite.threads}"


def _speedup_text(cell: Cell) -> str:
    return f"{cell.speedup:.2f} [{cell.speedup_ci_low:.2f}, {cell.speedup_ci_high:.2f}]"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


def _validate_fn(
    validator: Validator, kind: str, data: Any, config: BatchConfig
) -> Callable[[], Any]:
    b, m, t = config[:3]
    return lambda: validator.validate(
        data, input_kind=kind, batch_size=b, micro_batch_size=m, threads=t
    )


def _records_for(cell: Cell, archive: ArchiveFile, records: int | None) -> int:
    if records is not None:
        return records
    if cell.profile.n is not None:
        return cell.profile.n
    if archive.provenance.test_size is not None:
        return archive.provenance.test_size
    return DEFAULT_RECORDS


def _rescaled(elite: Elite, archive_cores: int | None, cores: int) -> Elite:
    """The elite with ``threads`` rescaled to the cores here, as the selector uses it."""
    threads = float(elite.threads)
    if archive_cores is not None and archive_cores != cores and threads > 1:
        threads = threads * cores / archive_cores
    t = max(1, min(math.floor(threads + 0.5), cores))
    if t == elite.threads:
        return elite
    return Elite(batch_size=elite.batch_size, micro_batch_size=elite.micro_batch_size, threads=t)


def refresh_archive(
    archive: ArchiveFile,
    *,
    records: int | None = None,
    rounds: int = DEFAULT_ROUNDS,
    warmup: int = 1,
    min_speedup: float = DEFAULT_MIN_SPEEDUP,
    seed: int = 0,
    command: str | None = None,
    on_cell: Callable[[int, int, Cell], None] | None = None,
    on_result: Callable[[CellRefresh], None] | None = None,
) -> RefreshReport:
    """Re-measures every elite of ``archive`` against the default configuration here.

    ``records``: records per measured call (default: the cell's ``n``, else the provenance's
    ``test_size``, else :data:`DEFAULT_RECORDS`); ``rounds``: paired timed rounds per cell.
    ``on_cell(i, total, cell)`` is called before cell ``i`` is measured, ``on_result(r)`` after.
    Returns a new archive; ``archive`` itself is not changed.
    """
    if rounds < 1:
        raise ValueError(f"`rounds` must be at least 1, got {rounds}")
    if records is not None and records < 1:
        raise ValueError(f"`records` must be at least 1, got {records}")
    if not math.isfinite(min_speedup) or min_speedup <= 0:
        raise ValueError(f"`min_speedup` must be a positive number, got {min_speedup}")
    _archive.check_archive(archive)
    recorded = _archive.hardware_class(archive.provenance)
    here = _hardware.current()
    archive_cores = recorded.usable_cores if recorded is not None else None
    stored = optimizer_workloads(archive)
    results: list[CellRefresh] = []
    new_cells: list[Cell] = []
    total = len(archive.cells)
    for i, cell in enumerate(archive.cells):
        if on_cell is not None:
            on_cell(i, total, cell)
        result = _refresh_cell(
            archive,
            cell,
            records,
            rounds,
            warmup,
            min_speedup,
            seed + i,
            archive_cores,
            here,
            stored.get(tuple(cell.index)),
        )
        results.append(result)
        new_cells.append(result.after)
        if on_result is not None:
            on_result(result)

    kept = sum(1 for r in results if r.action == "kept")
    demoted = [r for r in results if r.action == "demoted"]
    skipped = sum(1 for r in results if r.action == "skipped")
    measured = kept + len(demoted)
    cpu = _hardware.cpu_info()["model"] or here.machine
    summary = (
        f"Re-measured {_count(measured, 'elite')} against the default configuration on {cpu}"
        f" ({here.usable_cores} usable cores), {rounds} rounds each: {kept} kept,"
        f" {len(demoted)} demoted to keep_default (lower bound of the speedup <= {min_speedup:g})"
    )
    if demoted:
        listed = ", ".join(str(list(r.index)) for r in demoted[:10])
        summary += f": {listed}" + (" ..." if len(demoted) > 10 else "")
    if skipped:
        summary += f"; {skipped} skipped (workload not regenerated in the cell)"
    summary += "."
    change = Change(
        date=_now(),
        action="refresh",
        summary=summary,
        command=command,
        cells_changed=len(demoted),
    )
    old = archive.provenance
    provenance = old
    if measured:  # the evidence is now this machine's; with nothing measured, nothing changes
        note = "Elites re-measured on this machine by `satya-adapt archive refresh` (see history)."
        text = old.note.strip()
        if note not in text:
            if text and not text.endswith("."):
                text += "."
            text = f"{text} {note}".strip()
        provenance = _archive.provenance_here(
            tool=old.tool,
            command=old.command,
            seed=old.seed,
            generations=old.generations,
            test_size=old.test_size,
            note=text,
        )
    new = msgspec.structs.replace(
        archive,
        format_version=_archive.FORMAT_VERSION,
        provenance=provenance,
        cells=new_cells,
        history=[*archive.history, change],
    )
    _archive.check_archive(new)
    return RefreshReport(new, results, change)


def _refresh_cell(
    archive: ArchiveFile,
    cell: Cell,
    records: int | None,
    rounds: int,
    warmup: int,
    min_speedup: float,
    seed: int,
    archive_cores: int | None,
    here: _hardware.HardwareClass,
    stored: tuple[Any, int] | None = None,
) -> CellRefresh:
    index = tuple(cell.index)
    kind = cell.profile.input_kind
    if isinstance(cell.elite, str):
        return CellRefresh(index, kind, "keep_default", cell, cell)
    n = _records_for(cell, archive, records)
    workload, got = cell_workload(cell, archive.grid, n, seed=seed, stored=stored)
    n = workload.n  # a real-data workload may hold fewer (at most 32 MiB of JSON)
    if not workload.in_cell:
        return CellRefresh(
            index,
            kind,
            "skipped",
            cell,
            cell,
            records=n,
            workload=workload.origin,
            note=(
                f"the real-data workload `{workload.spec.name}` is not in the shared data"
                " folder here; left as it was"
                if workload.data is None
                else f"the regenerated workload falls in cell {list(got) if got else None},"
                " not in this one; left as it was"
            ),
        )
    elite = _rescaled(cell.elite, archive_cores, here.usable_cores)
    # The elite and every other point of the cell's front, timed in the same rounds.
    configs: dict[str, Elite] = {"elite": elite}
    for pt in _archive.cell_front(cell, DEFAULT_CONFIGURATION[:3]):
        if pt.default:
            continue
        c = _rescaled(pt.config, archive_cores, here.usable_cores)
        if c not in configs.values():
            configs[f"point{len(configs)}"] = c
    validator = Validator(workload.schema, adapt=False)
    fns = {
        name: _validate_fn(
            validator,
            kind,
            workload.data,
            BatchConfig(c.batch_size, c.micro_batch_size, c.threads, "archive-exact"),
        )
        for name, c in configs.items()
    }
    default_fn = _validate_fn(validator, kind, workload.data, DEFAULT_CONFIGURATION)
    # Invariance is a precondition of comparing speeds: all must give the same answer.
    b = default_fn()
    runs = {}
    for name, fn in fns.items():
        a = fn()
        if a.valid != b.valid or a.errors != b.errors:
            raise ArchiveError(
                f"cell {list(index)}: the configuration {_elite_text(configs[name])} and the"
                " default configuration gave different results; this is a bug in the engine,"
                " please report it"
            )
        runs[name] = a
    inner = _measure.calibrate_inner(default_fn, target_ns=SAMPLE_NS)
    m = _measure.run_rounds(
        [_measure.Contender(name, fn, n) for name, fn in fns.items()]
        + [_measure.Contender("default", default_fn, n)],
        rounds=rounds,
        warmup=warmup,
        inner=inner,
        seed=seed,
    )
    default_ips = m.summary("default").items_per_s
    d = DEFAULT_CONFIGURATION
    default_point = _archive.FrontPoint(
        config=_archive.Elite(
            batch_size=d.batch_size, micro_batch_size=d.micro_batch_size, threads=d.threads
        ),
        default=True,
        throughput=max(default_ips, 1e-9),
        speedup=1.0,
        speedup_ci_low=1.0,
        speedup_ci_high=1.0,
        peak_bytes=b.stats.peak_bytes,
        max_gil_hold=b.stats.max_gil_hold,
    )
    points: dict[str, _archive.FrontPoint] = {}
    kept: list[str] = []
    lean: set[str] = set()  # kept for their memory (see the correction): never the elite
    for name, c in configs.items():
        sp = m.speedup(name, "default")
        points[name] = _archive.FrontPoint(
            config=c,
            throughput=max(m.summary(name).items_per_s, 1e-9),
            speedup=sp.median,
            speedup_ci_low=min(sp.ci.low, sp.median),
            speedup_ci_high=max(sp.ci.high, sp.median),
            peak_bytes=runs[name].stats.peak_bytes,
            max_gil_hold=runs[name].stats.max_gil_hold,
        )
        if sp.ci.low > min_speedup:
            kept.append(name)
        elif name != "elite" and memory_point(
            sp.ci.low, points[name].peak_bytes, default_point.peak_bytes, min_speedup
        ):
            kept.append(name)
            lean.add(name)
    front = _archive.pareto_front([default_point] + [points[k] for k in kept])
    # The points no other kept point dominates (the default may, below a bar under 1).
    on_front = [
        k
        for k in kept
        if k not in lean and not any(_archive.dominates(points[o], points[k]) for o in kept)
    ]
    # The cell's figures: its new elite's (the fastest point kept), else the old elite's.
    shown = max(on_front, key=lambda k: points[k].throughput) if on_front else "elite"
    p = points[shown]
    common = {
        "default_throughput": default_ips,
        "speedup": p.speedup,
        "speedup_ci_low": p.speedup_ci_low,
        "speedup_ci_high": p.speedup_ci_high,
        "n_measurements": rounds,
    }
    if on_front:
        after = msgspec.structs.replace(
            cell,
            elite=p.config,
            throughput=p.throughput,
            peak_bytes=p.peak_bytes,
            max_gil_hold=p.max_gil_hold,
            front=front,
            **common,
        )
        action: RefreshAction = "kept"
    else:
        after = msgspec.structs.replace(
            cell,
            elite=_archive.KEEP_DEFAULT,
            throughput=default_ips,
            peak_bytes=default_point.peak_bytes,
            max_gil_hold=default_point.max_gil_hold,
            front=_archive.pareto_front([default_point] + [points[k] for k in kept if k in lean]),
            **common,
        )
        action = "demoted"
    return CellRefresh(index, kind, action, cell, after, records=n, workload=workload.origin)


def refresh_file(
    path: PathLike,
    out: PathLike | None = None,
    **kwargs: Any,
) -> RefreshReport:
    """Loads the archive at ``path``, refreshes it (see :func:`refresh_archive`) and writes it
    atomically to ``out`` (default: ``path`` itself). Nothing is written when interrupted."""
    archive = _archive.load_archive(path)
    report = refresh_archive(archive, **kwargs)
    _archive.write_archive(report.archive, out if out is not None else path)
    return report


# -- merge ----------------------------------------------------------------------------------------


def better_evidenced(a: Cell, b: Cell) -> Cell:
    """The better-evidenced of two cells of the same index: the higher lower confidence bound
    of the speedup over the default configuration, then more measurements, then ``a``."""
    if (b.speedup_ci_low, b.n_measurements) > (a.speedup_ci_low, a.n_measurements):
        return b
    return a


@dataclass
class MergeReport:
    """The merged archive and where each of its cells came from."""

    archive: ArchiveFile
    change: Change
    #: index -> "a", "b", "a (over b)", "b (over a)".
    origins: dict[tuple[int, ...], str] = field(default_factory=dict)

    def count(self, origin: str) -> int:
        return sum(1 for o in self.origins.values() if o == origin)


def _hardware_text(hc: _hardware.HardwareClass | None) -> str:
    if hc is None:
        return "no measurements"
    return (
        f"{hc.cpu_vendor} family {hc.cpu_family} {hc.machine}, {hc.usable_cores} cores,"
        f" Python {hc.python}{'' if hc.gil_enabled else ' (free-threaded)'},"
        f" satya-adapt {hc.satya_adapt}"
    )


def merge_archives(
    a: ArchiveFile,
    b: ArchiveFile,
    *,
    names: Sequence[str] = ("A", "B"),
    command: str | None = None,
) -> MergeReport:
    """Merges ``b`` into ``a`` cell by cell (see the module docstring).

    Both must have the same grid and (when both have cells) the same hardware class; the
    merged archive keeps ``a``'s provenance, selection settings and optimizer state, and the
    union of both histories (by date) plus one ``"merge"`` entry.
    """
    name_a, name_b = names
    _archive.check_archive(a, name_a)
    _archive.check_archive(b, name_b)
    if a.grid != b.grid:
        raise ArchiveError(
            f"cannot merge {name_a} and {name_b}: their grids differ (features, bins or scales);"
            " only archives over the same grid can be merged"
        )
    class_a = _archive.hardware_class(a.provenance)
    class_b = _archive.hardware_class(b.provenance)
    if a.cells and b.cells and class_a != class_b:
        _, reasons = _hardware.compare(class_a, class_b, (name_a, name_b))  # type: ignore[arg-type]
        raise ArchiveError(
            f"cannot merge {name_a} and {name_b}: they were measured on different hardware"
            f" classes ({'; '.join(reasons)}); refresh one of them on the other's machine first"
        )
    by_index: dict[tuple[int, ...], Cell] = {}
    origins: dict[tuple[int, ...], str] = {}
    for cell in a.cells:
        by_index[tuple(cell.index)] = cell
        origins[tuple(cell.index)] = "a"
    added = changed = 0
    for cell in b.cells:
        key = tuple(cell.index)
        mine = by_index.get(key)
        if mine is None:
            by_index[key] = cell
            origins[key] = "b"
            added += 1
        elif better_evidenced(mine, cell) is cell:
            by_index[key] = cell
            origins[key] = "b (over a)"
            changed += 1
        else:
            origins[key] = "a (over b)"
    cells = sorted(by_index.values(), key=lambda c: c.index)
    both = sum(1 for o in origins.values() if "over" in o)
    summary = (
        f"Merged {name_b} ({_count(len(b.cells), 'cell')}) into {name_a}"
        f" ({_count(len(a.cells), 'cell')}): {_count(len(cells), 'cell')}, {added} added from"
        f" {name_b}"
    )
    if both:
        summary += (
            f"; of {_count(both, 'cell')} in both, {changed} taken from {name_b} (better"
            " evidenced: higher lower bound of the speedup, then more measurements)"
        )
    change = Change(
        date=_now(),
        action="merge",
        summary=summary + ".",
        command=command,
        cells_added=added,
        cells_changed=changed,
    )
    history = list(a.history)
    # (by their encoding, a set: `entry not in history` on the list was quadratic, 28 s to
    # merge two archives of 20,000 entries each)
    seen = {msgspec.json.encode(entry) for entry in history}
    for entry in b.history:
        encoded = msgspec.json.encode(entry)
        if encoded not in seen:
            seen.add(encoded)
            history.append(entry)
    history.sort(key=lambda c: c.date)
    history.append(change)
    provenance = a.provenance if a.cells or not b.cells else b.provenance
    merged = msgspec.structs.replace(
        a,
        format_version=_archive.FORMAT_VERSION,
        provenance=provenance,
        cells=cells,
        history=history,
    )
    _archive.check_archive(merged, "the merged archive")
    return MergeReport(merged, change, origins)


def merge_files(
    a: PathLike, b: PathLike, out: PathLike, *, command: str | None = None
) -> MergeReport:
    """Loads two archives, merges them (see :func:`merge_archives`) and writes ``out``
    atomically."""
    arch_a = _archive.load_archive(a)
    arch_b = _archive.load_archive(b)
    report = merge_archives(arch_a, arch_b, names=(os.fspath(a), os.fspath(b)), command=command)
    _archive.write_archive(report.archive, out)
    return report
