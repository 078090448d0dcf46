"""Replay a Binance recording into synced per-symbol event arrays.

:func:`replay_binance` reads one or more recordings (any format :mod:`rentrade.recordings` knows),
merges them by local receive time and hands every frame to the C++ feed the live path uses
(:class:`rentrade.BinanceFeed`: exact decimals, Binance's sync rules per symbol), and returns what a
book needs to rebuild itself (REST snapshot, then the applied diffs), the ``bookTicker`` quotes to
check the rebuilt book against, the trades, and the sync counts. So a replayed recording goes through
exactly the code a live session runs.

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
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit

import numpy as np
import numpy.typing as npt
import orjson

from rentrade._fastcore import BinanceFeed, FrameStatus, Instrument, OrderBook
from rentrade.events import (
    FLAG_LAST_IN_MESSAGE,
    KIND_BBO,
    KIND_CLEAR,
    KIND_DELTA,
    KIND_SNAPSHOT_LEVEL,
    KIND_TRADE,
    empty_events,
)
from rentrade.recordings import Direction, RecordedFrame, RecordingError, open_recording
from rentrade.venues.binance_usdm.book_sync import FUTURES_RULE, SPOT_RULE, SyncRule
from rentrade.venues.binance_usdm.instruments import VENUE, instruments_from_exchange_info

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
                raise mismatch.error from None
            # Replay again from the start with this symbol's sizes taken from the recording: a second
            # pass is cheaper than validating every recorded price up front, and this is rare.
            index = next(i for i, inst in enumerate(chosen) if inst.symbol == symbol)
            old = chosen[index]
            chosen[index] = _inferred_instrument(scan, symbol, old)
            notes[symbol] = (
                f"exchangeInfo sizes (tick {old.tick_size}, lot {old.lot_size}) cannot represent "
                f"{mismatch.detail}; using sizes inferred from the recording (tick "
                f"{chosen[index].tick_size}, lot {chosen[index].lot_size})"
            )
            warnings.warn(f"{symbol}: {notes[symbol]}", RuntimeWarning, stacklevel=2)


def recorded_instruments(paths: StrPath | Sequence[StrPath]) -> list[Instrument]:
    """The instruments :func:`replay_binance` would start from, read by its pre-scan alone (no replay).

    For callers that replace the sizes anyway (``load_market(tick_size=..., lot_size=...)``) and need
    only the symbols, venue and minimum notional: one pass over the file instead of a whole replay.

    Raises
    ------
    RecordingError
        When the recordings hold no Binance market data.
    """
    path_list = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    scan = _scan(path_list, need_decimals=True)
    if not scan.order:
        raise RecordingError(
            f"no Binance depthUpdate, bookTicker, trade or REST /depth frame in "
            f"{[str(p) for p in path_list]}: is this a Binance recording?"
        )
    return _choose_instruments(scan, None)[0]


class _InstrumentMismatchError(Exception):
    """A recorded price or quantity the symbol's instrument cannot represent (internal)."""

    def __init__(self, symbol: str | None, error: RecordingError, detail: str) -> None:
        super().__init__(str(error))
        self.symbol = symbol
        self.error = error
        self.detail = detail


_MARKETS: Final[dict[SyncRule, Literal["usdm", "spot"]]] = {FUTURES_RULE: "usdm", SPOT_RULE: "spot"}
_BOOK_KINDS: Final = (KIND_CLEAR, KIND_SNAPSHOT_LEVEL, KIND_DELTA)
_MAX_REPLAY_FRAME_BYTES: Final = 1 << 28
"""Recorded REST snapshots can be far larger than any live frame; the live limit guards sockets."""


