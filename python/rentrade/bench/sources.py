"""Market data for ``rentrade bench --data``: one instrument's synced book events from a recording."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rentrade._fastcore import Instrument
from rentrade.events import empty_events
from rentrade.venues.binance_usdm.replay import replay_binance


def load_recording(paths: Sequence[str]) -> tuple[npt.NDArray[np.void], Instrument, str]:
    """Replay Binance recordings and return the busiest symbol's book events as instrument 0.

    Parameters
    ----------
    paths
        One recording, or several that belong together (the cryptofeed ``BINANCE_FUTURES.0``,
        ``.http.0.0`` and ``.ws.1.0``), in any format :mod:`rentrade.recordings` reads.

    Returns
    -------
    tuple
        The events (64-byte aligned, REST snapshot first, then every synced diff), the symbol's
        instrument, and a description for the report.

    Raises
    ------
    ValueError
        If the recordings hold no symbol with a synced book.
    """
    missing = [path for path in paths if not Path(path).exists()]
    if missing:
        raise ValueError(f"recording not found: {', '.join(missing)}")
    replay = replay_binance(list(paths))
    if not replay.symbols:
        raise ValueError(f"no Binance depth stream with a snapshot in {', '.join(paths)}")
    busiest = max(replay.symbols.values(), key=lambda symbol: len(symbol.events))
    if len(busiest.events) == 0:
        raise ValueError(f"{busiest.symbol}: no synced book events in {', '.join(paths)}")
    events = empty_events(len(busiest.events))
    events[:] = busiest.events
    events["instrument_id"] = 0
    names = ", ".join(Path(path).name for path in paths)
    source = (
        f"recording {names}: {busiest.symbol} ({len(events):,} book events, "
        f"{busiest.applied:,} diffs applied, {busiest.gaps} gaps)"
    )
    return events, busiest.instrument, source
