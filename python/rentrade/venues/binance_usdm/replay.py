"""Replay a Binance recording into synced per-symbol event arrays.

:func:`replay_binance` reads one or more recordings (any format :mod:`rentrade.recordings` knows),
merges them by local receive time, decodes every frame, runs each symbol's depth diffs through
:class:`~rentrade.venues.binance_usdm.book_sync.BookSync`, and returns what a book needs to rebuild
itself (REST snapshot, then the applied diffs), the ``bookTicker`` quotes to check the rebuilt book
against, the trades, and the sync counts.

Instruments come, in order of preference, from the ``instruments`` argument, from an ``exchangeInfo``
HTTP response inside the recordings (see ``exchange_info`` of :func:`replay_binance` for when it
disagrees with the recording), or are inferred from the recording: the tick (lot) size is one
unit in the last decimal place Binance prints for that symbol's prices (quantities). Binance pads every
price of a symbol to the same number of decimals, so the inferred sizes are exact for replay, though
they may be finer than the real tick (ticks are then 10x or 100x the real ones).
"""

from __future__ import annotations

import heapq
import os
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit

import numpy as np
import numpy.typing as npt
import orjson

from rentrade._fastcore import DecimalError, Instrument, OrderBook
from rentrade.events import (
    FLAG_LAST_IN_MESSAGE,
    KIND_CLEAR,
    KIND_DELTA,
    empty_events,
)
from rentrade.recordings import Direction, RecordedFrame, RecordingError, open_recording
from rentrade.venues.binance_usdm.book_sync import FUTURES_RULE, SPOT_RULE, BookSync, SyncRule, SyncVerdict
from rentrade.venues.binance_usdm.instruments import VENUE, instruments_from_exchange_info
from rentrade.venues.binance_usdm.messages import (
    BINANCE_VENUE_ID,
    DecodedMessage,
    MessageDecoder,
    MessageError,
)

__all__ = [
    "CHECKPOINT_DTYPE",
    "BboCheck",
    "BinanceReplay",
    "ExchangeInfoPolicy",
    "SymbolReplay",
    "cross_check_bbo",
    "replay_binance",
]

StrPath = str | os.PathLike[str]

CHECKPOINT_DTYPE: Final = np.dtype(
    [
        ("ts_local_ns", "<i8"),
        ("seq", "<u8"),
        ("bid_px_ticks", "<i8"),
        ("bid_qty_lots", "<i8"),
        ("ask_px_ticks", "<i8"),
        ("ask_qty_lots", "<i8"),
    ]
)
"""One ``bookTicker`` quote: its update id ``u`` (``seq``) and best bid/ask in ticks and lots."""


@dataclass(slots=True)
class SymbolReplay:
    """Everything replayed for one symbol.

    Attributes
    ----------
    symbol : str
        Upper-case symbol.
    instrument : Instrument
        Its instrument.
    instrument_id : int
        Its index in :attr:`BinanceReplay.instruments` (and in ``BookSet(replay.instruments)``).
    rule : SyncRule
        The sync rule applied to its diffs.
    events : numpy.ndarray
        Book records in apply order: each applied snapshot (``CLEAR`` + ``SNAPSHOT_LEVEL``) and every
        applied diff (``DELTA``). After a gap, one ``CLEAR`` with ``seq = 0`` empties the book so it
        cannot be used until the next snapshot.
    trades : numpy.ndarray
        ``TRADE`` records (trade and aggTrade streams), in arrival order.
    checkpoints : numpy.ndarray
        ``bookTicker`` quotes (:data:`CHECKPOINT_DTYPE`), in arrival order.
    applied : int
        Diffs applied.
    dropped_stale : int
        Diffs dropped because the book already contained them.
    gaps : int
        Continuity violations (the book was marked not synced), including snapshots that did not
        connect to the buffered diffs.
    snapshots : int
        Snapshots applied.
    unsynced_at_end : int
        Diffs still buffered, waiting for a snapshot, when the recording ended.
    empty_diffs : int
        Applied diffs that carried no level (they advance ``u`` but produce no record).
    instrument_note : str or None
        Why the instrument differs from the recorded ``exchangeInfo``, when it does.
    """

    symbol: str
    instrument: Instrument
    instrument_id: int
    rule: SyncRule
    events: npt.NDArray[np.void]
    trades: npt.NDArray[np.void]
    checkpoints: npt.NDArray[np.void]
    applied: int = 0
    dropped_stale: int = 0
    gaps: int = 0
    snapshots: int = 0
    unsynced_at_end: int = 0
    empty_diffs: int = 0
    instrument_note: str | None = None


