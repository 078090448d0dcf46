"""Binance signing: the documentation's published examples, Ed25519/RSA, the WebSocket API, and ccxt.

Published examples (exact inputs and outputs) come from
https://developers.binance.com/docs/derivatives/usds-margined-futures/general-info ,
https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security and
https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/request-security .
"""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from rentrade.credentials import Credentials, CredentialsError
from rentrade.signing import ServerClock
from rentrade.venues.binance_usdm import signing, urls

DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC = Credentials(DOC_KEY, secret=DOC_SECRET)
DOC_TS = 1499827319559
FULLWIDTH_SYMBOL = (
    "\uff11\uff12\uff13\uff14\uff15\uff16"  # the docs' non-ASCII example symbol, full-width "123456"
)
ORDER = {
    "symbol": "LTCBTC",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "1",
    "price": "0.1",
}
DOC_QUERY = (
    "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
    "&recvWindow=5000&timestamp=1499827319559"
)


def _ed25519() -> tuple[Credentials, ed25519.Ed25519PrivateKey]:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return Credentials(
        "4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO", private_key=pem
    ), key


# ---------------------------------------------------------------------- published HMAC examples


def test_doc_example_1_all_parameters_in_query_string() -> None:
    req = signing.sign_request(DOC, "POST", "/fapi/v1/order", ORDER, timestamp_ms=DOC_TS, recv_window_ms=5000)
    sig = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert req.url == f"{urls.REST_URL}/fapi/v1/order?{DOC_QUERY}&signature={sig}"
    assert req.headers == {"X-MBX-APIKEY": DOC_KEY}
    assert req.body == b""
    assert req.method == "POST"


def test_doc_example_2_all_parameters_in_body() -> None:
    req = signing.sign_request(
        DOC, "POST", "/fapi/v1/order", None, ORDER, timestamp_ms=DOC_TS, recv_window_ms=5000
    )
    sig = "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    assert req.url == f"{urls.REST_URL}/fapi/v1/order"
    assert req.body == f"{DOC_QUERY}&signature={sig}".encode()
    assert req.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_doc_example_3_mixed_query_and_body_signed_without_separator() -> None:
    query = {"symbol": "LTCBTC", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC"}
    body = {"quantity": "1", "price": "0.1"}
    req = signing.sign_request(
        DOC, "POST", "/fapi/v1/order", query, body, timestamp_ms=DOC_TS, recv_window_ms=5000
    )
    sig = "0fd168b8ddb4876a0358a8d14d0c9f3da0e9b20c5d52b2a00fcf7d1c602f9a77"
    assert req.url == f"{urls.REST_URL}/fapi/v1/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC"
    assert req.body == f"quantity=1&price=0.1&recvWindow=5000&timestamp={DOC_TS}&signature={sig}".encode()


def test_doc_example_non_ascii_symbol_is_percent_encoded_before_signing() -> None:
    params = {**ORDER, "symbol": FULLWIDTH_SYMBOL}
    req = signing.sign_request(DOC, "POST", "/api/v3/order", params, timestamp_ms=DOC_TS, recv_window_ms=5000)
    assert req.url.endswith(
        "?symbol=%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96&side=BUY&type=LIMIT&timeInForce=GTC"
        "&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"
        "&signature=e1353ec6b14d888f1164ae9af8228a3dbd508bc82eb867db8ab6046442f33ef3"
    )


def test_timestamp_defaults_to_the_server_clock() -> None:
    clock = ServerClock(time_ns=lambda: 1_000_000_000_000_000)
    clock.add_sample(1_000_000_000_500, 1_000_000_000_000_000, 1_000_000_000_000_000)
    req = signing.sign_request(DOC, "GET", "/fapi/v2/account", clock=clock)
    assert "timestamp=1000000000500&" in req.url


def test_caller_supplied_timestamp_is_signed_as_given() -> None:
    params = {"timestamp": DOC_TS, **ORDER, "recvWindow": 5000}
    req = signing.sign_request(DOC, "DELETE", "/fapi/v1/order", params, timestamp_ms=1)
    assert f"timestamp={DOC_TS}&" in req.url and "timestamp=1&" not in req.url
    with pytest.raises(ValueError, match="recvWindow"):
        signing.sign_request(DOC, "DELETE", "/fapi/v1/order", params, recv_window_ms=5000)


def test_floats_are_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        signing.sign_request(DOC, "POST", "/fapi/v1/order", {"price": 0.1}, timestamp_ms=DOC_TS)  # type: ignore[dict-item]


# ---------------------------------------------------------------------- Ed25519 and RSA REST


def test_ed25519_rest_signature_is_base64_url_encoded_and_verifies() -> None:
    creds, key = _ed25519()
    # The documentation's Ed25519 REST example parameters (its private key is not published).
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1",
        "price": "0.2",
    }
    req = signing.sign_request(
        creds, "POST", "/api/v3/order", params, timestamp_ms=1668481559918, recv_window_ms=5000
    )
    query, _, encoded_sig = urlsplit(req.url).query.rpartition("&signature=")
    assert query == (
        "symbol=BTCUSDT&side=SELL&type=LIMIT&timeInForce=GTC&quantity=1&price=0.2&recvWindow=5000&timestamp=1668481559918"
    )
    assert "+" not in encoded_sig and "/" not in encoded_sig and "=" not in encoded_sig
    key.public_key().verify(base64.b64decode(unquote(encoded_sig)), query.encode())
    # Ed25519 is deterministic: the same request signs the same.
    again = signing.sign_request(
        creds, "POST", "/api/v3/order", params, timestamp_ms=1668481559918, recv_window_ms=5000
    )
    assert again.url == req.url


