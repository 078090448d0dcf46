"""The core's fill record as a numpy structured dtype, for applying many fills without Python per fill.

One record is 48 bytes (``src/fastcore/position/position.hpp``); ``tests/test_positions.py`` checks this
dtype against the C++ layout (``rentrade._fastcore.fill_layout()``). ``fee_units`` is in the
instrument's notional units (10^-notional decimals of the quote currency); negative is a rebate.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

FILL_DTYPE: Final = np.dtype(
    {
        "names": [
            "ts_ns",
            "px_ticks",
            "qty_lots",
            "fee_units",
            "trade_id",
            "instrument_id",
            "side",
            "liquidity",
            "venue_id",
            "reserved",
        ],
        "formats": ["<i8", "<i8", "<i8", "<i8", "<u8", "<u4", "u1", "u1", "u1", "u1"],
        "offsets": [0, 8, 16, 24, 32, 40, 44, 45, 46, 47],
        "itemsize": 48,
    }
)
"""numpy dtype of one fill record (see ``src/fastcore/position/position.hpp``)."""

SIDE_BUY: Final = 0
SIDE_SELL: Final = 1
LIQUIDITY_MAKER: Final = 0
LIQUIDITY_TAKER: Final = 1


def empty_fills(count: int) -> npt.NDArray[np.void]:
    """Return a zeroed array of ``count`` fill records (numpy's allocation is aligned enough).

    Parameters
    ----------
    count
        Number of records.

    Returns
    -------
    numpy.ndarray
        1-D array of :data:`FILL_DTYPE` for :meth:`rentrade.Positions.apply_fills`. Set ``venue_id``
        to :meth:`rentrade.Positions.venue_id` of each fill's instrument.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    return np.zeros(count, dtype=FILL_DTYPE)
