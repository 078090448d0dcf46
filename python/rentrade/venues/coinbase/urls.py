"""Coinbase Advanced Trade endpoints.

Source: https://docs.cdp.coinbase.com/advanced-trade/docs/rest-api-overview and
https://docs.cdp.coinbase.com/advanced-trade/docs/ws-overview
"""

from typing import Final

REST_HOST: Final = "api.coinbase.com"
REST_URL: Final = "https://api.coinbase.com"
WS_MARKET_URL: Final = "wss://advanced-trade-ws.coinbase.com"
WS_USER_URL: Final = "wss://advanced-trade-ws-user.coinbase.com"
SERVER_TIME_PATH: Final = "/api/v3/brokerage/time"
