"""The PNG chart: per-phase deploy times raw vs product (median, min–max whiskers), stacked totals,
scaling and CLI latency — one panel per section that ran."""

from __future__ import annotations

from pathlib import Path
from typing import Any

PHASE_LABELS = {
    "launch": "launch + IPv4",
    "ssh": "SSH",
    "cloud_init": "cloud-init",
    "docker": "Docker",
    "compose": "Compose",
    "release": "tracker release",
    "run": "compose up",
    "other": "other",
}


def write_chart(sections: dict[str, Any], path: Path) -> Path | None:
    """Draw what the sections hold into `path`; None when there is nothing to draw."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes

    panels: list[str] = []
    deploy: dict[str, Any] = sections.get("deploy") or {}
    if deploy and "phases" in deploy:
        panels += ["phases", "stacked"]
    if sections.get("scaling"):
        panels.append("scaling")
    if sections.get("cli"):
        panels.append("cli")
    if not panels:
        return None
    columns = 2
    rows = (len(panels) + 1) // 2
    figure, axes_grid = plt.subplots(rows, columns, figsize=(13, 4.8 * rows), squeeze=False)
    flat: list[Axes] = [axis for row in axes_grid for axis in row]
    for axis, panel in zip(flat, panels, strict=False):
        if panel == "phases":
            _phases(axis, deploy["phases"])
        elif panel == "stacked":
            _stacked(axis, deploy["phases"])
        elif panel == "scaling":
            _scaling(axis, sections["scaling"])
        elif panel == "cli":
            _cli(axis, sections["cli"])
    for axis in flat[len(panels) :]:
        axis.set_visible(False)
    figure.suptitle("torrust-deploy benchmarks (product vs raw floor, same run)")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def _phases(axis: Any, phases: dict[str, Any]) -> None:
    names = [name for name in PHASE_LABELS if name in phases and name != "other"] + ["total", "destroy"]
    if "rerelease.total" in phases:
        names.insert(-1, "rerelease.total")
    positions = list(range(len(names)))
    width = 0.38
    for offset, kind, color in ((-width / 2, "raw", "#7f8c8d"), (width / 2, "product", "#2e86de")):
        medians = [phases[name][kind]["median"] for name in names]
        lows = [phases[name][kind]["median"] - phases[name][kind]["min"] for name in names]
        highs = [phases[name][kind]["max"] - phases[name][kind]["median"] for name in names]
        axis.bar(
            [p + offset for p in positions],
            medians,
            width,
            yerr=[lows, highs],
            capsize=3,
            label=kind,
            color=color,
        )
    for position, name in zip(positions, names, strict=True):
        value = phases[name]["ratio_of_medians"]
        top = max(phases[name]["raw"]["max"], phases[name]["product"]["max"])
        label = f"{value:.2f}x" if isinstance(value, float) else str(value)
        axis.text(position, top * 1.02 + 0.1, label, ha="center", fontsize=8)
    axis.set_xticks(positions)
    axis.set_xticklabels(
        [PHASE_LABELS.get(name, name.replace("rerelease.total", "re-release")) for name in names],
        rotation=30,
        ha="right",
    )
    axis.set_ylabel("seconds (median, min-max)")
    axis.set_title("Deploy phases: raw floor vs product (ratio above)")
    axis.legend()


def _stacked(axis: Any, phases: dict[str, Any]) -> None:
    from bench.deploy import TOTAL_TARGET

    colors = ["#1abc9c", "#3498db", "#9b59b6", "#e67e22", "#e74c3c", "#f1c40f", "#34495e", "#95a5a6"]
    for column, kind in enumerate(("raw", "product")):
        bottom = 0.0
        for (name, label), color in zip(PHASE_LABELS.items(), colors, strict=True):
            if name not in phases:
                continue
            value = max(0.0, float(phases[name][kind]["median"]))
            axis.bar(column, value, 0.6, bottom=bottom, color=color, label=label if column == 0 else None)
            if value > 0.6:
                axis.text(column, bottom + value / 2, f"{value:.1f}", ha="center", va="center", fontsize=8)
            bottom += value
        axis.text(column, bottom + 0.2, f"{phases['total'][kind]['median']:.1f} s", ha="center", fontsize=9)
    axis.set_xticks([0, 1])
    axis.set_xticklabels(["raw floor", "product (Deployer.deploy)"])
    axis.set_ylabel("seconds (median per phase)")
    axis.set_title(f"Deploy to Running: ratio {phases['total']['ratio_of_medians']:.2f} (target ≤ {TOTAL_TARGET})")
    axis.set_xlim(-0.6, 2.4)
    axis.legend(fontsize=8, loc="upper right")


def _scaling(axis: Any, scaling: dict[str, Any]) -> None:
    batches = scaling["batches"]
    counts = sorted(int(count) for count in batches)
    totals = [batches[str(count)]["total_s"] for count in counts]
    per_env = [batches[str(count)]["per_environment_s"]["median"] for count in counts]
    axis.plot(counts, totals, marker="o", label="total wall time")
    axis.plot(counts, per_env, marker="s", label="per environment (median)")
    axis.plot(
        counts, [totals[0] * count for count in counts], linestyle=":", color="grey", label="serial (n x total(1))"
    )
    axis.set_xticks(counts)
    axis.set_xlabel("environments deployed at once")
    axis.set_ylabel("seconds")
    axis.set_title("Scaling")
    axis.legend()


def _cli(axis: Any, cli: dict[str, Any]) -> None:
    summary = cli["summary"]
    labels = list(summary)
    medians = [summary[label]["median"] * 1000 for label in labels]
    floor = summary[labels[0]]["median"] * 1000
    axis.bar(labels, medians, color=["#7f8c8d", *["#2e86de"] * (len(labels) - 1)])
    axis.axhline(floor * 3, color="red", linestyle="--", label="target: 3x floor")
    for position, value in enumerate(medians):
        axis.text(position, value * 1.02, f"{value:.0f} ms\n{value / floor:.1f}x", ha="center", fontsize=8)
    axis.set_ylim(0, max(*medians, floor * 3) * 1.15)  # the target line stays in view
    axis.set_ylabel("milliseconds (median)")
    axis.set_title("CLI latency vs python -c pass")
    axis.legend()
