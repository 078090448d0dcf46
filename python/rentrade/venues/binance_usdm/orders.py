"""Binance USD-M orders as WebSocket API requests, encoded by the core.

The engine's intents are turned into ``order.place`` / ``order.cancel`` / ``order.modify`` request text
by :class:`rentrade._fastcore.BinanceOrderEncoder` (C++, no allocation per order). With HMAC credentials
each request carries ``apiKey``, ``timestamp`` and ``signature``; on a connection authenticated with
``session.logon`` (Ed25519, see :func:`rentrade.venues.binance_usdm.signing.ws_auth_message`) pass
``credentials=None`` and requests carry only ``timestamp``. The text is byte-identical to
:func:`rentrade.venues.binance_usdm.signing.ws_request` for the same parameters.
"""

from __future__ import annotations

from collections.abc import Sequence

from rentrade._fastcore import BinanceOrderEncoder, Instrument
from rentrade.credentials import Credentials, CredentialsError

__all__ = ["order_encoder"]


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
