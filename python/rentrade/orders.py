"""The core's order records as numpy structured dtypes that view the same bytes.

``INTENT_DTYPE`` mirrors ``fastcore::engine::OrderIntent`` (engine -> venue) and ``REPORT_DTYPE``
mirrors ``fastcore::engine::ExecutionReport`` (venue -> engine), both 64 bytes
(``src/fastcore/engine/order.hpp``). ``tests/test_orders.py`` checks them against the C++ layout
(``rentrade._fastcore.order_layout()``).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

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
"""numpy dtype of one order intent (engine -> venue)."""

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
"""numpy dtype of one execution report (venue -> engine)."""

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

_ALIGNMENT: Final = 64


def _aligned(count: int, dtype: np.dtype[np.void]) -> npt.NDArray[np.void]:
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    raw = np.zeros(count * dtype.itemsize + _ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % _ALIGNMENT
    return raw[offset : offset + count * dtype.itemsize].view(dtype)


def empty_intents(count: int) -> npt.NDArray[np.void]:
    """Return a zeroed, 64-byte-aligned array of ``count`` order intents.

    Parameters
    ----------
    count
        Number of records.

    Returns
    -------
    numpy.ndarray
        1-D array of :data:`INTENT_DTYPE`.
    """
    return _aligned(count, INTENT_DTYPE)


def empty_reports(count: int) -> npt.NDArray[np.void]:
    """Return a zeroed, 64-byte-aligned array of ``count`` execution reports.

    Parameters
    ----------
    count
        Number of records.

    Returns
    -------
    numpy.ndarray
        1-D array of :data:`REPORT_DTYPE`.
    """
    return _aligned(count, REPORT_DTYPE)