@dataclass(slots=True)
class _Feed:
    """One C++ feed for the symbols that share a sync rule, and their ids in the replay's list."""

    feed: BinanceFeed
    global_ids: npt.NDArray[np.uint32]
    decimal_errors: int = 0


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
    if rule is not None and rule not in _MARKETS:
        raise ValueError(f"rule must be FUTURES_RULE or SPOT_RULE, got {rule!r}")
    rules: dict[str, SyncRule] = {}
    groups: dict[SyncRule, list[int]] = {}
    for index, inst in enumerate(instruments):
        symbol_rule = rule or (FUTURES_RULE if scan.has_prev_id.get(inst.symbol, True) else SPOT_RULE)
        rules[inst.symbol] = symbol_rule
        groups.setdefault(symbol_rule, []).append(index)
    feeds: list[_Feed] = []
    feed_of: dict[str, _Feed] = {}
    for group_rule, ids in groups.items():
        feed = BinanceFeed(
            [instruments[i] for i in ids],
            market=_MARKETS[group_rule],
            max_frame_bytes=_MAX_REPLAY_FRAME_BYTES,
            max_buffered_diffs=max_buffered,
        )
        feed.capture_events(True)
        entry = _Feed(feed, np.asarray(ids, dtype=np.uint32))
        feeds.append(entry)
        for i in ids:
            feed_of[instruments[i].symbol] = entry
    # One feed (the usual case: one market) keeps its events until the end; with two, each frame's
    # events are taken at once so that the merged order is the order of application.
    chunks: list[npt.NDArray[np.void]] = []
    several = len(feeds) > 1
    for path_index, frame in _merged(path_list):
        read_by = _replay_frame(
            frame,
            path_list[path_index],
            scan=scan,
            path_index=path_index,
            snapshot_symbol=snapshot_symbol,
            feeds=feeds,
            feed_of=feed_of,
        )
        if several and read_by is not None:
            chunks.append(_taken(read_by))
    if not several:
        chunks.extend(_taken(each) for each in feeds)
    captured = _concat(chunks)

    kinds = captured["kind"]
    is_book = np.isin(kinds, _BOOK_KINDS)
    book_events = _aligned(captured[is_book])
    symbols: dict[str, SymbolReplay] = {}
    for index, inst in enumerate(instruments):
        stats = feed_of[inst.symbol].feed.stats()["symbols"][inst.symbol]
        mine = captured["instrument_id"] == index
        events = _aligned(captured[is_book & mine])
        delta_messages = int(
            np.count_nonzero((events["kind"] == KIND_DELTA) & ((events["flags"] & FLAG_LAST_IN_MESSAGE) != 0))
        )
        symbols[inst.symbol] = SymbolReplay(
            symbol=inst.symbol,
            instrument=inst,
            instrument_id=index,
            rule=rules[inst.symbol],
            events=events,
            trades=_aligned(captured[(kinds == KIND_TRADE) & mine]),
            checkpoints=_checkpoints(captured[(kinds == KIND_BBO) & mine]),
            applied=int(stats["applied_diffs"]),
            dropped_stale=int(stats["stale_drops"]),
            gaps=int(stats["gaps"]),
            snapshots=int(stats["snapshots"]),
            unsynced_at_end=int(stats["buffered"]),
            # Each applied diff with levels ends in one flagged DELTA; the others carried none.
            empty_diffs=int(stats["applied_diffs"]) - delta_messages,
            instrument_note=notes.get(inst.symbol),
        )
    return BinanceReplay(list(instruments), symbols, book_events)


def _taken(entry: _Feed) -> npt.NDArray[np.void]:
    """The feed's captured events with instrument ids of the replay's list (feeds number their own)."""
    events = entry.feed.take_events()
    if events.size:
        events["instrument_id"] = entry.global_ids[events["instrument_id"]]
    return events


def _replay_frame(
    frame: RecordedFrame,
    path: Path,
    *,
    scan: _Scan,
    path_index: int,
    snapshot_symbol: str | None,
    feeds: Sequence[_Feed],
    feed_of: Mapping[str, _Feed],
) -> _Feed | None:
    """Hands one recorded frame to the feed of its symbol; returns that feed (None: nothing to read)."""
    if frame.direction is Direction.HTTP:
        symbol = _depth_url_symbol(frame.url)
        if symbol is None:
            return None
        return _snapshot(frame, path, symbol, feed_of)
    if frame.direction is not Direction.RECEIVED:
        return None
    if _is_inband_snapshot(frame.payload):
        try:
            symbol = snapshot_symbol or scan.snapshot_symbol(path_index)
        except RecordingError as exc:
            raise RecordingError(f"bad line {frame.line} in file {path}: {exc}") from exc
        return _snapshot(frame, path, symbol.upper(), feed_of)
    for entry in feeds:
        status = entry.feed.on_frame(frame.payload, frame.ts_local_ns)
        if status is FrameStatus.UNKNOWN_SYMBOL:
            continue  # another market's feed may have it
        if status is FrameStatus.BAD_FRAME:
            _refuse(entry, frame, path)
        return entry
    known = sorted(feed_of)[:20]
    raise RecordingError(
        f"bad line {frame.line} in file {path}: no instrument for its symbol; known: {known}"
    )


