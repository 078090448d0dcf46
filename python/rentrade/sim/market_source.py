"""Where the simulated venue's market comes from: the core's synthetic order flow, or a recording.

A source is an ordered list of :class:`SourceMessage` (one per exchange frame, already encoded as the
raw Binance payload with exact decimal strings) plus what the venue needs to hold its own books:
the instruments, the opening book per symbol and, for depth messages, the core event records that
change it.

Update ids. Binance futures' sync rule applies the first diff with ``U <= lastUpdateId <= u``. A
snapshot the venue serves therefore reports, as ``lastUpdateId``, the ``U`` of the symbol's *next*
diff (the book already holds everything before it; the next diff repeats nothing and sets absolute
quantities, so applying it on top is exact). The synthetic source makes each diff span ten ids
(``U = pu + 1``, ``u = U + 9``) so ``U <= L <= u`` is exercised with ``U < u``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import orjson

from rentrade._fastcore import BookSet, Instrument, OrderBook, synthetic_events
from rentrade.events import (
    FLAG_LAST_IN_MESSAGE,
    KIND_CLEAR,
    KIND_DELTA,
    KIND_TRADE,
    SIDE_BID,
)
from rentrade.recordings import Direction, RecordingError
from rentrade.venues.binance_usdm.messages import MessageDecoder

__all__ = [
    "CHANNEL_AGG_TRADE",
    "CHANNEL_BOOK_TICKER",
    "CHANNEL_DEPTH",
    "CHANNEL_TRADE",
    "DecimalFormatter",
    "MarketSource",
    "OpeningBook",
    "SourceMessage",
    "recording_source",
    "synthetic_source",
]

StrPath = str | os.PathLike[str]

CHANNEL_DEPTH: Final = "depth"
CHANNEL_BOOK_TICKER: Final = "bookTicker"
CHANNEL_TRADE: Final = "trade"
CHANNEL_AGG_TRADE: Final = "aggTrade"

_IDS_PER_DIFF: Final = 10


@dataclass(slots=True)
class SourceMessage:
    """One exchange frame of the source.

    Attributes
    ----------
    ts_ns : int
        Pacing clock (local receive time of a recording, exchange time of synthetic flow).
    symbol : str
        Upper-case symbol.
    channel : str
        Stream suffix without the symbol: ``depth``, ``bookTicker``, ``trade``, ``aggTrade`` or, from
        recordings, anything else recorded (``kline_1m``).
    data : bytes
        The raw stream payload (what a ``/ws`` connection receives).
    first_id, last_id, prev_id : int
        ``U``, ``u``, ``pu`` of a depth diff (0 otherwise).
    next_first_id : int
        ``U`` of the symbol's next diff (depth only; 0 when it is the last one).
    """

    ts_ns: int
    symbol: str
    channel: str
    data: bytes
    first_id: int = 0
    last_id: int = 0
    prev_id: int = 0
    next_first_id: int = 0


@dataclass(slots=True)
class OpeningBook:
    """A symbol's book before the first message: core ``CLEAR`` + ``SNAPSHOT_LEVEL`` records.

    ``last_update_id`` is the snapshot's ``lastUpdateId``; ``known_from_start`` is False for a recorded
    snapshot taken part-way through the recording (the venue's book exists only from the diff that
    straddles it; before that the venue serves the recorded snapshot itself, ``payload``).
    """

    events: npt.NDArray[np.void]
    last_update_id: int
    known_from_start: bool
    payload: bytes | None = None


@dataclass(slots=True)
class MarketSource:
    """Everything the simulated venue serves.

    Attributes
    ----------
    name : str
        For logs and stats.
    instruments : list of Instrument
        ``instrument_id`` of every event record indexes this list.
    messages : list of SourceMessage
        In send order.
    openings : dict of str to OpeningBook
        Per symbol; for a symbol without one the venue has no book and REST /depth answers 503.
    """

    name: str
    instruments: list[Instrument]
    messages: list[SourceMessage]
    openings: dict[str, OpeningBook]


# --------------------------------------------------------------------------------------------------
# synthetic


def _decimals(unit: str) -> int:
    dot = unit.find(".")
    return 0 if dot < 0 else len(unit) - dot - 1


class DecimalFormatter:
    """Integer ticks/lots to Binance's fixed-decimal text (every price of a symbol padded alike)."""

    __slots__ = ("_lot_digits", "_lot_scale", "_px_digits", "_px_scale")

    def __init__(self, instrument: Instrument) -> None:
        self._px_digits = _decimals(instrument.tick_size)
        self._lot_digits = _decimals(instrument.lot_size)
        # tick = m * 10^-d exactly, with m an integer: price text = ticks * m at d decimals.
        self._px_scale = int(instrument.tick_size.replace(".", ""))
        self._lot_scale = int(instrument.lot_size.replace(".", ""))

    @staticmethod
    def _text(units: int, digits: int) -> bytes:
        if digits == 0:
            return str(units).encode()
        whole, frac = divmod(units, 10**digits)
        return f"{whole}.{frac:0{digits}d}".encode()

    @staticmethod
    def digits(unit: str) -> int:
        """Decimal places of a tick or lot size text (``"0.10"`` -> 2)."""
        return _decimals(unit)

    def px(self, ticks: int) -> bytes:
        """Price text of ``ticks``."""
        return self._text(ticks * self._px_scale, self._px_digits)

    def qty(self, lots: int) -> bytes:
        """Quantity text of ``lots``."""
        return self._text(lots * self._lot_scale, self._lot_digits)


