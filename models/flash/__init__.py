"""Flash back ends: NAND geometry and timing, a page-mapped FTL, ZNS, open-channel.

See docs/flash.md. ``models.backend_factory.make_backend`` builds these by kind.
"""

from .config import PRESETS, Geometry, NandTiming, preset
from .ftl import ConvFtl
from .nand import ErasedPageError, Nand, NandError, ProgramOrderError
from .ocssd import OcssdBackend, Ppa, PpaFormat
from .timing import NandTimingModel
from .zns import ZnsBackend

__all__ = [
    "PRESETS", "Geometry", "NandTiming", "preset", "ConvFtl", "ErasedPageError", "Nand",
    "NandError", "ProgramOrderError", "OcssdBackend", "Ppa", "PpaFormat", "NandTimingModel",
    "ZnsBackend",
]
