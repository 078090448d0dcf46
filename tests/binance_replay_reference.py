"""Reference model of ``rentrade replay``: the pure-Python decoder plus ``BookSync``.

:func:`rentrade.venues.binance_usdm.replay.replay_binance` runs recordings through the C++
``BinanceFeed`` (the live path). This is the slow, independent way it was done before: ``orjson``,
:class:`~rentrade.venues.binance_usdm.messages.MessageDecoder` and
:class:`~rentrade.venues.binance_usdm.book_sync.BookSync` (Binance's documented rules written out in
Python). Tests compare the two, record for record; nothing in the package uses this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from rentrade._fastcore import DecimalError, Instrument
from rentrade.events import FLAG_LAST_IN_MESSAGE, KIND_CLEAR, empty_events
from rentrade.recordings import Direction, RecordedFrame, RecordingError
from rentrade.venues.binance_usdm.book_sync import FUTURES_RULE, SPOT_RULE, BookSync, SyncRule, SyncVerdict
from rentrade.venues.binance_usdm.messages import (
    BINANCE_VENUE_ID,
    DecodedMessage,
    MessageDecoder,
    MessageError,
)
from rentrade.venues.binance_usdm.replay import (
    CHECKPOINT_DTYPE,
    BinanceReplay,
    SymbolReplay,
    _concat,
    _depth_url_symbol,
    _is_inband_snapshot,
    _merged,
    _Scan,
    _scan,
)


@dataclass(slots=True)
class _SymbolState:
    symbol: str
    instrument_id: int
    rule: SyncRule
    sync: BookSync[DecodedMessage]
    chunks: list[npt.NDArray[np.void]] = field(default_factory=list)
    trades: list[npt.NDArray[np.void]] = field(default_factory=list)
    checkpoints: list[tuple[int, int, int, int, int, int]] = field(default_factory=list)
    applied: int = 0
    dropped_stale: int = 0
    gaps: int = 0
    snapshots: int = 0
    empty_diffs: int = 0


def reference_replay(
    paths: Sequence[Path],
    instruments: Sequence[Instrument],
    *,
    rule: SyncRule | None = None,
    snapshot_symbol: str | None = None,
    max_buffered: int = 100_000,
) -> BinanceReplay:
    """The replay of ``paths`` as the pure-Python decoder and ``BookSync`` produce it."""
    path_list = list(paths)
    scan = _scan(path_list, need_decimals=False)
    decoder = MessageDecoder(instruments, BINANCE_VENUE_ID)
    states: dict[str, _SymbolState] = {}
    for inst in decoder.instruments:
        symbol_rule = rule or (FUTURES_RULE if scan.has_prev_id.get(inst.symbol, True) else SPOT_RULE)
        states[inst.symbol] = _SymbolState(
            inst.symbol, decoder.instrument_id(inst.symbol), symbol_rule, BookSync(symbol_rule, max_buffered)
        )
    all_chunks: list[npt.NDArray[np.void]] = []

    for path_index, frame in _merged(path_list):
        path = path_list[path_index]
        try:
            _replay_frame(
                frame,
                path_index,
                scan=scan,
                snapshot_symbol=snapshot_symbol,
                decoder=decoder,
                states=states,
                all_chunks=all_chunks,
            )
        except (DecimalError, MessageError, RecordingError) as exc:
            raise RecordingError(f"bad line {frame.line} in file {path}: {exc}") from exc

    symbols: dict[str, SymbolReplay] = {}
    for inst in decoder.instruments:
        st = states[inst.symbol]
        symbols[inst.symbol] = SymbolReplay(
            symbol=st.symbol,
            instrument=inst,
            instrument_id=st.instrument_id,
            rule=st.rule,
            events=_concat(st.chunks),
            trades=_concat(st.trades),
            checkpoints=np.array(st.checkpoints, dtype=CHECKPOINT_DTYPE),
            applied=st.applied,
            dropped_stale=st.dropped_stale,
            gaps=st.gaps,
            snapshots=st.snapshots,
            unsynced_at_end=st.sync.buffered,
            empty_diffs=st.empty_diffs,
        )
    return BinanceReplay(decoder.instruments, symbols, _concat(all_chunks))


def _replay_frame(
    frame: RecordedFrame,
    path_index: int,
    *,
    scan: _Scan,
    snapshot_symbol: str | None,
    decoder: MessageDecoder,
    states: dict[str, _SymbolState],
    all_chunks: list[npt.NDArray[np.void]],
) -> None:
    if frame.direction is Direction.HTTP:
        symbol = _depth_url_symbol(frame.url)
        if symbol is not None:
            _on_snapshot(
                decoder.decode_depth_snapshot(frame.payload, symbol, frame.ts_local_ns), states, all_chunks
            )
        return
    if frame.direction is not Direction.RECEIVED:
        return
    if _is_inband_snapshot(frame.payload):
        symbol = snapshot_symbol or scan.snapshot_symbol(path_index)
        _on_snapshot(
            decoder.decode_depth_snapshot(frame.payload, symbol, frame.ts_local_ns), states, all_chunks
        )
        return
    parsed = decoder.parse_frame(frame.payload)
    if parsed is None:
        return
    event_type, data = parsed
    if event_type == "bookTicker":
        # Straight to a tuple: quotes are the most frequent frame and need no event records.
        symbol, update_id, bid_px, bid_qty, ask_px, ask_qty = decoder.book_ticker_quote(data)
        states[symbol].checkpoints.append((frame.ts_local_ns, update_id, bid_px, bid_qty, ask_px, ask_qty))
        return
    if event_type != "depthUpdate":
        message = decoder.decode_trade(data, frame.ts_local_ns)
        states[message.symbol].trades.append(message.events)
        return
    message = decoder.decode_depth_update(data, frame.ts_local_ns)
    st = states[message.symbol]
    verdict = st.sync.on_diff(
        message.first_update_id, message.last_update_id, message.prev_update_id, message
    )
    if verdict is SyncVerdict.APPLY:
        _apply(st, message, all_chunks)
    elif verdict is SyncVerdict.STALE:
        st.dropped_stale += 1
    elif verdict is SyncVerdict.GAP:
        st.gaps += 1
        clear = _clear_event(st.instrument_id, frame.ts_local_ns)
        st.chunks.append(clear)
        all_chunks.append(clear)


def _on_snapshot(
    message: DecodedMessage, states: dict[str, _SymbolState], all_chunks: list[npt.NDArray[np.void]]
) -> None:
    st = states[message.symbol]
    outcome = st.sync.on_snapshot(message.last_update_id)
    st.dropped_stale += outcome.stale
    if outcome.verdict is not SyncVerdict.APPLY:
        st.gaps += 1
        return
    st.snapshots += 1
    st.chunks.append(message.events)
    all_chunks.append(message.events)
    for ready in outcome.ready:
        _apply(st, ready, all_chunks)


def _apply(st: _SymbolState, message: DecodedMessage, all_chunks: list[npt.NDArray[np.void]]) -> None:
    st.applied += 1
    if message.events.size == 0:
        st.empty_diffs += 1
        return
    st.chunks.append(message.events)
    all_chunks.append(message.events)


def _clear_event(instrument_id: int, ts_local_ns: int) -> npt.NDArray[np.void]:
    event = empty_events(1)
    event["ts_local_ns"] = ts_local_ns
    event["instrument_id"] = instrument_id
    event["kind"] = KIND_CLEAR
    event["venue_id"] = BINANCE_VENUE_ID
    event["flags"] = FLAG_LAST_IN_MESSAGE
    return event
