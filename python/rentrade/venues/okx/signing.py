"""OKX v5 request signing.

REST: ``OK-ACCESS-SIGN`` is base64(HMAC-SHA256(secret, timestamp + METHOD + requestPath + body)),
where ``timestamp`` is ISO 8601 UTC with milliseconds (``2020-12-08T09:08:57.715Z``, also sent as
``OK-ACCESS-TIMESTAMP``), ``requestPath`` includes the query string for GET, and ``body`` is the
exact JSON text sent (empty for none). ``OK-ACCESS-KEY`` and ``OK-ACCESS-PASSPHRASE`` complete it.

WebSocket login: ``sign`` is base64(HMAC-SHA256(secret, timestamp + "GET" + "/users/self/verify"))
with ``timestamp`` in Unix *seconds*, sent as ``{"op": "login", "args": [{"apiKey", "passphrase",
"timestamp", "sign"}]}``.

Sources
-------
- https://www.okx.com/docs-v5/en/#overview-rest-authentication (Signature; the published
  ``timestamp + 'GET' + '/api/v5/account/balance?ccy=BTC'`` example)
- https://www.okx.com/docs-v5/en/#overview-websocket-login
"""

from __future__ import annotations

import base64
import json
import logging
import time
from typing import Final

from rentrade.credentials import Credentials
from rentrade.signing import JsonBody, Params, ServerClock, SignedRequest, encode_query, json_body
from rentrade.venues.okx import urls

__all__ = ["SERVER_CLOCK", "VENUE", "iso_timestamp", "prehash", "sign_request", "ws_auth_message"]

VENUE: Final = "okx"
SERVER_CLOCK: Final = ServerClock()
"""Offset of OKX's clock; feed it samples of ``GET /api/v5/public/time``."""

_log = logging.getLogger(__name__)


def iso_timestamp(timestamp_ms: int) -> str:
    """ISO 8601 UTC with exactly three fractional digits and ``Z``, from integer milliseconds."""
    seconds, millis = divmod(timestamp_ms, 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"


def prehash(timestamp: str, method: str, request_path: str, body: str) -> str:
    """The text OKX signs: ``timestamp + METHOD + requestPath + body``."""
    return f"{timestamp}{method.upper()}{request_path}{body}"


def _sign(credentials: Credentials, text: str) -> str:
    return base64.b64encode(credentials.hmac_sha256(text.encode("utf-8"))).decode("ascii")


def sign_request(  # noqa: PLR0917 (one positional shape for every venue, fixed by the design)
    credentials: Credentials,
    method: str,
    path: str,
    params: Params | None = None,
    body: JsonBody | bytes | str | None = None,
    timestamp_ms: int | None = None,
    *,
    demo: bool = False,
    base_url: str = urls.REST_URL,
    clock: ServerClock = SERVER_CLOCK,
) -> SignedRequest:
    """Sign an OKX v5 private REST request.

    Parameters
    ----------
    credentials
        HMAC credentials with a passphrase.
    method
        ``GET`` (parameters in ``params``) or ``POST`` (parameters in ``body``).
    path
        Endpoint path, e.g. ``"/api/v5/trade/order"``.
    params
        Query-string parameters; part of the signed ``requestPath``.
    body
        JSON body: a mapping or list of mappings (encoded compactly), or the exact bytes/str.
    timestamp_ms
        Defaults to ``clock.now_ms()``; sent as ISO 8601 with milliseconds.
    demo
        Add ``x-simulated-trading: 1`` for OKX demo trading.
    base_url
        Scheme and host.
    clock
        Server clock used when ``timestamp_ms`` is ``None``.

    Raises
    ------
    rentrade.credentials.CredentialsError
        If the credentials are not HMAC or carry no passphrase.
    """
    credentials.require("hmac", venue="OKX")
    if not credentials.has_passphrase:
        credentials.passphrase_for_header()  # raises the error that says how to set it
    ts = iso_timestamp(clock.now_ms() if timestamp_ms is None else timestamp_ms)
    request_path = f"{path}?{encode_query(params)}" if params else path
    data = json_body(body) if body is not None else b""
    signature = _sign(credentials, prehash(ts, method, request_path, data.decode("utf-8")))
    headers = {
        "OK-ACCESS-KEY": credentials.api_key,
        "OK-ACCESS-SIGN": signature,
        "OK-ACCESS-TIMESTAMP": ts,
        # Fetched last and inline: no local holds it while anything above could still raise.
        "OK-ACCESS-PASSPHRASE": credentials.passphrase_for_header(),
        "Content-Type": "application/json",
    }
    if demo:
        headers["x-simulated-trading"] = "1"
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("okx signed %s %s", method, path)
    return SignedRequest(method.upper(), f"{base_url}{request_path}", headers, data)


def ws_auth_message(
    credentials: Credentials,
    timestamp_ms: int | None = None,
    *,
    clock: ServerClock = SERVER_CLOCK,
) -> bytes:
    """JSON text of the WebSocket ``login`` operation (private and business channels).

    Parameters
    ----------
    credentials
        HMAC credentials with a passphrase.
    timestamp_ms
        Defaults to ``clock.now_ms()``; OKX takes it in whole seconds.
    clock
        Server clock used when ``timestamp_ms`` is ``None``.
    """
    credentials.require("hmac", venue="OKX")
    ts = str((clock.now_ms() if timestamp_ms is None else timestamp_ms) // 1000)
    arg = {
        "apiKey": credentials.api_key,
        "passphrase": credentials.passphrase_for_header(),
        "timestamp": ts,
        "sign": _sign(credentials, prehash(ts, "GET", urls.WS_LOGIN_PATH, "")),
    }
    return json.dumps({"op": "login", "args": [arg]}, separators=(",", ":")).encode("utf-8")
