"""A simulated Binance USD-M futures venue on loopback: WebSocket market streams and REST.

What it speaks (as documented by Binance for ``fstream.binance.com`` and ``fapi.binance.com``):

- WebSocket paths ``/ws``, ``/ws/<stream>/<stream>...`` (raw payloads) and ``/stream``,
  ``/stream?streams=<s1>/<s2>`` (combined: ``{"stream":"<name>","data":<payload>}``), each also under
  the routed prefixes ``/public`` and ``/market``. Binance routes streams by tier: ``/public`` carries
  the high-frequency streams (``@depth*``, ``@bookTicker``, ``@trade``), ``/market`` the rest
  (``@aggTrade``, ``@markPrice``, klines). A connection without a routed prefix gets ``/public``
  data only. A stream subscribed on the wrong tier is acknowledged and listed but delivers nothing,
  silently, exactly the trap the real exchange sets (``stats["misrouted_subscriptions"]`` counts it).
- Requests ``SUBSCRIBE``/``UNSUBSCRIBE`` (``{"result":null,"id":N}``), ``LIST_SUBSCRIPTIONS``
  (``{"result":[...],"id":N}``), ``SET_PROPERTY``/``GET_PROPERTY`` ``combined``; errors as
  ``{"code":2,"msg":"Invalid request: ...","id":N}`` and ``{"code":3,"msg":"Invalid JSON: ..."}``.
  More than ``max_incoming_per_s`` (10) requests in a second, or more than
  ``max_streams_per_connection`` (1024) streams, closes the connection, as Binance does.
- Server pings every ``ping_interval_s`` (Binance: 3 min); a connection that does not answer within
  ``pong_timeout_s`` (10 min) is closed; connections are closed after ``max_connection_s`` (24 h).
- ``GET /fapi/v1/depth?symbol=&limit=`` (limits 5, 10, 20, 50, 100, 500, 1000; default 500) with
  ``lastUpdateId`` consistent with the diff stream (see :mod:`rentrade.sim.market_source`),
  ``GET /fapi/v1/exchangeInfo``, ``/fapi/v1/time``, ``/fapi/v1/ping``; errors as Binance's
  ``{"code":-1121,"msg":"Invalid symbol."}`` with HTTP 400.

Simplifications, stated: every depth stream of a symbol (``@depth``, ``@depth@100ms``,
``@depth@0ms``, ``@depth@500ms``) carries the same diffs (no time aggregation); partial depth
(``@depth5``) and mark price streams are accepted but never produce data.

The market comes from a :class:`~rentrade.sim.market_source.MarketSource` and starts on the first
subscription (or :meth:`SimBinanceUsdm.start_market`). Faults come from a
:class:`~rentrade.sim.faults.FaultPlan`.

Orders: :class:`SimBinanceOrderApi` is the WebSocket API (``ws-fapi``) order endpoint, on its own port
as on Binance's separate host: ``order.place``/``order.cancel``/``order.modify``, HMAC-verified,
acknowledged but never matched.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

import orjson
from aiohttp import web
from picows import WSFrame, WSListener, WSMsgType, WSTransport, WSUpgradeRequest, ws_create_server

from rentrade._fastcore import BookSet, OrderBook
from rentrade.sim.faults import Fault, FaultPlan, FaultRoller
from rentrade.sim.market_source import (
    CHANNEL_DEPTH,
    DecimalFormatter,
    MarketSource,
    SourceMessage,
    synthetic_source,
)
from rentrade.venues.binance_usdm.messages import MessageDecoder
from rentrade.venues.binance_usdm.urls import (
    DEPTH_LIMITS,
    MAX_CONNECTION_S,
    MAX_INCOMING_MESSAGES_PER_S,
    MAX_STREAMS_PER_CONNECTION,
    PONG_TIMEOUT_S,
    SERVER_PING_INTERVAL_S,
    stream_path,
)

__all__ = ["SimBinanceOrderApi", "SimBinanceUsdm"]

log = logging.getLogger("rentrade.sim.binance_usdm")

_DEPTH_SPEEDS: Final = frozenset({"", "0ms", "100ms", "250ms", "500ms"})
_STREAM_RE: Final = re.compile(r"^([a-z0-9_]+)@([A-Za-z0-9_]+)(?:@([A-Za-z0-9_]+))?$")
_ROUTES: Final = ("public", "market")
# Server-to-client frames are unmasked: a 2, 4 or 10 byte header then the payload (RFC 6455 5.2).
_TEXT_FIN: Final = 0x81


def _ws_text_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((_TEXT_FIN, n)) + payload
    if n < 65536:
        return bytes((_TEXT_FIN, 126)) + n.to_bytes(2, "big") + payload
    return bytes((_TEXT_FIN, 127)) + n.to_bytes(8, "big") + payload


def _tier(channel: str) -> str:
    return stream_path(channel)[1:]


@dataclass(slots=True)
class _SymbolBook:
    """The venue's own book of one symbol, brought up to date lazily (only when a snapshot is asked)."""

    instrument_id: int
    depth_indexes: list[int]
    known: bool
    opening_last_id: int
    recorded_payload: bytes | None
    pointer: int = 0  # next depth_indexes entry to apply
    last_id: int = 0


