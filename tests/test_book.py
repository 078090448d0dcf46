"""The core order book against the pure-Python reference, plus its public contract."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rentrade
from book_reference import ReferenceBook
from rentrade import BookError, BookSet, DecimalError, Instrument, OrderBook, Side
from rentrade.events import (
    FLAG_LAST_IN_MESSAGE,
    KIND_CLEAR,
    KIND_DELTA,
    KIND_SNAPSHOT_LEVEL,
    KIND_TRADE,
    empty_events,
)

BTC = Instrument("BTCUSDT", "binance_usdm", "0.10", "0.001", min_qty="0.001", min_notional="100")

# Prices cluster so levels are re-used, but sometimes jump by up to 10^12 ticks (window moves).
price = st.one_of(
    st.integers(999_900, 1_000_100),
    st.integers(1, 10**12),
    st.integers(-(2**63) + 1, 2**63 - 1),
)
operation = st.tuples(st.sampled_from([0, 1]), price, st.one_of(st.just(0), st.integers(1, 10**15)))


@settings(max_examples=300, deadline=None)
@given(st.lists(operation, max_size=400))
def test_book_matches_reference(operations: list[tuple[int, int, int]]) -> None:
    book = OrderBook(BTC)
    reference = ReferenceBook()
    for side, px, qty in operations:
        book.update_ticks(side, px, qty)
        reference.update(side, px, qty)
        assert book.best_bid() == reference.best(0)
        assert book.best_ask() == reference.best(1)
    for side in (0, 1):
        assert book.levels(side).tolist() == [list(level) for level in reference.levels(side)]
    assert book.is_crossed() == reference.is_crossed()
    assert (book.bid_levels, book.ask_levels) == (len(reference.bids), len(reference.asks))


@settings(max_examples=100, deadline=None)
@given(st.lists(operation, max_size=300), st.integers(1, 10**16), st.booleans())
def test_impact_matches_reference(operations: list[tuple[int, int, int]], qty: int, buy: bool) -> None:
    book = OrderBook(BTC)
    reference = ReferenceBook()
    for side, px, level_qty in operations:
        book.update_ticks(side, abs(px) % 10**9 + 1, level_qty)
        reference.update(side, abs(px) % 10**9 + 1, level_qty)
    impact = book.impact("buy" if buy else "sell", qty)
    filled, notional, touched = reference.impact(buy, qty)
    if filled == 0:
        assert impact is None
        return
    assert impact is not None
    assert (impact.filled_lots, impact.levels) == (filled, touched)
    assert impact.notional == Decimal(notional) * Decimal("0.0001")  # tick 0.1 x lot 0.001
    assert impact.complete == (filled == qty)


def test_events_apply_like_calls() -> None:
    events = rentrade._fastcore.synthetic_events(1, 20_000, seed=7)
    book = OrderBook(BTC)
    assert book.apply_events(events) == len(events)
    reference = ReferenceBook()
    for event in events:
        if event["kind"] == KIND_CLEAR:
            reference.clear()
        elif event["kind"] in (KIND_DELTA, KIND_SNAPSHOT_LEVEL):
            reference.update(int(event["side"]), int(event["px_ticks"]), int(event["qty_lots"]))
    assert book.levels(Side.BID).tolist() == [list(level) for level in reference.levels(0)]
    assert book.levels(Side.ASK).tolist() == [list(level) for level in reference.levels(1)]
    last_book_event = events[events["kind"] != KIND_TRADE][-1]
    assert book.seq == last_book_event["seq"]
    assert book.ts_exchange_ns == last_book_event["ts_exchange_ns"]


def test_unaligned_event_arrays_are_read_correctly() -> None:
    events = rentrade._fastcore.synthetic_events(1, 3_000, seed=3)
    raw = np.zeros(len(events) * 64 + 64 + 8, dtype=np.uint8)
    unaligned = raw[8 : 8 + len(events) * 64].view(rentrade.EVENT_DTYPE)
    unaligned[:] = events
    assert not rentrade.events.is_aligned(unaligned)
    aligned_book, unaligned_book = OrderBook(BTC), OrderBook(BTC)
    aligned_book.apply_events(events)
    unaligned_book.apply_events(unaligned)
    assert aligned_book.levels("bid").tolist() == unaligned_book.levels("bid").tolist()
    assert aligned_book.levels("ask").tolist() == unaligned_book.levels("ask").tolist()


def test_apply_events_in_any_cut_matches_event_by_event() -> None:
    """The batch path (counts and sequence settled per call) against one record per call."""
    events = rentrade._fastcore.synthetic_events(1, 30_000, seed=11)
    events["kind"][15_000] = KIND_CLEAR  # a clear inside a batch
    batched, single = OrderBook(BTC), OrderBook(BTC)
    first, size = 0, 1
    while first < len(events):
        assert batched.apply_events(events[first : first + size]) == len(events[first : first + size])
        first += size
        size = size * 7 % 2_000 + 1
    for i in range(len(events)):
        single.apply_events(events[i : i + 1])
    for attribute in ("seq", "ts_exchange_ns", "ts_local_ns", "updates", "bid_levels", "ask_levels"):
        assert getattr(batched, attribute) == getattr(single, attribute), attribute
    assert batched.levels("bid").tolist() == single.levels("bid").tolist()
    assert batched.levels("ask").tolist() == single.levels("ask").tolist()


def test_apply_events_refusal_index_counts_across_copied_chunks() -> None:
    """An unaligned array is applied in copied chunks: the refused index is still the array's."""
    events = rentrade._fastcore.synthetic_events(1, 3_000, seed=5)
    raw = np.zeros(len(events) * 64 + 64 + 8, dtype=np.uint8)
    unaligned = raw[8 : 8 + len(events) * 64].view(rentrade.EVENT_DTYPE)
    unaligned[:] = events
    levels = np.isin(unaligned["kind"], (KIND_DELTA, KIND_SNAPSHOT_LEVEL))
    bad = int(np.flatnonzero(levels)[-1])  # far past the first 256-record chunk
    unaligned["side"][bad] = 7
    book, reference = OrderBook(BTC), OrderBook(BTC)
    with pytest.raises(BookError, match=rf"event {bad} refused.*neither bid"):
        book.apply_events(unaligned)
    reference.apply_events(events[:bad])
    assert book.levels("bid").tolist() == reference.levels("bid").tolist()
    assert (book.seq, book.updates) == (reference.seq, reference.updates)