def test_rsa_rest_signature_verifies() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    creds = Credentials("CAvIjXy3F44yW6Pou5k8Dy1swsYDWJZLeoK2r8G4cFDnE9nosRppc2eKc1T8TRTQ", private_key=key)
    req = signing.sign_request(creds, "POST", "/api/v3/order", None, ORDER, timestamp_ms=DOC_TS)
    payload, _, encoded_sig = req.body.decode().rpartition("&signature=")
    key.public_key().verify(
        base64.b64decode(unquote(encoded_sig)), payload.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_ecdsa_keys_are_refused_by_binance() -> None:
    creds = Credentials("k", private_key=ec.generate_private_key(ec.SECP256R1()))
    with pytest.raises(CredentialsError, match="Binance does not accept ecdsa_p256"):
        signing.sign_request(creds, "GET", "/fapi/v2/account", timestamp_ms=DOC_TS)


# ---------------------------------------------------------------------- WebSocket API


def test_ws_api_doc_example_hmac_alphabetical_order() -> None:
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01000000",
        "price": "52000.00",
        "recvWindow": 100,
    }
    signed = signing.ws_sign_params(DOC, params, 1645423376532)
    assert signed["signature"] == "aa1b5712c094bc4e57c05a1a5c1fd8d88dcd628338ea863fec7b88e59fe2db24"
    with_ack = signing.ws_sign_params(DOC, {**params, "newOrderRespType": "ACK"}, 1645423376532)
    assert with_ack["signature"] == "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"


def test_ws_api_doc_example_hmac_non_ascii_is_signed_as_utf8_not_percent_encoded() -> None:
    params = {
        "symbol": FULLWIDTH_SYMBOL,
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "1.00000000",
        "price": "0.10000000",
        "recvWindow": 5000,
    }
    signed = signing.ws_sign_params(DOC, params, 1645423376532)
    assert signed["signature"] == "b33892ae8e687c939f4468c6268ddd4c40ac1af18ad19a064864c47bae0752cd"


def test_ws_api_ed25519_payload_is_the_documented_sorted_string() -> None:
    creds, key = _ed25519()
    params = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.01000000",
        "price": "52000.00",
        "recvWindow": 100,
    }
    signed = signing.ws_sign_params(creds, params, 1645423376532)
    documented_payload = (
        "apiKey=4yNzx3yWC5bS6YTwEkSRaC0nRmSQIIStAUOh1b6kqaBrTLIhjCpI5lJH8q8R8WNO&price=52000.00"
        "&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC"
        "&timestamp=1645423376532&type=LIMIT"
    )
    key.public_key().verify(base64.b64decode(str(signed["signature"])), documented_payload.encode())


