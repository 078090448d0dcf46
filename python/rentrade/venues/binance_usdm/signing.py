"""Binance request signing (USD-M futures here; spot reuses these functions with its own URLs).

REST (``SIGNED`` endpoints): the payload is the query string concatenated with the form body,
*without* a separator; ``timestamp`` (and ``recvWindow`` if given) are appended to whichever of
the two carries the parameters, and ``signature`` is appended after them. HMAC keys sign with
HMAC-SHA256 as hex; Ed25519 and RSA (PKCS#1 v1.5, SHA-256) keys sign as base64, which is then
percent-encoded. The API key goes in ``X-MBX-APIKEY``. Non-ASCII must be percent-encoded before
signing, which :func:`rentrade.signing.encode_query` does.

WebSocket API: the payload is every parameter except ``signature``, sorted by name, as
``name=value`` joined by ``&``, with values as UTF-8 text (not percent-encoded). ``session.logon``
authenticates the connection and accepts Ed25519 keys only.

Sources
-------
- https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security
- https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info
  (SIGNED (TRADE and USER_DATA) Endpoint security; the ``NhqPtmdS...`` HMAC examples)
- https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/request-security
  (SIGNED request examples for HMAC, RSA and Ed25519; alphabetical parameter order)
- https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/authentication-requests
  and https://developers.binance.com/docs/derivatives/usds-margined-futures/websocket-api-general-info
  (``session.logon``, Ed25519 only)
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote

from rentrade.credentials import Credentials
from rentrade.signing import Params, ParamValue, ServerClock, SignedRequest, encode_query, format_param
from rentrade.venues.binance_usdm import urls

__all__ = [
    "SERVER_CLOCK",
    "VENUE",
    "sign_request",
    "ws_auth_message",
    "ws_request",
    "ws_sign_params",
]

VENUE: Final = "binance"
SERVER_CLOCK: Final = ServerClock()
"""Offset of Binance USD-M futures' clock; feed it samples of ``GET /fapi/v1/time``."""

_log = logging.getLogger(__name__)
_FORM: Final = "application/x-www-form-urlencoded"


def _signature(credentials: Credentials, payload: bytes) -> str:
    """Binance signature text: hex for HMAC, base64 for Ed25519 and RSA (not yet URL-encoded)."""
    if credentials.key_type == "hmac":
        return credentials.hmac_sha256_hex(payload)
    credentials.require("ed25519", "rsa", venue="Binance")
    return base64.b64encode(credentials.sign(payload)).decode("ascii")


def sign_request(  # noqa: PLR0917 (one positional shape for every venue, fixed by the design)
    credentials: Credentials,
    method: str,
    path: str,
    params: Params | None = None,
    body: Params | None = None,
    timestamp_ms: int | None = None,
    *,
    recv_window_ms: int | None = None,
    base_url: str = urls.REST_URL,
    clock: ServerClock = SERVER_CLOCK,
) -> SignedRequest:
    """Sign a Binance ``SIGNED`` REST request.

    Parameters
    ----------
    credentials
        HMAC, Ed25519 or RSA credentials.
    method
        HTTP method; ``GET``/``DELETE`` normally carry everything in ``params``.
    path
        Endpoint path, e.g. ``"/fapi/v1/order"``.
    params
        Query-string parameters, in the order to send them.
    body
        Form-body parameters (``application/x-www-form-urlencoded``); when given, ``timestamp``,
        ``recvWindow`` and ``signature`` go in the body.
    timestamp_ms
        Request timestamp; defaults to ``clock.now_ms()``. Ignored if the parameters already
        contain ``timestamp`` (then they are signed as given).
    recv_window_ms
        ``recvWindow`` to append (Binance's default is 5000 ms when absent).
    base_url
        Scheme and host, e.g. ``urls.TESTNET_REST_URL``.
    clock
        Server clock used when ``timestamp_ms`` is ``None``.

    Returns
    -------
    SignedRequest
        URL with the final query string, ``X-MBX-APIKEY`` header, and the exact body bytes.

    Notes
    -----
    HMAC signing of a typical order costs a few microseconds: one pass of query encoding, two
    prepared SHA-256 state copies, and string concatenation (see ``rentrade.bench``).
    """
    if (
        type(body) is dict
        and body
        and not params
        and "timestamp" not in body
        and credentials.key_type == "hmac"
    ):
        # The order path (a form body of plain text): encoded, signed and finished in one compiled
        # call, byte-identical to the general path below. None means "needs escaping": fall through.
        ts = clock.now_ms() if timestamp_ms is None else timestamp_ms
        tail = (
            f"recvWindow={recv_window_ms}&timestamp={ts}" if recv_window_ms is not None else f"timestamp={ts}"
        )
        signed = credentials.hmac_sha256_signed_form(body, tail, "signature")
        if signed is not None:
            if _log.isEnabledFor(logging.DEBUG):
                _log.debug("binance signed %s %s with %s key", method, path, credentials.key_type)
            headers = {"X-MBX-APIKEY": credentials.api_key, "Content-Type": _FORM}
            return SignedRequest(method.upper(), f"{base_url}{path}", headers, signed)
    query = encode_query(params) if params else ""
    form = encode_query(body) if body else ""
    if not (_has_timestamp(params) or _has_timestamp(body)):
        ts = clock.now_ms() if timestamp_ms is None else timestamp_ms
        tail = (
            f"recvWindow={recv_window_ms}&timestamp={ts}" if recv_window_ms is not None else f"timestamp={ts}"
        )
        if body:
            form = f"{form}&{tail}" if form else tail
        else:
            query = f"{query}&{tail}" if query else tail
    elif recv_window_ms is not None:
        raise ValueError("give recvWindow inside the parameters when they already carry a timestamp")

    if credentials.key_type == "hmac":
        signature = credentials.hmac_sha256_hex(f"{query}{form}".encode())
    else:
        signature = quote(_signature(credentials, f"{query}{form}".encode()), safe="")
    headers = {"X-MBX-APIKEY": credentials.api_key}
    if form:
        headers["Content-Type"] = _FORM
        url = f"{base_url}{path}?{query}" if query else f"{base_url}{path}"
        data = f"{form}&signature={signature}".encode()
    else:
        url = f"{base_url}{path}?{query}&signature={signature}"
        data = b""
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("binance signed %s %s with %s key", method, path, credentials.key_type)
    return SignedRequest(method.upper(), url, headers, data)


