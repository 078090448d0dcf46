"""Bybit v5 signing: the guide's published plain texts, RSA, WebSocket auth, and ccxt.

Bybit's guide (https://bybit-exchange.github.io/docs/v5/guide) publishes the text to sign but no
signature (its key is ``XXXXXXXXXX``), so the text is pinned exactly and the HMAC is checked
against the standard library and ccxt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa

from rentrade.credentials import Credentials, CredentialsError
from rentrade.venues.bybit import signing

SECRET = "test-secret-0123456789"
CREDS = Credentials("XXXXXXXXXX", secret=SECRET)


def _hex(text: str) -> str:
    return hmac.new(SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()


def test_guide_get_plain_text_and_request() -> None:
    text = signing.prehash(1658384314791, "XXXXXXXXXX", 5000, "category=option&symbol=BTC-29JUL22-25000-C")
    assert text == "1658384314791XXXXXXXXXX5000category=option&symbol=BTC-29JUL22-25000-C"
    req = signing.sign_request(
        CREDS,
        "GET",
        "/v5/order/realtime",
        {"category": "option", "symbol": "BTC-29JUL22-25000-C"},
        timestamp_ms=1658384314791,
    )
    assert req.url == "https://api.bybit.com/v5/order/realtime?category=option&symbol=BTC-29JUL22-25000-C"
    assert req.headers == {
        "X-BAPI-API-KEY": "XXXXXXXXXX",
        "X-BAPI-TIMESTAMP": "1658384314791",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": _hex(text),
    }
    assert req.body == b""


def test_guide_post_raw_body_is_signed_byte_for_byte() -> None:
    raw = b'{\n"category": "option"\n}'  # the guide's body, whitespace and all
    req = signing.sign_request(CREDS, "POST", "/v5/order/create", body=raw, timestamp_ms=1658385579423)
    assert req.body == raw
    assert req.headers["X-BAPI-SIGN"] == _hex("1658385579423XXXXXXXXXX5000" + raw.decode())
    assert req.headers["Content-Type"] == "application/json"


def test_post_mapping_body_is_compact_json() -> None:
    req = signing.sign_request(
        CREDS, "POST", "/v5/order/create", body={"category": "linear", "qty": "0.001"}, timestamp_ms=1
    )
    assert req.body == b'{"category":"linear","qty":"0.001"}'
    assert req.headers["X-BAPI-SIGN"] == _hex('1XXXXXXXXXX5000{"category":"linear","qty":"0.001"}')


def test_params_and_body_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        signing.sign_request(CREDS, "POST", "/v5/order/create", {"a": "1"}, {"b": "2"}, timestamp_ms=1)


def test_rsa_signature_is_base64_and_verifies() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    creds = Credentials("rsa-key", private_key=key)
    req = signing.sign_request(
        creds, "GET", "/v5/account/wallet-balance", {"accountType": "UNIFIED"}, timestamp_ms=7
    )
    text = b"7rsa-key5000accountType=UNIFIED"
    key.public_key().verify(
        base64.b64decode(req.headers["X-BAPI-SIGN"]), text, padding.PKCS1v15(), hashes.SHA256()
    )


def test_ed25519_is_refused() -> None:
    with pytest.raises(CredentialsError, match="Bybit"):
        signing.sign_request(
            Credentials("k", private_key=ed25519.Ed25519PrivateKey.generate()), "GET", "/v5/x", timestamp_ms=1
        )


def test_ws_auth_message() -> None:
    message = json.loads(signing.ws_auth_message(CREDS, 1662350400000 - 10_000, req_id="a1"))
    assert message == {
        "req_id": "a1",
        "op": "auth",
        "args": ["XXXXXXXXXX", 1662350400000, _hex("GET/realtime1662350400000")],
    }


def test_matches_ccxt_bybit() -> None:
    ccxt = pytest.importorskip(
        "ccxt", reason="ccxt is a test extra (pip install rentrade[test]); cross-check skipped"
    )
    ex = ccxt.bybit({"apiKey": "XXXXXXXXXX", "secret": SECRET})
    ex.nonce = lambda: 1658384314791  # ccxt takes X-BAPI-TIMESTAMP from nonce(); pin it to sign offline
    order = {
        "category": "linear",
        "symbol": "BTCUSDT",
        "side": "Buy",
        "orderType": "Limit",
        "qty": "0.001",
        "price": "60000",
    }
    theirs = ex.sign("v5/order/create", ["private"], "POST", dict(order))
    ours = signing.sign_request(
        CREDS,
        "POST",
        "/v5/order/create",
        body=order,
        timestamp_ms=1658384314791,
        recv_window_ms=ex.options["recvWindow"],
    )
    assert ours.body.decode() == theirs["body"]
    assert ours.headers["X-BAPI-SIGN"] == theirs["headers"]["X-BAPI-SIGN"]
    query = {"category": "option", "symbol": "BTC-29JUL22-25000-C"}
    theirs = ex.sign("v5/order/realtime", ["private"], "GET", dict(query))
    ours = signing.sign_request(
        CREDS,
        "GET",
        "/v5/order/realtime",
        query,
        timestamp_ms=1658384314791,
        recv_window_ms=ex.options["recvWindow"],
    )
    assert ours.url == theirs["url"]
    for name in ("X-BAPI-API-KEY", "X-BAPI-TIMESTAMP", "X-BAPI-RECV-WINDOW", "X-BAPI-SIGN"):
        assert ours.headers[name] == theirs["headers"][name]
