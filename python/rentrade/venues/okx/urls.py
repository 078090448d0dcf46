"""OKX v5 endpoints.

Source: https://www.okx.com/docs-v5/en/#overview-production-trading-services
"""

from typing import Final

REST_URL: Final = "https://www.okx.com"
WS_PUBLIC_URL: Final = "wss://ws.okx.com:8443/ws/v5/public"
WS_PRIVATE_URL: Final = "wss://ws.okx.com:8443/ws/v5/private"
WS_BUSINESS_URL: Final = "wss://ws.okx.com:8443/ws/v5/business"
DEMO_WS_PRIVATE_URL: Final = "wss://wspap.okx.com:8443/ws/v5/private"
SERVER_TIME_PATH: Final = "/api/v5/public/time"
WS_LOGIN_PATH: Final = "/users/self/verify"
