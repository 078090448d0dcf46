"""The Cython BinanceListener: frames from picows straight into the C++ feed, Python only for non-OK frames.

The socket test serves the real cryptofeed Binance USD-M recording over a loopback picows server, on
asyncio and on uvloop, and checks the listener's feed ends exactly where a feed given the same frames
through ``BinanceFeed.on_frame`` ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from picows import WSListener, WSMsgType, WSTransport, ws_connect, ws_create_server
from picows.picows import _make_test_ws_frame

from rentrade import BinanceFeed, FrameStatus, Instrument, Side, SyncState
from rentrade.recordings import Direction, open_recording
from rentrade.wire.binance_listener import BinanceListener

DEPTH = (
    b'{"stream":"btcusdt@depth","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT",'
    b'"U":5,"u":9,"pu":4,"b":[["1.0","1"]],"a":[]}}'
)


def make_feed() -> BinanceFeed:
    return BinanceFeed([Instrument("BTCUSDT", "binance_usdm", "0.10", "0.001")])


def test_listener_calls_python_only_for_non_ok_frames() -> None:
    feed = make_feed()
    calls: list[tuple[int, bytes]] = []
    listener = BinanceListener(feed, lambda status, payload: calls.append((status, payload)))
    assert listener.feed is feed
    transport: Any = None  # the listener never touches the transport for data frames
    listener.on_ws_frame(
        transport, _make_test_ws_frame(WSMsgType.TEXT, b'{"result":null,"id":1}', True, False)
    )
    listener.on_ws_frame(transport, _make_test_ws_frame(WSMsgType.TEXT, DEPTH, True, False))
    assert (
        feed.apply_snapshot("BTCUSDT", b'{"lastUpdateId":7,"bids":[],"asks":[["1.2","3"]]}') is FrameStatus.OK
    )
    quote = b'{"u":9,"s":"BTCUSDT","b":"1.0","B":"1","a":"1.2","A":"3"}'
    listener.on_ws_frame(transport, _make_test_ws_frame(WSMsgType.TEXT, quote, True, False))
    listener.on_ws_frame(
        transport, _make_test_ws_frame(WSMsgType.TEXT, b'{"e":"kline","s":"BTCUSDT"}', True, False)
    )
    listener.on_ws_frame(transport, _make_test_ws_frame(WSMsgType.TEXT, b"{broken", True, False))
    assert calls == [
        (FrameStatus.CONTROL, b'{"result":null,"id":1}'),
        (FrameStatus.NEEDS_SNAPSHOT, DEPTH),
        (FrameStatus.BAD_FRAME, b"{broken"),
    ]
    assert (listener.frames, listener.callbacks) == (5, 3)
    assert feed.book("BTCUSDT").best_bid() == (10, 1000)
    assert feed.stats()["book_tickers"] == 1 and feed.stats()["ignored"] == 1


def test_listener_reassembles_fragments_and_forwards_ignored_on_request() -> None:
    feed = make_feed()
    calls: list[tuple[int, bytes]] = []
    listener = BinanceListener(feed, lambda s, p: calls.append((s, p)), forward_ignored=True)
    half = len(DEPTH) // 2
    listener.on_ws_frame(None, _make_test_ws_frame(WSMsgType.TEXT, DEPTH[:half], False, False))  # type: ignore[arg-type]
    listener.on_ws_frame(None, _make_test_ws_frame(WSMsgType.CONTINUATION, DEPTH[half:], True, False))  # type: ignore[arg-type]
    listener.on_ws_frame(None, _make_test_ws_frame(WSMsgType.TEXT, b'{"e":"kline"}', True, False))  # type: ignore[arg-type]
    assert calls == [(FrameStatus.NEEDS_SNAPSHOT, DEPTH), (FrameStatus.IGNORED, b'{"e":"kline"}')]
    assert feed.stats()["buffered_diffs"] == 1
    with pytest.raises(TypeError, match="on_control must be callable"):
        BinanceListener(feed, None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------------
# over a loopback socket


CF_SYMBOLS = ["SUSHIUSDT", "AKROUSDT", "KEEPUSDT", "CTKUSDT"]


def recorded(shared_data: Path) -> tuple[list[bytes], dict[str, bytes], list[Instrument]]:
    base = shared_data / "cryptofeed-master/sample_data"
    frames = [
        f.payload
        for f in open_recording(base / "BINANCE_FUTURES.ws.1.0")
        if f.direction is Direction.RECEIVED
    ]
    snapshots = {}
    for f in open_recording(base / "BINANCE_FUTURES.http.0.0"):
        if f.url is not None and "/depth?" in f.url:
            snapshots[f.url.split("symbol=")[1].split("&")[0].upper()] = f.payload
    # Sizes fine enough for every recorded price (CTKUSDT's snapshot predates its tick change).
    instruments = [
        Instrument("SUSHIUSDT", "binance_usdm", "0.001", "1"),
        Instrument("AKROUSDT", "binance_usdm", "0.00001", "1"),
        Instrument("KEEPUSDT", "binance_usdm", "0.0001", "1"),
        Instrument("CTKUSDT", "binance_usdm", "0.00001", "1"),
    ]
    return frames, snapshots, instruments


class _Server(WSListener):  # type: ignore[misc]
    def __init__(self, frames: list[bytes]) -> None:
        self._frames = frames

    def on_ws_connected(self, transport: WSTransport) -> None:
        transport.send(WSMsgType.TEXT, b'{"result":null,"id":1}')
        for frame in self._frames:
            transport.send(WSMsgType.TEXT, frame)
        transport.send_close()

    def on_ws_frame(self, transport: WSTransport, frame: Any) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.disconnect()


async def serve_and_listen(frames: list[bytes], snapshots: dict[str, bytes], feed: BinanceFeed) -> list[int]:
    statuses: list[int] = []
    done = asyncio.get_running_loop().create_future()

    def on_control(status: int, payload: bytes) -> None:
        statuses.append(status)
        if status == FrameStatus.NEEDS_SNAPSHOT:
            # A snapshot fetched "instantly": the recorded one, applied before the next frame.
            symbol = feed.last_symbol()
            assert symbol is not None
            feed.apply_snapshot(symbol, snapshots[symbol])

    def on_disconnected(_: WSTransport) -> None:
        if not done.done():
            done.set_result(None)

    factory: Callable[[Any], WSListener] = lambda _request: _Server(frames)  # noqa: E731
    server = await ws_create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        transport, listener = await ws_connect(
            lambda: BinanceListener(feed, on_control, on_disconnected=on_disconnected),
            f"ws://127.0.0.1:{port}/",
        )
        await asyncio.wait_for(done, 30)
        assert listener.frames == len(frames) + 1
        transport.disconnect()
    finally:
        server.close()
    return statuses


@pytest.mark.recordings
@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_loopback_socket_feeds_the_same_books(shared_data: Path, loop: str) -> None:
    frames, snapshots, instruments = recorded(shared_data)
    feed = BinanceFeed(instruments, max_levels=100_000)
    if loop == "uvloop":
        import uvloop

        statuses = uvloop.run(serve_and_listen(frames, snapshots, feed))
    else:
        statuses = asyncio.run(serve_and_listen(frames, snapshots, feed))
    # The same frames through on_frame, snapshots applied at the same points.
    reference = BinanceFeed(instruments, max_levels=100_000)
    for frame in frames:
        if reference.on_frame(frame, 0) is FrameStatus.NEEDS_SNAPSHOT:
            symbol = reference.last_symbol()
            assert symbol is not None
            reference.apply_snapshot(symbol, snapshots[symbol])
    assert statuses.count(FrameStatus.CONTROL) == 1
    assert statuses.count(FrameStatus.NEEDS_SNAPSHOT) == 4
    ours, theirs = feed.stats(), reference.stats()
    for key in (
        "depth_updates",
        "book_tickers",
        "trades",
        "applied_diffs",
        "stale_drops",
        "gaps",
        "snapshots",
    ):
        assert ours[key] == theirs[key], key
    assert ours["applied_diffs"] > 700 and ours["gaps"] == 0
    for symbol in CF_SYMBOLS:
        assert feed.state(symbol) is SyncState.LIVE
        for side in (Side.BID, Side.ASK):
            assert np.array_equal(feed.book(symbol).levels(side), reference.book(symbol).levels(side))
