"""The ranking chart: weighted totals as ranked bars, beside each use case's Monte Carlo rank interval.

Why two panels sharing the rows: the total answers "how good", the interval answers "how sure". A bar
alone hides that eleven use cases tie at 0.606 and that some of them can land anywhere from rank 12 to
45; the interval alone hides the size of the gaps. Bar colour is the probability of being in the top N,
and a dashed line marks the top-N cut in both panels.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ies.errors import UsageError
from ies.usecases.catalogue._scoring import RankedUseCase, round3
from ies.usecases.catalogue._sensitivity import MonteCarlo

__all__ = ["plot_ranking"]


def _label(row: RankedUseCase, width: int = 48) -> str:
    name = row.use_case.name
    name = name if len(name) <= width else name[: width - 1] + "…"
    return f"{row.rank}{'=' if row.tied else ''}  {name}"


def plot_ranking(ranked: Sequence[RankedUseCase], mc: MonteCarlo, path: Path, title: str) -> Path:
    """Write the chart as PNG to `path` (parent directory must exist) and return the path."""
    if path.suffix.lower() != ".png":
        raise UsageError(f"--plot writes a PNG; give a file name ending in .png, not {path.name!r}")
    if not path.parent.exists():
        raise UsageError(f"--plot: directory {str(path.parent)!r} does not exist")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import colormaps
    from matplotlib.colors import Normalize

    rows = list(ranked)
    n = len(rows)
    ys = list(range(n))
    totals = [float(round3(r.total)) for r in rows]
    probs = [mc.p_top[r.use_case.id] for r in rows]
    cmap = colormaps["viridis"]
    norm = Normalize(0.0, 1.0)
    height = max(3.4, 0.24 * n + 2.4)
    fig, (ax_bar, ax_rank) = plt.subplots(
        1, 2, sharey=True, figsize=(13, height), gridspec_kw={"width_ratios": [3, 2], "wspace": 0.04}
    )
    ax_bar.barh(ys, totals, color=[cmap(norm(p)) for p in probs], edgecolor="none", height=0.75)
    for y, t in zip(ys, totals, strict=True):
        ax_bar.text(t + 0.004, y, f"{t:.3f}", va="center", fontsize=7)
    ax_bar.set_yticks(ys, [_label(r) for r in rows], fontsize=8)
    ax_bar.set_xlim(0, min(1.0, max(totals, default=0.0) + 0.08))
    ax_bar.set_xlabel("Weighted total (0–1)")
    ax_bar.grid(axis="x", alpha=0.3)

    lows = [mc.rank_low[r.use_case.id] for r in rows]
    highs = [mc.rank_high[r.use_case.id] for r in rows]
    medians = [mc.rank_median[r.use_case.id] for r in rows]
    ax_rank.hlines(ys, lows, highs, color="0.45", linewidth=2.2, label="90 % rank interval")
    ax_rank.plot(medians, ys, "o", color="black", markersize=3.5, label="median rank")
    ax_rank.plot(
        [r.rank for r in rows], ys, "|", color="crimson", markersize=9, label="rank at given weights"
    )
    ax_rank.set_xlim(0.5, max(highs + [r.rank for r in rows], default=1) + 0.5)
    ax_rank.set_xlabel(f"Rank over {mc.samples} Monte Carlo samples (1 = best)")
    ax_rank.grid(axis="x", alpha=0.3)
    ax_rank.tick_params(axis="y", left=False)

    cut = sum(1 for r in rows if r.rank <= mc.top_n)
    if 0 < cut < n:
        for ax in (ax_bar, ax_rank):
            ax.axhline(cut - 0.5, color="crimson", linestyle="--", linewidth=0.9)
        ax_rank.axvline(mc.top_n + 0.5, color="crimson", linestyle="--", linewidth=0.9)
    ax_bar.set_ylim(n - 0.5, -0.5)
    # Key and colour scale sit in a footer below both panels, where they cannot cover any row.
    bottom = 1.25 / height
    fig.legend(*ax_rank.get_legend_handles_labels(), loc="lower right", ncol=3, fontsize=8, frameon=False,
               bbox_to_anchor=(0.97, 0.3 / height))  # fmt: skip
    cax = fig.add_axes((0.3, 0.42 / height, 0.25, 0.12 / height))
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), cax=cax, orientation="horizontal")
    bar.set_label(f"bar colour: P(in top {mc.top_n})", fontsize=8)
    bar.ax.tick_params(labelsize=7)
    fig.suptitle(f"{title}\nscores ±{mc.perturb:g}, weights ×(1±{mc.jitter:g}), seed {mc.seed}", fontsize=11)
    fig.subplots_adjust(left=0.3, right=0.97, top=1 - 0.9 / height, bottom=bottom)
    try:
        fig.savefig(path, dpi=110)
    except OSError as exc:
        raise UsageError(f"--plot: cannot write {str(path)!r}: {exc}") from None
    finally:
        plt.close(fig)
    return path
