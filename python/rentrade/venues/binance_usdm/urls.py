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
