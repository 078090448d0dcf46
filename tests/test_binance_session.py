"""The live session end to end on loopback: simulated venue -> picows -> listener -> C++ feed.

Real recordings (hftbacktest, cryptofeed) and synthetic flow with injected faults are replayed by
:class:`SimBinanceUsdm` to :class:`BinanceUsdmSession`; the books must equal the venue's own and every
``bookTicker`` whose ``u`` equals the book's last applied ``u``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from rentrade import Instrument, OrderBook
from rentrade.sim.binance_usdm import SimBinanceUsdm
from rentrade.sim.faults import Fault, FaultPlan
from rentrade.sim.market_source import MarketSource, recording_source, synthetic_source
from rentrade.venues.binance_usdm.session import BinanceUsdmSession

pytestmark = pytest.mark.asyncio

HFT = "hftbacktest/examples/usdm"
CRYPTOFEED = "cryptofeed-master/sample_data"


@pytest.fixture(scope="module")
def hftbacktest_market(shared_data: Path) -> MarketSource:
    # Instruments given (prices carry 2 decimals, sizes 3): skips the full decimal scan of the files.
    instruments = [Instrument(s, "binance_usdm", "0.01", "0.001") for s in ("BTCUSDT", "ETHUSDT")]
    return recording_source(
        [shared_data / HFT / "btcusdt_20240808.gz", shared_data / HFT / "ethusdt_20240808.gz"],
        instruments=instruments,
        limit=25_000,
    )


@pytest.fixture(scope="module")
def cryptofeed_market(shared_data: Path) -> MarketSource:
    return recording_source(
        [
            shared_data / CRYPTOFEED / "BINANCE_FUTURES.http.0.0",
            shared_data / CRYPTOFEED / "BINANCE_FUTURES.ws.1.0",
        ]
    )


@pytest.fixture(scope="module")
def synthetic_market() -> MarketSource:
    return synthetic_source(4, events=8000, seed=11, snapshot_levels=100)


class TickerCheck:
    """``on_frame`` hook: compares the book with every bookTicker whose ``u`` the book reaches.

    A bookTicker can arrive before the depth diff that ends at its ``u`` (``@depth@100ms`` batches
    diffs), so quotes wait until the book's last applied ``u`` equals theirs (then compared) or passes
    it (the book never stood at that id: no comparison).
    """

    def __init__(self) -> None:
        self.session: BinanceUsdmSession | None = None
        self.compared = 0
        self.mismatches: list[Any] = []
        self.unhealthy_seen: dict[str, int] = {}
        self.pending: dict[str, list[tuple[int, Any]]] = {}
        self.snapshot_ids: set[int] = set()

    def on_rest(self, url: str, body: bytes, ts_local_ns: int) -> None:
        # A book whose last id came from a snapshot stands at "everything before the next diff", not
        # at a diff's u (the venue labels it with the next diff's U): quotes are compared to diffs only.
        if "/depth" in url:
            self.snapshot_ids.add(orjson.loads(body)["lastUpdateId"])

    def __call__(self, data: bytes, ts_local_ns: int, status: int) -> None:
        session = self.session
        assert session is not None
        symbols = session.feed.stats()["symbols"]
        for symbol in session.symbols:
            if symbols[symbol]["snapshots"] and not session.healthy(symbol):
                self.unhealthy_seen[symbol] = self.unhealthy_seen.get(symbol, 0) + 1
        if b"bookTicker" in data:
            ticker = orjson.loads(data)["data"]
            inst = session.book(ticker["s"]).instrument
            expected = (
                (inst.price_to_ticks(ticker["b"]), inst.qty_to_lots(ticker["B"])),
                (inst.price_to_ticks(ticker["a"]), inst.qty_to_lots(ticker["A"])),
            )
            self.pending.setdefault(ticker["s"], []).append((ticker["u"], expected))
        for symbol, quotes in self.pending.items():
            if not quotes or not session.healthy(symbol):
                continue
            book = session.book(symbol)
            keep = []
            for update_id, expected in quotes:
                if update_id > book.seq:
                    keep.append((update_id, expected))
                elif update_id == book.seq and update_id not in self.snapshot_ids:
                    self.compared += 1
                    if (book.best_bid(), book.best_ask()) != expected:
                        self.mismatches.append(
                            (symbol, update_id, (book.best_bid(), book.best_ask()), expected)
                        )
            quotes[:] = keep


def same_levels(a: OrderBook, b: OrderBook, depth: int = 100) -> bool:
    return bool(
        (a.levels(0, depth) == b.levels(0, depth)).all() and (a.levels(1, depth) == b.levels(1, depth)).all()
    )


def new_session(venue: SimBinanceUsdm, source: MarketSource, **kwargs: Any) -> BinanceUsdmSession:
    options: dict[str, Any] = {
        "ws_url": venue.ws_url,
        "rest_url": venue.rest_url,
        "reconnect_min_s": 0.02,
        "reconnect_max_s": 0.2,
        "snapshot_retry_s": 0.05,
    }
    options.update(kwargs)
    return BinanceUsdmSession([i.symbol for i in source.instruments], **options)


async def wait_until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def run_to_end(venue: SimBinanceUsdm, session: BinanceUsdmSession, timeout_s: float = 20.0) -> None:
    await venue.wait_done(timeout_s)
    await asyncio.sleep(0.05)
    await session.wait_synced(timeout_s=timeout_s)
    await asyncio.sleep(0.05)


def assert_books_match_venue(venue: SimBinanceUsdm, session: BinanceUsdmSession) -> None:
    for symbol in session.symbols:
        venue_book = venue.book(symbol)
        assert venue_book is not None, symbol
        assert same_levels(session.book(symbol), venue_book), symbol


# --------------------------------------------------------------------------------------------------
# real recordings through the socket path


async def test_hftbacktest_recording_over_loopback(hftbacktest_market: MarketSource) -> None:
    check = TickerCheck()
    async with SimBinanceUsdm(hftbacktest_market) as venue:
        session = new_session(
            venue,
            hftbacktest_market,
            channels=("depth@0ms", "bookTicker", "trade"),
            on_frame=check,
            on_rest=check.on_rest,
        )
        check.session = session
        async with session:
            await run_to_end(venue, session)
            assert_books_match_venue(venue, session)
            stats = session.stats()
            assert stats["feed"]["gaps"] == 0 and stats["bad_frames"] == 0
            assert stats["feed"]["trades"] > 0
    assert check.compared > 10 and not check.mismatches, check.mismatches[:3]


async def test_cryptofeed_recording_over_loopback_two_routes(cryptofeed_market: MarketSource) -> None:
    check = TickerCheck()
    # 20x the recorded pace (30 s in 1.5 s): as fast as possible, all 1,535 frames would be gone
    # before the first snapshot arrives and no bookTicker would meet a synced book.
    async with SimBinanceUsdm(cryptofeed_market, speed=20.0) as venue:
        session = new_session(
            venue,
            cryptofeed_market,
            channels=("depth@100ms", "bookTicker", "aggTrade"),
            on_frame=check,
            on_rest=check.on_rest,
        )
        check.session = session
        async with session:
            await run_to_end(venue, session)
            assert_books_match_venue(venue, session)
            # depth + bookTicker on /public, aggTrade on /market: two connections, nothing misrouted.
            assert session.stats()["connections"] == 2
            assert venue.stats()["misrouted_subscriptions"] == 0
            assert session.stats()["feed"]["trades"] > 0
    assert check.compared > 10 and not check.mismatches, check.mismatches[:3]


# --------------------------------------------------------------------------------------------------
# faults


async def test_gaps_duplicates_reorders_malformed_resync_one_symbol(synthetic_market: MarketSource) -> None:
    faulted = "BTCUSDT"
    btc_depth = [
        i for i, m in enumerate(synthetic_market.messages) if m.symbol == faulted and m.channel == "depth"
    ]
    plan = FaultPlan(
        seed=5,
        at={
            Fault.DROP: {btc_depth[300], btc_depth[900]},
            Fault.DUPLICATE: {btc_depth[400]},
            Fault.REORDER: {btc_depth[500]},
            Fault.MALFORMED: {btc_depth[700]},
        },
        duplicate=0.01,
        symbols={faulted},
        channels={"depth"},
    )
    check = TickerCheck()
    async with SimBinanceUsdm(synthetic_market, faults=plan, batch=32) as venue:
        session = new_session(
            venue,
            synthetic_market,
            channels=("depth@100ms", "bookTicker"),
            on_frame=check,
            on_rest=check.on_rest,
        )
        check.session = session
        async with session:
            await run_to_end(venue, session)
            assert_books_match_venue(venue, session)
            feed = session.stats()["feed"]["symbols"]
            assert feed[faulted]["gaps"] >= 3  # two drops, the reorder (and the cut frame's diff)
            assert feed[faulted]["snapshots"] >= 4
            assert session.stats()["bad_frames"] >= 1
            for other in session.symbols:
                if other != faulted:
                    assert feed[other]["gaps"] == 0 and feed[other]["snapshots"] == 1
    stats = venue.stats()
    assert stats["fault_drop"] == 2 and stats["fault_malformed"] == 1 and stats["fault_reorder"] == 1
    # The faulted symbol's book was marked unhealthy while it resynced; the others never were.
    assert check.unhealthy_seen.get(faulted, 0) > 0
    assert set(check.unhealthy_seen) == {faulted}
    assert check.compared > 100 and not check.mismatches, check.mismatches[:3]


async def test_disconnect_reconnects_and_resyncs(synthetic_market: MarketSource) -> None:
    n = len(synthetic_market.messages)
    plan = FaultPlan(at={Fault.DISCONNECT: {n // 3, 2 * n // 3}})
    async with SimBinanceUsdm(synthetic_market, faults=plan, batch=32, speed=None) as venue:
        session = new_session(venue, synthetic_market)  # the Cython listener path
        async with session:
            await run_to_end(venue, session)
            assert_books_match_venue(venue, session)
            stats = session.stats()
            assert stats["disconnects"] >= 1 and stats["connects"] >= 2
            assert stats["feed"]["snapshots"] > len(session.symbols)


async def test_silent_connection_is_detected(synthetic_market: MarketSource) -> None:
    n = len(synthetic_market.messages)
    plan = FaultPlan(at={Fault.STALL: {n // 2}}, stall_s=3.0)
    async with SimBinanceUsdm(synthetic_market, faults=plan, batch=32) as venue:
        session = new_session(venue, synthetic_market, idle_timeout_s=0.2, pong_timeout_s=0.2)
        async with session:
            # The stalled connection looks healthy until the missing pong gives it away.
            await wait_until(lambda: session.stats()["disconnects"] >= 1)
            await run_to_end(venue, session)
            assert_books_match_venue(venue, session)
            stats = session.stats()
            assert stats["disconnects"] >= 1 and stats["connects"] >= 2
    assert venue.stats()["fault_stall"] == 1


async def test_slow_snapshot_and_rotation(synthetic_market: MarketSource) -> None:
    plan = FaultPlan(snapshot_delay_s=0.2)
    # Paced so the run lasts about a second and the 0.3 s rotation happens during it.
    async with SimBinanceUsdm(synthetic_market, faults=plan, speed=400.0) as venue:
        session = new_session(venue, synthetic_market, rotate_after_s=0.3)
        async with session:
            await run_to_end(venue, session)
            # Usually during the run; on a loaded machine the session may connect late, so allow the
            # next rotation (every 0.3 s) to come after the market has ended.
            await wait_until(lambda: session.stats()["rotations"] >= 1)

            # Rotation goes on every 0.3 s and each one resyncs the connection's symbols: compare at
            # a moment when every book is synced.
            def synced_and_equal() -> bool:
                return not session.unhealthy_symbols() and all(
                    same_levels(session.book(s), venue.book(s))
                    for s in session.symbols  # type: ignore[arg-type]
                )

            await wait_until(synced_and_equal)


async def test_streams_spread_over_connections() -> None:
    source = synthetic_source(12, events=4000, seed=3, snapshot_levels=50)
    async with SimBinanceUsdm(source) as venue:
        session = new_session(
            venue, source, channels=("depth@100ms", "bookTicker"), max_streams_per_connection=6
        )
        async with session:
            assert session.stats()["connections"] == 4  # 12 symbols x 2 streams / 6 per connection
            await run_to_end(venue, session)
            assert_books_match_venue(venue, session)
        assert venue.stats()["connections"] == 4


async def test_wrong_route_is_refused_by_configuration() -> None:
    with pytest.raises(ValueError, match="depth"):
        BinanceUsdmSession(["BTCUSDT"], channels=("bookTicker",))
    with pytest.raises(ValueError, match="snapshot_limit"):
        BinanceUsdmSession(["BTCUSDT"], snapshot_limit=7)


@pytest.mark.parametrize("read_buffer_size", [2048, 1 << 20])
async def test_prepared_stream_into_the_session(read_buffer_size: int) -> None:
    # The venue's prepared stream (large writes) into the live path with the smallest and a large
    # read buffer: every frame applied, no gap, books equal the venue's.
    source = synthetic_source(3, events=30_000, seed=5, snapshot_levels=100, agg_trade=False)
    async with SimBinanceUsdm(source, start_on_subscribe=False, batch=4096) as venue:
        session = new_session(
            venue,
            source,
            channels=("depth@100ms", "bookTicker", "trade"),
            read_buffer_size=read_buffer_size,
        )
        async with session:
            assert venue.prepare_stream() > 0
            before = session.feed.stats()["frames"]
            venue.start_market()
            await wait_until(lambda: session.feed.stats()["frames"] >= before + len(source.messages))
            await run_to_end(venue, session)
            assert venue.stats()["prepared_batches_sent"] > 0
            stats = session.stats()
            assert stats["bad_frames"] == 0 and stats["feed"]["gaps"] == 0
            assert_books_match_venue(venue, session)
    with pytest.raises(ValueError, match="read_buffer_size"):
        BinanceUsdmSession(["BTCUSDT"], read_buffer_size=100)