def test_session_logon_message() -> None:
    creds, key = _ed25519()
    message = json.loads(
        signing.ws_auth_message(creds, 1649729878532, request_id="c174a2b1", recv_window_ms=5000)
    )
    assert message["id"] == "c174a2b1"
    assert message["method"] == "session.logon"
    params = message["params"]
    assert list(params) == ["apiKey", "recvWindow", "timestamp", "signature"]
    assert params["timestamp"] == 1649729878532 and params["recvWindow"] == 5000
    payload = f"apiKey={creds.api_key}&recvWindow=5000&timestamp=1649729878532"
    key.public_key().verify(base64.b64decode(params["signature"]), payload.encode())


def test_session_logon_refuses_hmac_keys() -> None:
    with pytest.raises(CredentialsError, match=r"session\.logon"):
        signing.ws_auth_message(DOC, DOC_TS)


def test_ws_request_after_logon_is_unsigned() -> None:
    message = json.loads(
        signing.ws_request(None, "order.status", {"symbol": "BTCUSDT", "orderId": 1}, request_id="x")
    )
    assert message == {"id": "x", "method": "order.status", "params": {"symbol": "BTCUSDT", "orderId": 1}}


# ---------------------------------------------------------------------- cross-check with ccxt


def _ccxt_binanceusdm(secret: str, ts: int) -> object:
    ccxt = pytest.importorskip(
        "ccxt", reason="ccxt is a test extra (pip install rentrade[test]); cross-check skipped"
    )
    ex = ccxt.binanceusdm({"apiKey": DOC_KEY, "secret": secret})
    ex.nonce = lambda: ts  # ccxt reads the timestamp from nonce(); pin it so it signs offline
    return ex


@pytest.mark.parametrize("method", ["POST", "GET", "DELETE"])
def test_matches_ccxt_binanceusdm_hmac(method: str) -> None:
    ts = 1700000000123
    ex = _ccxt_binanceusdm(DOC_SECRET, ts)
    order = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.010",
        "price": "60000.00",
        "newClientOrderId": "rt-000000000042",
    }
    theirs = ex.sign("order", ["fapiPrivate"], method, dict(order))  # type: ignore[attr-defined]
    # ccxt sends timestamp first and its default recvWindow (10000) last; give ours the same order.
    params = {"timestamp": ts, **order, "recvWindow": 10000}
    if method == "POST":
        ours = signing.sign_request(DOC, method, "/fapi/v1/order", None, params)
        assert ours.body.decode() == theirs["body"]
        assert ours.url == theirs["url"]
    else:
        ours = signing.sign_request(DOC, method, "/fapi/v1/order", params)
        assert ours.url == theirs["url"]
        assert theirs["body"] is None and ours.body == b""
    assert ours.headers == theirs["headers"]


def test_matches_ccxt_binanceusdm_ed25519() -> None:
    creds, key = _ed25519()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    ts = 1700000000123
    ex = _ccxt_binanceusdm(pem.decode(), ts)
    order = {
        "symbol": "BTCUSDT",
        "side": "SELL",
        "type": "MARKET",
        "quantity": "0.5",
        "newClientOrderId": "x1",
    }
    theirs = ex.sign("order", ["fapiPrivate"], "POST", dict(order))  # type: ignore[attr-defined]
    ours = signing.sign_request(
        creds, "POST", "/fapi/v1/order", None, {"timestamp": ts, **order, "recvWindow": 10000}
    )
    assert ours.body.decode() == theirs["body"]  # Ed25519 is deterministic: byte-identical


def test_parse_back_round_trip() -> None:
    req = signing.sign_request(DOC, "GET", "/fapi/v1/openOrders", {"symbol": "BTCUSDT"}, timestamp_ms=DOC_TS)
    pairs = parse_qsl(urlsplit(req.url).query)
    assert [k for k, _ in pairs] == ["symbol", "timestamp", "signature"]