@dataclass(slots=True)
class BinanceReplay:
    """The result of :func:`replay_binance`.

    Attributes
    ----------
    instruments : list of Instrument
        One per replayed symbol; ``instrument_id`` indexes this list.
    symbols : dict of str to SymbolReplay
        Per-symbol results, in ``instrument_id`` order.
    events : numpy.ndarray
        All symbols' book records in the order they were applied (for a ``BookSet``).
    """

    instruments: list[Instrument]
    symbols: dict[str, SymbolReplay]
    events: npt.NDArray[np.void]

    @property
    def applied(self) -> int:
        """Diffs applied, over all symbols."""
        return sum(s.applied for s in self.symbols.values())

    @property
    def dropped_stale(self) -> int:
        """Stale diffs dropped, over all symbols."""
        return sum(s.dropped_stale for s in self.symbols.values())

    @property
    def gaps(self) -> int:
        """Gaps, over all symbols."""
        return sum(s.gaps for s in self.symbols.values())


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


ExchangeInfoPolicy = Literal["prefer", "strict", "ignore"]


def replay_binance(
    paths: StrPath | Sequence[StrPath],
    *,
    instruments: Sequence[Instrument] | None = None,
    rule: SyncRule | None = None,
    snapshot_symbol: str | None = None,
    exchange_info: ExchangeInfoPolicy = "prefer",
    max_buffered: int = 100_000,
) -> BinanceReplay:
    """Replay Binance recordings into synced per-symbol event arrays.

    Parameters
    ----------
    paths : path or sequence of paths
        Recordings, merged by local receive time; e.g. the hftbacktest ``btcusdt_20240808.gz``, or
        the cryptofeed ``BINANCE_FUTURES.0``, ``.http.0.0`` and ``.ws.1.0`` together.
    instruments : sequence of Instrument, optional
        Instruments for the symbols, used as given (a price they cannot represent is an error).
        Without them, see ``exchange_info`` and the module docstring.
    rule : SyncRule, optional
        Force a sync rule; by default futures for symbols whose diffs carry ``pu``, spot otherwise.
    snapshot_symbol : str, optional
        Symbol of in-band REST snapshots, which do not name one (hftbacktest). By default the only
        symbol with depth diffs in the same file.
    exchange_info : {"prefer", "strict", "ignore"}, optional
        What to do with an ``exchangeInfo`` response found in the recordings. ``"prefer"``: use its
        tick and lot sizes, except for a symbol whose recorded prices or quantities they cannot
        represent (a recorded exchangeInfo can predate a tick change, and resting orders keep their
        old prices); that symbol falls back to sizes inferred from the recording, with a
        ``RuntimeWarning`` and :attr:`SymbolReplay.instrument_note` saying why. ``"strict"``: such a
        price is an error. ``"ignore"``: infer every instrument from the recording.
    max_buffered : int, optional
        Per-symbol limit on diffs held while waiting for a snapshot.

    Returns
    -------
    BinanceReplay

    Raises
    ------
    RecordingError
        On an unreadable frame, as ``bad line N in file F: ...``, or when the recordings hold no
        Binance market data at all.
    """
    if exchange_info not in ("prefer", "strict", "ignore"):
        raise ValueError(f"exchange_info must be 'prefer', 'strict' or 'ignore', got {exchange_info!r}")
    path_list = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if not path_list:
        raise ValueError("replay_binance needs at least one recording path")
    scan = _scan(path_list, need_decimals=instruments is None)
    if not scan.order and instruments is None:
        raise RecordingError(
            f"no Binance depthUpdate, bookTicker, trade or REST /depth frame in "
            f"{[str(p) for p in path_list]}: is this a Binance recording?"
        )
    if exchange_info == "ignore":
        scan.exchange_info = None
    chosen, from_exchange_info = _choose_instruments(scan, instruments)
    notes: dict[str, str] = {}
    while True:
        try:
            return _run(
                path_list,
                scan,
                chosen,
                notes,
                rule=rule,
                snapshot_symbol=snapshot_symbol,
                max_buffered=max_buffered,
            )
        except _InstrumentMismatchError as mismatch:
            symbol = mismatch.symbol
            if exchange_info != "prefer" or symbol not in from_exchange_info or symbol in notes:
                raise mismatch.error from mismatch.error.__cause__
            # Replay again from the start with this symbol's sizes taken from the recording: a second
            # pass is cheaper than validating every recorded price up front, and this is rare.
            index = next(i for i, inst in enumerate(chosen) if inst.symbol == symbol)
            old = chosen[index]
            chosen[index] = _inferred_instrument(scan, symbol, old)
            notes[symbol] = (
                f"exchangeInfo sizes (tick {old.tick_size}, lot {old.lot_size}) cannot represent "
                f"{mismatch.error.__cause__}; using sizes inferred from the recording (tick "
                f"{chosen[index].tick_size}, lot {chosen[index].lot_size})"
            )
            warnings.warn(f"{symbol}: {notes[symbol]}", RuntimeWarning, stacklevel=2)


