"""Writers for registry bulk files, byte-shaped like the real ones (notes/formats.md §11)."""

from sandbox.world.registry.brreg import BRREG_HEADER, BrregWriter, RollerWriter
from sandbox.world.registry.companies_house import CH_HEADER, CHBasicWriter, PSCWriter
from sandbox.world.registry.gleif import GLEIF_COLUMNS, GleifWriter
from sandbox.world.registry.sink import Sink
from sandbox.world.registry.sweden import (
    BOLAGSVERKET_HEADER,
    SCB_COLUMNS,
    BolagsverketWriter,
    SCBWriter,
)

__all__ = [
    "BOLAGSVERKET_HEADER",
    "BRREG_HEADER",
    "CH_HEADER",
    "GLEIF_COLUMNS",
    "SCB_COLUMNS",
    "BolagsverketWriter",
    "BrregWriter",
    "CHBasicWriter",
    "GleifWriter",
    "PSCWriter",
    "RollerWriter",
    "SCBWriter",
    "Sink",
]
