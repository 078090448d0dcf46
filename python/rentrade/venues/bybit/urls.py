"""Bybit v5 endpoints.

Source: https://bybit-exchange.github.io/docs/v5/guide and
https://bybit-exchange.github.io/docs/v5/ws/connect
"""

from typing import Final

REST_URL: Final = "https://api.bybit.com"
TESTNET_REST_URL: Final = "https://api-testnet.bybit.com"
WS_PUBLIC_LINEAR_URL: Final = "wss://stream.bybit.com/v5/public/linear"
WS_PRIVATE_URL: Final = "wss://stream.bybit.com/v5/private"
WS_TRADE_URL: Final = "wss://stream.bybit.com/v5/trade"
TESTNET_WS_PRIVATE_URL: Final = "wss://stream-testnet.bybit.com/v5/private"
SERVER_TIME_PATH: Final = "/v5/market/time"