def test_strings_sides_and_snapshot() -> None:
    book = OrderBook(BTC)
    book.apply_snapshot(
        [("61800.20", "2.909"), ("61800.1", "0.696")],
        [["61800.30", "3.330"], [618004, 1000]],
        seq=42,
        ts_exchange_ns=5,
    )
    assert book.best_bid() == (618002, 2909)
    assert book.best_ask() == (618003, 3330)
    assert (book.seq, book.ts_exchange_ns, book.spread_ticks(), book.mid()) == (42, 5, 1, 618002.5)
    book.update("ask", "61800.3", "0")
    book.update(Side.ASK, "61800.35" if False else "61800.4", "0.5")
    assert book.best_ask() == (618004, 500)
    book.update("BUY", "61800.2", "0")
    assert book.best_bid() == (618001, 696)
    micro = book.microprice()
    assert micro is not None and 618001 < micro < 618004
    book.apply_snapshot(np.array([[10, 1]], dtype=np.int64), np.empty((0, 2), dtype=np.int64))
    assert book.best_bid() == (10, 1) and book.best_ask() is None and book.mid() is None


def test_snapshot_is_atomic_on_error() -> None:
    book = OrderBook(BTC)
    book.apply_snapshot([("100", "1")], [("101", "1")], seq=1)
    with pytest.raises(DecimalError, match=r"price '100.05' for BTCUSDT on binance_usdm"):
        book.apply_snapshot([("100", "1"), ("100.05", "1")], [])
    with pytest.raises(TypeError, match="floats are not accepted"):
        book.apply_snapshot([(100.0, "1")], [])
    with pytest.raises(BookError, match="price out of range in asks"):
        book.apply_snapshot([], [(-(2**63), 1)])
    assert book.best_bid() == (1000, 1000) and book.seq == 1


def test_bad_input_is_refused_clearly() -> None:
    book = OrderBook(BTC)
    with pytest.raises(BookError, match="negative quantity"):
        book.update_ticks(0, 100, -1)
    with pytest.raises(ValueError, match="side must be"):
        book.update_ticks(2, 100, 1)
    with pytest.raises(ValueError, match="side must be"):
        book.update("middle", "1", "1")
    with pytest.raises(TypeError, match="side must be"):
        book.update_ticks(None, 1, 1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="side must be"):
        book.update_ticks(True, 1, 1)
    with pytest.raises(ValueError, match="px_ticks 1180591620717411303424 does not fit in int64"):
        book.update_ticks(0, 2**70, 1)
    with pytest.raises(ValueError, match=r"qty_lots .* does not fit in int64"):
        book.update_ticks(0, 1, -(2**64))
    with pytest.raises(TypeError, match="px_ticks must be an int, got float"):
        book.update_ticks(0, 5.0, 1)  # type: ignore[arg-type]
    book.update_ticks(side="ask", px_ticks=7, qty_lots=2)  # keywords take the checked path
    assert book.best_ask() == (7, 2)
    book.update_ticks(Side.ASK, 7, 0)
    with pytest.raises(DecimalError, match="NaN"):
        book.update("bid", "nan", "1")
    with pytest.raises(DecimalError, match="negative"):
        book.update("bid", "1", "-1")
    with pytest.raises(ValueError, match="bps"):
        book.depth_notional(float("nan"))
    with pytest.raises(ValueError, match="max_levels"):
        OrderBook(BTC, max_levels=0)
    events = empty_events(2)
    events["kind"] = KIND_DELTA
    events["qty_lots"] = [1, -5]
    with pytest.raises(BookError, match=r"event 1 refused.*negative quantity"):
        book.apply_events(events)
    assert book.best_bid() == (0, 1)  # the event before the bad one was applied
    events["instrument_id"] = 3
    with pytest.raises(BookError, match="instrument_id 3"):
        book.apply_events(events)
    with pytest.raises(TypeError, match="EVENT_DTYPE"):
        book.apply_events(np.zeros(3, dtype=np.int64))


