"""Coinbase Advanced Trade request signing: a short-lived JWT per request.

Each REST request carries ``Authorization: Bearer <JWT>``. The JWT header is
``{"alg", "kid": key name, "nonce": random hex, "typ": "JWT"}`` and its claims are
``{"sub": key name, "iss": "cdp", "nbf": now, "exp": now + 120, "uri": "METHOD host/path"}``
(seconds; the ``uri`` has no query string). EC P-256 keys sign with ES256 (the JWS ``r || s``
form), Ed25519 keys with EdDSA. The WebSocket JWT is the same without ``uri``; it goes in the
``jwt`` field of each subscribe message.

ES256 signatures are randomized, so two JWTs for the same request differ in their signature
(and nonce) while their header and claims are fixed by the inputs.

Sources
-------
- https://docs.cdp.coinbase.com/advanced-trade/docs/rest-api-auth (Creating a JWT)
- https://docs.cdp.coinbase.com/advanced-trade/docs/ws-auth
- https://docs.cdp.coinbase.com/get-started/authentication/jwt-authentication (Ed25519 keys)
- the official SDK ``coinbase-advanced-py`` (``coinbase/jwt_generator.py``), cross-checked in tests
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
from collections.abc import Sequence
from typing import Final

from rentrade.credentials import Credentials
from rentrade.signing import JsonBody, Params, ServerClock, SignedRequest, encode_query, json_body
from rentrade.venues.coinbase import urls

__all__ = [
    "JWT_LIFETIME_S",
    "SERVER_CLOCK",
    "VENUE",
    "build_jwt",
    "sign_request",
    "ws_auth_message",
    "ws_jwt",
]

VENUE: Final = "coinbase"
JWT_LIFETIME_S: Final = 120
SERVER_CLOCK: Final = ServerClock()
"""Offset of Coinbase's clock; feed it samples of ``GET /api/v3/brokerage/time``."""

_log = logging.getLogger(__name__)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _json(obj: object) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode("utf-8")


def build_jwt(
    credentials: Credentials,
    uri: str | None,
    timestamp_ms: int | None = None,
    *,
    nonce: str | None = None,
    clock: ServerClock = SERVER_CLOCK,
) -> str:
    """A signed Coinbase JWT.

    Parameters
    ----------
    credentials
        ECDSA P-256 (ES256) or Ed25519 (EdDSA) credentials; ``api_key`` is the key name.
    uri
        ``"METHOD host/path"`` for REST, ``None`` for WebSocket.
    timestamp_ms
        Issue time; defaults to ``clock.now_ms()``. ``nbf`` is its whole seconds, ``exp`` 120 s later.
    nonce
        Header nonce; defaults to 64 random hex digits, as the official SDK makes it.
    clock
        Server clock used when ``timestamp_ms`` is ``None``.

    Raises
    ------
    rentrade.credentials.CredentialsError
        For HMAC or RSA credentials.
    """
    credentials.require("ecdsa_p256", "ed25519", venue="Coinbase Advanced Trade")
    alg = "ES256" if credentials.key_type == "ecdsa_p256" else "EdDSA"
    now_s = (clock.now_ms() if timestamp_ms is None else timestamp_ms) // 1000
    # Key order matches PyJWT's output as used by the official SDK: sorted header, claims in order.
    header = {"alg": alg, "kid": credentials.api_key, "nonce": nonce or secrets.token_hex(), "typ": "JWT"}
    claims: dict[str, object] = {
        "sub": credentials.api_key,
        "iss": "cdp",
        "nbf": now_s,
        "exp": now_s + JWT_LIFETIME_S,
    }
    if uri is not None:
        claims["uri"] = uri
    signing_input = f"{_b64url(_json(header))}.{_b64url(_json(claims))}"
    return f"{signing_input}.{_b64url(credentials.sign(signing_input.encode('ascii')))}"


def sign_request(  # noqa: PLR0917 (one positional shape for every venue, fixed by the design)
    credentials: Credentials,
    method: str,
    path: str,
    params: Params | None = None,
    body: JsonBody | bytes | str | None = None,
    timestamp_ms: int | None = None,
    *,
    host: str = urls.REST_HOST,
    nonce: str | None = None,
    clock: ServerClock = SERVER_CLOCK,
) -> SignedRequest:
    """Sign a Coinbase Advanced Trade REST request with a fresh JWT.

    Parameters
    ----------
    credentials
        ECDSA P-256 or Ed25519 credentials.
    method
        HTTP method.
    path
        Endpoint path, e.g. ``"/api/v3/brokerage/orders"``; the JWT ``uri`` is ``METHOD host+path``.
    params
        Query-string parameters (not part of the JWT).
    body
        JSON body: a mapping/list (encoded compactly) or the exact bytes/str to send.
    timestamp_ms
        JWT issue time; defaults to ``clock.now_ms()``.
    host
        API host, also used in the ``uri`` claim.
    nonce
        JWT header nonce (random by default).
    clock
        Server clock used when ``timestamp_ms`` is ``None``.
    """
    method = method.upper()
    token = build_jwt(credentials, f"{method} {host}{path}", timestamp_ms, nonce=nonce, clock=clock)
    headers = {"Authorization": f"Bearer {token}"}
    data = b""
    if body is not None:
        data = json_body(body)
        headers["Content-Type"] = "application/json"
    url = f"https://{host}{path}?{encode_query(params)}" if params else f"https://{host}{path}"
    if _log.isEnabledFor(logging.DEBUG):
        _log.debug("coinbase signed %s %s with %s key", method, path, credentials.key_type)
    return SignedRequest(method, url, headers, data)


def ws_jwt(
    credentials: Credentials,
    timestamp_ms: int | None = None,
    *,
    nonce: str | None = None,
    clock: ServerClock = SERVER_CLOCK,
) -> str:
    """The WebSocket JWT: :func:`build_jwt` without a ``uri`` claim."""
    return build_jwt(credentials, None, timestamp_ms, nonce=nonce, clock=clock)


def ws_auth_message(
    credentials: Credentials,
    channel: str,
    product_ids: Sequence[str] = (),
    timestamp_ms: int | None = None,
    *,
    nonce: str | None = None,
    clock: ServerClock = SERVER_CLOCK,
) -> bytes:
    """JSON text of an authenticated ``subscribe`` message (a fresh JWT is needed per message).

    Parameters
    ----------
    credentials
        ECDSA P-256 or Ed25519 credentials.
    channel
        Channel name, e.g. ``"user"`` or ``"level2"``.
    product_ids
        Products, e.g. ``["BTC-USD"]``.
    timestamp_ms, nonce, clock
        As for :func:`build_jwt`.
    """
    message = {
        "type": "subscribe",
        "product_ids": list(product_ids),
        "channel": channel,
        "jwt": ws_jwt(credentials, timestamp_ms, nonce=nonce, clock=clock),
    }
    return _json(message)