def _has_timestamp(params: Params | None) -> bool:
    if not params:
        return False
    if isinstance(params, Mapping):
        return "timestamp" in params
    if isinstance(params, list | tuple):
        return any(k == "timestamp" for k, _ in params)
    raise TypeError("params must be a mapping, list or tuple of (name, value) pairs")


def _ws_payload(params: Mapping[str, ParamValue]) -> bytes:
    # WebSocket API: sorted by name, values as UTF-8 text, no percent-encoding.
    return "&".join(f"{k}={format_param(params[k])}" for k in sorted(params)).encode("utf-8")


def ws_sign_params(
    credentials: Credentials,
    params: Mapping[str, ParamValue],
    timestamp_ms: int | None = None,
    *,
    recv_window_ms: int | None = None,
    clock: ServerClock = SERVER_CLOCK,
) -> dict[str, ParamValue]:
    """Add ``apiKey``, ``timestamp`` (``recvWindow``) and ``signature`` to WebSocket API params.

    Parameters
    ----------
    credentials
        HMAC, Ed25519 or RSA credentials.
    params
        The request's parameters (e.g. of ``order.place``) without authentication fields.
    timestamp_ms
        Defaults to ``clock.now_ms()``; ignored if ``params`` has a ``timestamp``.
    recv_window_ms
        Optional ``recvWindow``.
    clock
        Server clock used when ``timestamp_ms`` is ``None``.

    Returns
    -------
    dict
        A new dict: the given params plus the authentication fields, ``signature`` last.
    """
    signed: dict[str, ParamValue] = dict(params)
    signed["apiKey"] = credentials.api_key
    if recv_window_ms is not None:
        signed["recvWindow"] = recv_window_ms
    if "timestamp" not in signed:
        signed["timestamp"] = clock.now_ms() if timestamp_ms is None else timestamp_ms
    signed["signature"] = _signature(credentials, _ws_payload(signed))
    return signed


def ws_request(
    credentials: Credentials | None,
    method: str,
    params: Mapping[str, ParamValue],
    *,
    request_id: str | None = None,
    timestamp_ms: int | None = None,
    recv_window_ms: int | None = None,
    clock: ServerClock = SERVER_CLOCK,
) -> bytes:
    """JSON text of a WebSocket API request, signed when ``credentials`` is given.

    Pass ``credentials=None`` for requests on a connection already authenticated with
    ``session.logon`` (the server then signs on the session's behalf; no ``apiKey``/``signature``).
    ``request_id`` defaults to a random UUID.
    """
    body: Mapping[str, ParamValue] = (
        ws_sign_params(credentials, params, timestamp_ms, recv_window_ms=recv_window_ms, clock=clock)
        if credentials is not None
        else params
    )
    message = {"id": request_id or str(uuid.uuid4()), "method": method, "params": dict(body)}
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def ws_auth_message(
    credentials: Credentials,
    timestamp_ms: int | None = None,
    *,
    request_id: str | None = None,
    recv_window_ms: int | None = None,
    clock: ServerClock = SERVER_CLOCK,
) -> bytes:
    """JSON text of ``session.logon``, which authenticates a WebSocket API connection.

    Raises
    ------
    rentrade.credentials.CredentialsError
        Unless the credentials hold an Ed25519 key (the only kind ``session.logon`` accepts).
    """
    credentials.require("ed25519", venue="Binance session.logon")
    return ws_request(
        credentials,
        "session.logon",
        {},
        request_id=request_id,
        timestamp_ms=timestamp_ms,
        recv_window_ms=recv_window_ms,
        clock=clock,
    )