class _InstrumentMismatchError(Exception):
    """A recorded price or quantity the symbol's instrument cannot represent (internal)."""

    def __init__(self, symbol: str | None, error: RecordingError) -> None:
        super().__init__(str(error))
        self.symbol = symbol
        self.error = error


def _run(
    path_list: Sequence[Path],
    scan: _Scan,
    instruments: Sequence[Instrument],
    notes: Mapping[str, str],
    *,
    rule: SyncRule | None,
    snapshot_symbol: str | None,
    max_buffered: int,
) -> BinanceReplay:
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
        except DecimalError as exc:
            error = RecordingError(
                f"bad line {frame.line} in file {path}: {exc}; if the instrument's tick or lot size is "
                "out of date (a recorded exchangeInfo can predate a tick change, and resting orders "
                "placed before it keep their old prices), pass instruments= with finer sizes or "
                "exchange_info='prefer'"
            )
            error.__cause__ = exc
            raise _InstrumentMismatchError(
                _frame_symbol(frame, path_index, scan, snapshot_symbol), error
            ) from exc
        except (MessageError, RecordingError) as exc:
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
            instrument_note=notes.get(inst.symbol),
        )
    return BinanceReplay(decoder.instruments, symbols, _concat(all_chunks))


def _frame_symbol(
    frame: RecordedFrame, path_index: int, scan: _Scan, snapshot_symbol: str | None
) -> str | None:
    """The symbol a frame is about, for the error path only (it parses the frame again)."""
    if frame.direction is Direction.HTTP:
        return _depth_url_symbol(frame.url)
    if _is_inband_snapshot(frame.payload):
        try:
            return snapshot_symbol or scan.snapshot_symbol(path_index)
        except RecordingError:
            return None
    try:
        parsed = MessageDecoder.parse_frame(frame.payload)
    except MessageError:
        return None
    symbol = parsed[1].get("s") if parsed is not None else None
    return symbol.upper() if isinstance(symbol, str) else None


# --------------------------------------------------------------------------------------------------
# the main pass


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


def _concat(chunks: list[npt.NDArray[np.void]]) -> npt.NDArray[np.void]:
    # Into an aligned buffer: np.concatenate's own allocation is not 64-byte aligned.
    out = empty_events(sum(c.size for c in chunks))
    if chunks:
        np.concatenate(chunks, out=out)
    return out


def _merged(paths: Sequence[Path]) -> Iterator[tuple[int, RecordedFrame]]:
    def tagged(index: int, path: Path) -> Iterator[tuple[int, RecordedFrame]]:
        for frame in open_recording(path):
            yield index, frame

    # heapq.merge is lazy and stable: frames with equal times keep file order, files stay streamed.
    return heapq.merge(*(tagged(i, p) for i, p in enumerate(paths)), key=lambda item: item[1].ts_local_ns)


def _depth_url_symbol(url: str | None) -> str | None:
    """Symbol of a REST ``/depth`` request URL (``.../fapi/v1/depth?symbol=X``), else None."""
    if url is None:
        return None
    parts = urlsplit(url)
    if not parts.path.endswith("/depth"):
        return None
    symbols = parse_qs(parts.query).get("symbol")
    return symbols[0].upper() if symbols else None


def _is_inband_snapshot(payload: bytes) -> bool:
    # Cheap byte test before any JSON parse: stream frames never contain "lastUpdateId".
    return b'"lastUpdateId"' in payload and b'"stream"' not in payload


# --------------------------------------------------------------------------------------------------
# the pre-scan: which symbols, which rule, which instruments


