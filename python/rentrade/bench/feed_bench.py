"""The Binance feed stage of ``rentrade bench``: WebSocket frame bytes to an updated book.

rentrade's path is ``BinanceFeed.on_frame`` (C++: JSON scan, exact decimals, sync rule, book update),
timed inside the core per frame (:func:`rentrade._fastcore.measure_binance_feed`; each frame is first
copied into one receive buffer, as the socket read does, so a frame is not read cold from the tens of
MB the bench holds) and, for comparison with Python-level peers, per call from Python. The peers do the
same work the way their libraries do it, on the same frames in the same run:

- cryptofeed: ``orjson.loads``, ``Decimal`` prices and sizes, a sorted book (``sortedcontainers.SortedDict``
  standing in for its ``order_book`` C extension), the ``pu`` chain check;
- ccxt: ``orjson.loads`` (ccxt uses ``json``; orjson is the faster choice), ``float`` prices and sizes,
  a ``SortedDict`` book, the same check;
- nautilus-trader (when installed): its own Binance schema (``msgspec`` decoder of
  ``BinanceOrderBookMsg``), ``parse_to_order_book_deltas`` and ``OrderBook.apply_deltas`` on an
  ``L2_MBP`` book; bookTicker via ``BinanceQuoteMsg`` and ``parse_to_quote_tick``.

Every peer must end with the same best bid and ask as rentrade's book, or the stage fails.
"""

from __future__ import annotations

import gzip
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import orjson

from rentrade import _fastcore
from rentrade._fastcore import BinanceFeed, FrameStatus, Instrument

SYNTHETIC_FEED_INSTRUMENT: Final = Instrument("BTCUSDT", "binance_usdm", "0.10", "0.001")
SYNTHETIC_LEVELS: Final = 20
"""Price levels per synthetic depth frame (10 bids, 10 asks): the issue's "about 20 levels"."""


@dataclass
class FeedFrames:
    """Frames of one symbol in arrival order (the REST snapshot among them), and what they are."""

    instrument: Instrument
    market: Literal["usdm", "spot"]
    frames: list[bytes]
    source: str


