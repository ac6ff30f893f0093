"""IOMMU benchmark: 4 KiB random reads at QD1 and QD32 per queue on 4 queues: passthrough, lazy, strict,
each on bare metal and inside a VM that owns the controller, without and with paging-structure caches
("+wc": 64 entries).

Runs bench/sim/iommu_rates.py and prints IOPS, mean, p50 and p99 latency (simulated time) and the IOTLB
miss rate per policy, place and queue depth, with the page walks, walk reads and invalidations per read
that explain them, then the throughput lost to strict protection against passthrough on bare metal, next
to what the IOMMU study this project seeds from reports; writes a bar chart to
build/bench/iommu_policies.png. Nothing here or in the model ranks the policies or the places: the order
comes from the invalidations, walks, VM exits and map/unmap work each one does.

Run: .venv/bin/python bench/iommu_bench.py
"""

from __future__ import annotations

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from simbench import BUILD_ROOT, run_bench_module  # noqa: E402

POLICIES = ("passthrough", "lazy", "strict")
PLACES = ("bare", "vm", "bare+wc", "vm+wc")
DEPTHS = (1, 32)   # reads in flight per queue
CHART = BUILD_ROOT / "bench" / "iommu_policies.png"
# the seed's reported degradation of throughput under strict protection, natively and inside VMs
SEED_LOSS = {"bare": "up to 60 %", "vm": "up to 97 %"}
PLACE_NAMES = {"bare": "on bare metal", "vm": "in a VM", "bare+wc": "bare, walk cache", "vm+wc": "VM, walk cache"}


def table(figures: dict) -> str:
    lines = [f"{'where':7s} {'policy':12s} {'QD':>3s} {'IOPS':>9s} {'mean us':>8s} {'p50 us':>8s} {'p99 us':>8s} "
             f"{'IOTLB miss':>10s} {'walks/IO':>8s} {'reads/IO':>8s} {'inval/IO':>8s} {'wall s':>6s}"]
    for depth in DEPTHS:
        for where in PLACES:
            for policy in POLICIES:
                f = figures[f"{where} {policy} QD{depth}"]
                miss = f"{100 * f['iotlb_miss_rate']:9.1f}%" if f["iotlb_lookups"] else f"{'-':>10s}"
                lines.append(f"{where:7s} {policy:12s} {depth:3d} {f['iops']:9.0f} {f['mean_us']:8.2f} "
                             f"{f['p50_us']:8.2f} {f['p99_us']:8.2f} {miss} {f['page_walks'] / f['reads']:8.2f} "
                             f"{f['walk_reads'] / f['reads']:8.2f} {f['invalidations'] / f['reads']:8.2f} "
                             f"{f['wall_s']:6.1f}")
    return "\n".join(lines)


def losses(figures: dict) -> str:
    """Strict's throughput against passthrough on bare metal, the seed's comparison."""
    lines = []
    for depth in DEPTHS:
        base = figures[f"bare passthrough QD{depth}"]["iops"]
        for where in PLACES:
            strict = figures[f"{where} strict QD{depth}"]["iops"]
            lines.append(f"  QD{depth:<2d} strict {PLACE_NAMES[where]:16s} "
                         f"{strict / base:6.1%} of bare-metal passthrough's IOPS: {1 - strict / base:5.1%} lost "
                         f"(seed: {SEED_LOSS[where.removesuffix('+wc')]})")
    return "\n".join(lines)


def chart(figures: dict) -> None:
    metrics = (("iops", "IOPS"), ("p50_us", "p50 latency (us)"), ("p99_us", "p99 latency (us)"),
               ("iotlb_miss_rate", "IOTLB miss rate"))
    series = [(where, policy) for where in PLACES for policy in POLICIES]
    fig, axes = plt.subplots(1, len(metrics), figsize=(18, 5))
    width = 0.8 / len(series)
    for ax, (key, title) in zip(axes, metrics):
        for i, (where, policy) in enumerate(series):
            values = [figures[f"{where} {policy} QD{d}"][key] for d in DEPTHS]
            ax.bar([d + (i - (len(series) - 1) / 2) * width for d in range(len(DEPTHS))], values, width,
                   label=f"{policy} ({PLACE_NAMES[where]})", hatch="//" if where.startswith("vm") else "",
                   color=plt.get_cmap("tab20")(i))
        ax.set_xticks(range(len(DEPTHS)), [f"QD{d}" for d in DEPTHS])
        ax.set_title(title)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=len(series) // 2)
    fig.suptitle("4 KiB random reads, 4 queues, QD per queue, simulated time")
    fig.tight_layout(rect=(0, 0.16, 1, 1))
    CHART.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(CHART, dpi=100)


def main() -> int:
    figures = run_bench_module("iommu_rates")
    if figures is None:
        return 1
    print("IOMMU policies, 4 KiB random reads on 4 queues (QD per queue), default costs "
          "(walk read 200 ns, invalidation 1.5 us, map 250 ns, unmap 150 ns, IOTLB 64 entries LRU; "
          "in a VM: 4 KiB pages at both stages, a VM exit of 5 us per guest invalidation; "
          "+wc: 64 entries of paging-structure caches):")
    print(table(figures))
    print("strict protection against passthrough on bare metal:")
    print(losses(figures))
    chart(figures)
    print(f"chart: {CHART}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
