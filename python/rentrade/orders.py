"""The engine's order records as numpy structured dtypes that view the same bytes as the C++ records.

:data:`INTENT_DTYPE` is ``fastcore::engine::OrderIntent`` (engine -> venue: new, cancel, replace) and
:data:`REPORT_DTYPE` is ``fastcore::engine::ExecutionReport`` (venue -> engine: ack, reject, fill,
cancelled), both 64 bytes (``src/fastcore/engine/order.hpp``). ``tests/test_engine.py`` checks them
against the C++ layout (``rentrade._fastcore.intent_layout()`` / ``report_layout()``).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from rentrade.events import aligned_zeros

INTENT_DTYPE: Final = np.dtype(
    {
        "names": [
            "ts_ns",
            "px_ticks",
            "qty_lots",
            "order_id",
            "trigger_seq",
            "ts_trigger_local_ns",
            "instrument_id",
            "kind",
            "side",
            "type",
            "tif",
            "venue_id",
            "reduce_only",
            "reserved",
        ],
        "formats": [
            "<i8",
            "<i8",
            "<i8",
            "<u8",
            "<u8",
            "<i8",
            "<u4",
            "u1",
            "u1",
            "u1",
            "u1",
            "u1",
            "u1",
            "V6",
        ],
        "offsets": [0, 8, 16, 24, 32, 40, 48, 52, 53, 54, 55, 56, 57, 58],
        "itemsize": 64,
    }
)
"""numpy dtype of one order intent (see ``src/fastcore/engine/order.hpp``)."""

REPORT_DTYPE: Final = np.dtype(
    {
        "names": [
            "ts_exchange_ns",
            "ts_local_ns",
            "px_ticks",
            "qty_lots",
            "fee_units",
            "order_id",
            "trade_id",
            "instrument_id",
            "kind",
            "reason",
            "side",
            "liquidity",
        ],
        "formats": ["<i8", "<i8", "<i8", "<i8", "<i8", "<u8", "<u8", "<u4", "u1", "u1", "u1", "u1"],
        "offsets": [0, 8, 16, 24, 32, 40, 48, 56, 60, 61, 62, 63],
        "itemsize": 64,
    }
)
"""numpy dtype of one execution report (see ``src/fastcore/engine/order.hpp``)."""

INTENT_NEW: Final = 1
INTENT_CANCEL: Final = 2
INTENT_REPLACE: Final = 3

TYPE_LIMIT: Final = 0
TYPE_MARKET: Final = 1

TIF_GTC: Final = 0
TIF_IOC: Final = 1
TIF_POST_ONLY: Final = 2

REPORT_ACK: Final = 1
REPORT_REJECT: Final = 2
REPORT_FILL: Final = 3
REPORT_CANCELLED: Final = 4

REASON_NONE: Final = 0
REASON_UNKNOWN_ORDER: Final = 1
REASON_POST_ONLY_WOULD_CROSS: Final = 2
REASON_NO_LIQUIDITY: Final = 3
REASON_VENUE_REJECTED: Final = 4
REASON_USER_CANCEL: Final = 5

LIQUIDITY_MAKER: Final = 0
LIQUIDITY_TAKER: Final = 1


def empty_reports(count: int) -> npt.NDArray[np.void]:
    """Return a zeroed, 64-byte-aligned array of ``count`` execution reports.

    Parameters
    ----------
    count
        Number of records.

    Returns
    -------
    numpy.ndarray
        1-D array of :data:`REPORT_DTYPE` for :meth:`rentrade.Engine.on_reports` (aligned arrays are
        read in place, others are copied in chunks).
    """
    return aligned_zeros(REPORT_DTYPE, count)


def report_for(
    intent: np.void,
    kind: int,
    *,
    px_ticks: int | None = None,
    qty_lots: int = 0,
    trade_id: int = 0,
    fee_units: int = 0,
    liquidity: int = LIQUIDITY_TAKER,
    reason: int = REASON_NONE,
    ts_ns: int | None = None,
) -> npt.NDArray[np.void]:
    """Return a one-record report array answering ``intent`` (tests, replays and simple venues).

    Parameters
    ----------
    intent
        One record of :data:`INTENT_DTYPE`.
    kind
        ``REPORT_ACK``, ``REPORT_REJECT``, ``REPORT_FILL`` or ``REPORT_CANCELLED``.
    px_ticks
        Fill price (defaults to the intent's price).
    qty_lots, trade_id, fee_units, liquidity
        Fill quantity, venue trade id (!= 0 for fills), fee in notional units, maker/taker.
    reason
        ``REASON_*`` for rejects and cancels.
    ts_ns
        Report time (defaults to the intent's ``ts_ns``), used as both venue and local time.
    """
    report = empty_reports(1)
    when = int(intent["ts_ns"]) if ts_ns is None else ts_ns
    report["ts_exchange_ns"] = when
    report["ts_local_ns"] = when
    report["px_ticks"] = int(intent["px_ticks"]) if px_ticks is None else px_ticks
    report["qty_lots"] = qty_lots
    report["fee_units"] = fee_units
    report["order_id"] = int(intent["order_id"])
    report["trade_id"] = trade_id
    report["instrument_id"] = int(intent["instrument_id"])
    report["kind"] = kind
    report["reason"] = reason
    report["side"] = int(intent["side"])
    report["liquidity"] = liquidity
    return report


def empty_intents(count: int) -> npt.NDArray[np.void]:
    """Return a zeroed, 64-byte-aligned array of ``count`` order intents.

    Parameters
    ----------
    count
        Number of records.

    Returns
    -------
    numpy.ndarray
        1-D array of :data:`INTENT_DTYPE` (for strategies and :meth:`rentrade.SimulatedExchange.submit`).
    """
    return aligned_zeros(INTENT_DTYPE, count)
