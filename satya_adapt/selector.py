"""The selector: a batch configuration for a profile, from the archive or the heuristic.

For each call's :class:`~satya_adapt.Profile` the selector answers, in this order, and records
the step in ``BatchConfig.source``:

1. ``"archive-exact"``: the profile's descriptor cell has an elite; it is used as measured.
2. ``"archive-nearest"``: the nearest filled cell (distance between the profile and the cell's
   measured profile, in grid units) lies within ``selection.nearest_radius``; its elite is used,
   with the sizes transferred to this record size (see below).
3. ``"archive-knn"``: the up to ``selection.k`` nearest cells within
   ``selection.confidence_radius`` are averaged, weighted by inverse distance: ``log2`` of the
   sizes, ``threads`` linearly.
4. ``"heuristic"``: nothing within the confidence radius (or no usable archive): the rule of
   :mod:`satya_adapt.heuristic`.

A cell whose elite is ``"keep_default"`` answers steps 1 and 2 with the default configuration
(``"archive-keep-default"``) and counts as the default configuration in step 3.

*Fronts* (archive format 2): a cell holds the non-dominated measured configurations over
speedup, ``peak_bytes`` and longest GIL hold; steps 1-3 use the point
:func:`satya_adapt.budget.choose` picks from it: without a budget, the least ``peak_bytes``
among the points within noise of the best speedup; under a budget
(:meth:`Selector.select_within`), the best speedup within it, and the answer is then cut by the
budget model. A version-1 cell is a one-point front (its elite, or the default configuration).

*Transfer* (``selection.transfer == "bytes"``, the default): steps 2 and 3 carry chunk and task
sizes over in bytes, ``size * cell.object_size / object_size``, so an elite found on 200-byte
records gives 4 times fewer records per chunk to 800-byte records.

The answer is clamped to the call: ``batch_size <= n`` (when ``n`` is known),
``micro_batch_size <= batch_size``, ``threads <= usable cores`` and ``threads`` no more than the
tasks of one chunk. When the archive's hardware class is not this one
(:mod:`satya_adapt.hardware`): other cores or Python minor version, ``threads`` is rescaled to
the cores here; another CPU, GIL mode or satya-adapt version, the heuristic answers. A missing
or corrupt archive, or a different class, is reported once with an :class:`ArchiveWarning`; no
exception leaves :meth:`Selector.select`.

Steady state costs a dict lookup: answers are cached by the profile itself, and on a miss by
the quantized profile (descriptor inputs, ``n`` bucketed by powers of two, input kind); the
archive is read, and any neighbour index built, once per selector.

The k-NN is a brute-force, distance-weighted average: the same arithmetic as scikit-learn's
``KNeighborsRegressor(weights="distance", algorithm="brute")``, in plain Python, because an
archive holds at most a few hundred cells and importing scikit-learn costs more than a second
on the first call. ``knn_backend="sklearn"`` (or ``SATYA_ADAPT_KNN=sklearn``) fits scikit-learn's
``NearestNeighbors`` instead, once per archive; the tests check that both agree.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Sequence
from typing import Any, ClassVar, NamedTuple, Union

from . import archive as _archive
from . import hardware as _hardware
from .budget import NO_BUDGET, Budget, Candidate, choose, explain_budget, fit, within
from .config import DEFAULT_CONFIGURATION, ESTIMATE_MARGIN, BatchConfig, clamp
from .errors import ArchiveError, warn_at_user
from .heuristic import even_chunks, heuristic_config, heuristic_rule
from .profile import Profile

__all__ = ["KNN_ENV_VAR", "MAX_BATCH_SIZE", "Selector"]

#: No selection step answers with more records per chunk than this (extrapolation guard).
MAX_BATCH_SIZE = 1 << 20
#: Environment variable choosing the k-NN backend: ``python`` (default) or ``sklearn``.
KNN_ENV_VAR = "SATYA_ADAPT_KNN"
#: Bounds of the answer caches; a full cache is emptied (answers are cheap to recompute). The
#: answers fitted to one record count (by profile, and by quantized profile) hold 4,096 each:
#: about 250 bytes an entry, and calls of ever new counts kept 16 MB at 65,536. A cell's own
#: answer (a k-NN search: 50-100 us) holds 65,536.
_FAST_CACHE_MAX = 4096
_CELL_CACHE_MAX = 65536

ArchiveArg = Union[str, "os.PathLike[str]", _archive.ArchiveFile, None]


class _Neighbour(NamedTuple):
    distance: float
    position: int  # in its partition
    cell: _archive.Cell


class _State:
    """An archive made ready for selection; immutable once built."""

    def __init__(self) -> None:
        self.origin = "argument"
        self.location = "<archive>"
        self.status = "missing"  # ok | empty | missing | corrupt
        self.problem: str | None = None
        self.trust: str | None = None  # full | adapted | untrusted (None without cells)
        self.reasons: list[str] = []
        self.archive: _archive.ArchiveFile | None = None
        self.cores = 1
        self.archive_cores: int | None = None
        self.category: int | None = None  # position of input_kind in the grid features
        self.cells: dict[tuple[int, ...], _archive.Cell] = {}
        self.partitions: dict[int | None, list[tuple[tuple[float, ...], _archive.Cell]]] = {}
        self.models: dict[int | None, Any] = {}
        self.units: tuple[float, ...] = ()  # the grid's feature units (see archive.point)

    @property
    def usable(self) -> bool:
        return self.status == "ok" and self.trust != "untrusted"


class Selector:
    """Chooses batch configurations from one archive; thread-safe, shared by validators.

    ``archive``: a path, an :class:`~satya_adapt.archive.ArchiveFile`, or ``None`` to discover
    one (``SATYA_ADAPT_ARCHIVE``, else the shipped archive). ``hardware``: the class of this
    process (default :func:`satya_adapt.hardware.current`; tests pass another).
    ``knn_backend``: ``"python"`` or ``"sklearn"`` (default: ``SATYA_ADAPT_KNN``, else python).
    The archive is read at the first selection (or :meth:`prepare`), not here.
    """

    _shared: ClassVar[dict[tuple[str, str], Selector]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        archive: ArchiveArg = None,
        *,
        hardware: _hardware.HardwareClass | None = None,
        knn_backend: str | None = None,
    ) -> None:
        backend = knn_backend or os.environ.get(KNN_ENV_VAR) or "python"
        if backend not in ("python", "sklearn"):
            named = "`knn_backend`" if knn_backend else f"the environment variable {KNN_ENV_VAR}"
            raise ValueError(f"{named} must be 'python' or 'sklearn', got {backend!r:.60}")
        self._archive_arg = archive
        self._origin = "argument"
        self._hardware = hardware
        self._backend = backend
        self._lock = threading.Lock()
        self._state: _State | None = None
        self._prepared: _State | None = None  # read by prepare, not yet said (see _load)
        self._fast: dict[Any, BatchConfig] = {}
        self._decided: dict[tuple[Any, ...], BatchConfig] = {}  # unclamped, by n bucket
        self._clamped: dict[tuple[Any, ...], BatchConfig] = {}  # clamped, by exact n
        # unclamped, with a budget; and whether it was measured within the budget
        self._budgeted: dict[tuple[Any, ...], tuple[BatchConfig, bool]] = {}
        self._internal_warned = False
        #: Every warning this selector issued (also when warnings are filtered or made errors).
        self.messages: list[str] = []

    @classmethod
    def shared(cls, archive: ArchiveArg = None) -> Selector:
        """The selector of ``archive`` shared by every validator that names the same file.

        ``None`` is resolved now (``SATYA_ADAPT_ARCHIVE``, else the shipped archive), so a
        validator created after the variable changes gets the selector of the new file.
        """
        if isinstance(archive, _archive.ArchiveFile):
            return cls(archive)
        origin, location = _archive.discover_archive(archive)
        if isinstance(location, str):
            location = os.path.abspath(location)
        key = (origin, str(location))
        with cls._shared_lock:
            selector = cls._shared.get(key)
            if selector is None:
                selector = cls(location)
                selector._origin = origin
                cls._shared[key] = selector
            return selector

    # -- selection ----------------------------------------------------------------------------

    def select(self, profile: Sequence[Any]) -> BatchConfig:
        """The batch configuration for a call of this profile. Never raises."""
        try:
            config = self._fast.get(profile)
            if config is None:
                config = self._select_slow(profile)
            return config
        except Exception as exc:
            return self._fallback(profile, exc)

    def select_for_threads(self, profile: Sequence[Any], threads: int) -> BatchConfig:
        """:meth:`select` for a call whose caller gives ``threads``: a heuristic answer for
        another number of threads is made anew for that many (a pool's chunks are four
        times as large, see :mod:`satya_adapt.heuristic`); any other answer as it is. Never
        raises."""
        config = self.select(profile)
        if config.source != "heuristic" or (config.threads > 1) == (threads > 1):
            return config
        try:
            state = self._state or self._load()
            key, n = _key(profile)
            rep = _rep(_bucket_key(key, n))
            return _fitted(heuristic_config(rep, state.cores, threads=threads), n, state.cores)
        except Exception:
            return config

    def select_within(self, profile: Sequence[Any], budget: Budget) -> BatchConfig:
        """The batch configuration for a call of this profile under ``budget``: the front point
        that keeps within it, as measured on the call's own cell; otherwise (a neighbour's
        point, the heuristic, no point within it) cut by the budget model. Never raises."""
        if budget.empty:
            return self.select(profile)
        try:
            state = self._state or self._load()
            key, n = _key(profile)
            cache_key = (*_bucket_key(key, n), budget)
            cached = self._budgeted.get(cache_key)
            if cached is None:
                trace: dict[str, Any] = {}
                pre = self._decide(state, cache_key[:-1], trace, budget)
                cached = (pre, bool(trace.get("measured_within")))
                if len(self._budgeted) >= _CELL_CACHE_MAX:
                    self._budgeted.clear()
                self._budgeted[cache_key] = cached
            pre, measured = cached
            config = _fitted(pre, n, state.cores)
            return config if measured else fit(config, profile, budget)
        except Exception as exc:
            try:
                return fit(self._fallback(profile, exc), profile, budget)
            except Exception:
                return DEFAULT_CONFIGURATION

    def explain(self, profile: Sequence[Any], budget: Budget = NO_BUDGET) -> dict[str, Any]:
        """How :meth:`select` answers ``profile``, step by step, as JSON-ready values.

        Keys: ``profile``, ``quantized_profile``, ``archive`` (location, status, trust, reasons,
        cells, warnings), ``descriptor`` (features, index, filled), ``step`` (the source),
        ``neighbours`` (index, input kind, distance, weight, elite, evidence), ``elite`` (the
        cell that answered steps 1-2 with its evidence), ``heuristic`` (the rule's values when it
        answered), ``unclamped`` and ``config`` (the final clamped configuration), ``clamped``
        (what clamping changed), ``front`` (the answering cell's front, the chosen point
        marked) and ``front_choice`` (why that point), ``budget`` (the limits, the model's
        prediction and the cut, see :func:`satya_adapt.budget.explain_budget`; ``None`` without).
        """
        try:
            state = self._load()
            key, n = _key(profile)
            key = _bucket_key(key, n)
            trace: dict[str, Any] = {}
            pre = self._decide(state, key, trace, budget)
            config = _fitted(pre, n, state.cores)
            cut = None
            if not budget.empty:
                cut = explain_budget(config, profile, budget, bool(trace.get("measured_within")))
            changed = [
                f"{name}: {a} -> {b}"
                for name, a, b in zip(
                    ("batch_size", "micro_batch_size", "threads"), pre[:3], config[:3]
                )
                if a != b
            ]
            return {
                "profile": dict(Profile(*profile)._asdict()),
                "quantized_profile": dict(_rep(key)._asdict()),
                "archive": self._archive_info(state),
                "descriptor": trace.get("descriptor"),
                "step": config.source,
                "neighbours": trace.get("neighbours", []),
                "elite": trace.get("elite"),
                "heuristic": trace.get("heuristic"),
                "unclamped": _config_dict(pre),
                "config": _config_dict(config) if cut is None else cut["config"],
                "clamped": changed,
                "front": trace.get("front"),
                "front_choice": trace.get("front_choice"),
                "budget": cut,
            }
        except Exception as exc:
            config = self._fallback(profile, exc)
            return {
                "profile": _safe_profile(profile),
                "error": str(exc),
                "step": config.source,
                "config": _config_dict(config),
            }

    @property
    def status(self) -> str:
        """``"ok"``, ``"empty"`` (no cells), ``"missing"`` or ``"corrupt"`` (reads the archive)."""
        return self._load().status

    @property
    def trust(self) -> str | None:
        """``"full"``, ``"adapted"``, ``"untrusted"`` or ``None`` (no usable cells)."""
        return self._load().trust

    @property
    def reasons(self) -> list[str]:
        """Why the archive's hardware class is not this machine's (empty when it is)."""
        return list(self._load().reasons)

    @property
    def origin(self) -> str:
        """How the archive was named: ``"argument"``, ``"environment"`` (``SATYA_ADAPT_ARCHIVE``)
        or ``"shipped"`` (see :func:`satya_adapt.archive.discover_archive`)."""
        return self._origin

    @property
    def location(self) -> str:
        """Where the archive was looked for."""
        return self._load().location

    @property
    def archive(self) -> _archive.ArchiveFile | None:
        """The decoded archive, ``None`` when missing or corrupt."""
        return self._load().archive

    def clear_cache(self) -> None:
        """Forgets cached answers (the archive stays loaded)."""
        self._fast.clear()
        self._decided.clear()
        self._clamped.clear()
        self._budgeted.clear()

    # -- internals ------------------------------------------------------------------------------

    def _select_slow(self, profile: Sequence[Any]) -> BatchConfig:
        global _LAST_CELL
        state = self._state or self._load()
        key, n = _key(profile)
        config = self._clamped.get(key)
        if config is None:
            bucket_key = _bucket_key(key, n)
            _LAST_CELL = (profile, bucket_key)  # live verification asks for it next
            pre = self._decided.get(bucket_key)
            if pre is None:
                pre = self._decide(state, bucket_key, None)
                if len(self._decided) >= _CELL_CACHE_MAX:
                    self._decided.clear()
                self._decided[bucket_key] = pre
            config = _fitted(pre, n, state.cores)
            if len(self._clamped) >= _FAST_CACHE_MAX:
                self._clamped.clear()
            self._clamped[key] = config
        if len(self._fast) >= _FAST_CACHE_MAX:
            self._fast.clear()
        self._fast[profile] = config
        return config

    def _fallback(self, profile: Sequence[Any], exc: BaseException) -> BatchConfig:
        message = f"selection failed ({type(exc).__name__}: {exc}); the heuristic answers"
        if not self._internal_warned:
            self._internal_warned = True
            self._warn(message)
        try:
            key, n = _key(profile)
            cores = self._hardware.usable_cores if self._hardware else _hardware.usable_cores()
            return _fitted(heuristic_config(_rep(_bucket_key(key, n)), cores), n, cores)
        except Exception:
            return DEFAULT_CONFIGURATION

    def _warn(self, message: str) -> None:
        self.messages.append(message)
        warn_at_user(message)  # never raises, even where warnings are errors

    def _load(self) -> _State:
        state = self._state
        if state is not None:
            return state
        with self._lock:
            if self._state is not None:
                return self._state
            state = self._prepared or self._read_state()
            self._state = state
            self._prepared = None
        message = _state_message(state)
        if message is not None:
            self._warn(message)
        return state

    def prepare(self) -> None:
        """Reads the archive now, if not yet (a validator asks when it is made), for the first
        selection, which still says what is wrong with it (at the user's call, as before).
        Never raises: a failure is met again, and answered, by the first selection."""
        if self._state is not None or self._prepared is not None:
            return
        try:
            state = self._read_state()
        except Exception:
            return
        with self._lock:
            if self._prepared is None:
                self._prepared = state

    def _read_state(self) -> _State:
        return _build_state(self._archive_arg, self._origin, self._hardware or _hardware.current())

    def _archive_info(self, state: _State) -> dict[str, Any]:
        return {
            "origin": state.origin,
            "location": state.location,
            "status": state.status,
            "problem": state.problem,
            "trust": state.trust,
            "reasons": list(state.reasons),
            "cells": len(state.cells),
            "knn_backend": self._backend,
            "warnings": list(self.messages),
        }

    def _decide(
        self,
        state: _State,
        key: tuple[Any, ...],
        trace: dict[str, Any] | None,
        budget: Budget = NO_BUDGET,
    ) -> BatchConfig:
        """The unclamped answer for a cache key (a pure function of the key, the state and the
        budget)."""
        rep = _rep(key)
        archive = state.archive
        if archive is None:
            return _heuristic(rep, state, trace)
        grid, sel = archive.grid, archive.selection
        index = _archive.descriptor(grid, rep)
        if trace is not None:
            trace["descriptor"] = {
                "features": [f.name for f in grid.features],
                "index": None if index is None else list(index),
                "filled": index is not None and index in state.cells,
            }
        if index is None or not state.usable:  # an input kind the grid lacks; no trust
            return _heuristic(rep, state, trace)

        cell = state.cells.get(index)
        if cell is not None:
            point = _front_point(cell, budget, trace)
            if trace is not None:
                trace["elite"] = _evidence(cell)
                # measured on this cell's own profile within the budget: no model cut
                trace["measured_within"] = not budget.empty and within(_candidate(point), budget)
            if point.default:
                return DEFAULT_CONFIGURATION._replace(source="archive-keep-default")
            e = point.config
            return self._adapt(state, e.batch_size, e.micro_batch_size, e.threads, "archive-exact")

        partition = None if state.category is None else index[state.category]
        neighbours = self._neighbours(
            state, partition, _archive.point(grid, rep, state.units or None), sel.k
        )
        if trace is not None:
            trace["neighbours"] = [
                {
                    "index": list(nb.cell.index),
                    "input_kind": nb.cell.profile.input_kind,
                    "distance": nb.distance,
                    "weight": None,
                    **_evidence(nb.cell),
                }
                for nb in neighbours
            ]
        if neighbours and neighbours[0].distance <= sel.nearest_radius:
            nearest = neighbours[0].cell
            point = _front_point(nearest, budget, trace)
            if trace is not None:
                trace["elite"] = _evidence(nearest)
                trace["neighbours"] = trace["neighbours"][:1]
            if point.default:
                return DEFAULT_CONFIGURATION._replace(source="archive-keep-default")
            b, m, t = _transfer(nearest, rep.object_size, sel.transfer, point)
            return self._adapt(state, b, m, t, "archive-nearest")

        close = [nb for nb in neighbours if nb.distance <= sel.confidence_radius]
        if not close:
            if trace is not None:
                for item in trace["neighbours"]:
                    item["weight"] = 0.0
            return _heuristic(rep, state, trace)
        weights = _weights([nb.distance for nb in close])
        log_b = log_m = threads = 0.0
        for w, nb in zip(weights, close):
            point = _front_point(nb.cell, budget, None)
            b, m, t = _transfer(nb.cell, rep.object_size, sel.transfer, point)
            log_b += w * math.log2(b)
            log_m += w * math.log2(m)
            threads += w * t
        if trace is not None:
            trace["neighbours"] = trace["neighbours"][: len(close)]
            for item, w in zip(trace["neighbours"], weights):
                item["weight"] = w
        return self._adapt(state, 2.0**log_b, 2.0**log_m, threads, "archive-knn")

    def _adapt(self, state: _State, b: float, m: float, t: float, source: str) -> BatchConfig:
        """Rounds an archive answer to ints, caps it, and rescales threads to the cores here."""
        batch = max(1, min(round(b), MAX_BATCH_SIZE))
        micro = max(1, min(round(m), batch))
        threads = float(t)
        if state.archive_cores is not None and state.archive_cores != state.cores and threads > 1:
            threads = threads * state.cores / state.archive_cores
        tt = max(1, min(math.floor(threads + 0.5), state.cores))
        return BatchConfig(batch, micro, tt, source)

    def _neighbours(
        self,
        state: _State,
        partition: int | None,
        query: tuple[float, ...],
        k: int,
    ) -> list[_Neighbour]:
        items = state.partitions.get(partition, [])
        if not items:
            return []
        k = min(k, len(items))
        if self._backend == "sklearn" and query:
            model = self._model(state, partition)
            dist, pos = model.kneighbors([list(query)], n_neighbors=k)
            return [_Neighbour(float(d), int(i), items[int(i)][1]) for d, i in zip(dist[0], pos[0])]
        ranked = sorted(
            (_Neighbour(math.dist(p, query), i, cell) for i, (p, cell) in enumerate(items)),
            key=lambda nb: (nb.distance, nb.position),
        )
        return ranked[:k]

    def _model(self, state: _State, partition: int | None) -> Any:
        """scikit-learn's NearestNeighbors over one partition, fitted once per archive."""
        model = state.models.get(partition)
        if model is None:
            with self._lock:
                model = state.models.get(partition)
                if model is None:
                    from sklearn.neighbors import NearestNeighbors  # type: ignore[import-untyped]

                    points = [list(p) for p, _ in state.partitions[partition]]
                    model = NearestNeighbors(algorithm="brute").fit(points)
                    state.models[partition] = model
        return model


# -- helpers ------------------------------------------------------------------------------------


_STEPS = float(_archive.QUANT_STEPS_PER_OCTAVE)
_log2 = math.log2


def _fitted(config: BatchConfig, n: int | None, cores: int) -> BatchConfig:
    """A cell's answer fitted to a call of ``n`` records: clamped, and the heuristic's with
    chunks of equal size (:func:`~satya_adapt.heuristic.even_chunks`; an elite runs the
    chunks it was measured with)."""
    if config.source == "heuristic":
        config = even_chunks(config, n)
    return clamp(config, n, cores)


def _key(profile: Sequence[Any]) -> tuple[tuple[Any, ...], int | None]:
    """The cache key of a profile, and ``n`` as an int (``None`` when unknown).

    The key holds what the answer depends on: ``field_count`` and ``constraint_complexity`` as
    given, ``avg_string_length`` and ``object_size`` as quantization steps (see
    :func:`satya_adapt.archive.quantize`), the input kind, and ``n``. This is the hot path of
    a cache miss, hence written out by hand. An estimated ``n`` is rounded up by
    :data:`~satya_adapt.config.ESTIMATE_MARGIN` here (as :func:`~satya_adapt.config.clamp_n`
    does), so that every clamp below sees the margin.
    """
    fc, asl, cc, osz, kind, n = profile[:6]
    try:
        qa = round(_STEPS * _log2(1.0 + asl)) if asl > 0.0 else 0
        qo = round(_STEPS * _log2(1.0 + osz)) if osz > 0.0 else 0
    except (TypeError, ValueError, OverflowError):
        q = _archive.quantize(profile)  # sanitizes what the fast path cannot take
        qa = round(_STEPS * _log2(1.0 + q.avg_string_length))
        qo = round(_STEPS * _log2(1.0 + q.object_size))
    if n is not None:
        n = max(0, int(n))
        if len(profile) > 6 and profile[6]:
            n = math.ceil(n * ESTIMATE_MARGIN)
    return (fc, qa, cc, qo, kind, n), n


def _bucket_key(key: tuple[Any, ...], n: int | None) -> tuple[Any, ...]:
    """The key of the unclamped answer: ``n`` replaced by its bit length (power-of-two bucket)."""
    return (*key[:5], None if n is None else n.bit_length())


#: The last profile :func:`cell_key` was asked for (by identity) and its key: live verification
#: asks for a call's cell, and again when that call's decision makes its route, after the
#: selector's slow path has computed the key too (1.5 us, 4-5 us after an engine call).
_LAST_CELL: tuple[Any, tuple[Any, ...]] = (None, ())


def cell_key(profile: Sequence[Any]) -> tuple[Any, ...]:
    """``_bucket_key(*_key(profile))``: the key of the cell of ``profile`` (the key of its
    unclamped answer, and of its cell in live verification)."""
    global _LAST_CELL
    last = _LAST_CELL
    if last[0] is profile:
        return last[1]
    key, n = _key(profile)
    out = _bucket_key(key, n)
    _LAST_CELL = (profile, out)  # one assignment: threads read a pair that belongs together
    return out


def _rep(key: tuple[Any, ...]) -> Profile:
    """The quantized profile a cache key stands for (``n``: the lower end of its bucket);
    equal to :func:`satya_adapt.archive.quantize` of any profile with that key."""
    fc, qa, cc, qo, kind, bucket = key
    n = None if bucket is None else (0 if bucket == 0 else 1 << (bucket - 1))
    asl = _archive.dequantize(qa)
    osz = _archive.dequantize(qo)
    return _archive.quantize((fc, asl, cc, osz, kind, n))


def _heuristic(rep: Profile, state: _State, trace: dict[str, Any] | None) -> BatchConfig:
    if trace is not None:
        trace["heuristic"] = heuristic_rule(rep, state.cores)
    return heuristic_config(rep, state.cores)


def _transfer(
    cell: _archive.Cell, object_size: float, mode: str, point: _archive.FrontPoint
) -> tuple[float, float, float]:
    """The sizes of the cell's chosen front point (the default configuration's for the default
    point) for records of ``object_size`` bytes: scaled by bytes, or unchanged in records."""
    if point.default:
        b, m, t = DEFAULT_CONFIGURATION[:3]
    else:
        b, m, t = point.config.batch_size, point.config.micro_batch_size, point.config.threads
    if mode == "bytes":
        ratio = cell.profile.object_size / object_size
        return b * ratio, m * ratio, t
    return float(b), float(m), float(t)


def _candidate(p: _archive.FrontPoint) -> Candidate:
    return Candidate(
        BatchConfig(p.config.batch_size, p.config.micro_batch_size, p.config.threads),
        p.speedup,
        p.speedup_ci_low,
        p.speedup_ci_high,
        float(p.peak_bytes),
        p.max_gil_hold,
    )


def _front_point(
    cell: _archive.Cell, budget: Budget, trace: dict[str, Any] | None
) -> _archive.FrontPoint:
    """The point of the cell's front that answers under ``budget`` (see
    :func:`satya_adapt.budget.choose`); when none keeps within it, the best speedup (the
    budget model cuts it afterwards)."""
    points = _archive.cell_front(cell, DEFAULT_CONFIGURATION[:3])
    candidates = [_candidate(p) for p in points]
    chosen, why = choose(candidates, budget)
    if chosen is None:
        position = max(range(len(points)), key=lambda i: (points[i].speedup, -i))
    else:
        position = candidates.index(chosen)
    if trace is not None:
        trace["front"] = [
            {
                "batch_size": p.config.batch_size,
                "micro_batch_size": p.config.micro_batch_size,
                "threads": p.config.threads,
                "default": p.default,
                "speedup": p.speedup,
                "speedup_ci": [p.speedup_ci_low, p.speedup_ci_high],
                "peak_bytes": p.peak_bytes,
                "max_gil_hold": p.max_gil_hold,
                "chosen": i == position,
            }
            for i, p in enumerate(points)
        ]
        trace["front_choice"] = why
    return points[position]


def _weights(distances: Sequence[float]) -> list[float]:
    """Inverse-distance weights summing to 1 (only the zero distances count when there are any,
    as in scikit-learn)."""
    if any(d == 0.0 for d in distances):
        raw = [1.0 if d == 0.0 else 0.0 for d in distances]
    else:
        raw = [1.0 / d for d in distances]
    total = sum(raw)
    return [r / total for r in raw]


def _evidence(cell: _archive.Cell) -> dict[str, Any]:
    elite: Any = cell.elite
    if not isinstance(elite, str):
        elite = {
            "batch_size": elite.batch_size,
            "micro_batch_size": elite.micro_batch_size,
            "threads": elite.threads,
        }
    return {
        "index": list(cell.index),
        "elite": elite,
        "measured_object_size": cell.profile.object_size,
        "throughput": cell.throughput,
        "default_throughput": cell.default_throughput,
        "speedup": cell.speedup,
        "speedup_ci": [cell.speedup_ci_low, cell.speedup_ci_high],
        "peak_bytes": cell.peak_bytes,
        "n_measurements": cell.n_measurements,
    }


def _config_dict(config: BatchConfig) -> dict[str, Any]:
    return {
        "batch_size": config.batch_size,
        "micro_batch_size": config.micro_batch_size,
        "threads": config.threads,
        "source": config.source,
    }


def _safe_profile(profile: Any) -> Any:
    try:
        return dict(Profile(*profile)._asdict())
    except Exception:
        return repr(profile)


def _build_state(arg: Any, origin: str, here: _hardware.HardwareClass) -> _State:
    state = _State()
    state.cores = max(1, here.usable_cores)
    state.origin = origin
    try:
        if isinstance(arg, _archive.ArchiveFile):
            state.location = "<ArchiveFile>"
            _archive.check_archive(arg, state.location)
            archive = arg
        else:
            if arg is None:
                state.origin, location = _archive.discover_archive(None)
            elif isinstance(arg, (str, os.PathLike)):
                location = os.fspath(arg)
            else:
                location = arg  # an importlib.resources file
            state.location = str(location)
            exists = (
                # (A folder or a FIFO exists: load_archive says what it is, without waiting; so
                # does a symbolic link that leads nowhere: it is not "missing".)
                location.is_file() if hasattr(location, "is_file") else os.path.lexists(location)
            )
            if not exists:
                state.status = "missing"
                state.problem = "no such file"
                return state
            archive = _archive.load_archive(location)
    except ArchiveError as exc:
        state.status = "corrupt"
        state.problem = str(exc)
        return state
    state.archive = archive
    if not archive.cells:
        state.status = "empty"
        return state
    state.status = "ok"
    recorded = _archive.hardware_class(archive.provenance)
    assert recorded is not None  # check_archive requires it when there are cells
    state.trust, state.reasons = _hardware.compare(recorded, here)
    state.archive_cores = recorded.usable_cores
    for i, f in enumerate(archive.grid.features):
        if f.scale == "category":
            state.category = i
    state.units = _archive.feature_units(archive.grid)
    for cell in archive.cells:
        index = tuple(cell.index)
        state.cells[index] = cell
        partition = None if state.category is None else index[state.category]
        p = _archive.point(archive.grid, _archive.as_profile(cell.profile), state.units)
        state.partitions.setdefault(partition, []).append((p, cell))
    return state


def _state_message(state: _State) -> str | None:
    if state.status == "missing":
        return f"archive {state.location} not found; the heuristic chooses batch configurations"
    if state.status == "corrupt":
        return f"archive unusable, the heuristic chooses batch configurations: {state.problem}"
    if state.trust == "untrusted":
        return (
            f"archive {state.location} was measured on another hardware class"
            f" ({'; '.join(state.reasons)}); the heuristic chooses batch configurations"
        )
    if state.trust == "adapted":
        return (
            f"archive {state.location} was measured on a different machine"
            f" ({'; '.join(state.reasons)}); its elites are used with threads adapted"
        )
    return None
