"""The venue's prepared stream (``SimBinanceUsdm.prepare_stream``) sends what the normal path sends.

The client is a raw TCP socket that does the WebSocket handshake by hand and keeps every byte after
it, so the comparison is of the bytes on the wire, frame headers included, per connection.
"""

from __future__ import annotations

import asyncio
import base64
import os

import pytest

from rentrade.sim.binance_usdm import SimBinanceUsdm
from rentrade.sim.faults import FaultPlan
from rentrade.sim.market_source import MarketSource, synthetic_source

# Combined under two depth names, raw, and one symbol under two depth names on one connection (two
# frames per diff).
PATHS = (
    "/public/stream?streams=btcusdt@depth@100ms/btcusdt@bookTicker/ethusdt@trade/ethusdt@depth@100ms",
    "/public/stream?streams=ethusdt@depth/solusdt@bookTicker",
    "/public/ws/btcusdt@depth@100ms/solusdt@trade",
    "/public/stream?streams=solusdt@depth@0ms/solusdt@depth@100ms",
)


@pytest.fixture(scope="module")
def market() -> MarketSource:
    return synthetic_source(["BTCUSDT", "ETHUSDT", "SOLUSDT"], events=20_000, seed=11, snapshot_levels=50)


class RawClient:
    """A WebSocket client without a WebSocket library: the handshake by hand, then raw bytes."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int, path: str) -> RawClient:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(reader, writer)

    async def read_to_end(self) -> bytes:
        data = await asyncio.wait_for(self.reader.read(), 30)
        self.writer.close()
        return data


def frames(data: bytes) -> list[bytes]:
    """Split server frames (unmasked): checks the framing is whole and returns the payloads."""
    out: list[bytes] = []
    i = 0
    while i < len(data):
        assert data[i] == 0x81, f"not a final text frame at byte {i}"
        n = data[i + 1]
        i += 2
        if n == 126:
            n = int.from_bytes(data[i : i + 2], "big")
            i += 2
        elif n == 127:
            n = int.from_bytes(data[i : i + 8], "big")
            i += 8
        out.append(data[i : i + n])
        i += n
    assert i == len(data), "the stream ends inside a frame"
    return out


async def run(
    market: MarketSource, *, prepare: bool, batch: int = 1000, resubscribe: bool = False
) -> tuple[list[bytes], dict[str, int]]:
    venue = SimBinanceUsdm(market, start_on_subscribe=False, batch=batch)
    async with venue:
        clients = [await RawClient.open(venue.ws_port, path) for path in PATHS]
        while venue.connections < len(PATHS):
            await asyncio.sleep(0.01)
        if prepare:
            assert venue.prepare_stream() > 0
        if resubscribe:
            # A change of routes after preparing: the prepared bytes no longer hold, the normal path
            # must take over (from the first message here).
            clients[2].writer.write(_masked_text(b'{"method":"SUBSCRIBE","params":["ethusdt@trade"],"id":1}'))
            await clients[2].writer.drain()
            while venue.stats()["requests"] < 1:
                await asyncio.sleep(0.01)
        venue.start_market()
        await venue.wait_done(30)
        stats = venue.stats()
        venue.disconnect_all()
        received = [await c.read_to_end() for c in clients]
    return received, stats


def _masked_text(payload: bytes) -> bytes:
    """A client frame (masked, RFC 6455 5.3), short payloads only."""
    assert len(payload) < 126
    mask = os.urandom(4)
    return bytes((0x81, 0x80 | len(payload))) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.mark.asyncio
async def test_prepared_stream_is_byte_identical(market: MarketSource) -> None:
    normal, normal_stats = await run(market, prepare=False)
    fast, fast_stats = await run(market, prepare=True)
    for path, a, b in zip(PATHS, normal, fast, strict=True):
        assert len(frames(a)) > 1000, path  # every connection got a real stream
        assert a == b, path
    for key in ("messages_sent", "frames_sent", "market_bytes_sent", "position"):
        assert fast_stats[key] == normal_stats[key], key
    assert fast_stats["position"] == fast_stats["messages_sent"] == len(market.messages)
    assert fast_stats["frames_sent"] == sum(len(frames(a)) for a in normal)
    assert fast_stats["market_bytes_sent"] == sum(len(a) for a in normal)
    assert normal_stats["prepared_batches_sent"] == 0
    assert fast_stats["prepared_batches_sent"] == -(-len(market.messages) // 1000)  # all of it prepared


@pytest.mark.asyncio
async def test_prepared_stream_gives_way_to_a_route_change(market: MarketSource) -> None:
    normal, _ = await run(market, prepare=False, resubscribe=True)
    fast, stats = await run(market, prepare=True, resubscribe=True)
    assert normal == fast
    assert stats["prepared_batches_sent"] == 0  # the prepared bytes were dropped, not sent
    trades = sum(
        1 for payload in frames(fast[2]) if b'"e":"trade","E"' in payload and b'"s":"ETHUSDT"' in payload
    )
    assert trades > 0  # the subscription made after preparing is served


@pytest.mark.asyncio
async def test_prepare_stream_refuses_faults_and_pacing(market: MarketSource) -> None:
    with pytest.raises(ValueError, match="no faults"):
        SimBinanceUsdm(market, faults=FaultPlan(seed=1, drop=0.01)).prepare_stream()
    with pytest.raises(ValueError, match="speed=None"):
        SimBinanceUsdm(market, speed=1.0).prepare_stream()


@pytest.mark.parametrize("prepared", [True, False])
def test_socket_bench_runs_both_venue_paths(prepared: bool) -> None:
    # The bench's own checks (every frame applied, no gap, books equal /fapi/v1/depth, and the venue
    # sent prepared batches exactly when asked to) run inside measure_socket and raise on failure.
    from rentrade.bench.socket_bench import measure_socket

    ingest, echo = measure_socket(symbols=2, events=6_000, echo_round_trips=50, prepared=prepared)
    assert ingest.messages > 1_000 and ingest.wall_s > 0 and ingest.cpu_s > 0
    assert ingest.venue_cpu_s > 0 and len(echo.samples_ns) == 45
