"""Kraken Futures (derivatives) endpoints.

Source: https://docs.kraken.com/api/docs/guides/futures-rest and
https://docs.kraken.com/api/docs/guides/futures-websockets
"""

from typing import Final

REST_URL: Final = "https://futures.kraken.com"
DEMO_REST_URL: Final = "https://demo-futures.kraken.com"
WS_URL: Final = "wss://futures.kraken.com/ws/v1"
DEMO_WS_URL: Final = "wss://demo-futures.kraken.com/ws/v1"
API_PREFIX: Final = "/derivatives"
"""URL prefix of REST endpoints that is not part of the signed ``endpointPath``."""
