"""IOMMU benchmark: 4 KiB random reads at QD1 and QD32 per queue on 4 queues: passthrough, lazy, strict.

Runs bench/sim/iommu_rates.py and prints IOPS, mean and p99 latency (simulated time) and the IOTLB
miss rate per policy and queue depth, with the page walks and invalidations per read that explain
them; writes a bar chart to build/bench/iommu_policies.png. Nothing here or in the model ranks the
policies: the order comes from the invalidations, walks and map/unmap work each one does.

Run: .venv/bin/python bench/iommu_bench.py
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from simbench import BUILD_ROOT, run_bench_module  # noqa: E402

POLICIES = ("passthrough", "lazy", "strict")
DEPTHS = (1, 32)   # reads in flight per queue
CHART = BUILD_ROOT / "bench" / "iommu_policies.png"


def table(figures: dict) -> str:
    lines = [f"{'policy':12s} {'QD':>3s} {'IOPS':>9s} {'mean us':>8s} {'p99 us':>8s} {'IOTLB miss':>10s} "
             f"{'walks/IO':>8s} {'inval/IO':>8s} {'wall s':>6s}"]
    for depth in DEPTHS:
        for policy in POLICIES:
            f = figures[f"{policy} QD{depth}"]
            miss = f"{100 * f['iotlb_miss_rate']:9.1f}%" if f["iotlb_lookups"] else f"{'-':>10s}"
            lines.append(f"{policy:12s} {depth:3d} {f['iops']:9.0f} {f['mean_us']:8.2f} {f['p99_us']:8.2f} {miss} "
                         f"{f['page_walks'] / f['reads']:8.2f} {f['invalidations'] / f['reads']:8.2f} "
                         f"{f['wall_s']:6.1f}")
    return "\n".join(lines)


def chart(figures: dict) -> None:
    metrics = (("iops", "IOPS"), ("mean_us", "mean latency (us)"), ("p99_us", "p99 latency (us)"),
               ("iotlb_miss_rate", "IOTLB miss rate"))
    fig, axes = plt.subplots(1, len(metrics), figsize=(16, 4))
    width = 0.25
    for ax, (key, title) in zip(axes, metrics):
        for i, policy in enumerate(POLICIES):
            values = [figures[f"{policy} QD{d}"][key] for d in DEPTHS]
            ax.bar([d + (i - 1) * width for d in range(len(DEPTHS))], values, width, label=policy)
        ax.set_xticks(range(len(DEPTHS)), [f"QD{d}" for d in DEPTHS])
        ax.set_title(title)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=len(POLICIES))
    fig.suptitle("4 KiB random reads, 4 queues, QD per queue, simulated time")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(CHART, dpi=100)


def main() -> int:
    figures = run_bench_module("iommu_rates")
    if figures is None:
        return 1
    print("IOMMU policies, 4 KiB random reads on 4 queues (QD per queue), default costs "
          "(walk read 200 ns, invalidation 1.5 us, map 250 ns, unmap 150 ns, IOTLB 64 entries LRU):")
    print(table(figures))
    chart(figures)
    print(f"chart: {CHART}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
