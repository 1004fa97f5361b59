"""Archive heat maps (satya_adapt.tuning.plot)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from archive_helpers import KIND_SIZE_GRID, archive, cell, profile

from satya_adapt import archive as A

pytest.importorskip("matplotlib")

from satya_adapt.tuning.plot import plot_archive

PNG = b"\x89PNG\r\n\x1a\n"


def sample() -> A.ArchiveFile:
    return archive(
        [
            cell(KIND_SIZE_GRID, profile(511), (4096, 512, 2)),
            cell(KIND_SIZE_GRID, profile(2047), "keep_default", speedup=1.02, ci=(0.97, 1.06)),
            cell(KIND_SIZE_GRID, profile(100, "json"), (1024, 128, 1)),
        ]
    )


def test_plot_archive_writes_a_png(tmp_path: Path) -> None:
    out = tmp_path / "sub" / "a.png"
    assert plot_archive(sample(), out) == str(out)
    assert out.read_bytes()[:8] == PNG


def test_plot_archive_from_a_path_with_every_metric(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    A.write_archive(sample(), path)
    out = tmp_path / "a.svg"
    plot_archive(path, out, metrics=("speedup", "batch_size", "micro_batch_size", "threads"))
    assert out.read_text().lstrip().startswith("<?xml")


def test_plot_archive_without_cells_and_with_three_numeric_axes(tmp_path: Path) -> None:
    plot_archive(archive([]), tmp_path / "empty.png")
    grid = A.Grid(
        features=[
            A.GridFeature(name="object_size", scale="log", edges=[255.0]),
            A.GridFeature(name="field_count", scale="log", edges=[8.0]),
            A.GridFeature(name="constraint_complexity", scale="linear", edges=[0.5]),
        ]
    )
    a = archive([cell(grid, profile(600), (2048, 256, 1))], grid=grid)
    plot_archive(a, tmp_path / "facets.png")
    assert (tmp_path / "facets.png").read_bytes()[:8] == PNG


def test_plot_archive_refuses_unknown_metrics(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="`metrics`"):
        plot_archive(sample(), tmp_path / "x.png", metrics=("colour",))


def test_plot_archive_names_the_missing_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"satya-adapt\[plot\]") as info:
        plot_archive(sample(), tmp_path / "x.png")
    assert info.value.name == "matplotlib"


def test_front_labels_never_overlap_and_each_is_written_once() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from satya_adapt.tuning.plot import _place_labels

    fig = Figure(figsize=(4, 3), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    ax.set_xscale("log")
    ax.set_xlim(1e3, 1e6)
    ax.set_ylim(0.9, 2.1)
    # Twelve points of a cluster (the picture's fronts crowd one corner), one of them twice,
    # and two apart; on the left and on the right of the panel.
    named = [(f"{2 ** (10 + i)}/64/2", 7e5 * (1 + 0.01 * i), 1.9 - 0.005 * i) for i in range(12)]
    named += [named[0], ("256/16/1", 2e3, 1.2), ("512/16/1", 2.1e3, 1.2)]
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    _place_labels(ax, named, renderer, 120)
    labels = [t for t in ax.texts if t.get_text()]
    assert sorted(t.get_text() for t in labels) == sorted({n[0] for n in named})
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert not [
        (labels[i].get_text(), labels[j].get_text())
        for i in range(len(boxes)) for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])
    ]  # fmt: skip
    # In the right third, labels are written on the left of their points.
    assert all(t.get_horizontalalignment() == "right" for t in labels if "/64/" in t.get_text())


def test_plot_archive_draws_rows_for_the_bins_that_hold_cells_at_most_twelve(tmp_path: Path) -> None:
    # Found by a hostile-input hunt: a row per combination of the third feature's bins, held or
    # not (40 edges: 35 s and 420 MB for one cell; 5,000 edges: killed past 2 GB).
    grid = A.Grid(
        features=[
            A.GridFeature(name="object_size", scale="log", edges=[255.0]),
            A.GridFeature(name="field_count", scale="log", edges=[8.0]),
            A.GridFeature(name="avg_string_length", scale="linear",
                          edges=[float(e) for e in range(1, 200)]),
        ]
    )  # fmt: skip
    one = archive([cell(grid, profile(600, avg_string_length=50.5), (2048, 256, 1))], grid=grid)
    many = archive(
        [cell(grid, profile(600, avg_string_length=s + 0.5), (2048, 256, 1)) for s in range(30)],
        grid=grid,
    )
    for a, rows in ((one, 1), (many, 12)):
        out = plot_archive(a, tmp_path / "rows.png", metrics=("speedup",), dpi=50)
        height = int.from_bytes(Path(out).read_bytes()[20:24], "big")  # the PNG's IHDR height
        assert height == round((2.9 * rows + 1.0) * 50)
    wide = A.Grid(features=[A.GridFeature(name="object_size", scale="log",
                                          edges=[float(2**i) for i in range(1, 70)])])  # fmt: skip
    with pytest.raises(ValueError, match="the grid has 70 bins of `object_size`, more than the 64"):
        plot_archive(archive([], grid=wide), tmp_path / "wide.png")