def test_liquidity_questions() -> None:
    book = OrderBook(BTC)
    book.apply_snapshot([(990, 10), (980, 20)], [(1010, 10), (1030, 30)])
    # +-200 bps of mid 1000: bids >= 980 and asks <= 1020.
    assert book.depth_notional(200) == Decimal(990 * 10 + 980 * 20 + 1010 * 10) * Decimal("0.0001")
    assert book.depth_notional(200, side="ask") == Decimal(1010 * 10) * Decimal("0.0001")
    impact = book.impact("buy", 25)
    assert impact is not None
    assert (impact.filled_lots, impact.levels, impact.touch_px_ticks, impact.worst_px_ticks) == (
        25,
        2,
        1010,
        1030,
    )
    assert impact.avg_px_ticks == pytest.approx((1010 * 10 + 1030 * 15) / 25)
    assert impact.slippage_bps == pytest.approx(((1010 * 10 + 1030 * 15) / 25 - 1010) / 1010 * 1e4)
    assert book.impact("sell", "0.005") is not None
    # Within 100 bps of 1010 (limit 1020.1): all 10 at 1010 plus q at 1030 with 9.9 q <= 101 -> q = 10.
    assert book.max_qty_within("buy", 100) == 20
    assert book.max_qty_within("buy", 0) == 10
    assert OrderBook(BTC).max_qty_within("buy", 10) == 0
    assert OrderBook(BTC).impact("buy", 1) is None
    assert OrderBook(BTC).depth_notional(10) is None


def test_crossed_book_is_reported_not_repaired() -> None:
    book = OrderBook(BTC)
    book.update_ticks(Side.BID, 105, 1)
    book.update_ticks(Side.ASK, 100, 1)
    assert book.is_crossed()
    assert book.best_bid() == (105, 1) and book.best_ask() == (100, 1)


def test_depth_cap_keeps_the_top_and_bounds_memory() -> None:
    book = OrderBook(BTC, max_levels=100)
    for px in range(10_000):
        book.update_ticks(Side.ASK, 1_000_000 - px, 1)  # each new level is the new best ask
    assert book.ask_levels == 100
    assert book.best_ask() == (1_000_000 - 9_999, 1)
    assert book.dropped_levels == 9_900
    assert book.levels(Side.ASK)[-1].tolist() == [1_000_000 - 9_900, 1]


def test_book_set_routes_batches_to_many_books() -> None:
    instruments = [Instrument(f"SYM{i}", "sim", "0.1", "0.001") for i in range(1_000)]
    books = BookSet(instruments)
    events = rentrade._fastcore.synthetic_events(1_000, 600_000, seed=11, snapshot_levels=20)
    assert books.apply_events(events) == len(events)
    assert len(books) == 1_000
    for instrument_id in (0, 499, 999):
        view = books[instrument_id]
        assert view.instrument.symbol == f"SYM{instrument_id}"
        alone = OrderBook(instruments[instrument_id])
        mine = events[events["instrument_id"] == instrument_id].copy()
        mine["instrument_id"] = 0
        alone.apply_events(mine)
        assert view.levels("bid").tolist() == alone.levels("bid").tolist()
        assert view.levels("ask").tolist() == alone.levels("ask").tolist()
        assert not view.is_crossed()
    with pytest.raises(IndexError, match="out of range"):
        books[1_000]
    bad = empty_events(1)
    bad["instrument_id"] = 5_000
    bad["kind"] = KIND_DELTA
    with pytest.raises(BookError, match="instrument_id 5000"):
        books.apply_events(bad)


def test_synthetic_market_is_deterministic_and_never_crossed() -> None:
    a = rentrade._fastcore.synthetic_events(3, 50_000, seed=5)
    b = rentrade._fastcore.synthetic_events(3, 50_000, seed=5)
    c = rentrade._fastcore.synthetic_events(3, 50_000, seed=6)
    assert a.tobytes() == b.tobytes() and a.tobytes() != c.tobytes()
    books = BookSet([BTC] * 3)
    ends = np.flatnonzero(a["flags"] & FLAG_LAST_IN_MESSAGE)
    start = 0
    for end in ends[:: max(1, len(ends) // 500)]:
        books.apply_events(a[start : end + 1])
        start = end + 1
        assert not any(books[i].is_crossed() for i in range(3))
