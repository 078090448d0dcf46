"""rentrade.BinanceFeed (the C++ parser and sync) on the real Binance recordings, with faults injected.

Every frame goes through ``BinanceFeed.on_frame`` (REST snapshots through ``apply_snapshot``). Checked:

- the feed's events equal, record for record, what the pure-Python decoder plus ``BookSync`` produce
  (``tests/binance_replay_reference.py``), and the feed's own books equal a book rebuilt from them;
- wherever a ``bookTicker`` carries the update id ``u`` of an applied diff, its best bid and ask equal
  the book (the quote is decoded here with orjson and ``Instrument``, independently of the feed);
- gaps, duplicates, reorders and malformed frames injected into the stream are detected, only that
  symbol resyncs, and after a snapshot the book equals the fault-free feed's, level for level.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import orjson
import pytest

from binance_replay_reference import reference_replay
from rentrade import BinanceFeed, FrameStatus, Instrument, OrderBook, Side, SyncState
from rentrade.events import FLAG_LAST_IN_MESSAGE, KIND_BBO, KIND_CLEAR, KIND_DELTA
from rentrade.recordings import Direction, RecordedFrame, open_recording
from rentrade.venues.binance_usdm.instruments import instruments_from_exchange_info

MAX_LEVELS = 100_000

Market = Literal["usdm", "spot"]


@dataclass
class Frame:
    ts_local_ns: int
    payload: bytes
    snapshot_for: str | None = None  # REST /depth body for this symbol


def is_inband_snapshot(payload: bytes) -> bool:
    return b'"lastUpdateId"' in payload and b'"stream"' not in payload


def hftbacktest_frames(path: Path, symbol: str) -> list[Frame]:
    return [
        Frame(f.ts_local_ns, f.payload, symbol if is_inband_snapshot(f.payload) else None)
        for f in open_recording(path)
        if f.direction is Direction.RECEIVED
    ]


def cryptofeed_frames(shared_data: Path) -> list[Frame]:
    paths = sorted((shared_data / "cryptofeed-master/sample_data").glob("BINANCE_FUTURES.*"))

    def frames(path: Path) -> Iterator[RecordedFrame]:
        return open_recording(path)

    out: list[Frame] = []
    for f in heapq.merge(*(frames(p) for p in paths), key=lambda r: r.ts_local_ns):
        if f.direction is Direction.HTTP and f.url is not None and "/depth?" in f.url:
            symbol = f.url.split("symbol=")[1].split("&")[0].upper()
            out.append(Frame(f.ts_local_ns, f.payload, symbol))
        elif f.direction is Direction.RECEIVED:
            out.append(Frame(f.ts_local_ns, f.payload))
    return out


def cryptofeed_instruments(shared_data: Path) -> list[Instrument]:
    info = next(open_recording(shared_data / "cryptofeed-master/sample_data/BINANCE_FUTURES.0"))
    instruments = instruments_from_exchange_info(
        info.payload, ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"]
    )
    # CTKUSDT's recorded snapshot has levels off its exchangeInfo tick (see test_real_data_books.py).
    ctk = instruments[3]
    instruments[3] = Instrument(
        "CTKUSDT", "binance_usdm", "0.00001", ctk.lot_size, ctk.min_qty, ctk.min_notional
    )
    return instruments


def push(feed: BinanceFeed, frame: Frame) -> FrameStatus:
    if frame.snapshot_for is not None:
        return feed.apply_snapshot(frame.snapshot_for, frame.payload, frame.ts_local_ns)
    return feed.on_frame(frame.payload, frame.ts_local_ns)


Quote = tuple[tuple[int, int], tuple[int, int]]


def decode_quote(payload: bytes, instruments: dict[str, Instrument]) -> tuple[str, int, Quote] | None:
    """Reference decoding of a bookTicker frame (orjson + exact Instrument conversions)."""
    frame = orjson.loads(payload)
    data = frame.get("data", frame)
    if not isinstance(data, dict) or data.get("e", "bookTicker") != "bookTicker" or "B" not in data:
        return None
    inst = instruments[data["s"]]
    bid = (inst.price_to_ticks(data["b"]), inst.qty_to_lots(data["B"]))
    ask = (inst.price_to_ticks(data["a"]), inst.qty_to_lots(data["A"]))
    return data["s"], int(data["u"]), (bid, ask)


@dataclass
class Run:
    """What one pass of frames through a feed showed."""

    statuses: dict[FrameStatus, int] = field(default_factory=dict)
    book_events: dict[str, list[npt.NDArray[np.void]]] = field(default_factory=dict)
    states: dict[str, dict[int, Quote]] = field(default_factory=dict)  # u -> book top after the diff
    quotes: dict[str, list[tuple[int, Quote]]] = field(default_factory=dict)
    crossed: int = 0


def run_feed(feed: BinanceFeed, frames: list[Frame]) -> Run:
    """Push every frame, then rebuild reference books from the captured events, message by message."""
    instruments = {i.symbol: i for i in feed.instruments}
    run = Run()
    live_tops: dict[str, dict[int, Quote]] = {}  # the feed's own book after each depth frame, by its seq
    feed.capture_events(True)
    for frame in frames:
        status = push(feed, frame)
        run.statuses[status] = run.statuses.get(status, 0) + 1
        if b"bookTicker" in frame.payload:
            quote = decode_quote(frame.payload, instruments)
            if quote is not None:
                run.quotes.setdefault(quote[0], []).append((quote[1], quote[2]))
        elif frame.snapshot_for is not None or b"depthUpdate" in frame.payload:
            symbol = feed.last_symbol()
            if symbol is not None and feed.state(symbol) is SyncState.LIVE:
                live = feed.book(symbol)
                live_tops.setdefault(symbol, {})[live.seq] = (live.best_bid(), live.best_ask())  # type: ignore[assignment]
    events = feed.take_events()
    assert events.size == feed.stats()["events"]
    kinds = events["kind"]
    book_events = events[(kinds >= KIND_CLEAR) & (kinds <= KIND_DELTA)]
    assert np.all(events[kinds == KIND_BBO]["seq"] > 0)
    for symbol, instrument in instruments.items():
        run.book_events[symbol] = [book_events[book_events["instrument_id"] == feed.instrument_id(symbol)]]
        mine = run.book_events[symbol][0].copy()
        mine["instrument_id"] = 0  # a lone OrderBook takes only its own id
        book = OrderBook(instrument, MAX_LEVELS)
        states = run.states.setdefault(symbol, {})
        any_state: dict[int, Quote] = {}
        start = 0
        for end in np.flatnonzero(mine["flags"] & FLAG_LAST_IN_MESSAGE):
            message = mine[start : end + 1]
            start = int(end) + 1
            book.apply_events(message)
            any_state[book.seq] = (book.best_bid(), book.best_ask())  # type: ignore[assignment]
            if message["kind"][-1] == KIND_DELTA:
                states[book.seq] = (book.best_bid(), book.best_ask())  # type: ignore[assignment]
                run.crossed += book.is_crossed()
        assert start == mine.size, "records after the last end-of-message flag"
        # The feed's own book is the one its events rebuild: after every depth frame, and at the end.
        for seq, top in live_tops.get(symbol, {}).items():
            assert any_state[seq] == top, (symbol, seq)
        live = feed.book(symbol)
        for side in (Side.BID, Side.ASK):
            assert np.array_equal(live.levels(side), book.levels(side)), symbol
        assert live.dropped_levels == 0
    return run


def compare_quotes(run: Run, symbol: str) -> tuple[int, int]:
    states = run.states.get(symbol, {})
    compared = matched = 0
    for u, quote in run.quotes.get(symbol, []):
        if u in states:
            compared += 1
            matched += states[u] == quote
    return compared, matched


# --------------------------------------------------------------------------------------------------


HFT_CASES = [
    ("hftbacktest/examples/usdm/btcusdt_20240808.gz", "usdm", ("0.10", "0.001"), (6547, 4, 629)),
    ("hftbacktest/examples/usdm/ethusdt_20240808.gz", "usdm", ("0.01", "0.001"), (6581, 5, 551)),
    ("hftbacktest/examples/spot/btcusdt_20240808.gz", "spot", ("0.01", "0.00000001"), (3449, 2, 564)),
]


@pytest.mark.recordings
@pytest.mark.parametrize(
    ("relative", "market", "sizes", "counts"), HFT_CASES, ids=["usdm-btcusdt", "usdm-ethusdt", "spot-btcusdt"]
)
def test_hftbacktest_feed_books_match_every_book_ticker(
    shared_data: Path, relative: str, market: Market, sizes: tuple[str, str], counts: tuple[int, int, int]
) -> None:
    applied, stale, expected_quotes = counts
    symbol = Path(relative).name.split("_", maxsplit=1)[0].upper()
    instrument = Instrument(symbol, f"binance_{market}", *sizes)
    feed = BinanceFeed([instrument], market=market, max_levels=MAX_LEVELS)
    run = run_feed(feed, hftbacktest_frames(shared_data / relative, symbol))
    stats = feed.stats()
    assert run.statuses == {FrameStatus.NEEDS_SNAPSHOT: 1, FrameStatus.OK: sum(run.statuses.values()) - 1}
    assert (stats["applied_diffs"], stats["stale_drops"], stats["gaps"], stats["snapshots"]) == (
        applied,
        stale,
        0,
        1,
    )
    assert stats["bad_frames"] == 0 and feed.state(symbol) is SyncState.LIVE
    assert run.crossed == 0
    assert compare_quotes(run, symbol) == (expected_quotes, expected_quotes)
    # Differential: the same records as the Python decoder + BookSync reference.
    python = reference_replay([shared_data / relative], [instrument]).symbols[symbol].events
    ours = np.concatenate(run.book_events[symbol])
    assert ours.size == python.size
    for name in ours.dtype.names or ():
        assert np.array_equal(ours[name], python[name]), name


@pytest.mark.recordings
def test_cryptofeed_futures_four_symbols(shared_data: Path) -> None:
    instruments = cryptofeed_instruments(shared_data)
    feed = BinanceFeed(instruments, market="usdm", max_levels=MAX_LEVELS)
    run = run_feed(feed, cryptofeed_frames(shared_data))
    stats = feed.stats()
    assert stats["applied_diffs"] + stats["stale_drops"] == 764  # the MANIFEST's depthUpdates
    per_symbol = {s: (v["applied_diffs"], v["stale_drops"], v["gaps"]) for s, v in stats["symbols"].items()}
    assert per_symbol == {
        "SUSHIUSDT": (252, 3, 0),
        "AKROUSDT": (188, 1, 0),
        "KEEPUSDT": (132, 3, 0),
        "CTKUSDT": (180, 5, 0),
    }
    assert stats["ignored"] == 67  # kline_1m
    assert stats["trades"] == 91 and stats["book_tickers"] == 613 and stats["bad_frames"] == 0
    # the recorded frames are Binance's own spelling: the key-order fast path reads them (not control frames)
    assert 0 < stats["fast_path_frames"] <= stats["frames"] - stats["control"]
    assert feed.symbols_needing_snapshot() == []
    assert run.crossed == 0
    compared = {s: compare_quotes(run, s) for s in feed.stats()["symbols"]}
    assert compared == {"SUSHIUSDT": (12, 12), "AKROUSDT": (7, 7), "KEEPUSDT": (13, 13), "CTKUSDT": (18, 18)}
    paths = sorted((shared_data / "cryptofeed-master/sample_data").glob("BINANCE_FUTURES.*"))
    python = reference_replay(paths, instruments)
    for symbol, sym in python.symbols.items():
        ours = np.concatenate(run.book_events[symbol])
        for name in ours.dtype.names or ():
            assert np.array_equal(ours[name], sym.events[name]), (symbol, name)


# --------------------------------------------------------------------------------------------------
# faults


def snapshot_body(book: OrderBook, instrument: Instrument) -> bytes:
    """A REST /depth body for the book as it stands (what Binance would have sent at book.seq)."""

    def side(levels: npt.NDArray[np.int64]) -> list[list[str]]:
        return [[instrument.ticks_to_price(int(p)), instrument.lots_to_qty(int(q))] for p, q in levels]

    return orjson.dumps(
        {
            "lastUpdateId": book.seq,
            "E": 0,
            "T": 0,
            "bids": side(book.levels(Side.BID)),
            "asks": side(book.levels(Side.ASK)),
        }
    )


def is_depth(frame: Frame, symbol: str | None = None) -> bool:
    return b"depthUpdate" in frame.payload and (symbol is None or symbol.encode() in frame.payload)


def inject(
    frames: list[Frame], symbol: str | None, every: int
) -> tuple[list[tuple[str, Frame]], dict[str, int]]:
    """Tag each frame with a fault: drop (gap), duplicate, swap with the next depth frame, or truncate.

    Faults go on every ``every``-th depth frame of ``symbol`` (any symbol if None), cycling through the
    four kinds, and only after the first snapshot.
    """
    out: list[tuple[str, Frame]] = []
    counts = {"drop": 0, "duplicate": 0, "reorder": 0, "malformed": 0}
    kinds = list(counts)
    seen_snapshot = False
    depth_index = 0
    held: Frame | None = None
    for frame in frames:
        seen_snapshot |= frame.snapshot_for is not None
        if held is not None and is_depth(frame, symbol):
            out.append(("", frame))
            out.append(("", held))
            held = None
            continue
        if not (seen_snapshot and is_depth(frame, symbol)):
            out.append(("", frame))
            continue
        depth_index += 1
        if depth_index % every:
            out.append(("", frame))
            continue
        kind = kinds[(depth_index // every) % 4]
        counts[kind] += 1
        if kind == "drop":
            out.append(("drop", frame))
        elif kind == "duplicate":
            out.extend([("", frame), ("duplicate", frame)])
        elif kind == "reorder":
            held = frame
        else:
            out.append(("malformed", Frame(frame.ts_local_ns, frame.payload[: len(frame.payload) // 2])))
            out.append(("drop", frame))  # the intact frame never arrives
    return out, counts


def run_with_faults(  # noqa: PLR0917
    instruments: list[Instrument],
    market: Market,
    frames: list[Frame],
    symbol: str | None,
    every: int,
    fetch_after: int = 3,
    arrive_after: int = 4,
) -> tuple[BinanceFeed, BinanceFeed, dict[str, int]]:
    """A clean feed and a faulty feed side by side; the faulty one gets snapshots made from the clean one.

    A snapshot is "requested" when the faulty feed says NEEDS_SNAPSHOT, "taken" (from the clean feed's
    book) ``fetch_after`` depth frames later and "arrives" ``arrive_after`` depth frames after that, so
    the faulty feed buffers diffs on both sides of the snapshot's lastUpdateId, as with a real REST call.
    """
    clean = BinanceFeed(instruments, market=market, max_levels=MAX_LEVELS)
    faulty = BinanceFeed(instruments, market=market, max_levels=MAX_LEVELS)
    tagged, counts = inject(frames, symbol, every)
    by_symbol = {i.symbol: i for i in instruments}
    pending: dict[str, list[object]] = {}  # symbol -> [depth frames left, body or None]
    clean_frames = iter(frames)
    for tag, frame in tagged:
        if tag not in ("duplicate", "malformed"):
            # The clean feed sees the original stream, one frame per original frame.
            original = next(clean_frames)
            assert push(clean, original) in (FrameStatus.OK, FrameStatus.NEEDS_SNAPSHOT, FrameStatus.IGNORED)
        if tag == "drop":
            continue
        status = push(faulty, frame)
        if tag == "malformed":
            assert status is FrameStatus.BAD_FRAME
            assert "depthUpdate" in faulty.last_error() or "frame" in faulty.last_error()
        if status is FrameStatus.NEEDS_SNAPSHOT and frame.snapshot_for is None:
            sym = faulty.last_symbol()
            assert sym is not None
            if clean.state(sym) is SyncState.LIVE and sym not in pending:
                pending[sym] = [fetch_after, None]
        if is_depth(frame):
            for sym, job in list(pending.items()):
                job[0] = int(job[0]) - 1  # type: ignore[call-overload]
                if job[1] is None and int(job[0]) <= 0:  # type: ignore[call-overload]
                    job[1] = snapshot_body(clean.book(sym), by_symbol[sym])
                    job[0] = arrive_after
                elif job[1] is not None and int(job[0]) <= 0:  # type: ignore[call-overload]
                    result = faulty.apply_snapshot(sym, job[1], frame.ts_local_ns)  # type: ignore[arg-type]
                    del pending[sym]
                    if result is FrameStatus.NEEDS_SNAPSHOT:
                        pending[sym] = [fetch_after, None]
                    else:
                        assert result is FrameStatus.OK, faulty.last_error()
    # Whatever is still pending: one last snapshot taken now.
    for sym in list(pending):
        assert faulty.apply_snapshot(sym, snapshot_body(clean.book(sym), by_symbol[sym])) is FrameStatus.OK
    return clean, faulty, counts


def assert_same_books(clean: BinanceFeed, faulty: BinanceFeed) -> None:
    for instrument in clean.instruments:
        a, b = clean.book(instrument.symbol), faulty.book(instrument.symbol)
        assert faulty.state(instrument.symbol) is SyncState.LIVE
        assert a.seq == b.seq, instrument.symbol
        for side in (Side.BID, Side.ASK):
            assert np.array_equal(a.levels(side), b.levels(side)), instrument.symbol


@pytest.mark.recordings
@pytest.mark.parametrize(
    ("relative", "market", "sizes"),
    [(c[0], c[1], c[2]) for c in HFT_CASES[::2]],
    ids=["usdm-btcusdt", "spot-btcusdt"],
)
def test_injected_faults_are_detected_and_resynced(
    shared_data: Path, relative: str, market: Market, sizes: tuple[str, str]
) -> None:
    symbol = Path(relative).name.split("_", maxsplit=1)[0].upper()
    instrument = Instrument(symbol, f"binance_{market}", *sizes)
    frames = hftbacktest_frames(shared_data / relative, symbol)
    clean, faulty, counts = run_with_faults([instrument], market, frames, symbol, every=400)
    assert all(n >= 2 for n in counts.values()), counts
    stats = faulty.stats()
    # Every drop, reorder and malformed frame breaks the chain; a duplicate is only stale.
    breaks = counts["drop"] + counts["reorder"] + counts["malformed"]
    assert stats["resyncs"] >= breaks
    assert stats["gaps"] >= counts["drop"] + counts["reorder"]
    assert stats["bad_by_reason"]["malformed_json"] == counts["malformed"]
    assert stats["stale_drops"] >= clean.stats()["stale_drops"] + counts["duplicate"]
    assert stats["snapshots"] >= 1 + breaks
    assert_same_books(clean, faulty)


@pytest.mark.recordings
def test_gap_in_one_symbol_leaves_the_others_live(shared_data: Path) -> None:
    instruments = cryptofeed_instruments(shared_data)
    frames = cryptofeed_frames(shared_data)
    clean, faulty, counts = run_with_faults(
        instruments, "usdm", frames, "SUSHIUSDT", every=40, fetch_after=2, arrive_after=2
    )
    assert sum(counts.values()) >= 4
    stats = faulty.stats()["symbols"]
    assert stats["SUSHIUSDT"]["resyncs"] >= counts["drop"] + counts["reorder"] + counts["malformed"] > 0
    for other in ("AKROUSDT", "KEEPUSDT", "CTKUSDT"):
        assert (stats[other]["resyncs"], stats[other]["gaps"], stats[other]["snapshots"]) == (0, 0, 1), other
    assert_same_books(clean, faulty)


def test_control_bad_frames_and_errors_from_python() -> None:
    feed = BinanceFeed([Instrument("BTCUSDT", "binance_usdm", "0.10", "0.001")])
    assert feed.on_frame(b'{"result":null,"id":1}', 1) is FrameStatus.CONTROL
    assert feed.symbols_needing_snapshot() == ["BTCUSDT"]
    assert feed.state("btcusdt") is SyncState.SYNCING
    frame = b'{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"pu":0,"b":[["61800.25","1"]],"a":[]}'
    assert feed.on_frame(frame, 1) is FrameStatus.BAD_FRAME
    assert feed.last_error() == (
        "BTCUSDT depthUpdate: bad_decimal in field 'b' value '61800.25': more decimals than the increment "
        "allows (tick size 0.1)"
    )
    assert feed.last_symbol() == "BTCUSDT" and feed.state("BTCUSDT") is SyncState.RESYNC
    assert feed.on_frame(bytearray(b"{nope"), 1) is FrameStatus.BAD_FRAME
    assert feed.on_frame(memoryview(b'{"e":"kline"}'), 1) is FrameStatus.IGNORED
    assert (
        feed.on_frame('{"u":1,"s":"XRPUSDT","b":"1","B":"1","a":"1","A":"1"}', 1)
        is FrameStatus.UNKNOWN_SYMBOL
    )
    stats = feed.stats()
    assert stats["bad_by_reason"]["bad_decimal"] == 1 and stats["bad_by_reason"]["malformed_json"] == 1
    assert stats["control"] == 1 and stats["resyncs"] == 1
    with pytest.raises(KeyError, match="no instrument for symbol 'ETHUSDT'"):
        feed.book("ETHUSDT")
    with pytest.raises(ValueError, match="market must be 'usdm' or 'spot'"):
        BinanceFeed([Instrument("X", "v", "1", "1")], market="coinm")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="listed twice"):
        BinanceFeed([Instrument("X", "v", "1", "1"), Instrument("x", "v", "1", "1")])
    with pytest.raises(TypeError, match="data must be bytes"):
        feed.on_frame(12, 1)  # type: ignore[arg-type]
    assert "BinanceFeed usdm 1 symbols, 0 live" in repr(feed)
