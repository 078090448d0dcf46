"""A planted canary secret must appear nowhere: not in repr/str, logs, error messages or tracebacks.

The canaries live only in the environment, in files, and inside Credentials. Every error is
provoked through a zero-argument callable that closes over nothing secret, and every traceback is
rendered twice: plainly, and with each frame's local variables (as pytest ``--showlocals``, rich or
Sentry would show them).
"""

from __future__ import annotations

import base64
import io
import json
import logging
import pickle
import secrets
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from rentrade.credentials import Credentials
from rentrade.signing import ServerClock
from rentrade.venues.binance_spot import signing as binance_spot
from rentrade.venues.binance_usdm import signing as binance_usdm
from rentrade.venues.bybit import signing as bybit
from rentrade.venues.coinbase import signing as coinbase
from rentrade.venues.kraken_futures import signing as kraken
from rentrade.venues.okx import signing as okx

# Base64 text (so Kraken can decode it) that is unmistakable when found.
CANARY_SECRET = base64.b64encode(b"CANARY-SECRET-" + secrets.token_hex(9).encode()).decode()
CANARY_PASSPHRASE = "CANARY-PASSPHRASE-" + secrets.token_hex(8)
_CANARY_KEY = ed25519.Ed25519PrivateKey.generate()
CANARY_PEM = _CANARY_KEY.private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
).decode()
CANARY_PEM_BODY = CANARY_PEM.splitlines()[1]  # the base64 line that is the key itself
CANARY_SEED_B64 = base64.b64encode(
    _CANARY_KEY.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
).decode()
CANARIES = (
    CANARY_SECRET,
    CANARY_PASSPHRASE,
    CANARY_PEM_BODY,
    CANARY_SEED_B64,
    base64.b64decode(CANARY_SECRET).decode(),
)


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s %(args)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def _provoke(fn: Callable[[], object]) -> list[str]:
    """Run ``fn``, which must raise; return its message and both traceback renderings."""
    try:
        fn()
    except Exception as exc:
        plain = "".join(traceback.format_exception(exc))
        with_locals = "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())
        logging.getLogger("canary.test").exception("provoked")  # as an application would log it
        return [str(exc), repr(exc), plain, with_locals]
    raise AssertionError("expected an exception")


def _assert_clean(texts: list[str]) -> None:
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, f"canary leaked into: {text[:300]}"


