"""Binance spot request signing: the USD-M module's one implementation, with spot's URLs and clock.

The rules are identical (see :mod:`rentrade.venues.binance_usdm.signing`); only the base URL and
the server clock differ, since spot and futures are separate services with separate clocks.

Sources
-------
- https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security
- https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/request-security
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from rentrade.credentials import Credentials
from rentrade.signing import Params, ParamValue, ServerClock, SignedRequest
from rentrade.venues.binance_spot import urls
from rentrade.venues.binance_usdm import signing as _impl

__all__ = ["SERVER_CLOCK", "VENUE", "sign_request", "ws_auth_message", "ws_request", "ws_sign_params"]

VENUE: Final = _impl.VENUE
SERVER_CLOCK: Final = ServerClock()
"""Offset of Binance spot's clock; feed it samples of ``GET /api/v3/time``."""

ws_sign_params = _impl.ws_sign_params
"""Same as :func:`rentrade.venues.binance_usdm.signing.ws_sign_params` (pass ``clock=SERVER_CLOCK``)."""


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
    """Sign a Binance spot ``SIGNED`` REST request (e.g. ``POST /api/v3/order``).

    See :func:`rentrade.venues.binance_usdm.signing.sign_request` for the parameters.
    """
    return _impl.sign_request(
        credentials,
        method,
        path,
        params,
        body,
        timestamp_ms,
        recv_window_ms=recv_window_ms,
        base_url=base_url,
        clock=clock,
    )


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
    """JSON text of a spot WebSocket API request; see the USD-M module for details."""
    return _impl.ws_request(
        credentials,
        method,
        params,
        request_id=request_id,
        timestamp_ms=timestamp_ms,
        recv_window_ms=recv_window_ms,
        clock=clock,
    )


def ws_auth_message(
    credentials: Credentials,
    timestamp_ms: int | None = None,
    *,
    request_id: str | None = None,
    recv_window_ms: int | None = None,
    clock: ServerClock = SERVER_CLOCK,
) -> bytes:
    """JSON text of spot ``session.logon`` (Ed25519 keys only); see the USD-M module."""
    return _impl.ws_auth_message(
        credentials, timestamp_ms, request_id=request_id, recv_window_ms=recv_window_ms, clock=clock
    )
