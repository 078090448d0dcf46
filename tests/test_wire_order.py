"""Wire-to-order: a depth frame through the C++ trader to a signed order the simulated venue accepts.

The socket test runs the whole path on loopback: the simulated venue writes a crafted depth diff,
picows hands it to the Cython BinanceTraderListener, the C++ feed, engine and encoder turn it into a
signed ``order.place``, picows sends it on the order connection, and the venue's WebSocket API
endpoint verifies the HMAC and acknowledges it; the answer goes back to the engine.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import time
from typing import Any

import orjson
import pytest
from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from rentrade import BinanceFeed, BinanceTrader, Engine, FrameStatus, Instrument
from rentrade import orders as records
from rentrade.bench.wire_order_bench import TEST_API_KEY, TEST_SECRET, build_frames, measure_wire_order
from rentrade.credentials import Credentials
from rentrade.sim.binance_usdm import SimBinanceOrderApi, SimBinanceUsdm
from rentrade.sim.market_source import synthetic_source
from rentrade.venues.binance_usdm.orders import order_encoder, report_from_response
from rentrade.wire.binance_trader import BinanceTraderListener, ReplyListener
from rentrade.wire.order_connection import connect_orders

SYMBOL = "BTCUSDT"


def instrument() -> Instrument:
    return Instrument(SYMBOL, "binance_usdm", "0.10", "0.001")


def make_trader(secret: str = TEST_SECRET) -> BinanceTrader:
    inst = instrument()
    feed = BinanceFeed([inst])
    engine = Engine([inst], weights={"imbalance": 1.0}, threshold=0.5, qty_lots=1, stop_distance=10)
    encoder = order_encoder([inst], Credentials(TEST_API_KEY, secret=secret))
    return BinanceTrader(feed, engine, encoder)


def signed(params: dict[str, Any], secret: str = TEST_SECRET, method: str = "order.place") -> bytes:
    params = {**params, "apiKey": TEST_API_KEY, "timestamp": time.time_ns() // 1_000_000}
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["signature"] = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    return orjson.dumps({"id": "req-1", "method": method, "params": params})


def test_trader_turns_each_crossing_frame_into_one_signed_order() -> None:
    trader = make_trader()
    snapshot, frames = build_frames(SYMBOL, "0.10", "0.001", 3)
    assert trader.feed.apply_snapshot(SYMBOL, snapshot, time.time_ns()) is FrameStatus.OK
    now = time.time_ns()
    assert trader.on_frame(frames[0], now) == FrameStatus.OK
    sent = trader.take_pending()
    assert len(sent) == 1
    request = orjson.loads(sent[0])
    assert request["method"] == "order.place"
    params = request["params"]
    assert (params["side"], params["type"], params["timeInForce"]) == ("BUY", "LIMIT", "IOC")
    assert (params["price"], params["quantity"], params["apiKey"]) == ("100.1", "0.001", TEST_API_KEY)
    assert params["timestamp"] == now // 1_000_000
    body = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "signature")
    assert params["signature"] == hmac.new(TEST_SECRET.encode(), body.encode(), hashlib.sha256).hexdigest()
    # Still entering (no answer yet): the opposite crossing places nothing.
    assert trader.on_frame(frames[1], now + 1) == FrameStatus.OK
    assert trader.pending == 0
    # The venue's EXPIRED answer makes the strategy flat; the next crossing enters again.
    answer = orjson.dumps({"id": request["id"], "status": 200, "result": {"status": "EXPIRED"}})
    report = report_from_response(answer, trader.engine)
    assert report is not None and int(report["kind"][0]) == records.REPORT_CANCELLED
    trader.on_reports(report)
    assert trader.on_frame(frames[2], now + 2) == FrameStatus.OK
    assert trader.pending == 1
    assert trader.counters["frames"] == 3 and trader.counters["encode_errors"] == 0


def test_unsendable_orders_are_rejected_back_to_the_engine() -> None:
    trader = make_trader()
    snapshot, frames = build_frames(SYMBOL, "0.10", "0.001", 1)
    trader.feed.apply_snapshot(SYMBOL, snapshot, time.time_ns())
    trader.on_frame(frames[0], time.time_ns())
    assert trader.pending == 1 and trader.engine.counters["new_orders"] == 1
    trader.reject_pending()
    assert trader.pending == 0 and trader.counters["unsent"] == 1
    assert trader.engine.counters["working_orders"] == 0


def test_capturing_events_cannot_silently_disconnect_a_trader() -> None:
    trader = make_trader()
    with pytest.raises(ValueError, match="already feeds a sink"):
        trader.feed.capture_events(True)
    snapshot, frames = build_frames(SYMBOL, "0.10", "0.001", 1)
    trader.feed.apply_snapshot(SYMBOL, snapshot, time.time_ns())
    trader.on_frame(frames[0], time.time_ns())
    assert trader.engine.counters["new_orders"] == 1  # the engine still sees the frames


def test_trader_refuses_mismatched_instruments() -> None:
    inst = instrument()
    feed = BinanceFeed([Instrument("ETHUSDT", "binance_usdm", "0.01", "0.001")])
    engine = Engine([inst], weights={"imbalance": 1.0}, qty_lots=1)
    with pytest.raises(ValueError, match="ETHUSDT in the feed but BTCUSDT in the engine"):
        BinanceTrader(feed, engine, order_encoder([inst], None))


def test_order_api_verifies_signatures_and_answers_like_binance() -> None:
    api = SimBinanceOrderApi([instrument()], api_key=TEST_API_KEY, secret=TEST_SECRET)
    place = {
        "symbol": SYMBOL,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.002",
        "price": "100.1",
        "newClientOrderId": "rt-7",
    }
    ok = orjson.loads(api.handle(signed(place)))
    assert ok["status"] == 200 and ok["id"] == "req-1"
    assert ok["result"]["status"] == "NEW" and ok["result"]["clientOrderId"] == "rt-7"
    assert ok["rateLimits"][0]["rateLimitType"] == "REQUEST_WEIGHT"
    bad = orjson.loads(api.handle(signed(place, secret="not-the-secret")))
    assert bad["status"] == 400 and bad["error"] == {
        "code": -1022,
        "msg": "Signature for this request is not valid.",
    }
    fine = orjson.loads(api.handle(signed(dict(place, price="100.15"))))
    assert fine["error"]["code"] == -1111
    assert orjson.loads(api.handle(signed(dict(place, symbol="NOPE"))))["error"]["code"] == -1121
    cancel = {"symbol": SYMBOL, "origClientOrderId": "rt-7"}
    assert orjson.loads(api.handle(signed(cancel, method="order.cancel")))["result"]["status"] == "CANCELED"
    assert orjson.loads(api.handle(signed(cancel, method="order.cancel")))["error"]["code"] == -2011
    assert orjson.loads(api.handle(b"{not json"))["error"]["code"] == -1000
    assert api.stats_counter == {"requests": 7, "accepted": 2, "rejected": 5}
    assert api.errors == {-1022: 1, -1111: 1, -1121: 1, -2011: 1, -1000: 1}


def test_order_api_refuses_an_old_timestamp() -> None:
    api = SimBinanceOrderApi([instrument()], api_key=TEST_API_KEY, secret=TEST_SECRET, recv_window_ms=1000)
    params = {"symbol": SYMBOL, "origClientOrderId": "rt-1", "apiKey": TEST_API_KEY}
    params["timestamp"] = time.time_ns() // 1_000_000 - 5_000
    payload = "&".join(f"{k}={params[k]}" for k in sorted(params))
    params["signature"] = hmac.new(TEST_SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()
    answer = orjson.loads(api.handle(orjson.dumps({"id": 1, "method": "order.cancel", "params": params})))
    assert answer["error"]["code"] == -1021


class _Collect(WSListener):
    def __init__(self) -> None:
        super().__init__()
        self.frames: list[bytes] = []

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.TEXT:
            self.frames.append(frame.get_payload_as_bytes())


async def _until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.005)


@pytest.mark.asyncio
async def test_frame_on_the_socket_becomes_an_order_the_venue_accepts() -> None:
    source = synthetic_source(1, events=2_000, seed=1, agg_trade=False)
    inst = source.instruments[0]
    venue = SimBinanceUsdm(source, start_on_subscribe=False)
    api = SimBinanceOrderApi(source.instruments, api_key=TEST_API_KEY, secret=TEST_SECRET)
    arrivals: list[int] = []
    api.on_request = arrivals.append
    await venue.start()
    await api.start()
    try:
        feed = BinanceFeed([inst])
        engine = Engine([inst], weights={"imbalance": 1.0}, threshold=0.5, qty_lots=1, stop_distance=10)
        encoder = order_encoder([inst], Credentials(TEST_API_KEY, secret=TEST_SECRET))
        trader = BinanceTrader(feed, engine, encoder)
        snapshot, frames = build_frames(inst.symbol, inst.tick_size, inst.lot_size, 4)
        assert feed.apply_snapshot(inst.symbol, snapshot, time.time_ns()) is FrameStatus.OK
        controls: list[tuple[int, bytes]] = []
        _, market_ = await ws_connect(
            lambda: BinanceTraderListener(trader, lambda s, p: controls.append((s, p))),
            f"{venue.ws_url}/ws/{inst.symbol.lower()}@depth@0ms",
        )
        market: Any = market_
        await _until(lambda: venue.connections == 1)
        # No order connection yet: the order is rejected back, nothing is lost or left working.
        venue.send_text(frames[0])
        await _until(lambda: trader.counters["frames"] == 1)
        assert trader.counters["unsent"] == 1 and engine.counters["working_orders"] == 0
        transport, orders = await connect_orders(api.url, market)
        assert market.order_transport is transport
        for k, frame in enumerate(frames[1:], start=1):
            venue.send_text(frame)
            await _until(lambda k=k: orders.reports == k)
        assert controls == []
        assert api.stats_counter == {"requests": 3, "accepted": 3, "rejected": 0}
        assert len(arrivals) == 3 and market.orders_sent == 3
        assert trader.counters["sent"] == 3
        histogram = trader.wire_to_order
        assert histogram.count == 3 and 0 < histogram.percentile(50) < 50_000_000
        assert engine.counters["working_orders"] == 0  # every IOC came back EXPIRED
        transport.disconnect()
        market.transport.disconnect()
    finally:
        await api.stop()
        await venue.stop()


@pytest.mark.asyncio
async def test_bad_signature_is_rejected_back_through_the_engine() -> None:
    source = synthetic_source(1, events=2_000, seed=1, agg_trade=False)
    inst = source.instruments[0]
    venue = SimBinanceUsdm(source, start_on_subscribe=False)
    api = SimBinanceOrderApi(source.instruments, api_key=TEST_API_KEY, secret=TEST_SECRET)
    await venue.start()
    await api.start()
    try:
        feed = BinanceFeed([inst])
        engine = Engine([inst], weights={"imbalance": 1.0}, threshold=0.5, qty_lots=1, stop_distance=10)
        wrong = Credentials(TEST_API_KEY, secret="wrong-secret-wrong-secret")
        trader = BinanceTrader(feed, engine, order_encoder([inst], wrong))
        snapshot, frames = build_frames(inst.symbol, inst.tick_size, inst.lot_size, 1)
        feed.apply_snapshot(inst.symbol, snapshot, time.time_ns())
        _, market_ = await ws_connect(
            lambda: BinanceTraderListener(trader, lambda s, p: None),
            f"{venue.ws_url}/ws/{inst.symbol.lower()}@depth@0ms",
        )
        market: Any = market_
        transport, orders = await connect_orders(api.url, market)
        await _until(lambda: venue.connections == 1)
        venue.send_text(frames[0])
        await _until(lambda: orders.responses == 1)
        assert api.errors == {-1022: 1}
        assert orders.last_error is not None and b"-1022" in orders.last_error
        assert engine.counters["working_orders"] == 0  # the reject released the order
        transport.disconnect()
        market.transport.disconnect()
    finally:
        await api.stop()
        await venue.stop()


class _Greeter(_Collect):
    def on_ws_connected(self, transport: WSTransport) -> None:
        transport.send(WSMsgType.TEXT, b"hello")
        transport.send(WSMsgType.TEXT, b"again")


@pytest.mark.asyncio
async def test_reply_listener_answers_every_frame() -> None:
    from picows import ws_create_server

    server_end = _Greeter()
    server = await ws_create_server(lambda _r: server_end, "127.0.0.1", 0)
    try:
        port = server.sockets[0].getsockname()[1]
        transport, listener_ = await ws_connect(
            lambda: ReplyListener(b"pong-bytes"), f"ws://127.0.0.1:{port}/"
        )
        listener: Any = listener_
        await _until(lambda: len(server_end.frames) == 2)
        assert server_end.frames == [b"pong-bytes", b"pong-bytes"]  # unmasked intact after the first send
        assert listener.replies == 2
        transport.disconnect()
    finally:
        server.close()


def test_round_trip_measurement_runs_and_checks_its_work() -> None:
    result = measure_wire_order(rounds=30, warmup=5, gap_s=0.001)
    assert len(result.order_round_trips_ns) == 30 and len(result.echo_round_trips_ns) == 30
    assert all(v > 0 for v in result.order_round_trips_ns + result.echo_round_trips_ns)
    assert result.orders == 35 and result.wire_to_order["count"] == 35
    assert result.venue_stats["accepted"] == 35 and result.venue_stats["rejected"] == 0
    assert 0 < result.wire_to_order["p50"] <= result.wire_to_order["p99"]
    assert result.order_bytes > 300 and result.frame_bytes > 100


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU pinning is Linux-only")
def test_round_trip_measurement_pins_and_restores_affinity() -> None:
    allowed = os.sched_getaffinity(0)
    client, venue = max(allowed), min(allowed)
    result = measure_wire_order(rounds=20, warmup=2, gap_s=0.001, cpus=(client, venue))
    assert result.cpus == (client, venue) and result.orders == 22
    assert result.venue_stats["accepted"] == 22
    assert os.sched_getaffinity(0) == allowed  # the client's affinity is given back
    with pytest.raises(ValueError, match="cpus must be"):
        measure_wire_order(rounds=1, cpus=(max(allowed) + 1, venue))


def test_bench_runner_reports_the_wire_order_stages() -> None:
    from rentrade.bench import runner

    report = runner.run_wire_order_bench(repeat=1, rounds=40)
    stages = {stage.stage: stage for stage in report.stages}
    assert set(stages) == {
        "depth frame -> signed order request (C++, warm)",
        "depth frame -> unsigned order request (C++, warm)",
        "wire-to-order in process (frame in -> order sent)",
        "frame in -> signed request ready (before send)",
        "order round trip via the simulated venue (loopback)",
        "picows echo round trip, same sizes (loopback)",
    }
    assert all(stage.p50_ns > 0 and stage.samples > 0 for stage in stages.values())
    assert stages["depth frame -> signed order request (C++, warm)"].samples == 20_000
    assert [r["what"].split(" / ")[0] for r in report.ratios] == [
        "order round trip via the simulated venue (loopback)"
    ]
    assert "wire-to-order" in runner.format_report(report)
