"""rentrade: a low-latency execution core for crypto trading.

The compiled core (``rentrade._fastcore``, C++20) keeps exact integer order books and positions; this
package is the thin Python layer around it. Prices are integer ticks and quantities integer lots of their
:class:`Instrument`; decimal strings convert exactly, never through a float.
"""

from rentrade import sizing
from rentrade._fastcore import (
    SIGNAL_FEATURES,
    BookError,
    BookSet,
    DecimalError,
    EventKind,
    Impact,
    Instrument,
    Liquidity,
    OrderBook,
    PnlTotals,
    Position,
    PositionError,
    Positions,
    Side,
    Signals,
)
from rentrade.events import EVENT_DTYPE, empty_events
from rentrade.fills import FILL_DTYPE, empty_fills

__version__ = "0.1.0"

__all__ = [
    "EVENT_DTYPE",
    "FILL_DTYPE",
    "SIGNAL_FEATURES",
    "BookError",
    "BookSet",
    "DecimalError",
    "EventKind",
    "Impact",
    "Instrument",
    "Liquidity",
    "OrderBook",
    "PnlTotals",
    "Position",
    "PositionError",
    "Positions",
    "Side",
    "Signals",
    "__version__",
    "empty_events",
    "empty_fills",
    "sizing",
]