def synthetic_symbols(count: int) -> list[str]:
    """Default symbol names: ``BTCUSDT`` first, then ``SYN0001USDT``, ``SYN0002USDT``, ..."""
    return ["BTCUSDT", *[f"SYN{i:04d}USDT" for i in range(1, count)]]


def synthetic_source(
    symbols: int | Sequence[str] = 1,
    *,
    events: int = 100_000,
    seed: int = 1,
    snapshot_levels: int = 500,
    trade_one_in: int = 10,
    tick_size: str = "0.10",
    lot_size: str = "0.001",
    book_ticker: bool = True,
    agg_trade: bool = True,
) -> MarketSource:
    """Build a source from the core's synthetic order-flow generator (deterministic for a seed).

    Parameters
    ----------
    symbols : int or sequence of str
        How many symbols (named by :func:`synthetic_symbols`), or their names.
    events : int
        Core events to generate over all symbols (opening snapshots included); about one depth
        message per event after the openings.
    seed, snapshot_levels, trade_one_in :
        Passed to ``rentrade._fastcore.synthetic_events``.
    tick_size, lot_size : str
        Every synthetic instrument's sizes (prices are padded to the tick's decimals).
    book_ticker : bool
        Emit a ``bookTicker`` after each diff that changes the best bid or ask (with the diff's ``u``).
    agg_trade : bool
        Emit an ``aggTrade`` next to each ``trade``.

    Returns
    -------
    MarketSource
    """
    names = synthetic_symbols(symbols) if isinstance(symbols, int) else [s.upper() for s in symbols]
    if not names:
        raise ValueError("synthetic_source needs at least one symbol")
    instruments = [Instrument(name, "binance_usdm", tick_size, lot_size) for name in names]
    fmt = [DecimalFormatter(inst) for inst in instruments]
    [name.lower().encode() for name in names]
    raw = synthetic_events(len(names), events, seed, snapshot_levels, trade_one_in)
    cols = {
        name: raw[name].tolist()
        for name in ("ts_exchange_ns", "px_ticks", "qty_lots", "seq", "aux", "instrument_id", "kind", "side")
    }
    flags = raw["flags"].tolist()
    kinds = cols["kind"]
    n = len(kinds)
    openings: dict[str, OpeningBook] = {}
    messages: list[SourceMessage] = []
    last_u = [0] * len(names)
    # The generated books, to emit bookTicker only when the touch changes (as Binance does).
    book_set = BookSet(instruments, max_levels=1_000_000)
    books = [book_set[i] for i in range(len(instruments))]
    best: list[tuple[int, int, int, int]] = [(0, 0, 0, 0)] * len(names)
    trade_id = 0
    start = 0
    while start < n:
        end = start
        while end < n and not flags[end] & FLAG_LAST_IN_MESSAGE:
            end += 1
        if end == n:
            break  # the generator stopped mid-message: leave the tail out
        end += 1
        iid = cols["instrument_id"][start]
        kind = kinds[start]
        if kind == KIND_CLEAR:
            seq = cols["seq"][start]
            last_u[iid] = seq * _IDS_PER_DIFF
            opening = raw[start:end].copy()
            opening["seq"] = last_u[iid]
            book_set.apply_events(opening)
            openings[names[iid]] = OpeningBook(opening, last_u[iid], known_from_start=True)
            best[iid] = _bbo(books[iid])
            start = end
            continue
        ms = cols["ts_exchange_ns"][start] // 1_000_000
        for i in range(start, end):
            if kinds[i] == KIND_TRADE:
                trade_id += 1
                px = fmt[iid].px(cols["px_ticks"][i])
                qty = fmt[iid].qty(cols["qty_lots"][i])
                maker = b"false" if cols["side"][i] == SIDE_BID else b"true"
                sym = names[iid].encode()
                messages.append(
                    SourceMessage(
                        cols["ts_exchange_ns"][i],
                        names[iid],
                        CHANNEL_TRADE,
                        b'{"e":"trade","E":%d,"T":%d,"s":"%s","t":%d,"p":"%s","q":"%s","X":"MARKET","m":%s}'
                        % (ms, ms, sym, cols["aux"][i], px, qty, maker),
                    )
                )
                if agg_trade:
                    messages.append(
                        SourceMessage(
                            cols["ts_exchange_ns"][i],
                            names[iid],
                            CHANNEL_AGG_TRADE,
                            b'{"e":"aggTrade","E":%d,"a":%d,"s":"%s","p":"%s","q":"%s","f":%d,"l":%d,'
                            b'"T":%d,"m":%s}'
                            % (ms, trade_id, sym, px, qty, cols["aux"][i], cols["aux"][i], ms, maker),
                        )
                    )
            elif kinds[i] == KIND_DELTA:
                side = cols["side"][i]
                px_t, qty_l = cols["px_ticks"][i], cols["qty_lots"][i]
                books[iid].update_ticks(side, px_t, qty_l)
                level = b'[["%s","%s"]]' % (fmt[iid].px(px_t), fmt[iid].qty(qty_l))
                first = last_u[iid] + 1
                last = last_u[iid] + _IDS_PER_DIFF
                messages.append(
                    SourceMessage(
                        cols["ts_exchange_ns"][i],
                        names[iid],
                        CHANNEL_DEPTH,
                        b'{"e":"depthUpdate","E":%d,"T":%d,"s":"%s","U":%d,"u":%d,"pu":%d,"b":%s,"a":%s}'
                        % (
                            ms,
                            ms,
                            names[iid].encode(),
                            first,
                            last,
                            last_u[iid],
                            level if side == SIDE_BID else b"[]",
                            b"[]" if side == SIDE_BID else level,
                        ),
                        first,
                        last,
                        last_u[iid],
                        last + 1,
                    )
                )
                last_u[iid] = last
                if book_ticker:
                    top = _bbo(books[iid]) if _touches(best[iid], side, px_t) else best[iid]
                    if top != best[iid]:
                        best[iid] = top
                        f = fmt[iid]
                        messages.append(
                            SourceMessage(
                                cols["ts_exchange_ns"][i],
                                names[iid],
                                CHANNEL_BOOK_TICKER,
                                b'{"e":"bookTicker","u":%d,"s":"%s","b":"%s","B":"%s","a":"%s","A":"%s",'
                                b'"T":%d,"E":%d}'
                                % (
                                    last,
                                    names[iid].encode(),
                                    f.px(top[0]),
                                    f.qty(top[1]),
                                    f.px(top[2]),
                                    f.qty(top[3]),
                                    ms,
                                    ms,
                                ),
                                last_id=last,
                            )
                        )
        start = end
    return MarketSource(f"synthetic(seed={seed})", instruments, messages, openings)


