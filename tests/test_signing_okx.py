"""OKX v5 signing: the documentation's published forms, WebSocket login, and ccxt.

https://www.okx.com/docs-v5/en/#overview-rest-authentication publishes the timestamp format
(``2020-12-08T09:08:57.715Z``), the example secret ``22582BD0CFF14C41EDBF1AB98506286D`` and the
signed text ``timestamp + 'GET' + '/api/v5/account/balance?ccy=BTC'``, but no resulting signature;
the text is pinned exactly and the HMAC checked against the standard library and ccxt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from rentrade.credentials import Credentials, CredentialsError
from rentrade.venues.okx import signing

DOC_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"
CREDS = Credentials("985d5b66-57ce-40fb-b714-afc0b9787083", secret=DOC_SECRET, passphrase="123456")
TS_MS = 1607418537715  # 2020-12-08T09:08:57.715Z


def _b64(text: str) -> str:
    return base64.b64encode(hmac.new(DOC_SECRET.encode(), text.encode(), hashlib.sha256).digest()).decode()


def test_iso_timestamp_matches_documented_format() -> None:
    assert signing.iso_timestamp(TS_MS) == "2020-12-08T09:08:57.715Z"
    assert signing.iso_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert signing.iso_timestamp(1_000) == "1970-01-01T00:00:01.000Z"


def test_documented_get_balance_example() -> None:
    req = signing.sign_request(CREDS, "GET", "/api/v5/account/balance", {"ccy": "BTC"}, timestamp_ms=TS_MS)
    text = "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC"
    assert signing.prehash("2020-12-08T09:08:57.715Z", "get", "/api/v5/account/balance?ccy=BTC", "") == text
    assert req.url == "https://www.okx.com/api/v5/account/balance?ccy=BTC"
    assert req.headers == {
        "OK-ACCESS-KEY": "985d5b66-57ce-40fb-b714-afc0b9787083",
        "OK-ACCESS-SIGN": _b64(text),
        "OK-ACCESS-TIMESTAMP": "2020-12-08T09:08:57.715Z",
        "OK-ACCESS-PASSPHRASE": "123456",
        "Content-Type": "application/json",
    }
    assert req.body == b""


def test_documented_post_body_example() -> None:
    body = {"instId": "BTC-USDT", "lever": "5", "mgnMode": "isolated"}
    req = signing.sign_request(CREDS, "POST", "/api/v5/account/set-leverage", body=body, timestamp_ms=TS_MS)
    sent = b'{"instId":"BTC-USDT","lever":"5","mgnMode":"isolated"}'
    assert req.body == sent
    assert req.headers["OK-ACCESS-SIGN"] == _b64(
        "2020-12-08T09:08:57.715ZPOST/api/v5/account/set-leverage" + sent.decode()
    )


def test_batch_body_list_and_demo_header() -> None:
    req = signing.sign_request(
        CREDS,
        "POST",
        "/api/v5/trade/batch-orders",
        body=[{"a": "1"}, {"b": "2"}],
        timestamp_ms=TS_MS,
        demo=True,
    )
    assert req.body == b'[{"a":"1"},{"b":"2"}]'
    assert req.headers["x-simulated-trading"] == "1"


def test_passphrase_required_and_redacted_in_repr() -> None:
    with pytest.raises(CredentialsError, match="passphrase"):
        signing.sign_request(
            Credentials("k", secret="s"), "GET", "/api/v5/account/balance", timestamp_ms=TS_MS
        )
    req = signing.sign_request(CREDS, "GET", "/api/v5/account/balance", timestamp_ms=TS_MS)
    assert "123456" not in repr(req)


def test_ws_login_message() -> None:
    message = json.loads(signing.ws_auth_message(CREDS, 1538054050_123))
    assert message == {
        "op": "login",
        "args": [
            {
                "apiKey": "985d5b66-57ce-40fb-b714-afc0b9787083",
                "passphrase": "123456",
                "timestamp": "1538054050",
                "sign": _b64("1538054050GET/users/self/verify"),
            }
        ],
    }


def test_matches_ccxt_okx() -> None:
    ccxt = pytest.importorskip(
        "ccxt", reason="ccxt is a test extra (pip install rentrade[test]); cross-check skipped"
    )
    ex = ccxt.okx({"apiKey": CREDS.api_key, "secret": DOC_SECRET, "password": "123456"})
    ex.nonce = lambda: TS_MS  # ccxt derives OK-ACCESS-TIMESTAMP from nonce(); pin it to sign offline
    theirs = ex.sign("account/balance", ["private"], "GET", {"ccy": "BTC"})
    ours = signing.sign_request(CREDS, "GET", "/api/v5/account/balance", {"ccy": "BTC"}, timestamp_ms=TS_MS)
    assert ours.url == theirs["url"]
    for name, value in theirs["headers"].items():
        assert ours.headers[name] == value
    # clOrdId given, so ccxt adds no broker tag and both bodies hold the same fields.
    order = {
        "instId": "BTC-USDT",
        "tdMode": "cash",
        "side": "buy",
        "ordType": "limit",
        "px": "60000",
        "sz": "0.01",
        "clOrdId": "rt42",
    }
    theirs = ex.sign("trade/order", ["private"], "POST", dict(order))
    ours = signing.sign_request(CREDS, "POST", "/api/v5/trade/order", body=order, timestamp_ms=TS_MS)
    assert ours.body.decode() == theirs["body"]
    assert ours.headers["OK-ACCESS-SIGN"] == theirs["headers"]["OK-ACCESS-SIGN"]
