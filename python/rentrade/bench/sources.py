"""Market data for ``rentrade bench --data``: one instrument's synced book events from a recording."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rentrade._fastcore import Instrument
from rentrade.events import empty_events
from rentrade.venues.binance_usdm.replay import replay_binance


def load_recording(
    paths: Sequence[str], tick_size: str | None = None, lot_size: str | None = None
) -> tuple[npt.NDArray[np.void], Instrument, str]:
    """Replay Binance recordings and return the busiest symbol's book events as instrument 0.

    Parameters
    ----------
    paths
        One recording, or several that belong together (the cryptofeed ``BINANCE_FUTURES.0``,
        ``.http.0.0`` and ``.ws.1.0``), in any format :mod:`rentrade.recordings` reads.
    tick_size, lot_size
        The busiest symbol's real increments, for recordings without ``exchangeInfo`` (the
        hftbacktest files): otherwise they are inferred from the printed decimals, which can be finer
        than the real ones (BTCUSDT prints 0.01 but trades in 0.1 ticks) and changes what is measured.

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
    if tick_size is not None or lot_size is not None:
        inferred = busiest.instrument
        given = Instrument(
            inferred.symbol,
            inferred.venue,
            tick_size or inferred.tick_size,
            lot_size or inferred.lot_size,
            min_notional=inferred.min_notional,
        )
        others = [symbol.instrument for symbol in replay.symbols.values() if symbol is not busiest]
        replay = replay_binance(list(paths), instruments=[given, *others])
        busiest = replay.symbols[inferred.symbol]
    if len(busiest.events) == 0:
        raise ValueError(f"{busiest.symbol}: no synced book events in {', '.join(paths)}")
    events = empty_events(len(busiest.events))
    events[:] = busiest.events
    events["instrument_id"] = 0
    names = ", ".join(Path(path).name for path in paths)
    source = (
        f"recording {names}: {busiest.symbol} (tick {busiest.instrument.tick_size}, lot "
        f"{busiest.instrument.lot_size}; {len(events):,} book events, "
        f"{busiest.applied:,} diffs applied, {busiest.gaps} gaps)"
    )
    return events, busiest.instrument, source