def _snapshot(frame: RecordedFrame, path: Path, symbol: str, feed_of: Mapping[str, _Feed]) -> _Feed:
    entry = feed_of.get(symbol)
    if entry is None:
        raise RecordingError(
            f"bad line {frame.line} in file {path}: depth snapshot for {symbol!r}, which has no instrument; "
            f"known: {sorted(feed_of)[:20]}"
        )
    if entry.feed.apply_snapshot(symbol, frame.payload, frame.ts_local_ns) is FrameStatus.BAD_FRAME:
        _refuse(entry, frame, path)
    return entry


def _refuse(entry: _Feed, frame: RecordedFrame, path: Path) -> None:
    """Raises for a frame the feed refused; a price the instrument cannot represent is told apart."""
    detail = entry.feed.last_error()
    decimal_errors = int(entry.feed.stats()["bad_by_reason"]["bad_decimal"])
    if decimal_errors > entry.decimal_errors:
        entry.decimal_errors = decimal_errors
        error = RecordingError(
            f"bad line {frame.line} in file {path}: {detail}; if the instrument's tick or lot size is "
            "out of date (a recorded exchangeInfo can predate a tick change, and resting orders "
            "placed before it keep their old prices), pass instruments= with finer sizes or "
            "exchange_info='prefer'"
        )
        raise _InstrumentMismatchError(entry.feed.last_symbol(), error, detail)
    raise RecordingError(f"bad line {frame.line} in file {path}: {detail}")


def _checkpoints(quotes: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
    """bookTicker records (two per quote, bid then ask) as :data:`CHECKPOINT_DTYPE` rows."""
    bids, asks = quotes[0::2], quotes[1::2]
    out = np.empty(bids.size, dtype=CHECKPOINT_DTYPE)
    out["ts_local_ns"] = bids["ts_local_ns"]
    out["seq"] = bids["seq"]
    out["bid_px_ticks"] = bids["px_ticks"]
    out["bid_qty_lots"] = bids["qty_lots"]
    out["ask_px_ticks"] = asks["px_ticks"]
    out["ask_qty_lots"] = asks["qty_lots"]
    return out


def _aligned(events: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
    """A copy in a 64-byte aligned buffer (boolean indexing allocates without that alignment)."""
    out = empty_events(events.size)
    out[...] = events
    return out


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


_PRICE_FRACTION: Final = re.compile(rb'\["-?\d*\.(\d*)"')
_QTY_FRACTION: Final = re.compile(rb'","-?\d*\.(\d*)"\]')


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

    def diff_decimals(self, symbol: str, payload: bytes) -> None:
        # levels() for a diff with levels, on its bytes: regex and max() run in C, where a Python
        # loop over every level was most of a replay's time. A level without a point counts 0.
        px = max(map(len, _PRICE_FRACTION.findall(payload)), default=0)
        qty = max(map(len, _QTY_FRACTION.findall(payload)), default=0)
        self.price_decimals[symbol] = max(self.price_decimals.get(symbol, 0), px)
        self.qty_decimals[symbol] = max(self.qty_decimals.get(symbol, 0), qty)

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
            if _nothing_new(scan, frame.payload, need_decimals):
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
                if need_decimals and (data.get("b") or data.get("a")):
                    scan.diff_decimals(symbol, frame.payload)
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


_SYMBOL_FIELD: Final = re.compile(rb'"s":"([^"\\]*)"')


def _nothing_new(scan: _Scan, payload: bytes, need_decimals: bool) -> bool:
    """True for a quote or trade of a symbol the scan already knows, with its decimals when needed.

    Most frames are such quotes; a byte search for the symbol saves parsing them (the main pass reads
    every frame anyway, and refuses malformed ones with their line).
    """
    if b"depthUpdate" in payload or b"lastUpdateId" in payload:
        return False
    match = _SYMBOL_FIELD.search(payload)
    if match is None:
        return False
    symbol = match.group(1).decode("ascii", "replace").upper()
    return symbol in scan.has_prev_id and (not need_decimals or symbol in scan.price_decimals)


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