@dataclass(slots=True)
class _Scan:
    paths: Sequence[Path]
    order: list[str] = field(default_factory=list)  # symbols in order of first appearance
    depth_symbols_by_path: dict[int, set[str]] = field(default_factory=dict)
    has_prev_id: dict[str, bool] = field(default_factory=dict)
    price_decimals: dict[str, int] = field(default_factory=dict)
    qty_decimals: dict[str, int] = field(default_factory=dict)
    other_price_decimals: dict[str, int] = field(default_factory=dict)
    other_qty_decimals: dict[str, int] = field(default_factory=dict)
    exchange_info: bytes | None = None
    inband_snapshots: dict[int, list[bytes]] = field(default_factory=dict)

    def snapshot_symbol(self, path_index: int) -> str:
        symbols = self.depth_symbols_by_path.get(path_index, set())
        if len(symbols) != 1:
            raise RecordingError(
                f"an in-band depth snapshot names no symbol and the file has depth diffs for "
                f"{sorted(symbols) or 'no symbol'}; pass snapshot_symbol="
            )
        return next(iter(symbols))

    def see(self, symbol: str) -> None:
        if symbol not in self.has_prev_id:
            self.order.append(symbol)
            self.has_prev_id[symbol] = False

    def levels(self, symbol: str, levels: Any) -> None:
        if not isinstance(levels, list) or not levels:
            return
        try:
            px = max(_decimals(level[0]) for level in levels)
            qty = max(_decimals(level[1]) for level in levels)
        except (TypeError, IndexError, KeyError):
            return  # malformed: the main pass reports it with its line
        self.price_decimals[symbol] = max(self.price_decimals.get(symbol, 0), px)
        self.qty_decimals[symbol] = max(self.qty_decimals.get(symbol, 0), qty)

    def fallback(self, symbol: str, price: Any, qty: Any) -> None:
        # Quote and trade decimals, kept apart so they never override what book levels say.
        if isinstance(price, str) and isinstance(qty, str):
            others = (self.other_price_decimals, self.other_qty_decimals)
            for decimals, text in zip(others, (price, qty), strict=True):
                decimals[symbol] = max(decimals.get(symbol, 0), _decimals(text))


def _decimals(text: str) -> int:
    dot = text.find(".")
    return 0 if dot < 0 else len(text) - dot - 1


def _scan(paths: Sequence[Path], need_decimals: bool) -> _Scan:
    """One streaming pass over every file for symbols, ``pu`` presence, decimals and exchangeInfo.

    Decimals come from book levels (diffs and snapshots), which cover every price a book holds; a
    quote or trade only contributes for a symbol that has no book levels in the recording.
    """
    scan = _Scan(paths)
    pending_snapshots: list[tuple[int, Any]] = []
    for index, path in enumerate(paths):
        for frame in open_recording(path):
            if frame.direction is Direction.HTTP:
                if frame.url and urlsplit(frame.url).path.endswith("/exchangeInfo"):
                    scan.exchange_info = frame.payload
                elif (symbol := _depth_url_symbol(frame.url)) is not None:
                    scan.see(symbol)
                    pending_snapshots.append((-1, (symbol, frame.payload)))
                continue
            if frame.direction is not Direction.RECEIVED:
                continue
            try:
                obj = orjson.loads(frame.payload)
            except orjson.JSONDecodeError:
                raise RecordingError(f"bad line {frame.line} in file {path}: frame is not JSON") from None
            if not isinstance(obj, dict):
                continue
            if "stream" not in obj and "lastUpdateId" in obj:
                pending_snapshots.append((index, obj))
                continue
            data = obj.get("data", obj)
            if not isinstance(data, dict) or not isinstance(data.get("s"), str):
                continue
            symbol = data["s"].upper()
            kind = data.get("e")
            if kind == "depthUpdate":
                scan.see(symbol)
                scan.depth_symbols_by_path.setdefault(index, set()).add(symbol)
                if "pu" in data:
                    scan.has_prev_id[symbol] = True
                if need_decimals:
                    scan.levels(symbol, data.get("b", ()))
                    scan.levels(symbol, data.get("a", ()))
            elif kind in ("trade", "aggTrade"):
                scan.see(symbol)
                if need_decimals and symbol not in scan.price_decimals:
                    scan.fallback(symbol, data.get("p"), data.get("q"))
            elif "u" in data and "b" in data and "B" in data:  # bookTicker, with or without "e"
                scan.see(symbol)
                if need_decimals and symbol not in scan.price_decimals:
                    scan.fallback(symbol, data.get("b"), data.get("B"))
                    scan.fallback(symbol, data.get("a"), data.get("A"))
    for index, pending in pending_snapshots if need_decimals else ():
        if index < 0:
            symbol, payload = pending
            try:
                snapshot = orjson.loads(payload)
            except orjson.JSONDecodeError:
                continue  # reported with its line by the main pass
        else:
            symbols = scan.depth_symbols_by_path.get(index, set())
            if len(symbols) != 1:
                continue  # the main pass needs snapshot_symbol= and says so
            symbol, snapshot = next(iter(symbols)), pending
        if isinstance(snapshot, dict):
            scan.levels(symbol, snapshot.get("bids", ()))
            scan.levels(symbol, snapshot.get("asks", ()))
    return scan


