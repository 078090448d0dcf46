"""rentrade: a low-latency execution core for crypto trading.

The compiled core (``rentrade._fastcore``, C++20) keeps exact integer order books, positions and pre-trade
risk checks (:class:`Risk`, reasons as :class:`RiskReason` with ``.message``); this
package is the thin Python layer around it. Prices are integer ticks and quantities integer lots of their
:class:`Instrument`; decimal strings convert exactly, never through a float.
"""

from rentrade import orders, sizing
from rentrade._fastcore import (
    SIGNAL_FEATURES,
    Backtest,
    BinanceFeed,
    BinanceTrader,
    BookError,
    BookSet,
    DecimalError,
    Decision,
    Engine,
    EngineError,
    EventKind,
    FrameStatus,
    Impact,
    Instrument,
    Liquidity,
    MarketView,
    OrderBook,
    PnlTotals,
    Position,
    PositionError,
    Positions,
    Risk,
    RiskError,
    RiskReason,
    Side,
    Signals,
    SimulatedExchange,
    SyncState,
    TradingState,
    describe_risk,
)
from rentrade.events import EVENT_DTYPE, empty_events
from rentrade.fills import FILL_DTYPE, empty_fills
from rentrade.orders import INTENT_DTYPE, REPORT_DTYPE, empty_reports

__version__ = "0.1.0"

__all__ = [
    "EVENT_DTYPE",
    "FILL_DTYPE",
    "INTENT_DTYPE",
    "REPORT_DTYPE",
    "SIGNAL_FEATURES",
    "Backtest",
    "BinanceFeed",
    "BinanceTrader",
    "BookError",
    "BookSet",
    "DecimalError",
    "Decision",
    "Engine",
    "EngineError",
    "EventKind",
    "FrameStatus",
    "Impact",
    "Instrument",
    "Liquidity",
    "MarketView",
    "OrderBook",
    "PnlTotals",
    "Position",
    "PositionError",
    "Positions",
    "Risk",
    "RiskError",
    "RiskReason",
    "Side",
    "Signals",
    "SimulatedExchange",
    "SyncState",
    "TradingState",
    "__version__",
    "describe_risk",
    "empty_events",
    "empty_fills",
    "empty_reports",
    "orders",
    "sizing",
]
