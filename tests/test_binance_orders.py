"""The core's Binance USD-M order encoder, byte for byte against the Python WebSocket API request builder."""

from __future__ import annotations

import hashlib
import hmac
import logging
from typing import Literal, NamedTuple

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rentrade import Instrument, Side
from rentrade.credentials import Credentials, CredentialsError
from rentrade.venues.binance_usdm.orders import order_encoder
from rentrade.venues.binance_usdm.signing import ws_request

SECRET = "canary-order-secret-5f3c9a"
TS_MS = 1_700_000_000_123
INSTRUMENTS = [
    Instrument("BTCUSDT", "binance_usdm", "0.1", "0.001"),
    Instrument("ETHUSDT", "binance_usdm", "0.01", "0.001"),
    Instrument("1000PEPEUSDT", "binance_usdm", "0.0000001", "1"),
]


class Intent(NamedTuple):
    kind: Literal["new", "cancel", "replace"]
    order_id: int
    instrument_id: int
    side: Literal["bid", "ask"]
    px_ticks: int
    qty_lots: int
    order_type: Literal["limit", "market"]
    tif: Literal["gtc", "ioc", "post_only"]
    reduce_only: bool


def expected_params(intent: Intent) -> dict[str, object]:
    """The parameter order documented at BinanceOrderEncoder::try_encode, built the slow Python way."""
    instrument = INSTRUMENTS[intent.instrument_id]
    price = instrument.ticks_to_price(intent.px_ticks)
    qty = instrument.lots_to_qty(intent.qty_lots)
    client_id = f"rt-{intent.order_id}"
    side = "BUY" if intent.side == "bid" else "SELL"
    if intent.kind == "cancel":
        return {"symbol": instrument.symbol, "origClientOrderId": client_id}
    if intent.kind == "replace":
        return {
            "symbol": instrument.symbol,
            "side": side,
            "quantity": qty,
            "price": price,
            "origClientOrderId": client_id,
        }
    params: dict[str, object] = {"symbol": instrument.symbol, "side": side, "type": intent.order_type.upper()}
    if intent.order_type == "limit":
        params["timeInForce"] = {"gtc": "GTC", "ioc": "IOC", "post_only": "GTX"}[intent.tif]
    params["quantity"] = qty
    if intent.order_type == "limit":
        params["price"] = price
    if intent.reduce_only:
        params["reduceOnly"] = "true"
    params["newClientOrderId"] = client_id
    return params


