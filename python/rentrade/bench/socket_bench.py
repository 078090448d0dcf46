"""Socket-path stages of ``rentrade bench --socket``: ingest through the real stack, and a picows echo.

Ingest: a simulated Binance USD-M venue in a second process (its own core) streams synthetic market
data over loopback TCP to :class:`~rentrade.venues.binance_usdm.session.BinanceUsdmSession` in this
process: picows -> Cython ``BinanceListener`` -> C++ ``BinanceFeed`` -> books, on one event-loop
thread. Once the client has subscribed, the venue frames the client's whole stream before the clock
starts (:meth:`~rentrade.sim.binance_usdm.SimBinanceUsdm.prepare_stream`: no faults, so the fast
path applies) and, when told, writes it in batch-sized slices under flow control, so the venue is not
what is measured. Reported: messages per second of wall time from the start signal to the
last frame applied, and messages per second of this thread's CPU time (the client's capacity even
when the venue or the kernel is the slower side). Checked: every frame arrived and was applied, no
bad frame, no gap, and every book equals the venue's own ``/fapi/v1/depth`` answer afterwards.

Echo: a bare picows round trip on the same loopback (server in the venue process): a 64-byte text
message sent, echoed, received, timed one at a time, so the order round trip of a later issue can be
compared with the transport's own floor.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, cast

import orjson

__all__ = ["EchoResult", "IngestResult", "measure_socket"]


@dataclass
class IngestResult:
    """Sustained ingest through the socket path."""

    messages: int
    wire_bytes: int
    wall_s: float
    cpu_s: float
    symbols: int
    loop: str
    run_wait_s: float = float("nan")  # runnable but not running (Linux schedstat), nan if unknown
    venue_cpu_s: float = float("nan")  # the venue thread's CPU time from start to its last write
    venue_wall_s: float = float("nan")  # the venue's wall time from start to its last write

    @property
    def msgs_per_s(self) -> float:
        """Messages per second of wall time."""
        return self.messages / self.wall_s

    @property
    def msgs_per_cpu_s(self) -> float:
        """Messages per second of the client thread's CPU time."""
        return self.messages / self.cpu_s if self.cpu_s > 0 else float("inf")


def _run_wait_s() -> float:
    """This thread's time spent runnable but waiting for a CPU (Linux ``schedstat``), or nan.

    Wall time minus CPU time is the client waiting; this part of it is the machine (other processes
    holding the cores), the rest is the client idle, waiting for data.
    """
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return float("nan")


@dataclass
class EchoResult:
    """picows echo round trips, ns."""

    samples_ns: list[int]
    loop: str


def _venue_main(pipe: Connection, symbols: int, events: int, seed: int) -> None:
    import uvloop
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_create_server

    from rentrade.sim.binance_usdm import SimBinanceUsdm
    from rentrade.sim.market_source import synthetic_source

    class Echo(WSListener):
        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            if frame.msg_type == WSMsgType.TEXT:
                transport.send(WSMsgType.TEXT, frame.get_payload_as_memoryview())

    async def main() -> None:
        source = synthetic_source(symbols, events=events, seed=seed, agg_trade=False)
        venue = SimBinanceUsdm(source, start_on_subscribe=False, batch=8192)
        await venue.start()
        echo = await ws_create_server(lambda _request: Echo(), "127.0.0.1", 0)
        loop = asyncio.get_running_loop()
        pipe.send(
            {
                "ws_url": venue.ws_url,
                "rest_url": venue.rest_url,
                "echo_url": f"ws://127.0.0.1:{echo.sockets[0].getsockname()[1]}/",
                "messages": len(source.messages),
                "symbols": [i.symbol for i in source.instruments],
            }
        )
        while True:
            command = await loop.run_in_executor(None, pipe.recv)
            if command == "prepare":
                # The client has subscribed: frame its whole stream now, before the clock starts.
                pipe.send(venue.prepare_stream())
            elif command == "start":
                cpu0, t0 = time.thread_time(), time.perf_counter()
                venue.start_market()
                await venue.wait_done()
                cpu, wall = time.thread_time() - cpu0, time.perf_counter() - t0
                stats = venue.stats()
                pipe.send((stats["prepared_batches_sent"], stats["market_bytes_sent"], cpu, wall))
            elif command == "stop":
                break
        echo.close()
        await venue.stop()

    uvloop.run(main())