class _Connection(WSListener):
    """One client connection: its subscriptions, framing, fault state and write backpressure."""

    def __init__(self, venue: SimBinanceUsdm, index: int, route: str, combined: bool, streams: list[str]):
        super().__init__()
        self.venue = venue
        self.index = index
        self.route = route  # "public", "market" or "" (unrouted: public data only)
        self.combined = combined
        self.initial_streams = streams
        self.streams: dict[str, None] = {}  # insertion-ordered set
        self.transport: WSTransport | None = None
        self.roller = FaultRoller(venue.faults, index)
        self.held: bytes | None = None  # a reordered frame, sent after the next one
        self.stalled_until = 0.0
        self.stall_backlog: list[bytes | memoryview] = []
        self.paused = False
        self.requests: deque[float] = deque()
        self.last_pong = time.monotonic()
        self.refused = False
        self.closed = False

    # picows callbacks --------------------------------------------------------------------------

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self.venue._on_connected(self)

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.closed = True
        self.venue._on_disconnected(self)

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self.venue._writable.set()

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
            return
        if frame.msg_type == WSMsgType.PING:
            transport.send_pong(frame.get_payload_as_bytes())
            return
        if frame.msg_type == WSMsgType.PONG:
            self.last_pong = time.monotonic()
            self.venue.stats_counter["pongs_received"] += 1
            return
        if frame.msg_type not in (WSMsgType.TEXT, WSMsgType.BINARY) or self.refused:
            return
        now = time.monotonic()
        self.requests.append(now)
        while self.requests and now - self.requests[0] > 1.0:
            self.requests.popleft()
        if len(self.requests) > self.venue.max_incoming_per_s:
            log.info(
                "connection %d: more than %d requests/s, closing", self.index, self.venue.max_incoming_per_s
            )
            self.venue.stats_counter["rate_limit_disconnects"] += 1
            self.refused = True
            # Closed from the next loop turn: closing inside picows' read callback loses the close
            # under uvloop when more frames of the same read follow.
            asyncio.get_running_loop().call_soon(transport.disconnect)
            return
        self.venue._on_request(self, frame.get_payload_as_bytes())

    # sending -----------------------------------------------------------------------------------

    def send_raw(self, data: bytes | memoryview) -> None:
        """Write already-framed bytes (one or more whole WebSocket frames)."""
        if self.closed or self.transport is None:
            return
        if self.stalled_until:
            self.stall_backlog.append(data)
            return
        self.transport.underlying_transport.write(data)

    def send_json(self, obj: Any) -> None:
        self.send_raw(_ws_text_frame(orjson.dumps(obj)))

    def stall(self, seconds: float) -> None:
        """Go silent: no data, and no reading (so the client's pings go unanswered)."""
        if self.transport is None or self.closed:
            return
        self.stalled_until = time.monotonic() + seconds
        with contextlib.suppress(Exception):
            self.transport.underlying_transport.pause_reading()
        asyncio.get_running_loop().call_later(seconds, self._unstall)

    def _unstall(self) -> None:
        self.stalled_until = 0.0
        if self.closed or self.transport is None:
            return
        with contextlib.suppress(Exception):
            self.transport.underlying_transport.resume_reading()
        backlog, self.stall_backlog = self.stall_backlog, []
        if backlog:
            self.transport.underlying_transport.write(b"".join(backlog))


@dataclass(slots=True)
class _Route:
    """Who receives one (symbol, channel): connection -> the stream names it subscribed for it."""

    targets: dict[_Connection, list[str]] = field(default_factory=dict)


@dataclass(slots=True)
class _PreparedStream:
    """The rest of the market as each connection will receive it, framed, cut at batch boundaries.

    Built by :meth:`SimBinanceUsdm.prepare_stream` for the routes of one moment (``version``); batch
    ``k`` covers messages ``[ends[k - 1], ends[k])`` (from ``start`` for ``k = 0``) and is
    ``streams[conn][0][offsets[k]:offsets[k + 1]]`` for each connection.
    """

    start: int
    version: int
    ends: list[int]
    frames: list[int]  # frames in each batch, all connections together
    streams: dict[_Connection, tuple[memoryview, list[int]]]