def synthetic_frames(count: int = 20_000, seed: int = 1) -> FeedFrames:
    """USD-M BTCUSDT-like frames: a 1,000-level snapshot, then depth frames of exactly 20 levels
    (10 per side near the top, some removals) chained by ``pu``, each followed by a bookTicker."""
    rng = random.Random(seed)
    mid = 600_000  # ticks of 0.1: 60,000.0

    def px(ticks: int) -> str:
        return f"{ticks // 10}.{ticks % 10}0"

    def qty(lots: int) -> str:
        return f"{lots // 1000}.{lots % 1000:03d}"

    bids = {mid - 1 - i: rng.randint(1, 5000) for i in range(1000)}
    asks = {mid + 1 + i: rng.randint(1, 5000) for i in range(1000)}
    last_u = 1_000_000
    snapshot = {
        "lastUpdateId": last_u + 1,  # inside the first diff's [U, u], as Binance's rule requires
        "E": 1,
        "T": 1,
        "bids": [[px(p), qty(q)] for p, q in sorted(bids.items(), reverse=True)],
        "asks": [[px(p), qty(q)] for p, q in sorted(asks.items())],
    }
    frames = [orjson.dumps(snapshot)]
    for n in range(count):
        first = last_u + 1
        last = first + rng.randint(0, 30)
        levels: dict[str, list[list[str]]] = {"b": [], "a": []}
        for side, book, sign in (("b", bids, -1), ("a", asks, 1)):
            for _ in range(SYNTHETIC_LEVELS // 2):
                price = mid + sign * rng.randint(1, 40)
                size = 0 if rng.random() < 0.2 else rng.randint(1, 5000)
                if size:
                    book[price] = size
                else:
                    book.pop(price, None)
                levels[side].append([px(price), qty(size)])
        data = {
            "e": "depthUpdate",
            "E": 1_723_161_256_000 + n,
            "T": 1_723_161_256_000 + n,
            "s": "BTCUSDT",
            "U": first,
            "u": last,
            "pu": last_u,
            "b": levels["b"],
            "a": levels["a"],
        }
        frames.append(orjson.dumps({"stream": "btcusdt@depth@0ms", "data": data}))
        last_u = last
        best_bid = max(bids)
        best_ask = min(asks)
        quote = {
            "e": "bookTicker",
            "u": last,
            "s": "BTCUSDT",
            "b": px(best_bid),
            "B": qty(bids[best_bid]),
            "a": px(best_ask),
            "A": qty(asks[best_ask]),
            "T": 1_723_161_256_000 + n,
            "E": 1_723_161_256_000 + n,
        }
        frames.append(orjson.dumps({"stream": "btcusdt@bookTicker", "data": quote}))
    return FeedFrames(
        SYNTHETIC_FEED_INSTRUMENT,
        "usdm",
        frames,
        f"synthetic Binance USD-M frames (seed {seed}: {count:,} depth frames of {SYNTHETIC_LEVELS} levels, "
        f"{count:,} bookTickers)",
    )


def recorded_frames(
    path: str | Path, instrument: Instrument, market: Literal["usdm", "spot"], limit: int = 0
) -> FeedFrames:
    """Frames of an hftbacktest-format recording (``<ts_ns> <frame>`` lines, REST snapshot in-band)."""
    frames: list[bytes] = []
    with gzip.open(path, "rb") as fh:
        for line in fh:
            frames.append(line.rstrip(b"\n").split(b" ", 1)[1])
            if limit and len(frames) >= limit:
                break
    return FeedFrames(instrument, market, frames, f"recording {Path(path).name} ({len(frames):,} frames)")


@dataclass
class FeedSamples:
    """Per-frame ns of one way of doing the work, split by frame kind."""

    name: str
    depth_ns: npt.NDArray[np.int64]
    ticker_ns: npt.NDArray[np.int64]
    top: tuple[tuple[int, int] | None, tuple[int, int] | None]
    api: str


def _is_snapshot(frame: bytes) -> bool:
    return b'"lastUpdateId"' in frame and b'"stream"' not in frame


def _peer_order(frames: list[bytes]) -> list[bytes]:
    """The frames with depth diffs that arrived before the snapshot moved to just after it.

    That is what a client does with them (buffer, then replay after the snapshot); the peers below
    keep no buffer of their own, and rentrade's feed does this inside ``apply_snapshot``.
    """
    out: list[bytes] = []
    pending: list[bytes] = []
    seen_snapshot = False
    for frame in frames:
        if not seen_snapshot and _is_snapshot(frame):
            out.append(frame)
            out.extend(pending)
            pending = []
            seen_snapshot = True
        elif not seen_snapshot and b"depthUpdate" in frame:
            pending.append(frame)
        else:
            out.append(frame)
    return out + pending


def _timer_overhead_ns() -> int:
    clock = time.perf_counter_ns
    samples = []
    for _ in range(2000):
        t0 = clock()
        samples.append(clock() - t0)
    return int(np.percentile(samples, 5))


def rentrade_python_samples(feed_frames: FeedFrames) -> FeedSamples:
    """``BinanceFeed.on_frame`` called from Python per frame: the binding's cost included."""
    feed = BinanceFeed([feed_frames.instrument], market=feed_frames.market, max_levels=100_000)
    symbol = feed_frames.instrument.symbol
    clock = time.perf_counter_ns
    overhead = _timer_overhead_ns()
    depth: list[int] = []
    ticker: list[int] = []
    on_frame = feed.on_frame
    for frame in feed_frames.frames:
        if _is_snapshot(frame):
            feed.apply_snapshot(symbol, frame, 0)
            continue
        is_depth = b"depthUpdate" in frame
        live = is_depth and feed.state(symbol) == _fastcore.SyncState.LIVE
        t0 = clock()
        status = on_frame(frame, 1)
        elapsed = clock() - t0 - overhead
        if status is FrameStatus.BAD_FRAME:
            raise AssertionError(f"rentrade refused a benchmark frame: {feed.last_error()}")
        if live:
            depth.append(elapsed)
        elif b"bookTicker" in frame:
            ticker.append(elapsed)
    book = feed.book(symbol)
    return FeedSamples(
        "rentrade BinanceFeed.on_frame (Python call)",
        np.asarray(depth, dtype=np.int64),
        np.asarray(ticker, dtype=np.int64),
        (book.best_bid(), book.best_ask()),
        "one BinanceFeed.on_frame(bytes, ts) call from Python per frame (binding included)",
    )


def _sorted_dict_peer(
    feed_frames: FeedFrames, convert: Callable[[str], Any], name: str, api: str
) -> FeedSamples:
    from importlib import import_module

    SortedDict: Any = import_module("sortedcontainers").SortedDict  # noqa: N806 - library name

    instrument = feed_frames.instrument
    loads = orjson.loads
    clock = time.perf_counter_ns
    overhead = _timer_overhead_ns()
    bids: Any = SortedDict()
    asks: Any = SortedDict()
    last_u = -1
    synced = False
    depth: list[int] = []
    ticker: list[int] = []
    zero = convert("0")
    spot = feed_frames.market == "spot"
    for frame in _peer_order(feed_frames.frames):
        if _is_snapshot(frame):
            snap = loads(frame)
            bids.clear()
            asks.clear()
            for p, q in snap["bids"]:
                bids[convert(p)] = convert(q)
            for p, q in snap["asks"]:
                asks[convert(p)] = convert(q)
            last_u = snap["lastUpdateId"]
            synced = False
            continue
        t0 = clock()
        msg = loads(frame)
        data = msg.get("data", msg)
        kind = data.get("e", "bookTicker")
        if kind == "depthUpdate":
            u = data["u"]
            if last_u < 0 or u < last_u + (1 if spot else 0):
                elapsed = -1  # before the snapshot or stale: not timed
            else:
                # Binance's rule: first diff straddles the snapshot, then the chain holds.
                ok = (
                    (data["U"] <= last_u + (1 if spot else 0))
                    if not synced
                    else (data["U"] == last_u + 1 if spot else data["pu"] == last_u)
                )
                if not ok:
                    raise AssertionError(f"{name}: the benchmark stream has a gap at u={u}")
                for p, q in data["b"]:
                    size = convert(q)
                    if size == zero:
                        bids.pop(convert(p), None)
                    else:
                        bids[convert(p)] = size
                for p, q in data["a"]:
                    size = convert(q)
                    if size == zero:
                        asks.pop(convert(p), None)
                    else:
                        asks[convert(p)] = size
                last_u = u
                synced = True
                elapsed = clock() - t0 - overhead
            if elapsed >= 0 and synced:
                depth.append(elapsed)
        elif kind == "bookTicker":
            _quote = (
                convert(data["b"]),
                convert(data["B"]),
                convert(data["a"]),
                convert(data["A"]),
                data["u"],
            )
            ticker.append(clock() - t0 - overhead)
    bid = bids.peekitem(-1) if bids else None
    ask = asks.peekitem(0) if asks else None
    top = (
        (instrument.price_to_ticks(str(bid[0])), instrument.qty_to_lots(str(bid[1]))) if bid else None,
        (instrument.price_to_ticks(str(ask[0])), instrument.qty_to_lots(str(ask[1]))) if ask else None,
    )
    return FeedSamples(name, np.asarray(depth, dtype=np.int64), np.asarray(ticker, dtype=np.int64), top, api)


def cryptofeed_style_samples(feed_frames: FeedFrames) -> FeedSamples:
    """orjson + Decimal + a sorted book, as cryptofeed decodes Binance depth."""
    return _sorted_dict_peer(
        feed_frames,
        Decimal,
        "peer: orjson + Decimal + SortedDict (cryptofeed's way)",
        "orjson.loads, Decimal(price/size), SortedDict book, pu chain check",
    )


def ccxt_style_samples(feed_frames: FeedFrames) -> FeedSamples:
    """orjson + float + a sorted book, as ccxt handles Binance depth (floats)."""
    return _sorted_dict_peer(
        feed_frames,
        float,
        "peer: orjson + float + SortedDict (ccxt's way)",
        "orjson.loads, float(price/size), SortedDict book, pu chain check",
    )


def nautilus_samples(feed_frames: FeedFrames) -> FeedSamples:
    """nautilus-trader's Binance schemas and OrderBook; ImportError when it is not installed."""
    from importlib import import_module

    msgspec: Any = import_module("msgspec")
    schemas: Any = import_module("nautilus_trader.adapters.binance.common.schemas.market")
    OrderBook: Any = import_module("nautilus_trader.model.book").OrderBook  # noqa: N806 - library names
    BookOrder: Any = import_module("nautilus_trader.model.data").BookOrder  # noqa: N806
    enums: Any = import_module("nautilus_trader.model.enums")
    InstrumentId: Any = import_module("nautilus_trader.model.identifiers").InstrumentId  # noqa: N806
    objects: Any = import_module("nautilus_trader.model.objects")
    BookType, OrderSide = enums.BookType, enums.OrderSide  # noqa: N806
    Price, Quantity = objects.Price, objects.Quantity  # noqa: N806
    BinanceOrderBookMsg, BinanceQuoteMsg = schemas.BinanceOrderBookMsg, schemas.BinanceQuoteMsg  # noqa: N806

    instrument = feed_frames.instrument
    iid = InstrumentId.from_str(f"{instrument.symbol}-PERP.BINANCE")
    book = OrderBook(iid, BookType.L2_MBP)
    depth_decoder = msgspec.json.Decoder(BinanceOrderBookMsg)
    quote_decoder = msgspec.json.Decoder(BinanceQuoteMsg)
    clock = time.perf_counter_ns
    overhead = _timer_overhead_ns()
    depth: list[int] = []
    ticker: list[int] = []
    last_u = -1
    synced = False
    spot = feed_frames.market == "spot"
    for frame in _peer_order(feed_frames.frames):
        if _is_snapshot(frame):
            snap = orjson.loads(frame)
            book = OrderBook(iid, BookType.L2_MBP)
            for side, levels in ((OrderSide.BUY, snap["bids"]), (OrderSide.SELL, snap["asks"])):
                for p, q in levels:
                    book.add(BookOrder(side, Price.from_str(p), Quantity.from_str(q), 0), 0)
            last_u = snap["lastUpdateId"]
            synced = False
            continue
        if b"depthUpdate" in frame:
            t0 = clock()
            msg = depth_decoder.decode(frame)
            data = msg.data
            first_id, last_id = data.U, data.u
            if last_u < 0 or last_id < last_u + (1 if spot else 0):
                continue
            ok = (
                (first_id <= last_u + (1 if spot else 0))
                if not synced
                else (first_id == last_u + 1 if spot else data.pu == last_u)
            )
            if not ok:
                raise AssertionError(f"nautilus peer: the benchmark stream has a gap at u={data.u}")
            book.apply_deltas(data.parse_to_order_book_deltas(iid, 0))
            last_u = data.u
            synced = True
            depth.append(clock() - t0 - overhead)
        elif b"bookTicker" in frame:
            t0 = clock()
            quote_decoder.decode(frame).data.parse_to_quote_tick(iid, 1)
            ticker.append(clock() - t0 - overhead)
    bid_px, ask_px = book.best_bid_price(), book.best_ask_price()
    top = (
        (instrument.price_to_ticks(str(bid_px)), instrument.qty_to_lots(str(book.best_bid_size())))
        if bid_px is not None
        else None,
        (instrument.price_to_ticks(str(ask_px)), instrument.qty_to_lots(str(book.best_ask_size())))
        if ask_px is not None
        else None,
    )
    from importlib.metadata import version

    return FeedSamples(
        f"peer: nautilus-trader {version('nautilus_trader')} Binance parser + OrderBook",
        np.asarray(depth, dtype=np.int64),
        np.asarray(ticker, dtype=np.int64),
        top,
        "msgspec BinanceOrderBookMsg / BinanceQuoteMsg, parse_to_order_book_deltas, OrderBook.apply_deltas",
    )


def core_run(feed_frames: FeedFrames, passes: int = 3) -> dict[str, Any]:
    """rentrade's per-frame latency inside the core, and its final book for the peers' check."""
    run: dict[str, Any] = _fastcore.measure_binance_feed(
        [feed_frames.instrument], feed_frames.frames, feed_frames.market, passes, 100_000
    )
    if run["bad_frames"] or run["gaps"] or run["depth_frames"] == 0:
        raise AssertionError(f"the core feed stage did not apply the stream cleanly: {run}")
    return run


def reference_top(feed_frames: FeedFrames) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """Best bid and ask after every frame, from an untimed BinanceFeed."""
    feed = BinanceFeed([feed_frames.instrument], market=feed_frames.market, max_levels=100_000)
    symbol = feed_frames.instrument.symbol
    for frame in feed_frames.frames:
        if _is_snapshot(frame):
            feed.apply_snapshot(symbol, frame, 0)
        else:
            feed.on_frame(frame, 0)
    book = feed.book(symbol)
    return book.best_bid(), book.best_ask()