def _choose_instruments(scan: _Scan, given: Sequence[Instrument] | None) -> tuple[list[Instrument], set[str]]:
    """The instruments to replay with, and the symbols whose instrument came from exchangeInfo."""
    if given is not None:
        return list(given), set()
    known: Mapping[str, Instrument] = {}
    if scan.exchange_info is not None:
        known = {i.symbol: i for i in instruments_from_exchange_info(scan.exchange_info)}
    chosen = [known[s] if s in known else _inferred_instrument(scan, s) for s in scan.order]
    return chosen, {s for s in scan.order if s in known}


def _inferred_instrument(scan: _Scan, symbol: str, like: Instrument | None = None) -> Instrument:
    tick = _unit(scan.price_decimals.get(symbol, scan.other_price_decimals.get(symbol, 0)))
    lot = _unit(scan.qty_decimals.get(symbol, scan.other_qty_decimals.get(symbol, 0)))
    if like is not None:
        return Instrument(symbol, like.venue, tick, lot, min_notional=like.min_notional)
    return Instrument(symbol, VENUE if scan.has_prev_id.get(symbol) else "binance_spot", tick, lot)


def _unit(decimals: int) -> str:
    return "1" if decimals == 0 else "0." + "0" * (decimals - 1) + "1"


# --------------------------------------------------------------------------------------------------
# checking a rebuilt book against bookTicker


@dataclass(slots=True)
class BboCheck:
    """Result of :func:`cross_check_bbo`.

    Attributes
    ----------
    compared : int
        ``bookTicker`` quotes whose ``u`` equalled the ``u`` of an applied diff (so the book state at
        that moment is known exactly).
    matched : int
        Of those, quotes whose best bid and ask (price and quantity) equalled the rebuilt book's.
    crossed : int
        Complete messages after which the rebuilt book was crossed (bid >= ask).
    mismatches : list
        ``(u, book (bid, ask), quote (bid, ask))`` for the first few mismatches.
    """

    compared: int = 0
    matched: int = 0
    crossed: int = 0
    mismatches: list[tuple[int, Any, Any]] = field(default_factory=list)


def cross_check_bbo(replay: SymbolReplay, max_levels: int = 100_000) -> BboCheck:
    """Rebuild the symbol's book with ``rentrade.OrderBook`` and compare it with every ``bookTicker``.

    The book is applied one message at a time (records up to each ``FLAG_LAST_IN_MESSAGE``); after
    each diff, every quote whose ``u`` equals the diff's ``u`` must show the book's best bid and ask.

    Parameters
    ----------
    replay : SymbolReplay
        One symbol from :func:`replay_binance`.
    max_levels : int, optional
        Book capacity per side; generous so that no level is dropped.

    Returns
    -------
    BboCheck
    """
    book = OrderBook(replay.instrument, max_levels)
    # A lone OrderBook has instrument_id 0 and refuses records for any other id.
    events = empty_events(replay.events.size)
    events[...] = replay.events
    events["instrument_id"] = book.instrument_id
    quotes: dict[int, list[tuple[int, int, int, int]]] = {}
    for q in replay.checkpoints:
        quotes.setdefault(int(q["seq"]), []).append(
            (int(q["bid_px_ticks"]), int(q["bid_qty_lots"]), int(q["ask_px_ticks"]), int(q["ask_qty_lots"]))
        )
    result = BboCheck()
    ends = np.flatnonzero(events["flags"] & FLAG_LAST_IN_MESSAGE)
    start = 0
    for end in ends:
        message = events[start : end + 1]
        start = int(end) + 1
        book.apply_events(message)
        if book.is_crossed():
            result.crossed += 1
        if message["kind"][-1] != KIND_DELTA:
            continue
        for quote in quotes.get(book.seq, ()):
            result.compared += 1
            bid, ask = book.best_bid(), book.best_ask()
            if bid == (quote[0], quote[1]) and ask == (quote[2], quote[3]):
                result.matched += 1
            elif len(result.mismatches) < 10:
                result.mismatches.append((book.seq, (bid, ask), quote))
    return result