intents = st.builds(
    Intent,
    kind=st.sampled_from(["new", "cancel", "replace"]),
    order_id=st.integers(1, 2**64 - 1),
    instrument_id=st.integers(0, len(INSTRUMENTS) - 1),
    side=st.sampled_from(["bid", "ask"]),
    px_ticks=st.integers(1, 2**62),
    qty_lots=st.integers(1, 2**62),
    order_type=st.sampled_from(["limit", "market"]),
    tif=st.sampled_from(["gtc", "ioc", "post_only"]),
    reduce_only=st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(intent=intents, signed=st.booleans())
def test_encoder_equals_ws_request(intent: Intent, signed: bool) -> None:
    credentials = Credentials("api-key-1", secret=SECRET) if signed else None
    encoder = order_encoder(INSTRUMENTS, credentials)
    got = encoder.encode(
        intent.kind,
        intent.order_id,
        intent.instrument_id,
        intent.side,
        intent.px_ticks,
        intent.qty_lots,
        TS_MS,
        order_type=intent.order_type,
        time_in_force=intent.tif,
        reduce_only=intent.reduce_only,
    )
    params = expected_params(intent)
    method = {"new": "order.place", "cancel": "order.cancel", "replace": "order.modify"}[intent.kind]
    request_id = {"new": "place", "cancel": "cancel", "replace": "modify"}[
        intent.kind
    ] + f"-{intent.order_id}"
    if credentials is None:
        params["timestamp"] = TS_MS
    want = ws_request(credentials, method, params, request_id=request_id, timestamp_ms=TS_MS)  # type: ignore[arg-type]
    assert got == want
    if signed:
        fields = orjson.loads(got)["params"]
        signature = fields.pop("signature")
        payload = "&".join(f"{k}={fields[k]}" for k in sorted(fields)).encode()
        assert signature == hmac.new(SECRET.encode(), payload, hashlib.sha256).hexdigest()


def test_pinned_request() -> None:
    encoder = order_encoder(INSTRUMENTS, Credentials("api-key-1", secret=SECRET))
    got = encoder.encode("new", 42, 0, Side.BID, 650_001, 10, TS_MS, reduce_only=True)
    assert got.startswith(
        b'{"id":"place-42","method":"order.place","params":{"symbol":"BTCUSDT","side":"BUY","type":"LIMIT",'
        b'"timeInForce":"GTC","quantity":"0.010","price":"65000.1","reduceOnly":"true","newClientOrderId":"rt-42",'
        b'"apiKey":"api-key-1","timestamp":1700000000123,"signature":"'
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("new", 1, 9, "bid", 1, 1), "unknown instrument id"),
        (("new", 1, 0, "bid", 1, 0), "quantity must be > 0 lots"),
        (("replace", 1, 0, "bid", 0, 1), "price must be > 0 ticks"),
        (("new", 1, 0, "bid", -5, 1), "price must be > 0 ticks"),
    ],
)
def test_refusals_say_why(args: tuple[object, ...], message: str) -> None:
    encoder = order_encoder(INSTRUMENTS, None)
    with pytest.raises(ValueError, match=message):
        encoder.encode(*args, TS_MS)  # type: ignore[arg-type]


def test_market_order_needs_no_price() -> None:
    encoder = order_encoder(INSTRUMENTS, None)
    got = orjson.loads(encoder.encode("new", 7, 1, "ask", 0, 5, TS_MS, order_type="market"))
    assert got["params"] == {"symbol": "ETHUSDT", "side": "SELL", "type": "MARKET", "quantity": "0.005",
                             "newClientOrderId": "rt-7", "timestamp": TS_MS}  # fmt: skip


def test_bad_names_are_refused() -> None:
    with pytest.raises(ValueError, match="JSON escaping"):
        order_encoder([Instrument('BTC"USDT', "binance_usdm", "0.1", "0.001")], None)
    with pytest.raises(ValueError, match="kind must be"):
        order_encoder(INSTRUMENTS, None).encode("amend", 1, 0, "bid", 1, 1, TS_MS)  # type: ignore[arg-type]


def test_ed25519_credentials_are_told_to_log_on() -> None:
    from cryptography.hazmat.primitives.asymmetric import ed25519

    credentials = Credentials("api-key-1", private_key=ed25519.Ed25519PrivateKey.generate())
    with pytest.raises(CredentialsError, match=r"session\.logon"):
        order_encoder(INSTRUMENTS, credentials)


def test_secret_stays_out_of_reprs_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    credentials = Credentials("api-key-1", secret=SECRET)
    encoder = order_encoder(INSTRUMENTS, credentials)
    request = encoder.encode("new", 1, 0, "bid", 1, 1, TS_MS)
    shown = repr(encoder) + repr(credentials.hmac_sha256_signer()) + caplog.text
    assert SECRET not in shown and SECRET.encode() not in request


def test_measured_encoding_does_the_work() -> None:
    from rentrade._fastcore import measure_order_encode

    signed = order_encoder(INSTRUMENTS, Credentials("api-key-1", secret=SECRET))
    run, request_bytes = measure_order_encode(signed, len(INSTRUMENTS), orders=2_000, passes=1)
    assert run.timed_ops == 2_000 and run.throughput_ops == 2_000
    # Every signed order.place carries the 64-hex signature and the fixed field names: > 250 bytes each.
    assert request_bytes > 250 * 2_000
    assert run.histogram.count == 2_000 and run.histogram.percentile(50) > 0
    with pytest.raises(ValueError, match="instruments >= 1"):
        measure_order_encode(signed, 0)