def _bbo(book: OrderBook) -> tuple[int, int, int, int]:
    bid = book.best_bid() or (0, 0)
    ask = book.best_ask() or (0, 0)
    return bid[0], bid[1], ask[0], ask[1]


def _touches(best: tuple[int, int, int, int], side: int, px_ticks: int) -> bool:
    """Whether a change at this price can move the touch (so the BBO must be recomputed)."""
    if side == SIDE_BID:
        return best[1] == 0 or px_ticks >= best[0]
    return best[3] == 0 or px_ticks <= best[2]


# --------------------------------------------------------------------------------------------------
# recordings


def recording_source(
    paths: StrPath | Sequence[StrPath],
    *,
    instruments: Sequence[Instrument] | None = None,
    snapshot_symbol: str | None = None,
    limit: int | None = None,
) -> MarketSource:
    """Build a source from Binance USD-M recordings (any format :mod:`rentrade.recordings` reads).

    Received stream frames become messages in local-receive-time order (pacing follows the recorded
    receive times). Recorded REST ``/depth`` responses (HTTP records, or hftbacktest's in-band line)
    become the symbols' opening books, served as recorded until the stream reaches them.

    Parameters
    ----------
    paths : path or sequence of paths
        Recordings, merged by receive time.
    instruments : sequence of Instrument, optional
        By default inferred from the recorded decimals (one unit in the last printed place), exactly
        as :func:`~rentrade.venues.binance_usdm.replay.replay_binance` infers them.
    snapshot_symbol : str, optional
        Symbol of in-band snapshots when a file has depth for several symbols.
    limit : int, optional
        Keep only the first ``limit`` stream messages (shorter tests).

    Raises
    ------
    RecordingError
        On an unreadable frame or a recording without Binance USD-M depth diffs.
    """
    # The scan and the merge are the replay module's own: one implementation of reading recordings.
    from rentrade.venues.binance_usdm.replay import (
        _depth_url_symbol,
        _inferred_instrument,
        _is_inband_snapshot,
        _merged,
        _scan,
    )

    path_list = [Path(paths)] if isinstance(paths, (str, os.PathLike)) else [Path(p) for p in paths]
    if instruments is None:
        # A full pass over the files for the decimals; skipped when the caller knows the instruments.
        scan = _scan(path_list, need_decimals=True)
        chosen = [_inferred_instrument(scan, s) for s in scan.order]
        chosen = [Instrument(i.symbol, "binance_usdm", i.tick_size, i.lot_size) for i in chosen]
    else:
        chosen = list(instruments)
    if not chosen:
        raise RecordingError(f"no Binance market data in {[str(p) for p in path_list]}")
    decoder = MessageDecoder(chosen)
    messages: list[SourceMessage] = []
    snapshots: dict[str, tuple[bytes, int]] = {}  # symbol -> (payload, lastUpdateId)
    last_depth: dict[str, SourceMessage] = {}
    depth_symbol_by_path: dict[int, str] = {}
    known = {i.symbol for i in chosen}
    for path_index, frame in _merged(path_list):
        if limit is not None and len(messages) >= limit:
            break
        if frame.direction is Direction.HTTP:
            symbol = _depth_url_symbol(frame.url)
            if symbol is not None and symbol not in snapshots:
                snapshots[symbol] = (frame.payload, _last_update_id(frame.payload))
            continue
        if frame.direction is not Direction.RECEIVED:
            continue
        if _is_inband_snapshot(frame.payload):
            symbol = snapshot_symbol or depth_symbol_by_path.get(path_index, "")
            if not symbol:
                raise RecordingError(
                    f"{path_list[path_index]}: in-band depth snapshot before any diff names its symbol; "
                    "pass snapshot_symbol="
                )
            if symbol not in snapshots:
                snapshots[symbol] = (frame.payload, _last_update_id(frame.payload))
            continue
        try:
            obj = orjson.loads(frame.payload)
        except orjson.JSONDecodeError:
            raise RecordingError(f"bad line {frame.line} in file {path_list[path_index]}: not JSON") from None
        stream = obj.get("stream") if isinstance(obj, dict) else None
        data = obj.get("data") if isinstance(stream, str) else obj
        if not isinstance(data, dict) or not isinstance(data.get("s"), str):
            continue  # subscription acks and the like: the venue makes its own
        symbol = data["s"].upper()
        if symbol not in known:
            continue
        event_type = data.get("e")
        if event_type == "depthUpdate":
            channel = CHANNEL_DEPTH
            depth_symbol_by_path.setdefault(path_index, symbol)
        elif isinstance(stream, str) and "@" in stream:
            channel = stream.split("@", 1)[1]
        else:
            channel = event_type if isinstance(event_type, str) else CHANNEL_BOOK_TICKER
        payload = _raw_data(frame.payload) if isinstance(stream, str) else frame.payload
        if channel == CHANNEL_DEPTH:
            msg = SourceMessage(
                frame.ts_local_ns,
                symbol,
                channel,
                payload,
                _id(data, "U"),
                _id(data, "u"),
                _id(data, "pu"),
            )
            if symbol in last_depth:
                last_depth[symbol].next_first_id = msg.first_id
            last_depth[symbol] = msg
        else:
            msg = SourceMessage(frame.ts_local_ns, symbol, channel, payload, last_id=_id(data, "u"))
        messages.append(msg)
    openings: dict[str, OpeningBook] = {}
    for symbol, (payload, last_update_id) in snapshots.items():
        if symbol not in {i.symbol for i in chosen}:
            continue
        snap = decoder.decode_depth_snapshot(payload, symbol, 0)
        openings[symbol] = OpeningBook(snap.events, last_update_id, known_from_start=False, payload=payload)
    return MarketSource(f"recording({', '.join(p.name for p in path_list)})", chosen, messages, openings)


def _raw_data(frame: bytes) -> bytes:
    """The ``data`` value of a combined-stream frame, byte for byte (no re-encoding)."""
    start = frame.find(b'"data":')
    end = frame.rfind(b"}")
    if start < 0 or end < 0:
        raise RecordingError(f"combined-stream frame without data: {frame[:80]!r}")
    return frame[start + 7 : end].strip()


def _id(data: dict[str, object], key: str) -> int:
    value = data.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _last_update_id(payload: bytes) -> int:
    try:
        value = orjson.loads(payload).get("lastUpdateId")
    except (orjson.JSONDecodeError, AttributeError):
        value = None
    if not isinstance(value, int):
        raise RecordingError("recorded depth snapshot has no integer lastUpdateId")
    return value
