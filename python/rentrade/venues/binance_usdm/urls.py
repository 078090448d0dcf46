"""Binance USD-M futures endpoints.

Source: https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info and
https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-api-general-info
"""

from typing import Final

REST_URL: Final = "https://fapi.binance.com"
WS_API_URL: Final = "wss://ws-fapi.binance.com/ws-fapi/v1"
WS_STREAM_URL: Final = "wss://fstream.binance.com"
TESTNET_REST_URL: Final = "https://testnet.binancefuture.com"
TESTNET_WS_API_URL: Final = "wss://testnet.binancefuture.com/ws-fapi/v1"
SERVER_TIME_PATH: Final = "/fapi/v1/time"

# Market streams are routed by tier on fstream.binance.com: a stream on the wrong path delivers
# nothing and raises no error. Source: https://developers.binance.com/docs/products/caas/market-data-streams
# ("USD-M Futures routes streams by path": /public high-frequency data such as @depth, /market regular
# market data such as @aggTrade and @markPrice, /private user data; an unrouted connection receives
# /public data only).
WS_PUBLIC_PATH: Final = "/public"
WS_MARKET_PATH: Final = "/market"
WS_PRIVATE_PATH: Final = "/private"
PUBLIC_CHANNELS: Final = frozenset({"depth", "bookTicker", "trade", "rpiDepth"})
"""Stream channels (the part after ``<symbol>@``) served on ``/public``; every other one is ``/market``."""

DEPTH_PATH: Final = "/fapi/v1/depth"
EXCHANGE_INFO_PATH: Final = "/fapi/v1/exchangeInfo"
DEPTH_LIMITS: Final = (5, 10, 20, 50, 100, 500, 1000)
"""The ``limit`` values ``GET /fapi/v1/depth`` accepts (default 500)."""

# Connection rules from the "Websocket Market Streams" page (USD-M futures).
MAX_STREAMS_PER_CONNECTION: Final = 1024
MAX_INCOMING_MESSAGES_PER_S: Final = 10
MAX_CONNECTION_S: Final = 24 * 3600
SERVER_PING_INTERVAL_S: Final = 180
PONG_TIMEOUT_S: Final = 600


def stream_path(channel: str) -> str:
    """The routed path (``/public`` or ``/market``) that carries ``<symbol>@<channel>[@speed]``."""
    return WS_PUBLIC_PATH if channel.split("@", 1)[0] in PUBLIC_CHANNELS else WS_MARKET_PATH
