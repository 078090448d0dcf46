"""Binance USD-M orders as WebSocket API requests, encoded by the core.

The engine's intents are turned into ``order.place`` / ``order.cancel`` / ``order.modify`` request text
by :class:`rentrade._fastcore.BinanceOrderEncoder` (C++, no allocation per order). With HMAC credentials
each request carries ``apiKey``, ``timestamp`` and ``signature``; on a connection authenticated with
``session.logon`` (Ed25519, see :func:`rentrade.venues.binance_usdm.signing.ws_auth_message`) pass
``credentials=None`` and requests carry only ``timestamp``. The text is byte-identical to
:func:`rentrade.venues.binance_usdm.signing.ws_request` for the same parameters.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from rentrade import orders as records
from rentrade._fastcore import BinanceOrderEncoder, Engine, Instrument
from rentrade.credentials import Credentials, CredentialsError

__all__ = ["order_encoder", "report_from_response"]

# Order statuses of a WebSocket API result, and the report each one is for the engine.
_STATUS_REPORTS: dict[str, tuple[int, int]] = {
    "NEW": (records.REPORT_ACK, records.REASON_NONE),
    "PARTIALLY_FILLED": (records.REPORT_ACK, records.REASON_NONE),
    "CANCELED": (records.REPORT_CANCELLED, records.REASON_USER_CANCEL),
    "EXPIRED": (records.REPORT_CANCELLED, records.REASON_NO_LIQUIDITY),
    "EXPIRED_IN_MATCH": (records.REPORT_CANCELLED, records.REASON_NO_LIQUIDITY),
}


def order_encoder(instruments: Sequence[Instrument], credentials: Credentials | None) -> BinanceOrderEncoder:
    """Build the order encoder for ``instruments`` (indexed by the engine's instrument ids).

    Parameters
    ----------
    instruments
        The instruments, in the engine's id order.
    credentials
        HMAC credentials to sign every request, or ``None`` for a ``session.logon`` connection.

    Raises
    ------
    CredentialsError
        For Ed25519 or RSA credentials: Binance signs those per connection with ``session.logon``,
        so log on and pass ``None``.
    ValueError
        If a symbol or the API key holds characters that would need escaping in JSON.
    """
    if credentials is None:
        return BinanceOrderEncoder(list(instruments), "", None)
    if credentials.key_type != "hmac":
        raise CredentialsError(
            "per-request signing of orders needs an HMAC secret, these credentials hold a "
            f"{credentials.key_type} key: authenticate the connection with session.logon (ws_auth_message) "
            "and pass credentials=None"
        )
    return BinanceOrderEncoder(list(instruments), credentials.api_key, credentials.hmac_sha256_signer())


def _order_id(request_id: Any) -> int | None:
    # The encoder names requests "<place|cancel|modify>-<order_id>".
    if not isinstance(request_id, str):
        return None
    _, dash, digits = request_id.partition("-")
    return int(digits) if dash and digits.isdigit() else None


def report_from_response(
    payload: bytes, engine: Engine, ts_local_ns: int | None = None
) -> npt.NDArray[np.void] | None:
    """The engine's report for one WebSocket API response to a request of :func:`order_encoder`.

    An error response is a reject (``REASON_VENUE_REJECTED``, or ``REASON_UNKNOWN_ORDER`` for -2011 and
    -2013); a result is an ack (``NEW``) or a cancel (``CANCELED``, ``EXPIRED``). Fills are not read
    here: Binance reports them on the user data stream.

    Parameters
    ----------
    payload
        The response's JSON text.
    engine
        The engine whose order the request was (it names the instrument and side).
    ts_local_ns
        Receive time (default: now, wall clock).

    Returns
    -------
    numpy.ndarray or None
        One record of :data:`rentrade.orders.REPORT_DTYPE`; None when the response is not about a
        working order of ``engine`` (another request's answer, or an order already finished).

    Raises
    ------
    ValueError
        If ``payload`` is not a JSON object.
    """
    response = orjson.loads(payload)
    if not isinstance(response, dict):
        raise ValueError("a WebSocket API response must be a JSON object")
    order_id = _order_id(response.get("id"))
    order = engine.order(order_id) if order_id is not None else None
    if order is None or order_id is None:
        return None
    error = response.get("error")
    if isinstance(error, dict):
        unknown = error.get("code") in (-2011, -2013)
        kind, reason = (
            records.REPORT_REJECT,
            records.REASON_UNKNOWN_ORDER if unknown else records.REASON_VENUE_REJECTED,
        )
    else:
        result = response.get("result")
        status = result.get("status") if isinstance(result, dict) else None
        if status not in _STATUS_REPORTS:
            return None
        kind, reason = _STATUS_REPORTS[str(status)]
    when = time.time_ns() if ts_local_ns is None else ts_local_ns
    report = records.empty_reports(1)
    report["ts_exchange_ns"] = when
    report["ts_local_ns"] = when
    report["px_ticks"] = int(order["px_ticks"])
    report["order_id"] = order_id
    report["instrument_id"] = int(order["instrument_id"])
    report["kind"] = kind
    report["reason"] = reason
    report["side"] = int(order["side"])
    return report
