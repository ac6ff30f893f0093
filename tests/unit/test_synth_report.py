"""tools/synth.py reads Yosys's statistics: the flattened totals and, for `make synth-modules`, each
module's own cells times its instances."""

from __future__ import annotations

from tools import synth

# a hierarchical `stat` of nvme_tag_pool over two lowest_set_bit instances (Yosys 0.x), trimmed
REPORT = r"""
2. Printing statistics.

=== $paramod$66b42a48fe74c75acd9027e7741a97dda0d39650\lowest_set_bit ===

   Number of wires:                 40
   Number of cells:                 27
     LUT2                           12
     LUT6                            7
     MUXF7                           4

=== nvme_tag_pool ===

   Number of wires:                200
   Number of cells:                450
     $paramod$66b42a48fe74c75acd9027e7741a97dda0d39650\lowest_set_bit      2
     CARRY4                         20
     FDRE                          120
     LUT3                           28
     LUT6                           95
     RAM32M                          3

=== design hierarchy ===

   nvme_tag_pool                     1
     $paramod$66b42a48fe74c75acd9027e7741a97dda0d39650\lowest_set_bit      2

   Number of wires:                280
   Number of cells:                504
     CARRY4                         20
     FDRE                          120
     LUT2                           24
     LUT3                           28
     LUT6                          109
"""


def test_each_module_counts_its_own_cells_times_its_instances() -> None:
    modules = synth.parse_modules(REPORT)
    assert set(modules) == {"nvme_tag_pool", "lowest_set_bit"}
    instances, counts = modules["lowest_set_bit"]
    assert instances == 2
    assert counts["LUT"] == 2 * (12 + 7)
    instances, counts = modules["nvme_tag_pool"]
    assert instances == 1
    assert (counts["LUT"], counts["FF"], counts["CARRY"], counts["LUTRAM"]) == (28 + 95, 120, 20, 3)


def test_parameterized_names_fold_into_their_module() -> None:
    assert synth.module_name("$paramod$66b42a48\\lowest_set_bit") == "lowest_set_bit"
    assert synth.module_name("$paramod\\nvme_tag_pool\\TAGS=s32'00000000000000000000000000010100") == "nvme_tag_pool"
    assert synth.module_name("nvme_ctrl") == "nvme_ctrl"


def test_the_flattened_totals_are_the_last_report() -> None:
    counts = synth.categorize(synth.parse_stat(REPORT))
    assert (counts["LUT"], counts["FF"]) == (24 + 28 + 109, 120)