class SimBinanceUsdm:
    """A Binance USD-M market-data venue on loopback (WebSocket streams + REST).

    Parameters
    ----------
    source : MarketSource, optional
        The market; by default ``synthetic_source(1)`` (one symbol, seed 1).
    host : str
        Interface to bind (loopback by default).
    ws_port, rest_port : int
        0 picks free ports; read them from :attr:`ws_port`/:attr:`rest_port` after :meth:`start`.
    faults : FaultPlan, optional
        What to inject (nothing by default).
    speed : float or None
        None: send as fast as the connections take it. ``1.0``: at the source's own pace (a
        recording's receive times), ``10.0``: ten times faster.
    start_on_subscribe : bool
        Start the market on the first subscription (otherwise call :meth:`start_market`).
    ping_interval_s, pong_timeout_s : float
        Server pings and how long a pong may take (Binance: 180 s and 600 s).
    max_streams_per_connection : int
        Binance: 1024.
    max_incoming_per_s : int
        Client requests per second before the connection is closed (Binance: 10).
    max_connection_s : float
        Connection lifetime (Binance: 24 h).
    batch : int
        Messages sent per event-loop turn when not paced.

    Notes
    -----
    Use as ``async with SimBinanceUsdm(...) as venue:``, or :meth:`start` / :meth:`stop`.
    Benchmarks that need the venue to outrun a client call :meth:`prepare_stream` once the client has
    subscribed (no faults, ``speed=None`` only), before :meth:`start_market`.
    """

    def __init__(
        self,
        source: MarketSource | None = None,
        *,
        host: str = "127.0.0.1",
        ws_port: int = 0,
        rest_port: int = 0,
        faults: FaultPlan | None = None,
        speed: float | None = None,
        start_on_subscribe: bool = True,
        ping_interval_s: float = SERVER_PING_INTERVAL_S,
        pong_timeout_s: float = PONG_TIMEOUT_S,
        max_streams_per_connection: int = MAX_STREAMS_PER_CONNECTION,
        max_incoming_per_s: int = MAX_INCOMING_MESSAGES_PER_S,
        max_connection_s: float = MAX_CONNECTION_S,
        batch: int = 512,
    ) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed must be > 0 or None (as fast as possible), got {speed!r}")
        if batch < 1:
            raise ValueError("batch must be >= 1")
        self.source = source if source is not None else synthetic_source(1)
        self.host = host
        self._ws_port_wanted = ws_port
        self._rest_port_wanted = rest_port
        self.faults = faults if faults is not None else FaultPlan()
        self.speed = speed
        self.start_on_subscribe = start_on_subscribe
        self.ping_interval_s = ping_interval_s
        self.pong_timeout_s = pong_timeout_s
        self.max_streams_per_connection = max_streams_per_connection
        self.max_incoming_per_s = max_incoming_per_s
        self.max_connection_s = max_connection_s
        self.batch = batch

        self._symbols = {inst.symbol for inst in self.source.instruments}
        self._lower = {s.lower(): s for s in self._symbols}
        self._channels = {m.channel for m in self.source.messages} | {
            "depth",
            "bookTicker",
            "trade",
            "aggTrade",
        }
        self._decoder = MessageDecoder(self.source.instruments)
        self._formatters = {i.symbol: DecimalFormatter(i) for i in self.source.instruments}
        self._bookset = BookSet(self.source.instruments, max_levels=1_000_000)
        self._books: dict[str, _SymbolBook] = {}
        depth_indexes: dict[str, list[int]] = {s: [] for s in self._symbols}
        for index, message in enumerate(self.source.messages):
            if message.channel == CHANNEL_DEPTH:
                depth_indexes[message.symbol].append(index)
        for inst in self.source.instruments:
            opening = self.source.openings.get(inst.symbol)
            book = _SymbolBook(
                self._decoder.instrument_id(inst.symbol),
                depth_indexes[inst.symbol],
                known=opening is not None and opening.known_from_start,
                opening_last_id=opening.last_update_id if opening is not None else 0,
                recorded_payload=opening.payload if opening is not None else None,
            )
            if book.known and opening is not None:
                self._bookset.apply_events(opening.events)
                book.last_id = opening.last_update_id
            self._books[inst.symbol] = book

        self._routes: dict[tuple[str, str], _Route] = {}
        # Bumped on every change of who receives what (subscriptions, framing, connections): a
        # prepared stream is only valid for the routes it was built from.
        self._routes_version = 0
        self._prepared: _PreparedStream | None = None
        self._connections: set[_Connection] = set()
        self._connection_count = 0
        self._position = 0  # index of the next source message to send
        self._ws_server: asyncio.Server | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._pump_task: asyncio.Task[None] | None = None
        self._ping_task: asyncio.Task[None] | None = None
        self._done = asyncio.Event()
        self._writable = asyncio.Event()
        self.ws_port = 0
        self.rest_port = 0
        self.stats_counter: dict[str, int] = {
            "connections": 0,
            "messages_sent": 0,
            "frames_sent": 0,
            "market_bytes_sent": 0,
            "prepared_batches_sent": 0,
            "snapshots_served": 0,
            "requests": 0,
            "pings_sent": 0,
            "pongs_received": 0,
            "pong_timeouts": 0,
            "misrouted_subscriptions": 0,
            "rate_limit_disconnects": 0,
            **{f"fault_{fault.value}": 0 for fault in Fault},
        }

    # lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the WebSocket and REST servers (ports in :attr:`ws_port`, :attr:`rest_port`)."""
        self._ws_server = await ws_create_server(
            self._route_request,
            self.host,
            self._ws_port_wanted,
            websocket_handshake_timeout=5,
        )
        # Pings are the venue's own (not picows' auto-ping): it counts them and closes on a late pong.
        self._ping_task = asyncio.get_running_loop().create_task(self._ping_loop())
        self.ws_port = self._ws_server.sockets[0].getsockname()[1]
        app = web.Application()
        app.router.add_get("/fapi/v1/depth", self._rest_depth)
        app.router.add_get("/fapi/v1/exchangeInfo", self._rest_exchange_info)
        app.router.add_get("/fapi/v1/time", self._rest_time)
        app.router.add_get("/fapi/v1/ping", self._rest_ping)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self._rest_port_wanted)
        await self._site.start()
        server = self._site._server
        assert server is not None  # just started
        self.rest_port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def _ping_loop(self) -> None:
        while True:
            await asyncio.sleep(self.ping_interval_s)
            now = time.monotonic()
            for conn in list(self._connections):
                if conn.transport is None or conn.closed or conn.stalled_until:
                    continue
                if now - conn.last_pong > self.pong_timeout_s:
                    log.info("connection %d: no pong for %.1f s, closing", conn.index, now - conn.last_pong)
                    self.stats_counter["pong_timeouts"] += 1
                    conn.transport.disconnect()
                    continue
                conn.transport.send_ping(b"sim")
                self.stats_counter["pings_sent"] += 1

    async def stop(self) -> None:
        """Stop the market, close every connection and both servers."""
        if self._ping_task is not None:
            self._ping_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ping_task
        if self._pump_task is not None:
            self._pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, asyncio.TimeoutError):
                await asyncio.wait_for(self._pump_task, 5.0)
        for conn in list(self._connections):
            if conn.transport is not None:
                conn.transport.disconnect()
        if self._ws_server is not None:
            self._ws_server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._ws_server.wait_closed(), 2.0)
        if self._runner is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._runner.cleanup(), 5.0)

    async def __aenter__(self) -> SimBinanceUsdm:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def ws_url(self) -> str:
        """WebSocket base URL, e.g. ``ws://127.0.0.1:40123`` (append ``/public/stream?...``)."""
        return f"ws://{self.host}:{self.ws_port}"

    @property
    def rest_url(self) -> str:
        """REST base URL, e.g. ``http://127.0.0.1:40124``."""
        return f"http://{self.host}:{self.rest_port}"

    def start_market(self) -> None:
        """Start sending the market (idempotent)."""
        if self._pump_task is None:
            self._pump_task = asyncio.get_running_loop().create_task(self._pump())

    async def wait_done(self, timeout: float | None = None) -> None:
        """Wait until every source message has been sent."""
        await asyncio.wait_for(self._done.wait(), timeout)

    @property
    def done(self) -> bool:
        """Whether every source message has been sent."""
        return self._done.is_set()

    @property
    def position(self) -> int:
        """Index of the next source message to send."""
        return self._position

    @property
    def connections(self) -> int:
        """Open connections."""
        return len(self._connections)

    def stats(self) -> dict[str, int]:
        """Counters: connections, messages/frames sent, snapshots served, faults injected by kind.

        ``market_bytes_sent`` counts the market frames' bytes written in batches: all of them without
        fault injection (frames a fault replaces, delays or flushes are not included).
        """
        return {**self.stats_counter, "open_connections": len(self._connections), "position": self._position}

    def disconnect_all(self) -> None:
        """Drop every connection at once (TCP close, no close frame)."""
        for conn in list(self._connections):
            if conn.transport is not None:
                conn.transport.disconnect()

    def send_text(self, payload: bytes) -> int:
        """Send one text payload as-is to every open stream connection; returns how many were written.

        For tests and the wire-to-order benchmark, which craft their own frames: the payload bypasses
        the venue's market (its books, stream routing and faults are not touched).
        """
        framed = _ws_text_frame(payload)
        written = 0
        for conn in self._connections:
            if conn.transport is not None and not conn.closed:
                conn.send_raw(framed)
                written += 1
        return written

    def book(self, symbol: str) -> OrderBook | None:
        """The venue's own book of ``symbol`` after every message sent so far (None if unknown)."""
        state = self._catch_up(symbol.upper())
        return self._bookset[state.instrument_id] if state.known else None

    # WebSocket: connections and requests ------------------------------------------------------------

    def _route_request(self, request: WSUpgradeRequest) -> WSListener | None:
        target = request.path.decode("latin-1")
        parts = urlsplit(target)
        path = parts.path.rstrip("/")
        route = ""
        for prefix in _ROUTES:
            if path == f"/{prefix}" or path.startswith(f"/{prefix}/"):
                route = prefix
                path = path[len(prefix) + 1 :]
                break
        streams: list[str] = []
        if path == "/stream":
            combined = True
            for value in parse_qs(parts.query).get("streams", []):
                streams.extend(s for s in value.split("/") if s)
        elif path == "/ws" or path.startswith("/ws/"):
            combined = False
            streams = [s for s in path[4:].split("/") if s]
        else:
            return None  # 404, like any unknown path
        self._connection_count += 1
        return _Connection(self, self._connection_count, route, combined, streams)

    def _on_connected(self, conn: _Connection) -> None:
        self._connections.add(conn)
        self.stats_counter["connections"] += 1
        # Streams named in the URL: invalid names are ignored there (ccxt connects to ``/ws/0``).
        valid = [s for s in conn.initial_streams if self._valid_stream(s)]
        if valid:
            self._subscribe(conn, valid[: self.max_streams_per_connection])
        if self.max_connection_s > 0:
            asyncio.get_running_loop().call_later(self.max_connection_s, self._expire, conn)

    def _expire(self, conn: _Connection) -> None:
        if not conn.closed and conn.transport is not None:
            conn.transport.disconnect()

    def _on_disconnected(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        self._routes_version += 1
        for stream in list(conn.streams):
            self._unroute(conn, stream)
        conn.streams.clear()
        self._writable.set()

    def _valid_stream(self, stream: str) -> bool:
        m = _STREAM_RE.match(stream)
        if m is None or m.group(1) not in self._lower:
            return False
        channel, speed = m.group(2), m.group(3) or ""
        if channel == "depth":
            return speed in _DEPTH_SPEEDS
        return (
            channel in self._channels
            or channel in ("markPrice", "ticker", "miniTicker", "forceOrder")
            or (channel.startswith("depth") and channel[5:] in ("5", "10", "20"))
        )

    @staticmethod
    def _key(stream: str) -> tuple[str, str]:
        symbol, _, rest = stream.partition("@")
        channel = rest.split("@", 1)[0]
        return symbol.upper(), channel

    def _subscribe(self, conn: _Connection, streams: Iterable[str]) -> None:
        self._routes_version += 1
        for stream in streams:
            if stream in conn.streams:
                continue
            conn.streams[stream] = None
            key = self._key(stream)
            if (conn.route and _tier(key[1]) != conn.route) or (not conn.route and _tier(key[1]) != "public"):
                self.stats_counter["misrouted_subscriptions"] += 1
                continue  # acknowledged and listed, never delivered: Binance's silent wrong-path case
            self._routes.setdefault(key, _Route()).targets.setdefault(conn, []).append(stream)
        if self.start_on_subscribe:
            self.start_market()

    def _unroute(self, conn: _Connection, stream: str) -> None:
        self._routes_version += 1
        route = self._routes.get(self._key(stream))
        if route is None or conn not in route.targets:
            return
        names = route.targets[conn]
        if stream in names:
            names.remove(stream)
        if not names:
            del route.targets[conn]

    def _on_request(self, conn: _Connection, payload: bytes) -> None:
        self.stats_counter["requests"] += 1
        try:
            request = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            conn.send_json({"code": 3, "msg": f"Invalid JSON: {exc}"})
            return
        if not isinstance(request, dict):
            conn.send_json({"code": 3, "msg": "Invalid JSON: expected an object"})
            return
        request_id = request.get("id")
        if not isinstance(request_id, int) or isinstance(request_id, bool) or request_id < 0:
            conn.send_json({"code": 2, "msg": "Invalid request: request ID must be an unsigned integer"})
            return
        method = request.get("method")
        params = request.get("params", [])
        if method in ("SUBSCRIBE", "UNSUBSCRIBE"):
            if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
                conn.send_json(
                    {"code": 2, "msg": "Invalid request: params must be a list of streams", "id": request_id}
                )
                return
            if not all(self._valid_stream(p) for p in params):
                conn.send_json({"code": 2, "msg": "Invalid request: invalid stream", "id": request_id})
                return
            if method == "SUBSCRIBE":
                if len(set(conn.streams) | set(params)) > self.max_streams_per_connection:
                    conn.send_json({"code": 2, "msg": "Invalid request: too many streams", "id": request_id})
                    return
                self._subscribe(conn, params)
            else:
                for stream in params:
                    if stream in conn.streams:
                        del conn.streams[stream]
                        self._unroute(conn, stream)
            conn.send_json({"result": None, "id": request_id})
        elif method == "LIST_SUBSCRIPTIONS":
            conn.send_json({"result": list(conn.streams), "id": request_id})
        elif method == "SET_PROPERTY":
            if not (isinstance(params, list) and len(params) == 2 and params[0] == "combined"):
                conn.send_json({"code": 0, "msg": "Unknown property", "id": request_id})
                return
            if not isinstance(params[1], bool):
                conn.send_json({"code": 1, "msg": "Invalid value type: expected Boolean", "id": request_id})
                return
            conn.combined = params[1]
            self._routes_version += 1
            conn.send_json({"result": None, "id": request_id})
        elif method == "GET_PROPERTY":
            if params != ["combined"]:
                conn.send_json({"code": 0, "msg": "Unknown property", "id": request_id})
                return
            conn.send_json({"result": conn.combined, "id": request_id})
        else:
            conn.send_json(
                {
                    "code": 2,
                    "msg": f"Invalid request: unknown variant {method!r}, expected one of SUBSCRIBE, "
                    "UNSUBSCRIBE, LIST_SUBSCRIPTIONS, SET_PROPERTY, GET_PROPERTY",
                    "id": request_id,
                }
            )

    # the market ---------------------------------------------------------------------------------

    async def _pump(self) -> None:
        messages = self.source.messages
        total = len(messages)
        loop = asyncio.get_running_loop()
        t0_wall = loop.time()
        t0_src = messages[0].ts_ns if messages else 0
        faulty = self.faults.active
        if self.speed is None and not faulty:
            await self._pump_prepared()
        while self._position < total:
            if self.speed is not None:
                due = t0_wall + (messages[self._position].ts_ns - t0_src) / 1e9 / self.speed
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                end = self._position + 1
                # Send everything already due in one go.
                now = loop.time()
                while end < total and t0_wall + (messages[end].ts_ns - t0_src) / 1e9 / self.speed <= now:
                    end += 1
                end = min(end, self._position + self.batch)
            else:
                end = min(self._position + self.batch, total)
            self._send_range(self._position, end, faulty)
            self._position = end
            await self._wait_writable()
        for conn in list(self._connections):
            if conn.held is not None:
                conn.send_raw(conn.held)
                conn.held = None
        self._done.set()

    async def _wait_writable(self) -> None:
        """Yield to the loop once; wait while a connection's write buffer is full (flow control)."""
        if any(c.paused for c in self._connections):
            self._writable.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._writable.wait(), 1.0)
        else:
            await asyncio.sleep(0)

    async def _pump_prepared(self) -> None:
        """Write the prepared stream batch by batch while the routes it was built for still hold.

        One ``write`` of a ready slice per connection and batch: no work per message. If anything
        changes who receives what (a subscription, a disconnect), the rest of the market goes through
        the normal path from the next unsent message, which is what the prepared bytes would have been
        up to that point anyway.
        """
        prepared, self._prepared = self._prepared, None
        if prepared is None or prepared.start != self._position:
            return
        for k, end in enumerate(prepared.ends):
            if self._routes_version != prepared.version:
                return
            for conn, (data, offsets) in prepared.streams.items():
                if offsets[k + 1] > offsets[k]:
                    conn.send_raw(data[offsets[k] : offsets[k + 1]])
                    self.stats_counter["market_bytes_sent"] += offsets[k + 1] - offsets[k]
            self.stats_counter["messages_sent"] += end - self._position
            self.stats_counter["frames_sent"] += prepared.frames[k]
            self.stats_counter["prepared_batches_sent"] += 1
            self._position = end
            await self._wait_writable()

    def prepare_stream(self) -> int:
        """Frame the whole market for the connections as subscribed now, before it starts.

        For benchmarks that need the venue to outrun a client: once the market starts
        (:meth:`start_market`), each batch of ``batch`` messages is one ``write`` of a ready slice
        of bytes per connection, with the transport's flow control respected, instead of routing
        and framing every message in Python while the clock runs. The bytes are exactly those the
        normal path sends (same frames, same order per connection). Valid only while the routes stay
        as they are: on any subscription change or disconnect the normal path takes over from the
        next unsent message. Only without faults and with ``speed=None`` (faults are decided per
        message as it is sent, and pacing sends by time).

        Returns
        -------
        int
            The bytes prepared, all connections together.

        Raises
        ------
        ValueError
            If faults are configured or ``speed`` is set.
        RuntimeError
            If the market has already started.
        """
        if self.faults.active or self.speed is not None:
            raise ValueError("prepare_stream needs speed=None and no faults")
        if self._pump_task is not None:
            raise RuntimeError("prepare_stream: the market has already started")
        total = len(self.source.messages)
        parts: dict[_Connection, list[bytes]] = {conn: [] for conn in self._connections}
        sizes = dict.fromkeys(parts, 0)
        offsets: dict[_Connection, list[int]] = {conn: [0] for conn in parts}
        ends: list[int] = []
        frames: list[int] = []
        for start in range(self._position, total, self.batch):
            end = min(start + self.batch, total)
            out, count = self._collect(start, end)
            for conn, chunks in out.items():
                parts[conn].extend(chunks)
                sizes[conn] += sum(map(len, chunks))
            for conn, marks in offsets.items():
                marks.append(sizes[conn])
            ends.append(end)
            frames.append(count)
        streams = {conn: (memoryview(b"".join(parts[conn])), offsets[conn]) for conn in parts}
        self._prepared = _PreparedStream(self._position, self._routes_version, ends, frames, streams)
        return sum(sizes.values())

    def _collect(self, start: int, end: int) -> tuple[dict[_Connection, list[bytes]], int]:
        """The frames of messages ``[start, end)`` for each connection, in order, with no faults."""
        messages = self.source.messages
        routes = self._routes
        out: dict[_Connection, list[bytes]] = {}
        frames = 0
        for index in range(start, end):
            message = messages[index]
            route = routes.get((message.symbol, message.channel))
            if route is None or not route.targets:
                continue
            for conn, names in route.targets.items():
                for name in names:
                    out.setdefault(conn, []).append(_ws_text_frame(self._payload(conn, name, message)))
                    frames += 1
        return out, frames

    @staticmethod
    def _payload(conn: _Connection, name: str, message: SourceMessage) -> bytes:
        if conn.combined:
            return b'{"stream":"%s","data":%s}' % (name.encode(), message.data)
        return message.data

    def _send_range(self, start: int, end: int, faulty: bool) -> None:
        if not faulty:
            out, frames = self._collect(start, end)
        else:
            out, frames = self._collect_faulty(start, end)
        for conn, chunks in out.items():
            data = b"".join(chunks)
            conn.send_raw(data)
            self.stats_counter["market_bytes_sent"] += len(data)
        self.stats_counter["messages_sent"] += end - start
        self.stats_counter["frames_sent"] += frames

    def _collect_faulty(self, start: int, end: int) -> tuple[dict[_Connection, list[bytes]], int]:
        """As :meth:`_collect`, rolling each connection's faults per frame (a fault flushes first)."""
        messages = self.source.messages
        routes = self._routes
        out: dict[_Connection, list[bytes]] = {}
        frames = 0
        for index in range(start, end):
            message = messages[index]
            route = routes.get((message.symbol, message.channel))
            if route is None or not route.targets:
                continue
            for conn, names in list(route.targets.items()):
                for name in names:
                    payload = self._payload(conn, name, message)
                    frame = _ws_text_frame(payload)
                    frames += 1
                    fault = conn.roller.roll(index, message.symbol, message.channel)
                    if fault is not None:
                        pending = out.pop(conn, [])
                        if pending:
                            conn.send_raw(b"".join(pending))
                        self._inject(conn, fault, frame, payload, message)
                        continue
                    if conn.held is not None:
                        out.setdefault(conn, []).extend((frame, conn.held))
                        conn.held = None
                        continue
                    out.setdefault(conn, []).append(frame)
        return out, frames

    def _inject(
        self, conn: _Connection, fault: Fault, frame: bytes, payload: bytes, message: SourceMessage
    ) -> None:
        self.stats_counter[f"fault_{fault.value}"] += 1
        log.debug(
            "fault %s on connection %d (%s %s)", fault.value, conn.index, message.symbol, message.channel
        )
        if fault is Fault.DROP:
            return
        if fault is Fault.DUPLICATE:
            conn.send_raw(frame + frame)
        elif fault is Fault.REORDER:
            if conn.held is not None:
                conn.send_raw(conn.held)
            conn.held = frame
        elif fault is Fault.MALFORMED:
            # The same frame cut in the middle of its JSON: well-framed WebSocket, broken payload.
            conn.send_raw(_ws_text_frame(payload[: len(payload) // 2]))
        elif fault is Fault.DISCONNECT:
            if conn.transport is not None:
                conn.transport.disconnect()
        elif fault is Fault.STALL:
            conn.stall(self.faults.stall_s)
            conn.send_raw(frame)

    # the venue's books and REST -------------------------------------------------------------------

    def _catch_up(self, symbol: str) -> _SymbolBook:
        """Apply to the venue's book every diff of ``symbol`` sent so far."""
        state = self._books[symbol]
        messages = self.source.messages
        indexes = state.depth_indexes
        while state.pointer < len(indexes) and indexes[state.pointer] < self._position:
            message = messages[indexes[state.pointer]]
            state.pointer += 1
            if not state.known:
                # A recorded snapshot becomes the venue's book at the diff that straddles it.
                if state.recorded_payload is None or message.last_id < state.opening_last_id:
                    continue
                opening = self.source.openings[symbol]
                self._bookset.apply_events(opening.events)
                state.known = True
            decoded = self._decoder.decode_depth_update(orjson.loads(message.data), message.ts_ns)
            if decoded.events.size:
                self._bookset.apply_events(decoded.events)
            state.last_id = message.last_id
        return state

    def snapshot(self, symbol: str, limit: int = 500) -> bytes:
        """The ``/fapi/v1/depth`` body for ``symbol`` now.

        ``lastUpdateId`` is the ``U`` of the next diff not yet sent (the book holds everything
        before it); before a recording reaches its recorded snapshot, that snapshot is served as
        recorded.

        Raises
        ------
        KeyError
            Unknown symbol.
        LookupError
            The venue has no book for it (a recording without a snapshot for the symbol).
        """
        state = self._catch_up(symbol)
        if not state.known:
            if state.recorded_payload is None:
                raise LookupError(f"no book for {symbol}")
            return state.recorded_payload
        if state.pointer < len(state.depth_indexes):
            last_update_id = self.source.messages[state.depth_indexes[state.pointer]].first_id
        else:
            last_update_id = state.last_id
        book = self._bookset[state.instrument_id]
        fmt = self._formatters[symbol]
        now_ms = time.time_ns() // 1_000_000
        parts = [b'{"lastUpdateId":%d,"E":%d,"T":%d,"bids":[' % (last_update_id, now_ms, now_ms)]
        for side, closer in ((0, b'],"asks":['), (1, b"]}")):
            levels = book.levels(side, limit).tolist()
            parts.append(b",".join(b'["%s","%s"]' % (fmt.px(px), fmt.qty(qty)) for px, qty in levels))
            parts.append(closer)
        return b"".join(parts)

    @staticmethod
    def _error(status: int, code: int, msg: str) -> web.Response:
        return web.Response(
            status=status, body=orjson.dumps({"code": code, "msg": msg}), content_type="application/json"
        )

    async def _rest_depth(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "").upper()
        if not symbol:
            return self._error(
                400, -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        if symbol not in self._symbols:
            return self._error(400, -1121, "Invalid symbol.")
        limit_text = request.query.get("limit", "500")
        if not limit_text.isdigit() or int(limit_text) not in DEPTH_LIMITS:
            return self._error(400, -1130, "Data sent for parameter 'limit' is not valid.")
        try:
            body = self.snapshot(symbol, int(limit_text))
        except LookupError:
            return self._error(503, -1008, "Server is currently overloaded with other requests.")
        self.stats_counter["snapshots_served"] += 1
        if self.faults.snapshot_delay_s:
            await asyncio.sleep(self.faults.snapshot_delay_s)
        return web.Response(body=body, content_type="application/json")

    async def _rest_exchange_info(self, request: web.Request) -> web.Response:
        return web.Response(body=self.exchange_info(), content_type="application/json")

    async def _rest_time(self, request: web.Request) -> web.Response:
        return web.Response(
            body=orjson.dumps({"serverTime": time.time_ns() // 1_000_000}), content_type="application/json"
        )

    async def _rest_ping(self, request: web.Request) -> web.Response:
        return web.Response(body=b"{}", content_type="application/json")

    def exchange_info(self) -> bytes:
        """The ``/fapi/v1/exchangeInfo`` body: every instrument with Binance's fields and filters."""
        symbols = []
        for inst in self.source.instruments:
            base = inst.symbol[:-4] if inst.symbol.endswith("USDT") else inst.symbol[:-3]
            quote = inst.symbol[len(base) :]
            px_digits = DecimalFormatter.digits(inst.tick_size)
            qty_digits = DecimalFormatter.digits(inst.lot_size)
            symbols.append(
                {
                    "symbol": inst.symbol,
                    "pair": inst.symbol,
                    "contractType": "PERPETUAL",
                    "deliveryDate": 4133404800000,
                    "onboardDate": 1569398400000,
                    "status": "TRADING",
                    "maintMarginPercent": "2.5000",
                    "requiredMarginPercent": "5.0000",
                    "baseAsset": base,
                    "quoteAsset": quote,
                    "marginAsset": quote,
                    "pricePrecision": px_digits,
                    "quantityPrecision": qty_digits,
                    "baseAssetPrecision": 8,
                    "quotePrecision": 8,
                    "underlyingType": "COIN",
                    "underlyingSubType": [],
                    "triggerProtect": "0.0500",
                    "liquidationFee": "0.012500",
                    "marketTakeBound": "0.05",
                    "maxMoveOrderLimit": 10000,
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "minPrice": inst.tick_size,
                            "maxPrice": "4529764",
                            "tickSize": inst.tick_size,
                        },
                        {
                            "filterType": "LOT_SIZE",
                            "minQty": inst.min_qty,
                            "maxQty": "1000",
                            "stepSize": inst.lot_size,
                        },
                        {
                            "filterType": "MARKET_LOT_SIZE",
                            "minQty": inst.min_qty,
                            "maxQty": "120",
                            "stepSize": inst.lot_size,
                        },
                        {"filterType": "MAX_NUM_ORDERS", "limit": 200},
                        {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
                        {"filterType": "MIN_NOTIONAL", "notional": inst.min_notional},
                        {
                            "filterType": "PERCENT_PRICE",
                            "multiplierUp": "1.0500",
                            "multiplierDown": "0.9500",
                            "multiplierDecimal": "4",
                        },
                    ],
                    "orderTypes": [
                        "LIMIT",
                        "MARKET",
                        "STOP",
                        "STOP_MARKET",
                        "TAKE_PROFIT",
                        "TAKE_PROFIT_MARKET",
                    ],
                    "timeInForce": ["GTC", "IOC", "FOK", "GTX", "GTD"],
                }
            )
        return orjson.dumps(
            {
                "timezone": "UTC",
                "serverTime": time.time_ns() // 1_000_000,
                "futuresType": "U_MARGINED",
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": 2400,
                    },
                    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
                ],
                "exchangeFilters": [],
                "assets": [{"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}],
                "symbols": symbols,
            }
        )


# ---- WebSocket API (ws-fapi) order endpoint ------------------------------------------------------------

_WS_API_PATH: Final = "/ws-fapi/v1"
_ORDER_METHODS: Final = frozenset({"order.place", "order.cancel", "order.modify"})
# The rate-limit block Binance attaches to every WebSocket API response (counts are the endpoint's own).
_RATE_LIMIT_WEIGHT: Final = 2400


class _OrderApiConnection(WSListener):
    """One WebSocket API connection: each text frame is one request, answered on the same connection."""

    def __init__(self, api: SimBinanceOrderApi) -> None:
        super().__init__()
        self.api = api
        self.transport: WSTransport | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.transport = transport
        self.api.connections += 1

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        self.api.connections -= 1

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        # The arrival time comes first: it is the "order frame in" of the round-trip measurement.
        arrived_ns = time.perf_counter_ns()
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
            return
        if frame.msg_type == WSMsgType.PING:
            transport.send_pong(frame.get_payload_as_bytes())
            return
        if frame.msg_type not in (WSMsgType.TEXT, WSMsgType.BINARY):
            return
        response = self.api.handle(frame.get_payload_as_bytes())
        transport.send(WSMsgType.TEXT, response)
        if self.api.on_request is not None:
            self.api.on_request(arrived_ns)


class SimBinanceOrderApi:
    """The order methods of Binance USD-M's WebSocket API (``ws-fapi``) on loopback.

    Speaks ``order.place``, ``order.cancel`` and ``order.modify`` as documented for
    ``wss://ws-fapi.binance.com/ws-fapi/v1``: a request ``{"id":..,"method":..,"params":{..}}`` is answered
    with ``{"id":..,"status":200,"result":{..order..},"rateLimits":[..]}`` or
    ``{"id":..,"status":4xx,"error":{"code":..,"msg":..},"rateLimits":[..]}``. Every request must be
    signed with the endpoint's HMAC key (``apiKey``, ``timestamp``, ``signature`` = HMAC-SHA256 of every
    other parameter sorted by name as ``k=v`` joined by ``&``) within ``recv_window_ms``; otherwise it is
    refused with Binance's codes: -2015 (unknown API key), -1022 (bad signature), -1021 (timestamp
    outside the window), -1102 (missing parameter), -1121 (unknown symbol), -1111 (price or quantity
    finer than the symbol's tick or lot), -1116/-1115/-1117 (bad type, time in force, side),
    -2011 (cancel of an unknown order), -2013 (modify of an order that does not exist).
    ``session.logon`` is not implemented (refused with -1000 like any other unknown method).

    Simplification, stated: orders are acknowledged, never matched. A LIMIT GTC or GTX order rests
    (``status: NEW``) until cancelled; IOC and MARKET orders expire at once (``status: EXPIRED``, nothing
    executed), as they would against an empty book.

    Parameters
    ----------
    instruments : sequence of rentrade.Instrument
        The symbols orders may name (their tick and lot sizes check prices and quantities).
    api_key, secret : str
        The HMAC credentials requests must carry and be signed with (a test key, never a real one).
    host, port : str, int
        Where to listen (port 0 picks a free one; read :attr:`port` after :meth:`start`).
    recv_window_ms : int
        How old a request's timestamp may be (Binance's default 5000); one more second is allowed
        ahead of the server clock, as Binance does.

    Attributes
    ----------
    on_request : callable or None
        ``on_request(arrived_ns)``, called after each request was answered with the
        ``time.perf_counter_ns()`` read when its frame arrived (the benchmark's "order frame in").
    """

    def __init__(
        self,
        instruments: Iterable[Any],
        *,
        api_key: str,
        secret: str,
        host: str = "127.0.0.1",
        port: int = 0,
        recv_window_ms: int = 5000,
    ) -> None:
        self.instruments = {inst.symbol: inst for inst in instruments}
        self._api_key = api_key
        self._secret = secret.encode()
        self.host = host
        self._port_wanted = port
        self.port = 0
        self.recv_window_ms = recv_window_ms
        self.on_request: Any = None
        self.connections = 0
        self.open_orders: dict[tuple[str, str], dict[str, Any]] = {}
        self._next_order_id = 1
        self._requests = 0
        self.stats_counter: dict[str, int] = {"requests": 0, "accepted": 0, "rejected": 0}
        self.errors: dict[int, int] = {}
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        """Bind the WebSocket server (port in :attr:`port`)."""
        self._server = await ws_create_server(self._route, self.host, self._port_wanted)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Close the server."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)

    async def __aenter__(self) -> SimBinanceOrderApi:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        """The endpoint, e.g. ``ws://127.0.0.1:40125/ws-fapi/v1``."""
        return f"ws://{self.host}:{self.port}{_WS_API_PATH}"

    def _route(self, request: WSUpgradeRequest) -> WSListener | None:
        path = urlsplit(request.path.decode("latin-1")).path.rstrip("/")
        return _OrderApiConnection(self) if path == _WS_API_PATH else None

    # requests ---------------------------------------------------------------------------------------

    def _rate_limits(self) -> list[dict[str, Any]]:
        return [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": _RATE_LIMIT_WEIGHT,
                "count": self._requests,
            }
        ]

    def _error(self, request_id: Any, status: int, code: int, msg: str) -> bytes:
        self.stats_counter["rejected"] += 1
        self.errors[code] = self.errors.get(code, 0) + 1
        return orjson.dumps(
            {
                "id": request_id,
                "status": status,
                "error": {"code": code, "msg": msg},
                "rateLimits": self._rate_limits(),
            }
        )

    @staticmethod
    def _param_text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def handle(self, payload: bytes) -> bytes:
        """Answer one request (the JSON text of a frame) with the JSON text of its response."""
        self._requests += 1
        self.stats_counter["requests"] += 1
        try:
            request = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return self._error(None, 400, -1000, "Malformed request: not JSON.")
        if not isinstance(request, dict):
            return self._error(None, 400, -1000, "Malformed request: not a JSON object.")
        request_id = request.get("id")
        method = request.get("method")
        params = request.get("params")
        if method not in _ORDER_METHODS:
            return self._error(request_id, 400, -1000, f"Unknown method '{method}'.")
        if not isinstance(params, dict):
            return self._error(request_id, 400, -1102, "Mandatory parameter 'params' was not sent.")
        refused = self._authenticate(request_id, params)
        if refused is not None:
            return refused
        symbol = params.get("symbol")
        if not isinstance(symbol, str) or symbol not in self.instruments:
            return self._error(request_id, 400, -1121, "Invalid symbol.")
        if method == "order.place":
            return self._place(request_id, params)
        if method == "order.cancel":
            return self._cancel(request_id, params)
        return self._modify(request_id, params)

    def _authenticate(self, request_id: Any, params: dict[str, Any]) -> bytes | None:
        for name in ("apiKey", "timestamp", "signature"):
            if name not in params:
                return self._error(
                    request_id,
                    400,
                    -1102,
                    f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
                )
        if params["apiKey"] != self._api_key:
            return self._error(request_id, 401, -2015, "Invalid API-key, IP, or permissions for action.")
        signed = "&".join(f"{k}={self._param_text(params[k])}" for k in sorted(params) if k != "signature")
        expected = hmac.new(self._secret, signed.encode(), hashlib.sha256).hexdigest()
        if not isinstance(params["signature"], str) or not hmac.compare_digest(expected, params["signature"]):
            return self._error(request_id, 400, -1022, "Signature for this request is not valid.")
        timestamp = params["timestamp"]
        now_ms = time.time_ns() // 1_000_000
        window = params.get("recvWindow", self.recv_window_ms)
        if (
            not isinstance(timestamp, int)
            or isinstance(timestamp, bool)
            or timestamp >= now_ms + 1000
            or now_ms - timestamp > window
        ):
            return self._error(
                request_id, 400, -1021, "Timestamp for this request is outside of the recvWindow."
            )
        return None

    def _decimal(self, request_id: Any, params: dict[str, Any], name: str) -> tuple[int | None, bytes | None]:
        instrument = self.instruments[params["symbol"]]
        text = params.get(name)
        if not isinstance(text, str):
            return None, self._error(
                request_id,
                400,
                -1102,
                f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
            )
        try:
            value = instrument.price_to_ticks(text) if name == "price" else instrument.qty_to_lots(text)
        except ValueError:
            return None, self._error(
                request_id, 400, -1111, "Precision is over the maximum defined for this asset."
            )
        if value <= 0:
            return None, self._error(request_id, 400, -1102, f"Parameter '{name}' must be positive.")
        return value, None

    def _result(self, params: dict[str, Any], order: dict[str, Any]) -> dict[str, Any]:
        return {
            "orderId": order["orderId"],
            "symbol": params["symbol"],
            "status": order["status"],
            "clientOrderId": order["clientOrderId"],
            "price": order["price"],
            "avgPrice": "0.00",
            "origQty": order["origQty"],
            "executedQty": "0",
            "cumQty": "0",
            "cumQuote": "0",
            "timeInForce": order["timeInForce"],
            "type": order["type"],
            "reduceOnly": order["reduceOnly"],
            "closePosition": False,
            "side": order["side"],
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": order["type"],
            "priceMatch": "NONE",
            "selfTradePreventionMode": "NONE",
            "goodTillDate": 0,
            "updateTime": time.time_ns() // 1_000_000,
        }

    def _ok(self, request_id: Any, result: dict[str, Any]) -> bytes:
        self.stats_counter["accepted"] += 1
        return orjson.dumps(
            {"id": request_id, "status": 200, "result": result, "rateLimits": self._rate_limits()}
        )

    def _place(self, request_id: Any, params: dict[str, Any]) -> bytes:
        side = params.get("side")
        if side not in ("BUY", "SELL"):
            return self._error(request_id, 400, -1117, "Invalid side.")
        kind = params.get("type")
        if kind not in ("LIMIT", "MARKET"):
            return self._error(request_id, 400, -1116, "Invalid orderType.")
        _, refused = self._decimal(request_id, params, "quantity")
        if refused is not None:
            return refused
        tif = "GTC"
        price = "0"
        if kind == "LIMIT":
            tif = params.get("timeInForce", "")
            if tif not in ("GTC", "IOC", "GTX", "FOK"):
                return self._error(request_id, 400, -1115, "Invalid timeInForce.")
            _, refused = self._decimal(request_id, params, "price")
            if refused is not None:
                return refused
            price = params["price"]
        client_id = params.get("newClientOrderId") or f"sim-{self._next_order_id}"
        rests = kind == "LIMIT" and tif in ("GTC", "GTX")
        order = {
            "orderId": self._next_order_id,
            "clientOrderId": client_id,
            "status": "NEW" if rests else "EXPIRED",
            "price": price,
            "origQty": params["quantity"],
            "timeInForce": tif,
            "type": kind,
            "reduceOnly": params.get("reduceOnly") in (True, "true"),
            "side": side,
        }
        self._next_order_id += 1
        if rests:
            self.open_orders[(params["symbol"], client_id)] = order
        return self._ok(request_id, self._result(params, order))

    def _cancel(self, request_id: Any, params: dict[str, Any]) -> bytes:
        key = (params["symbol"], str(params.get("origClientOrderId", "")))
        order = self.open_orders.pop(key, None)
        if order is None:
            return self._error(request_id, 400, -2011, "Unknown order sent.")
        order["status"] = "CANCELED"
        return self._ok(request_id, self._result(params, order))

    def _modify(self, request_id: Any, params: dict[str, Any]) -> bytes:
        key = (params["symbol"], str(params.get("origClientOrderId", "")))
        order = self.open_orders.get(key)
        if order is None:
            return self._error(request_id, 400, -2013, "Order does not exist.")
        _, refused = self._decimal(request_id, params, "quantity")
        if refused is not None:
            return refused
        _, refused = self._decimal(request_id, params, "price")
        if refused is not None:
            return refused
        order["price"] = params["price"]
        order["origQty"] = params["quantity"]
        return self._ok(request_id, self._result(params, order))
