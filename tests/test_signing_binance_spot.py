"""Binance spot: the same implementation as USD-M with spot's URLs and its own clock."""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from rentrade.credentials import Credentials
from rentrade.venues.binance_spot import signing, urls
from rentrade.venues.binance_usdm import signing as usdm

DOC_KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
DOC_SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
DOC = Credentials(DOC_KEY, secret=DOC_SECRET)
ORDER = {
    "symbol": "LTCBTC",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "1",
    "price": "0.1",
}


def test_spot_doc_example_post_api_v3_order() -> None:
    # https://developers.binance.com/docs/binance-spot-api-docs/rest-api/request-security
    req = signing.sign_request(
        DOC, "POST", "/api/v3/order", ORDER, timestamp_ms=1499827319559, recv_window_ms=5000
    )
    assert req.url == (
        "https://api.binance.com/api/v3/order?symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1"
        "&price=0.1&recvWindow=5000&timestamp=1499827319559"
        "&signature=c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


def test_spot_has_its_own_clock_and_url() -> None:
    assert signing.SERVER_CLOCK is not usdm.SERVER_CLOCK
    assert urls.REST_URL == "https://api.binance.com"
    req = signing.sign_request(DOC, "GET", "/api/v3/account", timestamp_ms=1, base_url=urls.TESTNET_REST_URL)
    assert req.url.startswith("https://testnet.binance.vision/api/v3/account?timestamp=1&signature=")


def test_spot_session_logon() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    creds = Credentials("k", private_key=key)
    message = json.loads(signing.ws_auth_message(creds, 1649729878532, request_id="1"))
    assert message["method"] == "session.logon"
    key.public_key().verify(
        base64.b64decode(message["params"]["signature"]), b"apiKey=k&timestamp=1649729878532"
    )


def test_spot_ws_request_signed() -> None:
    message = json.loads(
        signing.ws_request(
            DOC,
            "order.place",
            {
                "symbol": "BTCUSDT",
                "side": "SELL",
                "type": "LIMIT",
                "timeInForce": "GTC",
                "quantity": "0.01000000",
                "price": "52000.00",
                "newOrderRespType": "ACK",
                "recvWindow": 100,
            },
            request_id="4885f793-e5ad-4c3b-8f6c-55d891472b71",
            timestamp_ms=1645423376532,
        )
    )
    # https://developers.binance.com/docs/binance-spot-api-docs/websocket-api/request-security
    assert (
        message["params"]["signature"] == "cc15477742bd704c29492d96c7ead9414dfd8e0ec4a00f947bb5bb454ddbd08a"
    )
    assert message["params"]["timestamp"] == 1645423376532


def test_matches_ccxt_binance_spot() -> None:
    ccxt = pytest.importorskip(
        "ccxt", reason="ccxt is a test extra (pip install rentrade[test]); cross-check skipped"
    )
    ts = 1700000000999
    ex = ccxt.binance({"apiKey": DOC_KEY, "secret": DOC_SECRET})
    ex.nonce = lambda: ts
    order = {
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.001",
        "price": "30000.01",
        "newClientOrderId": "rt-1",
    }
    theirs = ex.sign("order", ["private"], "POST", dict(order))
    recv = ex.options.get("recvWindow")
    params: dict[str, str | int] = {"timestamp": ts, **order}
    if recv is not None:
        params["recvWindow"] = recv
    ours = signing.sign_request(DOC, "POST", "/api/v3/order", None, params)
    assert ours.url == theirs["url"]
    assert ours.body.decode() == theirs["body"]
