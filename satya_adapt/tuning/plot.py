"""Pictures of an archive: heat maps of the grid (speedup per cell, the elites' batch sizes).

matplotlib is imported inside :func:`plot_archive` only (the ``[plot]`` extra), and through its
object-oriented API (``Figure`` with an Agg canvas), so plotting touches no global pyplot state.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

from .. import archive as _archive
from ..config import DEFAULT_CONFIGURATION

__all__ = ["METRICS", "fronts_path", "plot_archive", "plot_fronts"]

#: What a panel can show per cell.
METRICS = ("speedup", "batch_size", "micro_batch_size", "threads")

_TITLES = {
    "speedup": "speedup over the default of the best configuration\n(hatched, 'keep': below the bar, the cell keeps the default)",
    "batch_size": "batch_size the cell yields (log2 colour)",
    "micro_batch_size": "micro_batch_size the cell yields (log2 colour)",
    "threads": "threads the cell yields",
}


def _bin_labels(feature: _archive.GridFeature) -> list[str]:
    def fmt(v: float) -> str:
        if feature.scale == "linear":
            return f"{v:g}"
        if v >= 1024 and v % 1024 == 0:
            return f"{v / 1024:g}K"
        return f"{v:g}"

    edges = feature.edges
    if not edges:
        return ["all"]
    labels = [f"<{fmt(edges[0])}"]
    labels += [f"{fmt(a)}-{fmt(b)}" for a, b in zip(edges, edges[1:])]
    labels.append(f">={fmt(edges[-1])}")
    return labels


def _value(cell: _archive.Cell, metric: str) -> float:
    if metric == "speedup":
        return float(cell.speedup)
    config = DEFAULT_CONFIGURATION if isinstance(cell.elite, str) else cell.elite
    return float(getattr(config, metric))


def _text(cell: _archive.Cell, metric: str) -> str:
    keep = isinstance(cell.elite, str)
    if metric == "speedup":
        head = f"{cell.speedup:.2f}"
        detail = (
            "keep"
            if keep
            else f"{cell.elite.batch_size}/{cell.elite.micro_batch_size}/{cell.elite.threads}"  # type: ignore[union-attr]
        )
        return f"{head}\n[{cell.speedup_ci_low:.2f},{cell.speedup_ci_high:.2f}]\n{detail}"
    value = int(_value(cell, metric))
    return f"{value}" + ("\n(default)" if keep else "")


#: The most bins of a feature along a heat map's axis (each is about an inch wide).
MAX_MAP_BINS = 64
#: The most rows of maps per metric (combinations of the other numeric features' bins).
MAX_MAP_ROWS = 12
#: The most cells whose fronts a panel of the fronts picture draws.
MAX_FRONT_CELLS = 24


def plot_archive(
    archive: _archive.ArchiveFile | str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    metrics: Sequence[str] = ("speedup", "batch_size"),
    dpi: int = 120,
) -> str:
    """Draws heat maps of ``archive`` (an archive or a path) into ``out_path`` (PNG, SVG or PDF,
    by suffix) and returns the path.

    One column per input kind; one row of panels per metric in ``metrics`` (see
    :data:`METRICS`) and per combination of the bins of any numeric feature beyond the first
    two that holds a cell (the :data:`MAX_MAP_ROWS` holding most cells, the title says so).
    ``ValueError`` for a grid of more than :data:`MAX_MAP_BINS` bins of the first two. Within a panel, x is the grid's first numeric feature and y its second. Each filled
    cell shows its value, and for ``speedup`` the interval and the elite (``B/M/T``) or
    ``keep``; empty cells are blank. Speedup colours are centred on 1 (log scale).

    Raises :class:`ImportError` with an install hint when matplotlib is missing.
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.colors import LogNorm, TwoSlopeNorm
        from matplotlib.figure import Figure
        from matplotlib.patches import Rectangle
    except ImportError:
        raise ImportError(
            "plotting an archive needs matplotlib: pip install 'satya-adapt[plot]'",
            name="matplotlib",
        ) from None
    import numpy as np

    for m in metrics:
        if m not in METRICS:
            raise ValueError(f"`metrics` must be among {METRICS}, got {m!r}")
    if not metrics:
        raise ValueError("`metrics` must name at least one metric")
    if not isinstance(archive, _archive.ArchiveFile):
        archive = _archive.load_archive(archive)
    features = archive.grid.features
    cat_pos = next((i for i, f in enumerate(features) if f.scale == "category"), None)
    categories: list[str] = list(features[cat_pos].categories) if cat_pos is not None else ["all"]
    numeric = [i for i, f in enumerate(features) if f.scale != "category"]
    x_pos = numeric[0] if numeric else None
    y_pos = numeric[1] if len(numeric) > 1 else None
    facet_pos = numeric[2:]
    # One row per combination of the other features' bins that holds a cell (every
    # combination was drawn: a product of bins, 100 edges took minutes and gigabytes).
    held: dict[tuple[int, ...], int] = {}
    for c in archive.cells:
        facet_of = tuple(c.index[i] for i in facet_pos)
        held[facet_of] = held.get(facet_of, 0) + 1
    # At most MAX_MAP_ROWS of them, those holding most cells (each row costs a second or so).
    facets: list[tuple[int, ...]] = sorted(
        sorted(held, key=lambda f: (-held[f], f))[:MAX_MAP_ROWS]
    ) or [tuple(0 for _ in facet_pos)]
    nx = len(features[x_pos].edges) + 1 if x_pos is not None else 1
    ny = len(features[y_pos].edges) + 1 if y_pos is not None else 1
    for pos, bins in ((x_pos, nx), (y_pos, ny)):
        if bins > MAX_MAP_BINS and pos is not None:
            raise ValueError(
                f"the grid has {bins} bins of `{features[pos].name}`, more than the"
                f" {MAX_MAP_BINS} a heat map draws"
            )

    cells = {tuple(c.index): c for c in archive.cells}
    rows = [(m, f) for m in metrics for f in facets]
    # Each cell about an inch wide: its label ("32768/1024/2" at 7 points) overlapped its
    # neighbours' at a fixed width per map of four columns.
    fig = Figure(
        figsize=((0.95 * nx + 0.9) * len(categories) + 1.2, 2.9 * len(rows) + 1.0),
        layout="constrained",
    )
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), len(categories), squeeze=False)
    speedups = [c.speedup for c in archive.cells] or [1.0]
    lo = min(min(speedups), 0.95)
    hi = max(max(speedups), 1.05)
    for r, (metric, facet) in enumerate(rows):
        if metric == "speedup":
            norm: Any = TwoSlopeNorm(vmin=math.log2(lo), vcenter=0.0, vmax=math.log2(hi))
            cmap = "RdBu"
        else:
            values = [_value(c, metric) for c in archive.cells] or [1.0]
            vmin, vmax = max(min(values), 1.0), max(max(values), 2.0)
            norm = LogNorm(vmin=vmin, vmax=max(vmax, vmin * 2)) if metric != "threads" else None
            cmap = "viridis"
        image = None
        for k, kind in enumerate(categories):
            ax = axes[r][k]
            grid = np.full((ny, nx), np.nan)
            texts = []
            for index, cell in cells.items():
                if cat_pos is not None and index[cat_pos] != k:
                    continue
                if tuple(index[i] for i in facet_pos) != facet:
                    continue
                xi = index[x_pos] if x_pos is not None else 0
                yi = index[y_pos] if y_pos is not None else 0
                value = _value(cell, metric)
                grid[yi, xi] = math.log2(value) if metric == "speedup" else value
                texts.append((xi, yi, _text(cell, metric), isinstance(cell.elite, str)))
            image = ax.imshow(
                np.ma.masked_invalid(grid), origin="lower", cmap=cmap, norm=norm, aspect="auto"
            )
            for xi, yi, text, keep in texts:
                value = grid[yi, xi]
                rgba = image.cmap(image.norm(value)) if image.norm is not None else (1, 1, 1, 1)
                dark = 0.299 * rgba[0] + 0.587 * rgba[1] + 0.114 * rgba[2] < 0.5
                ax.text(xi, yi, text, ha="center", va="center", fontsize=7,
                        color="white" if dark else "black")
                if keep and metric == "speedup":  # hatched: the cell keeps the default
                    ax.add_patch(
                        Rectangle((xi - 0.5, yi - 0.5), 1, 1, fill=False, hatch="///",
                                  edgecolor="0.6", linewidth=0)
                    )
            if x_pos is not None:
                ax.set_xticks(range(nx), _bin_labels(features[x_pos]), fontsize=7)
                ax.set_xlabel(features[x_pos].name, fontsize=8)
            else:
                ax.set_xticks([])
            if y_pos is not None:
                ax.set_yticks(range(ny), _bin_labels(features[y_pos]), fontsize=7)
                ax.set_ylabel(features[y_pos].name, fontsize=8)
            else:
                ax.set_yticks([])
            where = ", ".join(
                f"{features[i].name} {_bin_labels(features[i])[b]}" for i, b in zip(facet_pos, facet)
            )
            ax.set_title(f"{kind}" + (f" ({where})" if where else ""), fontsize=9)
        if image is not None:
            bar = fig.colorbar(image, ax=list(axes[r]), shrink=0.9)
            if metric == "speedup":
                ticks = [t for t in (0.25, 0.5, 0.8, 1.0, 1.25, 2.0, 4.0) if lo <= t <= hi]
                bar.set_ticks([math.log2(t) for t in ticks], labels=[f"{t:g}" for t in ticks])
            bar.set_label(_TITLES[metric], fontsize=7)
    p = archive.provenance
    shipped = sum(1 for c in archive.cells if not isinstance(c.elite, str))
    hw = p.hardware
    fig.suptitle(
        f"satya-adapt archive: {len(archive.cells)} cells, {shipped} ship an elite;"
        f" {p.generations} generations, {p.date:%Y-%m-%d}"
        + (f"; {hw.cpu_model}, {hw.usable_cores} cores" if hw is not None else "")
        + (
            f"\nrows: the {MAX_MAP_ROWS} of {len(held)} combinations of"
            f" {', '.join(features[i].name for i in facet_pos)} bins holding most cells"
            if len(held) > MAX_MAP_ROWS else ""
        ),
        fontsize=10,
    )
    out = _with_suffix(out_path)
    folder = os.path.dirname(os.path.abspath(out))
    os.makedirs(folder, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out


def _with_suffix(out_path: str | os.PathLike[str]) -> str:
    """``out_path``, with ``.png`` added when it has no suffix: the file matplotlib writes
    then (the path returned and printed was the one without)."""
    out = os.fspath(out_path)
    return out if os.path.splitext(out)[1] else out + ".png"


def fronts_path(heatmap_path: str | os.PathLike[str]) -> str:
    """Where ``archive plot`` draws the fronts beside a heat map: ``a.png`` -> ``a-fronts.png``."""
    stem, suffix = os.path.splitext(_with_suffix(heatmap_path))
    return f"{stem}-fronts{suffix}"


def plot_fronts(
    archive: _archive.ArchiveFile | str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    *,
    dpi: int = 120,
) -> str:
    """Draws each cell's Pareto front, throughput against memory in flight, into ``out_path``.

    One panel per input kind; in it, one line per cell through its front points: x is
    ``peak_bytes`` (log scale), y the speedup over the default configuration with its interval
    as an error bar; the default configuration's point is hollow, the cell's elite ringed. A
    version-1 archive has one-point fronts (each cell a single point).
    """
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
        from matplotlib.ticker import NullFormatter
    except ImportError:
        raise ImportError(
            "plotting an archive needs matplotlib: pip install 'satya-adapt[plot]'",
            name="matplotlib",
        ) from None
    from ..config import DEFAULT_CONFIGURATION

    if not isinstance(archive, _archive.ArchiveFile):
        archive = _archive.load_archive(archive)
    features = archive.grid.features
    cat_pos = next((i for i, f in enumerate(features) if f.scale == "category"), None)
    categories: list[str] = list(features[cat_pos].categories) if cat_pos is not None else ["all"]
    fig = Figure(figsize=(4.2 * len(categories) + 0.6, 4.6), layout="constrained")
    canvas: Any = FigureCanvasAgg(fig)  # (its draw and get_renderer are untyped)
    axes = fig.subplots(1, len(categories), squeeze=False)[0]
    labels: list[tuple[Any, list[tuple[str, float, float]]]] = []
    for k, kind in enumerate(categories):
        ax = axes[k]
        drawn: list[float] = []
        named: list[tuple[str, float, float]] = []
        labels.append((ax, named))
        of_kind = [c for c in archive.cells if cat_pos is None or c.index[cat_pos] == k]
        # At most MAX_FRONT_CELLS of them, those with the highest lower bounds (each cell is a
        # line, a legend entry and labels: 5,000 cells took minutes).
        shown = sorted(
            sorted(of_kind, key=lambda c: (-c.speedup_ci_low, c.index))[:MAX_FRONT_CELLS],
            key=lambda c: c.index,
        )
        for cell in shown:
            points = sorted(
                _archive.cell_front(cell, DEFAULT_CONFIGURATION[:3]), key=lambda p: p.peak_bytes
            )
            xs = [max(p.peak_bytes, 1) for p in points]
            ys = [p.speedup for p in points]
            drawn.extend(xs)
            errors = [
                [p.speedup - p.speedup_ci_low for p in points],
                [p.speedup_ci_high - p.speedup for p in points],
            ]
            line = ax.errorbar(xs, ys, yerr=errors, marker="o", markersize=4, linewidth=1,
                               capsize=2, label=str(list(cell.index)))
            colour = line[0].get_color()
            for p, x, y in zip(points, xs, ys):
                if p.default:
                    ax.plot([x], [y], marker="o", markersize=7, markerfacecolor="white",
                            markeredgecolor=colour, linestyle="none")
                elif not cell.keep_default and cell.elite == p.config:
                    ax.plot([x], [y], marker="o", markersize=10, markerfacecolor="none",
                            markeredgecolor="black", linestyle="none")
                if not p.default:  # (hollow says it)
                    named.append(
                        (f"{p.config.batch_size}/{p.config.micro_batch_size}/{p.config.threads}", x, y)
                    )
        ax.axhline(1.0, color="0.6", linewidth=0.8, linestyle="--")
        ax.set_xscale("log")
        if drawn:  # at least one decade, so that the axis has labelled ticks
            low = 10 ** math.floor(math.log10(min(drawn)))
            high = 10 ** math.ceil(math.log10(max(drawn) * 1.0001))
            ax.set_xlim(low / 1.5, max(high, low * 10) * 1.5)
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("peak_bytes (memory in flight per chunk)", fontsize=8)
        ax.set_ylabel("speedup over the default configuration", fontsize=8)
        more = (
            f" ({len(shown)} of {len(of_kind)} cells: the highest lower bounds)"
            if len(shown) < len(of_kind) else ""
        )
        ax.set_title(kind + more, fontsize=9)
        ax.tick_params(labelsize=7)
        if drawn:
            ax.legend(fontsize=5, title="cell", title_fontsize=6, ncol=2, loc="best")
    fig.suptitle(
        f"Pareto fronts: throughput against memory in flight (format version"
        f" {archive.format_version}; hollow: the default configuration, ringed: the elite)",
        fontsize=9,
    )
    fig.set_dpi(dpi)
    canvas.draw()  # the layout, so that the labels are placed where they will be drawn
    for ax, named in labels:
        _place_labels(ax, named, canvas.get_renderer(), dpi)
    out = _with_suffix(out_path)
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out


def _place_labels(ax: Any, named: list[tuple[str, float, float]], renderer: Any, dpi: int) -> None:
    """Writes each point's label beside it (on its left in the right third of the panel) where
    it overlaps no label already written (the highest points first), moving it down or up a
    line at a time (20 lines each way at most), with a thin line back to its point once it has
    moved; a label that says what another says at the same place is written once. The default
    configuration's points are not labelled: they are drawn hollow."""
    seen: set[tuple[str, int, int]] = set()
    placed: list[Any] = []
    panel = ax.get_window_extent(renderer)
    right, width = panel.x1, panel.width
    for text, x, y in sorted(named, key=lambda t: (-t[2], t[1])):
        px, py = ax.transData.transform((x, y))
        key = (text, round(px / 3), round(py / 3))
        if key in seen:
            continue
        seen.add(key)
        dx, align = (-3, "right") if px > right - width / 3 else (3, "left")
        label = ax.annotate(text, (x, y), fontsize=5, xytext=(dx, 3), textcoords="offset points",
                            ha=align, annotation_clip=False, zorder=5,
                            bbox={"boxstyle": "square,pad=0.05", "facecolor": "white",
                                  "edgecolor": "none", "alpha": 0.75})
        label.set_in_layout(False)
        line = 72.0 / dpi * (label.get_window_extent(renderer).height + 1)
        for step in range(1, 41):
            box = label.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
            # 3 - line, 3 + line, 3 - 2 line, ...: the nearest free line, below first.
            shift = (step + 1) // 2 * (-1 if step % 2 else 1)
            label.xyann = (dx, 3 + shift * line)
        if label.xyann != (dx, 3):
            ax.annotate("", (x, y), xytext=label.xyann, textcoords="offset points",
                        arrowprops={"arrowstyle": "-", "linewidth": 0.3, "color": "0.6",
                                    "shrinkA": 0, "shrinkB": 2})
        placed.append(label.get_window_extent(renderer))
