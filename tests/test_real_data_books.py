"""Rebuild real Binance books from recordings with ``rentrade.OrderBook`` and check them against bookTicker.

The books are rebuilt from the REST snapshot plus the depth diffs that the documented sync rules let
through. Wherever a ``bookTicker`` carries the same update id ``u`` as the last applied diff, the
exchange's best bid and ask (price and quantity) must equal the rebuilt book's: one wrong level, one
missed or misordered diff, one rounding, and some of these comparisons fail.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from rentrade import BookSet, Instrument, OrderBook
from rentrade.events import FLAG_LAST_IN_MESSAGE, KIND_DELTA, empty_events
from rentrade.recordings import RecordingError, open_recording
from rentrade.venues.binance_usdm.book_sync import FUTURES_RULE, SPOT_RULE
from rentrade.venues.binance_usdm.instruments import instruments_from_exchange_info
from rentrade.venues.binance_usdm.replay import SymbolReplay, cross_check_bbo, replay_binance

pytestmark = pytest.mark.recordings

# Deep enough that no level of a 1000-level snapshot plus the diffs' far levels is ever dropped.
MAX_LEVELS = 100_000


@dataclass
class Rebuild:
    compared: int = 0
    matched: int = 0
    crossed: int = 0
    messages: int = 0


def rebuild(replay: SymbolReplay) -> Rebuild:
    """Apply the replayed records message by message to a fresh OrderBook; compare with every quote."""
    book = OrderBook(replay.instrument, MAX_LEVELS)
    events = empty_events(replay.events.size)
    events[...] = replay.events
    events["instrument_id"] = book.instrument_id  # a lone OrderBook only takes its own id
    quotes: dict[int, list[tuple[tuple[int, int], tuple[int, int]]]] = {}
    for q in replay.checkpoints:
        quotes.setdefault(int(q["seq"]), []).append(
            (
                (int(q["bid_px_ticks"]), int(q["bid_qty_lots"])),
                (int(q["ask_px_ticks"]), int(q["ask_qty_lots"])),
            ),
        )
    result = Rebuild()
    start = 0
    for end in np.flatnonzero(events["flags"] & FLAG_LAST_IN_MESSAGE):
        message = events[start : end + 1]
        start = int(end) + 1
        assert book.apply_events(message) == message.size
        result.messages += 1
        # Never crossed once a whole message is in (inside one, a level may move before its partner).
        if book.is_crossed():
            result.crossed += 1
        if message["kind"][-1] != KIND_DELTA:
            continue
        assert book.seq == int(message["seq"][-1])
        for bid, ask in quotes.get(book.seq, ()):
            result.compared += 1
            assert (book.best_bid(), book.best_ask()) == (bid, ask), f"u={book.seq}"
            result.matched += 1
    assert start == events.size, "records after the last end-of-message flag"
    assert book.dropped_levels == 0
    return result


# --------------------------------------------------------------------------------------------------
# hftbacktest: one symbol per file, REST snapshot in-band


@pytest.mark.parametrize(
    ("relative", "instrument", "rule", "counts"),
    [
        (
            "hftbacktest/examples/usdm/btcusdt_20240808.gz",
            Instrument("BTCUSDT", "binance_usdm", "0.10", "0.001"),
            FUTURES_RULE,
            (6547, 4, 629),
        ),
        (
            "hftbacktest/examples/usdm/ethusdt_20240808.gz",
            Instrument("ETHUSDT", "binance_usdm", "0.01", "0.001"),
            FUTURES_RULE,
            (6581, 5, 551),
        ),
        # Lot 1e-8 rather than the 0.00001 step: resting levels such as 25.42618900 BTC at 200000.00
        # hold quantities from before a step-size change.
        (
            "hftbacktest/examples/spot/btcusdt_20240808.gz",
            Instrument("BTCUSDT", "binance_spot", "0.01", "0.00000001"),
            SPOT_RULE,
            (3449, 2, 564),
        ),
    ],
    ids=["usdm-btcusdt", "usdm-ethusdt", "spot-btcusdt"],
)
def test_hftbacktest_books_match_every_book_ticker(
    shared_data: Path, relative: str, instrument: Instrument, rule: object, counts: tuple[int, int, int]
) -> None:
    applied, stale, expected = counts
    replay = replay_binance(shared_data / relative, instruments=[instrument])
    (sym,) = replay.symbols.values()
    assert sym.rule is rule
    # One snapshot, the whole chain applied (pu chain on futures, U == u+1 on spot), nothing lost:
    # every recorded diff is either applied or was older than the snapshot.
    assert (sym.snapshots, sym.gaps, sym.unsynced_at_end, sym.empty_diffs) == (1, 0, 0, 0)
    assert (sym.applied, sym.dropped_stale) == (applied, stale)
    result = rebuild(sym)
    assert result.crossed == 0
    assert (result.matched, result.compared) == (expected, expected)
    assert result.messages == 1 + applied


def test_hftbacktest_replay_infers_instruments(shared_data: Path) -> None:
    # Without instruments, tick and lot are one unit of the last decimal Binance prints (8 on spot):
    # finer than the real tick (0.01), so ticks differ, but every comparison still holds. Also checks
    # cross_check_bbo(), the helper the benchmark uses, against the counts of the test above.
    replay = replay_binance(shared_data / "hftbacktest/examples/spot/btcusdt_20240808.gz")
    sym = replay.symbols["BTCUSDT"]
    assert (sym.instrument.tick_size, sym.instrument.lot_size) == ("0.00000001", "0.00000001")
    assert sym.rule is SPOT_RULE
    check = cross_check_bbo(sym, MAX_LEVELS)
    assert (check.matched, check.compared, check.crossed, check.mismatches) == (564, 564, 0, [])


# --------------------------------------------------------------------------------------------------
# cryptofeed BINANCE_FUTURES: four symbols, REST snapshots in the http file, diffs in the ws file

CF_SYMBOLS = ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"]


def cryptofeed_paths(shared_data: Path) -> list[Path]:
    return sorted((shared_data / "cryptofeed-master/sample_data").glob("BINANCE_FUTURES.*"))


def cryptofeed_instruments(shared_data: Path) -> list[Instrument]:
    info = next(open_recording(shared_data / "cryptofeed-master/sample_data/BINANCE_FUTURES.0"))
    instruments = instruments_from_exchange_info(info.payload, CF_SYMBOLS)
    # The recorded exchangeInfo gives CTKUSDT tickSize 0.00100, but its REST snapshot has 131 resting
    # levels off that grid (0.50579, 1.56842, ...): orders left from before a tick-size change. The
    # diffs and quotes are all on the 0.001 grid. Use the 5 decimals Binance prints instead.
    instruments[3] = Instrument(
        "CTKUSDT",
        "binance_usdm",
        "0.00001",
        instruments[3].lot_size,
        instruments[3].min_qty,
        instruments[3].min_notional,
    )
    return instruments


def test_cryptofeed_stale_exchange_info_strict_is_refused_with_advice(shared_data: Path) -> None:
    with pytest.raises(
        RecordingError,
        match=r"bad line 4 in file .*BINANCE_FUTURES\.http\.0\.0: CTKUSDT depth snapshot: bad_decimal in "
        r"field 'bids' value '0\.50579'.*pass instruments= with finer sizes",
    ):
        replay_binance(cryptofeed_paths(shared_data), exchange_info="strict")


def test_cryptofeed_stale_exchange_info_by_default_falls_back_for_that_symbol_only(shared_data: Path) -> None:
    with pytest.warns(
        RuntimeWarning, match=r"CTKUSDT: exchangeInfo sizes \(tick 0\.001, lot 1\) cannot represent"
    ):
        replay = replay_binance(cryptofeed_paths(shared_data))
    ticks = {s: (r.instrument.tick_size, r.instrument_note is not None) for s, r in replay.symbols.items()}
    assert ticks == {
        "SUSHIUSDT": ("0.001", False),
        "AKROUSDT": ("0.00001", False),
        "KEEPUSDT": ("0.0001", False),
        "CTKUSDT": ("0.00001", True),
    }
    ctk = replay.symbols["CTKUSDT"]
    assert ctk.instrument_note is not None and "0.50579" in ctk.instrument_note
    assert float(ctk.instrument.min_notional) == 5  # kept from exchangeInfo
    assert replay.applied == 752


@pytest.mark.parametrize("how", ["instruments", "inferred"])
def test_cryptofeed_futures_books(shared_data: Path, how: str) -> None:
    if how == "instruments":
        instruments = cryptofeed_instruments(shared_data)
        replay = replay_binance(cryptofeed_paths(shared_data), instruments=instruments)
    else:
        replay = replay_binance(cryptofeed_paths(shared_data), exchange_info="ignore")
    assert list(replay.symbols) == CF_SYMBOLS
    # The MANIFEST's 764 depthUpdates: each applied after its symbol's snapshot or dropped as older.
    assert replay.applied + replay.dropped_stale == 764
    counts = {s: (r.applied, r.dropped_stale) for s, r in replay.symbols.items()}
    assert counts == {"SUSHIUSDT": (252, 3), "AKROUSDT": (188, 1), "KEEPUSDT": (132, 3), "CTKUSDT": (180, 5)}
    compared = {}
    for symbol, sym in replay.symbols.items():
        # The pu chain holds for all four: one snapshot each, no gap, nothing left waiting.
        assert (sym.rule, sym.snapshots, sym.gaps, sym.unsynced_at_end) == (FUTURES_RULE, 1, 0, 0), symbol
        result = rebuild(sym)
        assert result.crossed == 0, symbol
        assert result.matched == result.compared
        compared[symbol] = result.compared
    # Only 50 of the 613 bookTickers can be compared: with depth@100ms one diff covers ~100 ms of updates,
    # and only a quote whose u is a diff's last update shows a book state that was rebuilt exactly.
    # Of the rest, 559 have u strictly inside a diff's [U, u) (states between two diffs), 3 predate
    # the snapshot and 1 follows the last recorded diff.
    assert compared == {"SUSHIUSDT": 12, "AKROUSDT": 7, "KEEPUSDT": 13, "CTKUSDT": 18}
    assert sum(len(s.checkpoints) for s in replay.symbols.values()) == 613


def test_replay_events_feed_a_book_set(shared_data: Path) -> None:
    # The merged all-symbol array is what a benchmark feeds: it applies whole to a BookSet.
    replay = replay_binance(cryptofeed_paths(shared_data), instruments=cryptofeed_instruments(shared_data))
    books = BookSet(replay.instruments, MAX_LEVELS)
    assert books.apply_events(replay.events) == replay.events.size
    for sym in replay.symbols.values():
        book = books[sym.instrument_id]
        assert not book.is_crossed()
        assert book.seq == int(sym.events["seq"][-1])
