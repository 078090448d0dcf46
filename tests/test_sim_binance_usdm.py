"""The simulated Binance USD-M venue: protocol, REST, faults, and books an independent client rebuilds.

The client here is deliberately not rentrade's live path: raw picows frames go through the Python
reference decoder and :class:`BookSync` (the documented rules), so these tests check the venue
against the rules, not against the code that consumes it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import orjson
import pytest
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from rentrade import BookSet, Instrument, OrderBook
from rentrade.sim.binance_usdm import SimBinanceUsdm
from rentrade.sim.faults import Fault, FaultPlan
from rentrade.sim.market_source import MarketSource, synthetic_source
from rentrade.venues.binance_usdm.book_sync import FUTURES_RULE, BookSync, SyncVerdict
from rentrade.venues.binance_usdm.instruments import instruments_from_exchange_info
from rentrade.venues.binance_usdm.messages import MessageDecoder

pytestmark = pytest.mark.asyncio


@pytest.fixture(scope="module")
def small_market() -> MarketSource:
    return synthetic_source(3, events=6_000, seed=7, snapshot_levels=200)


class Client(WSListener):
    """Collects text frames; optionally does not answer pings."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: list[bytes] = []
        self.closed = asyncio.Event()
        self.got = asyncio.Event()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            self.frames.append(frame.get_payload_as_bytes())
            self.got.set()

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed.set()

    async def reply(self, request_id: int, timeout: float = 5.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for raw in self.frames:
                if b'"id"' in raw and b'"stream"' not in raw:
                    message = orjson.loads(raw)
                    if message.get("id") == request_id:
                        return message
            self.got.clear()
            await asyncio.wait_for(self.got.wait(), timeout)
        raise TimeoutError(f"no reply to request {request_id}")


async def connect(url: str, **kwargs: Any) -> tuple[WSTransport, Client]:
    transport, client = await ws_connect(Client, url, **kwargs)
    return transport, client


def send(transport: WSTransport, obj: Any) -> None:
    transport.send(WSMsgType.TEXT, orjson.dumps(obj))


async def get(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.read()


# --------------------------------------------------------------------------------------------------
# protocol


async def test_subscribe_list_unsubscribe_and_properties(small_market: MarketSource) -> None:
    async with SimBinanceUsdm(small_market, start_on_subscribe=False) as venue:
        transport, client = await connect(f"{venue.ws_url}/public/stream?streams=btcusdt@depth@100ms")
        send(transport, {"method": "SUBSCRIBE", "params": ["syn0001usdt@bookTicker"], "id": 1})
        assert await client.reply(1) == {"result": None, "id": 1}
        send(transport, {"method": "LIST_SUBSCRIPTIONS", "id": 2})
        assert await client.reply(2) == {"result": ["btcusdt@depth@100ms", "syn0001usdt@bookTicker"], "id": 2}
        send(transport, {"method": "UNSUBSCRIBE", "params": ["btcusdt@depth@100ms"], "id": 3})
        assert await client.reply(3) == {"result": None, "id": 3}
        send(transport, {"method": "GET_PROPERTY", "params": ["combined"], "id": 4})
        assert await client.reply(4) == {"result": True, "id": 4}
        send(transport, {"method": "SET_PROPERTY", "params": ["combined", False], "id": 5})
        assert await client.reply(5) == {"result": None, "id": 5}
        send(transport, {"method": "SUBSCRIBE", "params": ["nosuchusdt@depth"], "id": 6})
        reply = await client.reply(6)
        assert reply["code"] == 2 and "invalid stream" in reply["msg"]
        send(transport, {"method": "PUBLISH", "params": [], "id": 7})
        assert (await client.reply(7))["code"] == 2
        transport.send(WSMsgType.TEXT, b"{not json")
        await asyncio.sleep(0.05)
        assert any(orjson.loads(f).get("code") == 3 for f in client.frames if b'"code"' in f)
        transport.disconnect()


async def test_combined_and_raw_framing_and_routing(small_market: MarketSource) -> None:
    # The market starts once both clients are subscribed: started by the first subscription, the small
    # market could be over before the second client connects (seen on a loaded machine).
    async with SimBinanceUsdm(small_market, start_on_subscribe=False) as venue:
        t1, combined = await connect(f"{venue.ws_url}/public/stream?streams=btcusdt@depth/btcusdt@aggTrade")
        t2, raw = await connect(f"{venue.ws_url}/market/ws/btcusdt@aggTrade")
        venue.start_market()
        await venue.wait_done(20)
        await asyncio.sleep(0.1)
        streams = {orjson.loads(f)["stream"] for f in combined.frames}
        # aggTrade lives on /market: subscribed on /public it is listed but never delivered.
        assert streams == {"btcusdt@depth"}
        assert venue.stats()["misrouted_subscriptions"] == 1
        events = {orjson.loads(f)["e"] for f in raw.frames}
        assert events == {"aggTrade"}
        t1.disconnect()
        t2.disconnect()


async def test_unknown_path_is_refused(small_market: MarketSource) -> None:
    from picows import WSHandshakeError

    async with SimBinanceUsdm(small_market) as venue:
        with pytest.raises(WSHandshakeError):
            await connect(f"{venue.ws_url}/nope")


async def test_request_rate_limit_closes_the_connection(small_market: MarketSource) -> None:
    async with SimBinanceUsdm(small_market, start_on_subscribe=False) as venue:
        transport, client = await connect(f"{venue.ws_url}/public/ws")
        for request_id in range(12):
            send(transport, {"method": "LIST_SUBSCRIPTIONS", "id": request_id})
        await asyncio.wait_for(client.closed.wait(), 5)
        assert venue.stats()["rate_limit_disconnects"] == 1


async def test_server_pings_and_closes_without_pong(small_market: MarketSource) -> None:
    async with SimBinanceUsdm(small_market, ping_interval_s=0.05, pong_timeout_s=0.3) as venue:
        _, answering = await connect(f"{venue.ws_url}/public/ws")
        _, silent = await connect(f"{venue.ws_url}/public/ws", enable_auto_pong=False)
        await asyncio.wait_for(silent.closed.wait(), 5)
        assert not answering.closed.is_set()
        stats = venue.stats()
        assert stats["pings_sent"] > 2 and stats["pongs_received"] > 0 and stats["pong_timeouts"] == 1


# --------------------------------------------------------------------------------------------------
# REST


async def test_rest_depth_and_exchange_info(small_market: MarketSource) -> None:
    async with SimBinanceUsdm(small_market) as venue:
        status, body = await get(f"{venue.rest_url}/fapi/v1/exchangeInfo")
        assert status == 200
        assert instruments_from_exchange_info(body) == small_market.instruments
        status, body = await get(f"{venue.rest_url}/fapi/v1/depth?symbol=BTCUSDT&limit=5")
        snapshot = orjson.loads(body)
        assert status == 200 and len(snapshot["bids"]) == 5 and len(snapshot["asks"]) == 5
        first_diff = next(m for m in small_market.messages if m.symbol == "BTCUSDT" and m.channel == "depth")
        assert first_diff.first_id <= snapshot["lastUpdateId"] <= first_diff.last_id
        assert [float(p) for p, _ in snapshot["bids"]] == sorted(
            (float(p) for p, _ in snapshot["bids"]), reverse=True
        )
        for url, code in (
            ("/fapi/v1/depth?symbol=BTCUSDT&limit=7", -1130),
            ("/fapi/v1/depth?symbol=NOPE", -1121),
            ("/fapi/v1/depth", -1102),
        ):
            status, body = await get(venue.rest_url + url)
            assert status == 400 and orjson.loads(body)["code"] == code


# --------------------------------------------------------------------------------------------------
# books: a client following Binance's documented rules ends with the venue's book


class ReferenceClient:
    """Binance's documented sync procedure, with the Python reference decoder (not the C++ feed)."""

    def __init__(self, instruments: list[Instrument]) -> None:
        self.decoder = MessageDecoder(instruments)
        self.book_set = BookSet(instruments, max_levels=1_000_000)
        self.books = {i.symbol: self.book_set[n] for n, i in enumerate(instruments)}
        self.sync = {i.symbol: BookSync(FUTURES_RULE) for i in instruments}
        self.gaps = dict.fromkeys(self.books, 0)
        self.bad = 0

    def on_frame(self, raw: bytes) -> None:
        if b'"stream"' not in raw:
            return
        try:
            parsed = self.decoder.parse_frame(raw)
        except ValueError:
            self.bad += 1
            return
        if parsed is None or parsed[0] != "depthUpdate":
            return
        message = self.decoder.decode_depth_update(parsed[1], 0)
        verdict = self.sync[message.symbol].on_diff(
            message.first_update_id, message.last_update_id, message.prev_update_id, message
        )
        if verdict is SyncVerdict.APPLY:
            self.book_set.apply_events(message.events)
        elif verdict is SyncVerdict.GAP:
            self.gaps[message.symbol] += 1

    def on_snapshot(self, symbol: str, body: bytes) -> bool:
        snapshot = self.decoder.decode_depth_snapshot(body, symbol, 0)
        outcome = self.sync[symbol].on_snapshot(snapshot.last_update_id)
        if outcome.verdict is not SyncVerdict.APPLY:
            return False
        self.book_set.apply_events(snapshot.events)  # starts with CLEAR
        for message in outcome.ready:
            self.book_set.apply_events(message.events)
        return True


def same_top(a: OrderBook, b: OrderBook, depth: int) -> bool:
    return (a.levels(0, depth) == b.levels(0, depth)).all() and (
        a.levels(1, depth) == b.levels(1, depth)
    ).all()


@pytest.mark.parametrize(
    "plan",
    [
        FaultPlan(),
        FaultPlan(seed=3, drop=0.002, duplicate=0.01, reorder=0.005, malformed=0.002, channels={"depth"}),
        FaultPlan(snapshot_delay_s=0.2),
    ],
    ids=["clean", "drop-dup-reorder-malformed", "slow-snapshot"],
)
async def test_reference_client_rebuilds_the_venue_book(small_market: MarketSource, plan: FaultPlan) -> None:
    async with SimBinanceUsdm(small_market, faults=plan, batch=64) as venue:
        ref = ReferenceClient(small_market.instruments)

        class Feeder(Client):
            def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
                if frame.msg_type == WSMsgType.TEXT:
                    ref.on_frame(frame.get_payload_as_bytes())

        streams = "/".join(f"{i.symbol.lower()}@depth@100ms" for i in small_market.instruments)
        transport, _ = await ws_connect(Feeder, f"{venue.ws_url}/public/stream?streams={streams}")
        async with aiohttp.ClientSession() as http:
            while True:
                for symbol, sync in ref.sync.items():
                    if not sync.synced:
                        async with http.get(
                            f"{venue.rest_url}/fapi/v1/depth?symbol={symbol}&limit=1000"
                        ) as r:
                            ref.on_snapshot(symbol, await r.read())
                if venue.done and all(s.synced for s in ref.sync.values()):
                    break
                await asyncio.sleep(0.02)
        await asyncio.sleep(0.1)
        for symbol, book in ref.books.items():
            venue_book = venue.book(symbol)
            assert venue_book is not None
            assert book.seq == venue_book.seq
            assert same_top(book, venue_book, 100), symbol
        if plan.drop or plan.malformed:
            stats = venue.stats()
            assert stats["fault_drop"] + stats["fault_malformed"] > 0
            assert sum(ref.gaps.values()) > 0
        transport.disconnect()


async def test_fault_at_message_n_is_deterministic(small_market: MarketSource) -> None:
    index = next(
        i
        for i, m in enumerate(small_market.messages)
        if m.symbol == "BTCUSDT" and m.channel == "depth" and i > 1000
    )
    plan = FaultPlan(at={Fault.DROP: {index}})
    async with SimBinanceUsdm(small_market, faults=plan) as venue:
        transport, client = await connect(f"{venue.ws_url}/public/stream?streams=btcusdt@depth")
        await venue.wait_done(20)
        await asyncio.sleep(0.1)
        seen = {orjson.loads(f)["data"]["u"] for f in client.frames}
        assert small_market.messages[index].last_id not in seen
        assert venue.stats()["fault_drop"] == 1
        transport.disconnect()


async def test_recorded_pace(small_market: MarketSource) -> None:
    # 1000x the synthetic clock (about 10k messages/s of exchange time): the first 300 messages span
    # a known time, and the venue must not send them faster.
    messages = small_market.messages[:300]
    span_s = (messages[-1].ts_ns - messages[0].ts_ns) / 1e9 / 1000
    source = MarketSource("prefix", small_market.instruments, messages, small_market.openings)
    async with SimBinanceUsdm(source, speed=1000.0) as venue:
        transport, _ = await connect(f"{venue.ws_url}/public/stream?streams=btcusdt@depth")
        start = time.monotonic()
        await venue.wait_done(30)
        assert time.monotonic() - start >= span_s * 0.9
        transport.disconnect()
