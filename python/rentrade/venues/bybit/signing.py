"""Bybit v5 request signing.

REST: the signed text is ``timestamp + api_key + recv_window + (queryString | jsonBodyString)``;
HMAC keys sign it with HMAC-SHA256 as lowercase hex, RSA keys with RSA-SHA256 as base64. Headers
``X-BAPI-API-KEY``, ``X-BAPI-TIMESTAMP``, ``X-BAPI-RECV-WINDOW`` and ``X-BAPI-SIGN`` carry it.
The query string is signed as sent (not sorted); a POST signs the exact JSON body bytes sent.

WebSocket (private streams and the trade stream): ``{"op": "auth", "args": [api_key, expires,
signature]}`` where the signature covers ``"GET/realtime" + expires`` (milliseconds).

Sources
-------
- https://bybit-exchange.github.io/docs/v5/guide (Authentication; the published plain-text
  examples ``1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C``)
- https://bybit-exchange.github.io/docs/v5/ws/connect (Authentication, ``GET/realtime``)
"""

from __future__ import annotations

import base64
import json
import logging
from typing import Final

from rentrade.credentials import Credentials
from rentrade.signing import JsonBody, Params, ServerClock, SignedRequest, encode_query, json_body
from rentrade.venues.bybit import urls

__all__ = ["SERVER_CLOCK", "VENUE", "prehash", "sign_request", "ws_auth_message"]

VENUE: Final = "bybit"
SERVER_CLOCK: Final = ServerClock()
"""Offset of Bybit's clock; feed it samples of ``GET /v5/market/time``."""

_log = logging.getLogger(__name__)


def _signature(credentials: Credentials, text: bytes) -> str:
    if credentials.key_type == "hmac":
        return credentials.hmac_sha256_hex(text)
    credentials.require("rsa", venue="Bybit")
    return base64.b64encode(credentials.sign(text)).decode("ascii")


def prehash(timestamp_ms: int, api_key: str, recv_window_ms: int, payload: str) -> str:
    """The text Bybit signs: ``timestamp + api_key + recv_window + payload``."""
    return f"{timestamp_ms}{api_key}{recv_window_ms}{payload}"


def sign_request(  # noqa: PLR0917 (one positional shape for every venue, fixed by the design)
    credentials: Credentials,
    method: str,
    path: str,
    params: Params | None = None,
    body: JsonBody | bytes | str | None = None,
    timestamp_ms: int | None = None,
    *,
    recv_window_ms: int = 5000,
    base_url: str = urls.REST_URL,
    clock: ServerClock = SERVER_CLOCK,
) -> SignedRequest:
    """Sign a Bybit v5 private REST request.

    Parameters
    ----------
    credentials
        HMAC or RSA credentials.
    method
        ``GET`` (parameters in ``params``) or ``POST`` (parameters in ``body``).
    path
        Endpoint path, e.g. ``"/v5/order/create"``.
    params
        Query-string parameters, signed in the order given.
    body
        JSON body: a mapping/list (encoded compactly) or the exact bytes/str to send.
    timestamp_ms
        ``X-BAPI-TIMESTAMP``; defaults to ``clock.now_ms()``.
    recv_window_ms
        ``X-BAPI-RECV-WINDOW`` (Bybit's default is 5000).
    base_url
        Scheme and host, e.g. ``urls.TESTNET_REST_URL``.
    clock
        Server clock used when ``timestamp_ms`` is ``None``.

    Raises
    ------
    ValueError
        If both ``params`` and ``body`` are given (Bybit signs one or the other).
    """
    if params and body is not None:
        raise ValueError(
            "Bybit signs either the query string or the JSON body: pass params or body, not both"
        )
    ts = clock.now_ms() if timestamp_ms is None else timestamp_ms
    query = encode_query(params) if params else ""
    data = json_body(body) if body is not None else b""
    payload = query if body is None else data.decode("utf-8")
    signature = _signature(
        credentials, prehash(ts, credentials.api_key, recv_window_ms, payload).encode("utf-8")
    )
    headers = {
        "X-BAPI-API-KEY": credentials.api_key,
        "X-BAPI-TIMESTAMP": str(ts),
        "X-BAPI-RECV-WINDOW": str(recv_window_ms),
        "X-BAPI-SIGN": signature,
    }
    if body is not None:
        headers["Content-Type"] = "application/json"
    url = f"{base_url}{path}?{query}" if query else f"{base_url}{path}"
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("bybit signed %s %s with %s key", method, path, credentials.key_type)
    return SignedRequest(method.upper(), url, headers, data)


def ws_auth_message(
    credentials: Credentials,
    timestamp_ms: int | None = None,
    *,
    expires_after_ms: int = 10_000,
    req_id: str | None = None,
    clock: ServerClock = SERVER_CLOCK,
) -> bytes:
    """JSON text of the ``auth`` operation for Bybit's private and trade WebSocket streams.

    Parameters
    ----------
    credentials
        HMAC or RSA credentials.
    timestamp_ms
        Current time; defaults to ``clock.now_ms()``. ``expires`` is this plus ``expires_after_ms``.
    expires_after_ms
        How long the signature stays valid.
    req_id
        Optional ``req_id`` echoed by the server.
    clock
        Server clock used when ``timestamp_ms`` is ``None``.
    """
    expires = (clock.now_ms() if timestamp_ms is None else timestamp_ms) + expires_after_ms
    signature = _signature(credentials, f"GET/realtime{expires}".encode("ascii"))
    message: dict[str, object] = {"op": "auth", "args": [credentials.api_key, expires, signature]}
    if req_id is not None:
        message = {"req_id": req_id, **message}
    return json.dumps(message, separators=(",", ":")).encode("utf-8")
