"""The one place that reaches into PeakRDL internals (versions checked at import).

peakrdl-markdown writes one section per element of an array: 65 doorbell
pairs and 65 MSI-X entries would make the BAR0 page thousands of lines long.
``CompactMarkdownExporter`` walks arrays once, as the SystemRDL source has
them, and names them ``NAME[N]`` in the tables.
"""

from __future__ import annotations

from contextlib import contextmanager
from importlib.metadata import version
from typing import Iterator

from peakrdl_markdown import MarkdownExporter
from systemrdl.node import AddressableNode, Node

PEAKRDL_MARKDOWN_VERSION = "1.0.3"
if version("peakrdl-markdown") != PEAKRDL_MARKDOWN_VERSION:
    raise ImportError(f"tools/rdl_overrides.py was written against peakrdl-markdown {PEAKRDL_MARKDOWN_VERSION}, "
                      f"not {version('peakrdl-markdown')}: check _add_addrmap_regfile_mem and _addrnode_table_row")


@contextmanager
def _arrays_folded() -> Iterator[None]:
    """Node.children() ignores unroll=True while this holds (the exporter asks for unrolled children)."""
    original = Node.children

    def folded(self: Node, unroll: bool = False, skip_not_present: bool = True) -> list[Node]:
        children = original(self, unroll=False, skip_not_present=skip_not_present)
        for child in children:
            # addresses below an array are shown for its first element
            if isinstance(child, AddressableNode) and child.is_array and child.current_idx is None:
                child.current_idx = [0] * len(child.array_dimensions)
        return children

    Node.children = folded  # type: ignore[method-assign]
    try:
        yield
    finally:
        Node.children = original  # type: ignore[method-assign]


class CompactMarkdownExporter(MarkdownExporter):
    """peakrdl-markdown with arrays described once."""

    def export(self, *args, **kwargs) -> None:  # type: ignore[override]
        with _arrays_folded():
            super().export(*args, **kwargs)

    def _addrnode_table_row(self, node: AddressableNode):  # type: ignore[override]
        row = super()._addrnode_table_row(node)
        if node.is_array:
            row["Identifier"] = node.inst_name + "".join(f"[{dim}]" for dim in node.array_dimensions)
        return row