def test_canary_never_leaks(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, log_text: io.StringIO) -> None:
    monkeypatch.setenv("RT_CANARY_API_KEY", "canary-api-key-0001")
    monkeypatch.setenv("RT_CANARY_API_SECRET", CANARY_SECRET)
    monkeypatch.setenv("RT_CANARY_PASSPHRASE", CANARY_PASSPHRASE)
    monkeypatch.setenv("RT_CANARYPK_API_KEY", "organizations/o/apiKeys/k")
    monkeypatch.setenv("RT_CANARYPK_PRIVATE_KEY", CANARY_PEM)
    monkeypatch.setenv("RT_CANARYBAD_API_KEY", "k")
    monkeypatch.setenv("RT_CANARYBAD_PRIVATE_KEY", CANARY_PEM.replace("MC4CAQAw", "MC4CAQAx"))
    monkeypatch.setenv("RT_CANARYTWO_API_KEY", "k")
    monkeypatch.setenv("RT_CANARYTWO_API_SECRET", CANARY_SECRET)
    monkeypatch.setenv("RT_CANARYTWO_PRIVATE_KEY", CANARY_PEM)

    hmac_creds = Credentials.from_env("RT_CANARY")
    key_creds = Credentials.from_env("RT_CANARYPK")
    seed_creds = Credentials("k", private_key=CANARY_SEED_B64)

    good_file = tmp_path / "good.json"
    good_file.write_text(
        json.dumps({"api_key": "k", "api_secret": CANARY_SECRET, "passphrase": CANARY_PASSPHRASE})
    )
    good_file.chmod(0o600)
    open_file = tmp_path / "open.json"
    open_file.write_text(json.dumps({"api_key": "k", "api_secret": CANARY_SECRET}))
    open_file.chmod(0o644)
    broken_file = tmp_path / "broken.json"
    broken_file.write_text('{"api_key": "k", "api_secret": "' + CANARY_SECRET + '", ')
    broken_file.chmod(0o600)
    nokey_file = tmp_path / "nokey.json"
    nokey_file.write_text(json.dumps({"api_secret": CANARY_SECRET}))
    nokey_file.chmod(0o600)
    file_creds = Credentials.from_file(good_file)

    texts: list[str] = []
    creds_all = (hmac_creds, key_creds, seed_creds, file_creds)
    for creds in creds_all:
        texts += [repr(creds), str(creds), f"{creds}", f"{creds!r}", "%s %r" % (creds, creds)]  # noqa: UP031 (tested)
        texts += [repr(getattr(creds, slot)) for slot in Credentials.__slots__]
        texts += [str(getattr(creds, slot)) for slot in Credentials.__slots__]

    # Signing on every venue, with logging at DEBUG.
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "quantity": "0.01", "price": "60000"}
    signed = [
        binance_usdm.sign_request(hmac_creds, "POST", "/fapi/v1/order", None, order, timestamp_ms=1),
        binance_spot.sign_request(hmac_creds, "GET", "/api/v3/openOrders", order, timestamp_ms=1),
        bybit.sign_request(hmac_creds, "POST", "/v5/order/create", body=order, timestamp_ms=1),
        okx.sign_request(file_creds, "POST", "/api/v5/trade/order", body=order, timestamp_ms=1),
        kraken.sign_request(hmac_creds, "POST", "/derivatives/api/v3/sendorder", order, timestamp_ms=1),
        coinbase.sign_request(key_creds, "POST", "/api/v3/brokerage/orders", body=order, timestamp_ms=1),
    ]
    ws = [
        binance_usdm.ws_request(hmac_creds, "order.place", order, request_id="1", timestamp_ms=1),
        binance_usdm.ws_auth_message(seed_creds, 1, request_id="1"),
        bybit.ws_auth_message(hmac_creds, 1),
        kraken.ws_auth_message(hmac_creds, "c100b894-1729-464d-ace1-52dbce11db42", "fills"),
        coinbase.ws_auth_message(key_creds, "user", ["BTC-USD"], 1),
    ]
    sent: list[str] = []  # what goes on the wire: no secret, though OKX's passphrase must be there
    for req in signed:
        texts += [repr(req), str(req)]
        sent += [req.url, json.dumps(req.headers), req.body.decode()]
    sent += [m.decode() for m in ws]
    assert signed[3].headers["OK-ACCESS-PASSPHRASE"] == CANARY_PASSPHRASE  # sent, but never shown
    okx_login = okx.ws_auth_message(file_creds, 1_000)
    assert CANARY_PASSPHRASE.encode() in okx_login  # it is the login message's content, by design
    for text in sent:
        for canary in CANARIES:
            if canary != CANARY_PASSPHRASE:
                assert canary not in text

    # Errors: loading, permissions, parsing, wrong key kinds, bad values, refusals.
    clock = ServerClock()
    texts += _provoke(lambda: Credentials.from_env("RT_CANARYBAD"))
    texts += _provoke(lambda: Credentials.from_env("RT_CANARYTWO"))
    texts += _provoke(lambda: Credentials.from_env("RT_CANARY_MISSING"))
    texts += _provoke(lambda: Credentials.from_file(open_file))
    texts += _provoke(lambda: Credentials.from_file(broken_file))
    texts += _provoke(lambda: Credentials.from_file(nokey_file))
    texts += _provoke(lambda: pickle.dumps(hmac_creds))
    texts += _provoke(lambda: pickle.dumps(hmac_creds._secret))  # type: ignore[attr-defined]
    texts += _provoke(lambda: setattr(hmac_creds, "_secret", b""))
    texts += _provoke(lambda: hmac_creds.sign(b"x"))
    texts += _provoke(lambda: key_creds.hmac_sha256(b"x"))
    texts += _provoke(lambda: key_creds.hmac_sha512_b64key(b"x"))
    texts += _provoke(lambda: coinbase.sign_request(hmac_creds, "GET", "/api/v3/brokerage/accounts"))
    texts += _provoke(lambda: binance_usdm.ws_auth_message(hmac_creds))
    texts += _provoke(lambda: okx.sign_request(hmac_creds, "GET", "/x", {"px": 1.5}))  # type: ignore[dict-item]
    texts += _provoke(lambda: okx.sign_request(Credentials.from_env("RT_CANARYPK"), "GET", "/x"))
    texts += _provoke(lambda: bybit.sign_request(hmac_creds, "POST", "/v5/x", {"a": "1"}, {"b": "2"}))
    texts += _provoke(
        lambda: kraken.sign_request(Credentials("k", secret="not base64!"), "GET", "/x", clock=clock)
    )
    texts += _provoke(lambda: binance_usdm.sign_request(hmac_creds, "POST", "/fapi/v1/order", {"q": 0.1}))  # type: ignore[dict-item]

    texts.append(log_text.getvalue())
    assert "binance signed POST /fapi/v1/order with hmac key" in log_text.getvalue()  # logging did run
    assert len(texts) > 100
    _assert_clean(texts)
