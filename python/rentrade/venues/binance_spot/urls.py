"""Binance spot endpoints.

Source: https://developers.binance.com/docs/binance-spot-api-docs/rest-api/general-api-information
and https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/general-api-information
"""

from typing import Final

REST_URL: Final = "https://api.binance.com"
WS_API_URL: Final = "wss://ws-api.binance.com:443/ws-api/v3"
WS_STREAM_URL: Final = "wss://stream.binance.com:9443"
TESTNET_REST_URL: Final = "https://testnet.binance.vision"
TESTNET_WS_API_URL: Final = "wss://ws-api.testnet.binance.vision/ws-api/v3"
SERVER_TIME_PATH: Final = "/api/v3/time"