async def _echo(url: str, round_trips: int) -> list[int]:
    from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

    payload = b'{"method":"PING","id":1,"pad":"' + b"x" * 30 + b'"}'
    samples: list[int] = []
    done = asyncio.get_running_loop().create_future()

    class Client(WSListener):
        sent_ns = 0

        def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
            now = time.perf_counter_ns()
            samples.append(now - self.sent_ns)
            if len(samples) >= round_trips:
                if not done.done():
                    done.set_result(None)
                return
            self.sent_ns = time.perf_counter_ns()
            transport.send(WSMsgType.TEXT, payload)

    transport, listener = await ws_connect(Client, url)
    client = cast(Client, listener)
    client.sent_ns = time.perf_counter_ns()
    transport.send(WSMsgType.TEXT, payload)
    await done
    transport.disconnect()
    return samples[round_trips // 10 :]  # the first tenth warms caches and the allocator


async def _client(
    pipe: Connection, info: dict[str, Any], echo_round_trips: int, prepared: bool, read_buffer_size: int
) -> tuple[IngestResult, EchoResult]:
    import aiohttp

    from rentrade.venues.binance_usdm.session import BinanceUsdmSession

    loop_name = type(asyncio.get_running_loop()).__module__.split(".")[0]
    echo = EchoResult(await _echo(info["echo_url"], echo_round_trips), loop_name)
    session = BinanceUsdmSession(
        info["symbols"],
        channels=("depth@100ms", "bookTicker", "trade"),
        ws_url=info["ws_url"],
        rest_url=info["rest_url"],
        # Liveness detection is not what is measured: on a loaded VM the venue process can spend more
        # than the pong timeout preparing its stream after a ping, and the session would close a
        # healthy connection (seen once at load 17: every frame applied, then a disconnect and resync).
        idle_timeout_s=300.0,
        pong_timeout_s=60.0,
        read_buffer_size=read_buffer_size,
    )
    await session.start()
    try:
        feed = session.feed
        before = feed.stats()["frames"]
        target = before + info["messages"]
        loop = asyncio.get_running_loop()
        # Every book's first snapshot before the market starts: on a loaded machine the REST answers
        # can come late, and would then put snapshot work (and a sync point that varies from run to
        # run) inside the timed window.
        deadline = loop.time() + 60.0
        while any(s["snapshots"] < 1 for s in feed.stats()["symbols"].values()):
            if loop.time() > deadline:
                raise RuntimeError("socket ingest: the books' first snapshots did not arrive in 60 s")
            await asyncio.sleep(0.005)
        if prepared:
            pipe.send("prepare")
            await loop.run_in_executor(None, pipe.recv)
        cpu0 = time.thread_time()
        wait0 = _run_wait_s()
        t0 = time.perf_counter()
        pipe.send("start")
        while feed.stats()["frames"] < target:
            await asyncio.sleep(0.002)
        wall = time.perf_counter() - t0
        cpu = time.thread_time() - cpu0
        run_wait = _run_wait_s() - wait0
        prepared_batches, wire_bytes, venue_cpu, venue_wall = await loop.run_in_executor(None, pipe.recv)
        if prepared != (prepared_batches > 0):
            raise RuntimeError(
                f"socket ingest: prepared={prepared} but {prepared_batches} prepared batches sent"
            )
        stats = session.stats()
        if stats["bad_frames"] or stats["feed"]["gaps"]:
            raise RuntimeError(f"socket ingest: frames lost or refused: {stats}")
        await session.wait_synced(timeout_s=10)
        async with aiohttp.ClientSession() as http:
            for symbol in info["symbols"]:
                url = f"{info['rest_url']}/fapi/v1/depth?symbol={symbol}&limit=100"
                async with http.get(url) as response:
                    snapshot = orjson.loads(await response.read())
                book = session.book(symbol)
                inst = book.instrument
                for side, key in ((0, "bids"), (1, "asks")):
                    expected = [[inst.price_to_ticks(p), inst.qty_to_lots(q)] for p, q in snapshot[key]]
                    got = book.levels(side, len(expected)).tolist()
                    if got != expected:
                        at = next(
                            (i for i, (g, e) in enumerate(zip(got, expected, strict=False)) if g != e),
                            min(len(got), len(expected)),
                        )
                        raise RuntimeError(
                            f"socket ingest: {symbol} {key} differ from the venue's book at level {at}: "
                            f"{got[at : at + 3]} against the venue's {expected[at : at + 3]} "
                            f"({len(got)} and {len(expected)} levels; session {session.stats()})"
                        )
    finally:
        await session.stop()
    ingest = IngestResult(
        info["messages"],
        wire_bytes,
        wall,
        cpu,
        len(info["symbols"]),
        loop_name,
        run_wait_s=run_wait,
        venue_cpu_s=venue_cpu,
        venue_wall_s=venue_wall,
    )
    return ingest, echo


def measure_socket(
    *,
    symbols: int = 4,
    events: int = 400_000,
    seed: int = 1,
    echo_round_trips: int = 20_000,
    use_uvloop: bool = True,
    prepared: bool = True,
    read_buffer_size: int = 256 * 1024,
) -> tuple[IngestResult, EchoResult]:
    """Run both socket stages once (venue in a spawned process) and return their measurements.

    Parameters
    ----------
    symbols, events, seed :
        The synthetic market (``events`` core events: about one message each, plus bookTickers).
    echo_round_trips : int
        Round trips timed (the first tenth is discarded as warm-up).
    use_uvloop : bool
        Client loop: uvloop (default) or asyncio's.
    prepared : bool
        The venue frames the client's whole stream before the clock starts and writes it in large
        slices (default); False: its normal path, routing and joining frames per batch in Python
        while the clock runs (the sender is then the limit, not the client).
    read_buffer_size : int
        The client's picows read buffer (``BinanceUsdmSession(read_buffer_size=...)``).
    """
    context = mp.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_venue_main, args=(child, symbols, events, seed), daemon=True)
    process.start()
    try:
        if not parent.poll(120):
            raise RuntimeError("the simulated venue process did not start")
        info = parent.recv()
        if use_uvloop:
            import uvloop

            return uvloop.run(_client(parent, info, echo_round_trips, prepared, read_buffer_size))
        return asyncio.run(_client(parent, info, echo_round_trips, prepared, read_buffer_size))
    finally:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()
