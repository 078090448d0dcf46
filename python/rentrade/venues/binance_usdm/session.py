"""The live Binance USD-M market-data session: picows connections feeding the C++ feed, REST snapshots.

Frames go from picows straight into :class:`rentrade._fastcore.BinanceFeed` through the Cython
:class:`rentrade.wire.binance_listener.BinanceListener`: no Python object per frame. Python runs only
for control frames (subscription acks, errors), for frames the feed cannot use (bad JSON, a gap, an
unknown symbol) and for the periodic work below.

What the session does:

- Instruments from ``GET /fapi/v1/exchangeInfo`` (or given).
- Streams ``<symbol>@<channel>`` for every symbol and channel, each on the routed path that carries it
  (``/public`` for depth, bookTicker, trade; ``/market`` for aggTrade and the rest; a wrong path
  delivers nothing), spread over connections of at most ``max_streams_per_connection`` streams
  (Binance allows 1024) with whole symbols kept on one connection. One ``SUBSCRIBE`` per connection,
  acknowledged before the connection counts as up (Binance allows 10 requests per second).
- Book sync: the feed buffers diffs and reports which symbols need a snapshot; the session fetches
  ``GET /fapi/v1/depth`` for them (a few at a time) and hands the bytes to the feed, which applies the
  documented rule (drop ``u < lastUpdateId``, first diff ``U <= lastUpdateId <= u``, then ``pu`` equal
  to the previous ``u``). A gap resyncs that symbol alone; its book is unhealthy
  (:meth:`BinanceUsdmSession.healthy` is False, so risk denies orders) until synced; other symbols keep
  running.
- Heartbeats: picows answers the server's pings; a connection silent for ``idle_timeout_s`` is pinged
  and closed when the pong does not come within ``pong_timeout_s``.
- Reconnect with exponential backoff and full jitter; every depth symbol of a lost connection is marked
  for resync at once (its book is not trusted while the connection is down). Connections are rotated
  (closed and reopened at once, break before make, so their symbols resync: a few hundred ms once a
  day) after ``rotate_after_s``, before Binance's 24 h cut.

Optional Python hooks, each with its cost: ``on_frame(data, ts_local_ns, status)`` makes every frame go
through a Python listener (a Python call and a ``bytes`` copy per frame: about 1 µs; used by
``rentrade record`` and by tests that compare books to every bookTicker); ``on_rest(url, body,
ts_local_ns)`` sees every REST response (rare).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import aiohttp
import orjson
from picows import WSAutoPingStrategy, WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from rentrade._fastcore import BinanceFeed, FrameStatus, Instrument, OrderBook, SyncState
from rentrade.venues.binance_usdm.instruments import instruments_from_exchange_info
from rentrade.venues.binance_usdm.urls import (
    DEPTH_LIMITS,
    DEPTH_PATH,
    EXCHANGE_INFO_PATH,
    MAX_CONNECTION_S,
    MAX_STREAMS_PER_CONNECTION,
    REST_URL,
    WS_STREAM_URL,
    stream_path,
)

__all__ = ["BinanceUsdmSession", "SessionError"]

log = logging.getLogger("rentrade.venues.binance_usdm.session")

DEFAULT_CHANNELS: Final = ("depth@100ms", "bookTicker", "trade")

FrameHook = Callable[[bytes, int, int], Any]
RestHook = Callable[[str, bytes, int], Any]


class SessionError(RuntimeError):
    """The session could not start or was refused by the venue (the text says what and where)."""


class _HookListener(WSListener):
    """The Python path: same feed, plus a Python hook per frame (recording, checks)."""

    def __init__(
        self,
        feed: BinanceFeed,
        on_control: Callable[[int, bytes], Any],
        on_connected: Callable[[WSTransport], Any],
        on_disconnected: Callable[[WSTransport], Any],
        on_frame: FrameHook,
    ) -> None:
        super().__init__()
        self._feed = feed
        self._on_control = on_control
        self._on_connected = on_connected
        self._on_disconnected = on_disconnected
        self._on_frame = on_frame

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._on_connected(transport)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self._on_disconnected(transport)

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        msg_type = frame.msg_type
        if msg_type in (WSMsgType.TEXT, WSMsgType.BINARY):
            data = frame.get_payload_as_bytes()
            ts_local_ns = time.time_ns()
            status = self._feed.on_frame(data, ts_local_ns)
            if status not in (FrameStatus.OK, FrameStatus.IGNORED):
                self._on_control(int(status), data)
            self._on_frame(data, ts_local_ns, int(status))
        elif msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()


@dataclass(eq=False)
class _Connection:
    index: int
    path: str  # "/public" or "/market"
    streams: list[str]
    depth_symbols: list[str]
    transport: WSTransport | None = None
    up: asyncio.Event = field(default_factory=asyncio.Event)
    gone: asyncio.Event = field(default_factory=asyncio.Event)
    pending: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    connects: int = 0
    listener: Any = None


class BinanceUsdmSession:
    """Market data for many symbols from Binance USD-M futures (or a venue that speaks its protocol).

    Parameters
    ----------
    symbols : iterable of str
        Symbols to follow (any case).
    channels : sequence of str
        Stream channels per symbol: ``depth`` (``@depth``, ``@depth@100ms``, ``@depth@0ms``,
        ``@depth@500ms``), ``bookTicker``, ``trade``, ``aggTrade``. A depth channel is required.
    ws_url, rest_url : str
        Base URLs (``wss://fstream.binance.com``, ``https://fapi.binance.com``); point them at
        :class:`rentrade.sim.binance_usdm.SimBinanceUsdm` for tests.
    instruments : sequence of Instrument, optional
        Skip ``exchangeInfo`` and use these.
    max_streams_per_connection : int
        Streams per connection (Binance allows 1024; fewer spreads load and limits what one lost
        connection takes down).
    snapshot_limit : int
        ``limit`` of ``/fapi/v1/depth`` (5 .. 1000).
    max_parallel_snapshots : int
        REST snapshot requests in flight at once (Binance weighs ``limit=1000`` at 20 of 2400/min).
    idle_timeout_s, pong_timeout_s : float
        Silent-connection detection: ping after this much silence, close if no pong in time.
    reconnect_min_s, reconnect_max_s : float
        Backoff bounds; the n-th retry waits ``uniform(0.5, 1) * min(max, min * 2**n)``.
    stable_after_s : float
        A connection that stayed up this long resets the backoff.
    rotate_after_s : float
        Close and reopen a connection after this long (Binance closes at 24 h).
    snapshot_retry_s : float
        Wait before asking again for a snapshot that did not connect or failed.
    on_frame : callable, optional
        ``on_frame(data, ts_local_ns, status)`` after each frame is applied (Python listener path).
    on_rest : callable, optional
        ``on_rest(url, body, ts_local_ns)`` for each REST response body.
    feed_options : dict, optional
        Extra keyword arguments for ``BinanceFeed`` (``max_levels``, ``max_buffered_diffs``...).
    capture_events : bool
        Keep every event the feed emits, from the first snapshot on, for ``feed.take_events()``
        (``rentrade paper`` drives the engine and the simulated venue with them).
    read_buffer_size : int
        Initial size of each connection's picows read buffer, which is also the most one ``recv``
        takes (picows grows it only when frames do not fit). The default 256 KiB lets a busy
        connection drain in a few large reads per loop turn instead of many 16 KiB ones.

    Notes
    -----
    ``async with BinanceUsdmSession(...) as session:`` starts (instruments, connections, subscribe
    acks) and stops it. The loop can be asyncio's or uvloop's.
    """

    def __init__(
        self,
        symbols: Iterable[str],
        *,
        channels: Sequence[str] = DEFAULT_CHANNELS,
        ws_url: str = WS_STREAM_URL,
        rest_url: str = REST_URL,
        instruments: Sequence[Instrument] | None = None,
        max_streams_per_connection: int = 200,
        snapshot_limit: int = 1000,
        max_parallel_snapshots: int = 4,
        idle_timeout_s: float = 10.0,
        pong_timeout_s: float = 5.0,
        reconnect_min_s: float = 0.25,
        reconnect_max_s: float = 30.0,
        stable_after_s: float = 30.0,
        rotate_after_s: float = MAX_CONNECTION_S - 1800,
        snapshot_retry_s: float = 0.25,
        subscribe_timeout_s: float = 10.0,
        on_frame: FrameHook | None = None,
        on_rest: RestHook | None = None,
        feed_options: dict[str, Any] | None = None,
        capture_events: bool = False,
        read_buffer_size: int = 256 * 1024,
    ) -> None:
        self.symbols = list(dict.fromkeys(s.upper() for s in symbols))
        if not self.symbols:
            raise ValueError("BinanceUsdmSession needs at least one symbol")
        self.channels = list(channels)
        if not any(c.split("@", 1)[0] == "depth" for c in self.channels):
            raise ValueError(f"channels need a depth stream (e.g. 'depth@100ms'), got {self.channels}")
        if snapshot_limit not in DEPTH_LIMITS:
            raise ValueError(f"snapshot_limit must be one of {DEPTH_LIMITS}, got {snapshot_limit}")
        if not 1 <= max_streams_per_connection <= MAX_STREAMS_PER_CONNECTION:
            raise ValueError(f"max_streams_per_connection must be 1..{MAX_STREAMS_PER_CONNECTION}")
        self.ws_url = ws_url.rstrip("/")
        self.rest_url = rest_url.rstrip("/")
        self._instruments = list(instruments) if instruments is not None else None
        self.max_streams_per_connection = max_streams_per_connection
        self.snapshot_limit = snapshot_limit
        self.max_parallel_snapshots = max_parallel_snapshots
        self.idle_timeout_s = idle_timeout_s
        self.pong_timeout_s = pong_timeout_s
        self.reconnect_min_s = reconnect_min_s
        self.reconnect_max_s = reconnect_max_s
        self.stable_after_s = stable_after_s
        self.rotate_after_s = rotate_after_s
        self.snapshot_retry_s = snapshot_retry_s
        self.subscribe_timeout_s = subscribe_timeout_s
        self.on_frame = on_frame
        self.on_rest = on_rest
        self.feed_options = dict(feed_options or {})
        self.capture_events = capture_events
        if read_buffer_size < 2048:
            raise ValueError(f"read_buffer_size must be >= 2048, got {read_buffer_size}")
        self.read_buffer_size = read_buffer_size

        self._feed: BinanceFeed | None = None
        self._http: aiohttp.ClientSession | None = None
        self._connections: list[_Connection] = []
        self._subscribed: set[str] = set()
        self._inflight: set[str] = set()
        self._retry_at: dict[str, float] = {}
        self._wake: asyncio.Event | None = None
        self._snapshot_task: asyncio.Task[None] | None = None
        self._snapshot_fetches: set[asyncio.Task[None]] = set()
        self._stopping = False
        self._next_id = 0
        self._rng = random.Random()
        self.counters: dict[str, int] = {
            "connects": 0,
            "disconnects": 0,
            "rotations": 0,
            "snapshots_requested": 0,
            "snapshots_applied": 0,
            "snapshots_refused": 0,
            "snapshot_errors": 0,
            "control_frames": 0,
            "needs_snapshot": 0,
            "bad_frames": 0,
            "unknown_symbol_frames": 0,
            "venue_errors": 0,
        }

    # public API ---------------------------------------------------------------------------------

    @property
    def feed(self) -> BinanceFeed:
        """The C++ feed that owns the books (after :meth:`start`)."""
        if self._feed is None:
            raise SessionError("the session is not started")
        return self._feed

    @property
    def instruments(self) -> list[Instrument]:
        """The instruments, in feed order (after :meth:`start`)."""
        return self.feed.instruments

    def book(self, symbol: str) -> OrderBook:
        """The live book of ``symbol`` (check :meth:`healthy` before trusting it)."""
        return self.feed.book(symbol.upper())

    def healthy(self, symbol: str) -> bool:
        """Whether ``symbol``'s book is synced and its connection is up (orders may use it)."""
        return self.feed.state(symbol.upper()) == SyncState.LIVE

    def unhealthy_symbols(self) -> list[str]:
        """Symbols whose book must not be used now."""
        feed = self.feed
        return [s for s in self.symbols if feed.state(s) != SyncState.LIVE]

    def stats(self) -> dict[str, Any]:
        """Session counters, open connections and the feed's own statistics."""
        return {
            **self.counters,
            "connections": len(self._connections),
            "connections_up": sum(1 for c in self._connections if c.up.is_set()),
            "unhealthy": len(self.unhealthy_symbols()) if self._feed is not None else len(self.symbols),
            "feed": self._feed.stats() if self._feed is not None else {},
        }

    async def start(self, timeout_s: float = 30.0) -> None:
        """Load instruments, open every connection and wait for the subscription acks.

        Raises
        ------
        SessionError
            When ``exchangeInfo`` fails or a connection is not subscribed within ``timeout_s``.
        """
        self._stopping = False
        self._wake = asyncio.Event()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            if self._instruments is None:
                body = await self._get(EXCHANGE_INFO_PATH, {})
                self._instruments = instruments_from_exchange_info(body, self.symbols)
            by_symbol = {i.symbol: i for i in self._instruments}
            missing = [s for s in self.symbols if s not in by_symbol]
            if missing:
                raise SessionError(f"no instrument for {missing}")
            self._feed = BinanceFeed([by_symbol[s] for s in self.symbols], market="usdm", **self.feed_options)
            if self.capture_events:
                self._feed.capture_events(True)
            self._connections = self._plan()
            for conn in self._connections:
                conn.task = asyncio.get_running_loop().create_task(self._run_connection(conn))
            self._snapshot_task = asyncio.get_running_loop().create_task(self._snapshot_loop())
            try:
                await asyncio.wait_for(asyncio.gather(*(c.up.wait() for c in self._connections)), timeout_s)
            except asyncio.TimeoutError:
                down = [c.index for c in self._connections if not c.up.is_set()]
                raise SessionError(
                    f"connections {down} to {self.ws_url} not subscribed within {timeout_s} s"
                ) from None
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Close every connection, stop the tasks and the HTTP client."""
        self._stopping = True
        tasks = [c.task for c in self._connections if c.task is not None]
        if self._snapshot_task is not None:
            tasks.append(self._snapshot_task)
        tasks.extend(self._snapshot_fetches)
        for conn in self._connections:
            if conn.transport is not None:
                conn.transport.disconnect(graceful=False)
        for task in tasks:
            task.cancel()
        if tasks:
            # Bounded: a task stuck in a transport callback must not hang the caller's shutdown.
            _, stuck = await asyncio.wait(tasks, timeout=5.0)
            for task in stuck:
                log.warning("session task %r did not stop within 5 s", task.get_name())
        self._snapshot_task = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def __aenter__(self) -> BinanceUsdmSession:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def wait_synced(self, symbols: Iterable[str] | None = None, timeout_s: float = 30.0) -> None:
        """Wait until every (given) symbol's book is synced.

        Raises
        ------
        TimeoutError
            Naming the symbols still unsynced.
        """
        wanted = [s.upper() for s in symbols] if symbols is not None else self.symbols
        deadline = time.monotonic() + timeout_s
        feed = self.feed
        while True:
            waiting = [s for s in wanted if feed.state(s) != SyncState.LIVE]
            if not waiting:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not synced after {timeout_s} s: {waiting[:20]}")
            await asyncio.sleep(0.005)

    def connection_transports(self) -> list[WSTransport | None]:
        """The current transport of each connection (None while it is down), for tests and tools."""
        return [c.transport for c in self._connections]

    # connections -------------------------------------------------------------------------------------

    def _plan(self) -> list[_Connection]:
        """Spread streams over connections: per routed path, whole symbols, at most N streams each."""
        by_path: dict[str, list[str]] = {}
        for channel in self.channels:
            by_path.setdefault(stream_path(channel), []).append(channel)
        connections: list[_Connection] = []
        for path, channels in by_path.items():
            per_conn = max(1, self.max_streams_per_connection // len(channels))
            for start in range(0, len(self.symbols), per_conn):
                chunk = self.symbols[start : start + per_conn]
                streams = [f"{s.lower()}@{c}" for s in chunk for c in channels]
                has_depth = any(c.split("@", 1)[0] == "depth" for c in channels)
                connections.append(
                    _Connection(len(connections), path, streams, list(chunk) if has_depth else [])
                )
        return connections

    def _listener(self, conn: _Connection) -> WSListener:
        feed = self.feed

        def on_control(status: int, payload: bytes) -> None:
            self._on_control(conn, status, payload)

        def on_connected(transport: WSTransport) -> None:
            conn.transport = transport

        def on_disconnected(transport: WSTransport) -> None:
            conn.gone.set()

        if self.on_frame is not None:
            return _HookListener(feed, on_control, on_connected, on_disconnected, self.on_frame)
        from rentrade.wire.binance_listener import BinanceListener

        listener: WSListener = BinanceListener(feed, on_control, on_connected, on_disconnected)
        return listener

    async def _run_connection(self, conn: _Connection) -> None:
        loop = asyncio.get_running_loop()
        attempt = 0
        url = f"{self.ws_url}{conn.path}/stream"
        while not self._stopping:
            conn.gone.clear()
            conn.transport = None
            opened = loop.time()
            rotated = False
            try:
                _, conn.listener = await ws_connect(
                    lambda: self._listener(conn),
                    url,
                    enable_auto_ping=True,
                    auto_ping_idle_timeout=self.idle_timeout_s,
                    auto_ping_reply_timeout=self.pong_timeout_s,
                    auto_ping_strategy=WSAutoPingStrategy.PING_WHEN_IDLE,
                    websocket_handshake_timeout=self.subscribe_timeout_s,
                    read_buffer_init_size=self.read_buffer_size,
                )
                conn.connects += 1
                self.counters["connects"] += 1
                await self._subscribe(conn)
                conn.up.set()
                self._subscribed.update(conn.depth_symbols)
                self._wake_snapshots()
                try:
                    await asyncio.wait_for(conn.gone.wait(), self.rotate_after_s)
                except asyncio.TimeoutError:
                    # Rotation before the venue's 24 h cut: close and reopen at once. A diff lost in
                    # between shows as a gap in pu and resyncs only the symbols concerned.
                    rotated = True
                    self.counters["rotations"] += 1
                    if conn.transport is not None:
                        conn.transport.disconnect()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(conn.gone.wait(), self.pong_timeout_s + 1.0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("connection %d to %s: %s", conn.index, url, exc)
                if conn.transport is not None:
                    conn.transport.disconnect(graceful=False)
            self._on_lost(conn)
            if self._stopping:
                return
            if rotated:
                attempt = 0
                continue
            if loop.time() - opened >= self.stable_after_s:
                attempt = 0
            delay = self._rng.uniform(0.5, 1.0) * min(self.reconnect_max_s, self.reconnect_min_s * 2**attempt)
            attempt = min(attempt + 1, 30)
            log.info("connection %d lost; reconnecting in %.3f s", conn.index, delay)
            await asyncio.sleep(delay)

    def _on_lost(self, conn: _Connection) -> None:
        was_up = conn.up.is_set()
        conn.up.clear()
        conn.transport = None
        for future in conn.pending.values():
            if not future.done():
                future.cancel()
        conn.pending.clear()
        if was_up:
            self.counters["disconnects"] += 1
        feed = self._feed
        for symbol in conn.depth_symbols:
            self._subscribed.discard(symbol)
            if feed is not None:
                # Not trusted while its diffs cannot arrive; resynced after the reconnect.
                feed.resync(symbol)

    async def _subscribe(self, conn: _Connection) -> None:
        transport = conn.transport
        if transport is None:
            raise ConnectionError("connection closed before subscribing")
        self._next_id += 1
        request_id = self._next_id
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        conn.pending[request_id] = future
        transport.send(
            WSMsgType.TEXT, orjson.dumps({"method": "SUBSCRIBE", "params": conn.streams, "id": request_id})
        )
        try:
            reply = await asyncio.wait_for(future, self.subscribe_timeout_s)
        finally:
            conn.pending.pop(request_id, None)
        if not isinstance(reply, dict) or reply.get("result", 0) is not None:
            raise SessionError(f"SUBSCRIBE refused on connection {conn.index}: {reply!r}")

    def _on_control(self, conn: _Connection, status: int, payload: bytes) -> None:
        if status == FrameStatus.CONTROL:
            self.counters["control_frames"] += 1
            try:
                message = orjson.loads(payload)
            except orjson.JSONDecodeError:
                self.counters["bad_frames"] += 1
                return
            if not isinstance(message, dict):
                return
            request_id = message.get("id")
            future = conn.pending.get(request_id) if isinstance(request_id, int) else None
            if future is not None and not future.done():
                future.set_result(message)
            elif "code" in message:
                self.counters["venue_errors"] += 1
                log.warning("venue error on connection %d: %s", conn.index, payload[:200])
        elif status == FrameStatus.NEEDS_SNAPSHOT:
            self.counters["needs_snapshot"] += 1
            self._wake_snapshots()
        elif status == FrameStatus.BAD_FRAME:
            self.counters["bad_frames"] += 1
            log.warning("bad frame on connection %d: %s", conn.index, self.feed.last_error())
            self._wake_snapshots()
        elif status == FrameStatus.UNKNOWN_SYMBOL:
            self.counters["unknown_symbol_frames"] += 1

    # snapshots ---------------------------------------------------------------------------------------

    def _wake_snapshots(self) -> None:
        if self._wake is not None:
            self._wake.set()

    async def _snapshot_loop(self) -> None:
        assert self._wake is not None
        limiter = asyncio.Semaphore(self.max_parallel_snapshots)
        loop = asyncio.get_running_loop()
        tasks = self._snapshot_fetches
        while True:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 0.05)
            self._wake.clear()
            now = loop.time()
            for symbol in self.feed.symbols_needing_snapshot():
                if (
                    symbol in self._inflight
                    or symbol not in self._subscribed
                    or now < self._retry_at.get(symbol, 0.0)
                ):
                    continue
                self._inflight.add(symbol)
                task = loop.create_task(self._fetch_snapshot(symbol, limiter))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

    async def _fetch_snapshot(self, symbol: str, limiter: asyncio.Semaphore) -> None:
        loop = asyncio.get_running_loop()
        try:
            async with limiter:
                self.counters["snapshots_requested"] += 1
                body = await self._get(DEPTH_PATH, {"symbol": symbol, "limit": str(self.snapshot_limit)})
            status = self.feed.apply_snapshot(symbol, body, time.time_ns())
            if status == FrameStatus.OK:
                self.counters["snapshots_applied"] += 1
                self._retry_at.pop(symbol, None)
            else:
                # Older than every buffered diff (or the stream is behind): ask again shortly.
                self.counters["snapshots_refused"] += 1
                self._retry_at[symbol] = loop.time() + self.snapshot_retry_s
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.counters["snapshot_errors"] += 1
            log.warning("snapshot for %s failed: %s", symbol, exc)
            self._retry_at[symbol] = loop.time() + self.snapshot_retry_s
        finally:
            self._inflight.discard(symbol)
            self._wake_snapshots()

    async def _get(self, path: str, params: dict[str, str]) -> bytes:
        if self._http is None:
            raise SessionError("the session is not started")
        url = f"{self.rest_url}{path}"
        async with self._http.get(url, params=params) as response:
            body = await response.read()
            if response.status != 200:
                raise SessionError(f"GET {path} {params} -> HTTP {response.status}: {body[:200]!r}")
        if self.on_rest is not None:
            query = "&".join(f"{k}={v}" for k, v in params.items())
            self.on_rest(f"{url}?{query}" if query else url, body, time.time_ns())
        return body
