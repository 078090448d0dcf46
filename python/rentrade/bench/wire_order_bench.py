"""Wire-to-order stages of ``rentrade bench --wire-order``: a depth frame in, a signed order frame out.

The simulated Binance USD-M venue runs in a second process (market streams plus the WebSocket API
order endpoint, :class:`rentrade.sim.binance_usdm.SimBinanceOrderApi`). This process holds the whole
client hot path: picows -> Cython :class:`~rentrade.wire.binance_trader.BinanceTraderListener` -> C++
``BinanceTrader`` (feed -> engine with the built-in bracket strategy -> HMAC-signed ``order.place``) ->
picows send on the order connection.

The venue sends crafted depth diffs one at a time, each flipping the top-5 book imbalance so that the
strategy's signal crosses its threshold and an IOC entry leaves on every frame; the venue verifies the
signature, answers ``EXPIRED`` (so the strategy is flat again) and waits a short gap before the next
frame. Measured:

- wire-to-order in process (this process, ``CLOCK_REALTIME``): from the frame's arrival in the
  listener to the order frame handed to the socket (``send`` returned), for every order, in the
  trader's histogram; and frame-to-request, the same up to just before the ``send`` system call;
- the loopback round trip (venue process, ``perf_counter_ns``): frame written to the market socket ->
  order frame read from the order socket;
- a bare picows echo round trip in the same run, interleaved round for round: the venue writes the same
  frame bytes on a third connection, the client's Cython ``ReplyListener`` answers at once with a
  payload of the order's size through the same send call. Its ratio to the order round trip is what the
  client adds on top of the transport.

Checked: every frame produced exactly one order, every order was accepted by the venue (signature,
timestamp, symbol, tick and lot), and the engine saw every answer.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import os
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import orjson

__all__ = ["WireOrderResult", "measure_trader_core", "measure_wire_order"]

# Binance's published example HMAC key pair (documentation, not an account): the venue verifies with it.
TEST_API_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
TEST_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

_LEVELS = 5
_FIRST_UPDATE_ID = 1000
# Best bid at 1000 ticks above zero; asks start one tick above it.
_BID_TICKS = 1000


@dataclass
class WireOrderResult:
    """One run: round trips (ns, venue clock) and the in-process histogram percentiles (ns)."""

    order_round_trips_ns: list[int]
    echo_round_trips_ns: list[int]
    wire_to_order: dict[str, float]
    frame_to_request: dict[str, float]
    orders: int
    frame_bytes: int
    order_bytes: int
    venue_stats: dict[str, Any] = field(default_factory=dict)
    loop: str = ""
    busy_poll: bool = False
    cpus: tuple[int, int] | None = None


def _price(ticks: int, tick: str) -> str:
    decimals = len(tick.split(".")[1]) if "." in tick else 0
    units = ticks * int(tick.replace(".", ""))
    text = str(units).rjust(decimals + 1, "0")
    return f"{text[:-decimals]}.{text[-decimals:]}" if decimals else text


def _qty(lots: int, lot: str) -> str:
    return _price(lots, lot)


def build_frames(symbol: str, tick: str, lot: str, count: int) -> tuple[bytes, list[bytes]]:
    """A depth snapshot body and ``count`` USD-M depth diffs that continue it.

    Every diff rewrites the best bid and ask quantities so the top-5 imbalance alternates between
    about +0.8 and -0.8: each one crosses a 0.5 threshold the other way.
    """
    now_ms = time.time_ns() // 1_000_000
    bids = [[_price(_BID_TICKS - i, tick), _qty(1000, lot)] for i in range(_LEVELS)]
    asks = [[_price(_BID_TICKS + 1 + i, tick), _qty(1000, lot)] for i in range(_LEVELS)]
    snapshot = orjson.dumps(
        {"lastUpdateId": _FIRST_UPDATE_ID, "E": now_ms, "T": now_ms, "bids": bids, "asks": asks}
    )
    frames = []
    previous = _FIRST_UPDATE_ID - 1
    for k in range(count):
        first = _FIRST_UPDATE_ID if k == 0 else previous + 1
        last = first + 1 if k == 0 else first
        heavy, light = _qty(50_000, lot), _qty(1000, lot)
        bid_qty, ask_qty = (heavy, light) if k % 2 == 0 else (light, heavy)
        frame = {
            "e": "depthUpdate",
            "E": now_ms,
            "T": now_ms,
            "s": symbol,
            "U": first,
            "u": last,
            "pu": previous,
            "b": [[bids[0][0], bid_qty]],
            "a": [[asks[0][0], ask_qty]],
        }
        frames.append(orjson.dumps(frame))
        previous = last
    return snapshot, frames


def measure_trader_core(frames: int = 20_000, *, signed: bool = True) -> tuple[Any, int, int]:
    """The C++ half alone, warm and without a socket: ``frames`` crossing depth diffs through
    ``BinanceTrader.on_frame`` (see ``rentrade._fastcore.measure_binance_trader``).

    Returns (LatencyRun, orders produced, total request bytes); every frame must produce one order.
    """
    from rentrade._fastcore import (
        BinanceFeed,
        BinanceTrader,
        Engine,
        FrameStatus,
        Instrument,
        measure_binance_trader,
    )
    from rentrade.credentials import Credentials
    from rentrade.venues.binance_usdm.orders import order_encoder

    instrument = Instrument("BTCUSDT", "binance_usdm", "0.10", "0.001")
    feed = BinanceFeed([instrument])
    engine = Engine([instrument], weights={"imbalance": 1.0}, threshold=0.5, qty_lots=1, stop_distance=10)
    credentials = Credentials(TEST_API_KEY, secret=TEST_SECRET) if signed else None
    trader = BinanceTrader(feed, engine, order_encoder([instrument], credentials))
    snapshot, diffs = build_frames(instrument.symbol, instrument.tick_size, instrument.lot_size, frames)
    if feed.apply_snapshot(instrument.symbol, snapshot, time.time_ns()) != FrameStatus.OK:
        raise RuntimeError("wire-to-order core: the crafted snapshot was refused")
    run, orders, request_bytes = measure_binance_trader(trader, diffs, time.time_ns())
    if orders != frames or run.timed_ops != frames:
        raise AssertionError(f"wire-to-order core: {frames} frames produced {orders} orders")
    return run, orders, request_bytes


def _venue_main(pipe: Connection, rounds: int, warmup: int, gap_s: float) -> None:
    import uvloop
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

    from rentrade.sim.binance_usdm import SimBinanceOrderApi, SimBinanceUsdm, _ws_text_frame
    from rentrade.sim.market_source import synthetic_source

    class EchoEnd(WSListener):
        """The venue's end of the bare echo: writes frames, stamps the reply's arrival."""

        transport: WSTransport | None = None
        waiter: asyncio.Future[int] | None = None

        def on_ws_connected(self, transport: WSTransport) -> None:
            EchoEnd.transport = transport

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            arrived_ns = time.perf_counter_ns()
            if frame.msg_type == WSMsgType.TEXT and EchoEnd.waiter is not None and not EchoEnd.waiter.done():
                EchoEnd.waiter.set_result(arrived_ns)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        source = synthetic_source(1, events=2_000, seed=1, agg_trade=False)
        instrument = source.instruments[0]
        venue = SimBinanceUsdm(source, start_on_subscribe=False)
        await venue.start()
        api = SimBinanceOrderApi(source.instruments, api_key=TEST_API_KEY, secret=TEST_SECRET)
        await api.start()
        echo_server = await ws_create_server(lambda _request: EchoEnd(), "127.0.0.1", 0)
        total = warmup + rounds
        snapshot, frames = build_frames(instrument.symbol, instrument.tick_size, instrument.lot_size, total)
        pipe.send(
            {
                "ws_url": venue.ws_url,
                "order_url": api.url,
                "echo_url": f"ws://127.0.0.1:{echo_server.sockets[0].getsockname()[1]}/",
                "symbol": instrument.symbol,
                "tick_size": instrument.tick_size,
                "lot_size": instrument.lot_size,
                "snapshot": snapshot,
                "frames": total,
                "frame_bytes": sum(len(f) for f in frames) // len(frames),
            }
        )
        order_waiter: list[asyncio.Future[int] | None] = [None]

        def on_order(arrived_ns: int) -> None:
            future = order_waiter[0]
            if future is not None and not future.done():
                future.set_result(arrived_ns)

        api.on_request = on_order
        command = await loop.run_in_executor(None, pipe.recv)
        order_rt: list[int] = []
        echo_rt: list[int] = []
        error = ""
        if command == "go":
            try:
                for k in range(total):
                    waiter: asyncio.Future[int] = loop.create_future()
                    order_waiter[0] = waiter
                    framed = _ws_text_frame(frames[k])
                    sent_ns = time.perf_counter_ns()
                    if venue.send_text(frames[k]) != 1:
                        raise RuntimeError("the client's market connection is not open")
                    arrived_ns = await asyncio.wait_for(waiter, 2.0)
                    if k >= warmup:
                        order_rt.append(arrived_ns - sent_ns)
                    await asyncio.sleep(gap_s)
                    EchoEnd.waiter = loop.create_future()
                    if EchoEnd.transport is None:
                        raise RuntimeError("the client's echo connection is not open")
                    sent_ns = time.perf_counter_ns()
                    EchoEnd.transport.underlying_transport.write(framed)
                    arrived_ns = await asyncio.wait_for(EchoEnd.waiter, 2.0)
                    if k >= warmup:
                        echo_rt.append(arrived_ns - sent_ns)
                    await asyncio.sleep(gap_s)
            except (TimeoutError, asyncio.TimeoutError):
                error = f"frame {len(order_rt) + 1}: no order (or echo) within 2 s"
            except RuntimeError as exc:
                error = str(exc)
        pipe.send(
            {
                "order_rt": order_rt,
                "echo_rt": echo_rt,
                "error": error,
                "api": {**api.stats_counter, "errors": dict(api.errors), "open_orders": len(api.open_orders)},
            }
        )
        await loop.run_in_executor(None, pipe.recv)  # "stop"
        echo_server.close()
        await api.stop()
        await venue.stop()

    uvloop.run(main())


def _percentiles(histogram: Any) -> dict[str, float]:
    out = {
        label: float(histogram.percentile(q)) for label, q in (("p50", 50.0), ("p90", 90.0), ("p99", 99.0))
    }
    out["p99.9"] = float(histogram.percentile(99.9))
    out["max"] = float(histogram.max)
    out["count"] = float(histogram.count)
    return out


async def _client(pipe: Connection, info: dict[str, Any], busy_poll: bool) -> WireOrderResult:
    from picows import ws_connect

    from rentrade._fastcore import BinanceFeed, BinanceTrader, Engine, FrameStatus, Instrument
    from rentrade.credentials import Credentials
    from rentrade.venues.binance_usdm.orders import order_encoder
    from rentrade.wire.binance_trader import BinanceTraderListener, ReplyListener
    from rentrade.wire.busy_poll import BusyPoll
    from rentrade.wire.order_connection import connect_orders

    loop = asyncio.get_running_loop()
    instrument = Instrument(info["symbol"], "binance_usdm", info["tick_size"], info["lot_size"])
    feed = BinanceFeed([instrument])
    engine = Engine([instrument], weights={"imbalance": 1.0}, threshold=0.5, qty_lots=1, stop_distance=10)
    credentials = Credentials(TEST_API_KEY, secret=TEST_SECRET)
    encoder = order_encoder([instrument], credentials)
    trader = BinanceTrader(feed, engine, encoder)
    status = feed.apply_snapshot(info["symbol"], info["snapshot"], time.time_ns())
    if status != FrameStatus.OK:
        raise RuntimeError(f"wire-to-order: the crafted snapshot was refused ({status!r})")
    controls: list[tuple[int, bytes]] = []
    stream = f"{info['ws_url']}/ws/{info['symbol'].lower()}@depth@0ms"
    market_transport, market = await ws_connect(
        lambda: BinanceTraderListener(trader, lambda s, p: controls.append((s, p))), stream
    )
    order_transport, orders = await connect_orders(info["order_url"], market)
    reply = encoder.encode(
        "new", 1_000_000, 0, 0, _BID_TICKS + 1, 1, time.time_ns() // 1_000_000, "limit", "ioc"
    )
    echo_transport, _ = await ws_connect(lambda: ReplyListener(reply), info["echo_url"])
    spin = BusyPoll()
    if busy_poll:
        spin.start()
    try:
        pipe.send("go")
        outcome = await loop.run_in_executor(None, pipe.recv)
    finally:
        spin.stop()
    histogram = trader.wire_to_order
    counters = trader.counters
    order_transport.disconnect()
    echo_transport.disconnect()
    market_transport.disconnect()
    if outcome["error"]:
        raise RuntimeError(f"wire-to-order: {outcome['error']} (controls: {controls[:3]})")
    api = outcome["api"]
    expected = info["frames"]
    if controls:
        raise RuntimeError(f"wire-to-order: the feed flagged frames: {controls[:3]}")
    if counters["sent"] != expected or api["accepted"] != expected or api["rejected"] != 0:
        raise AssertionError(
            f"wire-to-order: {expected} frames, {counters['sent']} orders sent, venue accepted "
            f"{api['accepted']} and rejected {api['rejected']} ({api['errors']}); "
            f"last error {orders.last_error!r}"
        )
    if orders.reports != expected or engine.counters["new_orders"] != expected:
        raise AssertionError(f"wire-to-order: the engine saw {orders.reports} answers to {expected} orders")
    loop_name = type(loop).__module__.split(".")[0]
    return WireOrderResult(
        order_round_trips_ns=outcome["order_rt"],
        echo_round_trips_ns=outcome["echo_rt"],
        wire_to_order=_percentiles(histogram),
        frame_to_request=_percentiles(trader.frame_to_request),
        orders=counters["sent"],
        frame_bytes=info["frame_bytes"],
        order_bytes=len(reply),
        venue_stats=api,
        loop=loop_name,
        busy_poll=busy_poll,
    )


def measure_wire_order(
    *,
    rounds: int = 2_000,
    warmup: int = 200,
    gap_s: float = 0.0002,
    use_uvloop: bool = True,
    busy_poll: bool = False,
    cpus: tuple[int, int] | None = None,
) -> WireOrderResult:
    """Run the wire-to-order measurement once (venue in a spawned process).

    Parameters
    ----------
    rounds : int
        Frames (and echo round trips) timed after ``warmup`` untimed ones. The in-process histogram
        covers the warm-up orders too.
    gap_s : float
        Pause after each round trip, so the client has read the venue's answer before the next frame.
    use_uvloop : bool
        Client loop: uvloop (default) or asyncio's.
    busy_poll : bool
        Keep the client's loop spinning (:class:`~rentrade.wire.busy_poll.BusyPoll`) while the frames
        come: it never sleeps in ``epoll_wait`` between them, at the price of a whole core at 100 %.
    cpus : tuple of two ints, optional
        ``(client, venue)``: pin this process to CPU ``client`` and the venue's process to CPU
        ``venue`` for the run (Linux, ``os.sched_setaffinity``); this process's affinity is restored
        afterwards. None (default): the scheduler places both.

    Raises
    ------
    ValueError
        Bad counts, or a CPU this process may not run on.
    """
    if rounds < 1 or warmup < 0 or gap_s < 0:
        raise ValueError("need rounds >= 1, warmup >= 0, gap_s >= 0")
    previous_cpus: set[int] | None = None
    if cpus is not None:
        if not hasattr(os, "sched_setaffinity"):
            raise ValueError("cpus: pinning needs os.sched_setaffinity (Linux)")
        previous_cpus = os.sched_getaffinity(0)
        if len(cpus) != 2 or not set(cpus) <= previous_cpus:
            raise ValueError(
                f"cpus must be (client, venue) among the CPUs this process may use "
                f"{sorted(previous_cpus)}, got {cpus!r}"
            )
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_venue_main, args=(child, rounds, warmup, gap_s), daemon=True)
    process.start()
    try:
        if cpus is not None:
            assert process.pid is not None
            os.sched_setaffinity(process.pid, {cpus[1]})
            os.sched_setaffinity(0, {cpus[0]})
        if not parent.poll(120):
            raise RuntimeError("the simulated venue process did not start")
        info = parent.recv()
        if use_uvloop:
            import uvloop

            result = uvloop.run(_client(parent, info, busy_poll))
        else:
            result = asyncio.run(_client(parent, info, busy_poll))
        result.cpus = cpus
        return result
    finally:
        if previous_cpus is not None:
            os.sched_setaffinity(0, previous_cpus)
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()
