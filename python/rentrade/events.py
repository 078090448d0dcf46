"""The core's event record as a numpy structured dtype that views the same bytes.

One record is 64 bytes (one cache line). Arrays made here are 64-byte aligned so the core reads them
in place; ``tests/test_events.py`` checks this dtype against the C++ layout
(``rentrade._fastcore.event_layout()``).
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

EVENT_DTYPE: Final = np.dtype(
    {
        "names": [
            "ts_exchange_ns",
            "ts_local_ns",
            "px_ticks",
            "qty_lots",
            "seq",
            "aux",
            "instrument_id",
            "kind",
            "side",
            "flags",
            "venue_id",
            "reserved",
        ],
        "formats": ["<i8", "<i8", "<i8", "<i8", "<u8", "<u8", "<u4", "u1", "u1", "u1", "u1", "V8"],
        "offsets": [0, 8, 16, 24, 32, 40, 48, 52, 53, 54, 55, 56],
        "itemsize": 64,
    }
)
"""numpy dtype of one event record (see ``src/fastcore/common/event.hpp``)."""

EVENT_ALIGNMENT: Final = 64

KIND_NONE: Final = 0
KIND_CLEAR: Final = 1
KIND_SNAPSHOT_LEVEL: Final = 2
KIND_DELTA: Final = 3
KIND_TRADE: Final = 4
KIND_BBO: Final = 5

SIDE_BID: Final = 0
SIDE_ASK: Final = 1

FLAG_LAST_IN_MESSAGE: Final = 1


def empty_events(count: int) -> npt.NDArray[np.void]:
    """Return a zeroed, 64-byte-aligned array of ``count`` event records.

    Parameters
    ----------
    count
        Number of records.

    Returns
    -------
    numpy.ndarray
        1-D array of :data:`EVENT_DTYPE`; the core reads it without copying.
    """
    return aligned_zeros(EVENT_DTYPE, count)


def aligned_zeros(dtype: np.dtype[np.void], count: int) -> npt.NDArray[np.void]:
    """Return ``count`` zeroed records of ``dtype`` starting on a 64-byte boundary.

    The core's 64-byte records (events, order intents, execution reports) are read in place only when
    the array is aligned; numpy itself guarantees 16 bytes at most.

    Raises
    ------
    ValueError
        If ``count`` is negative.
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    size = count * dtype.itemsize
    raw = np.zeros(size + EVENT_ALIGNMENT, dtype=np.uint8)
    offset = (-raw.ctypes.data) % EVENT_ALIGNMENT
    return raw[offset : offset + size].view(dtype)


def is_aligned(events: npt.NDArray[np.void]) -> bool:
    """Whether ``events`` starts on a 64-byte boundary (unaligned arrays are copied in chunks).

    An empty array counts as aligned: there is nothing to read.
    """
    return events.size == 0 or int(events.ctypes.data) % EVENT_ALIGNMENT == 0
