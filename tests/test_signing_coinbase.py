"""Coinbase Advanced Trade JWTs: pinned header and claims, signature verified with the public key,
and cross-checked against the official SDK ``coinbase-advanced-py`` (a test extra).

ES256 signatures are randomized, so only the header and claims can be pinned byte for byte; the
signature is verified. Ed25519 (EdDSA) is deterministic, so there the whole token must equal the
SDK's.
"""

from __future__ import annotations

import base64
import json

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from rentrade.credentials import Credentials, CredentialsError
from rentrade.venues.coinbase import signing

KEY_NAME = "organizations/11111111-2222-3333-4444-555555555555/apiKeys/66666666-7777-8888-9999-000000000000"
NONCE = "ab" * 32
TS_MS = 1_700_000_000_987


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _ec_creds() -> tuple[Credentials, ec.EllipticCurvePrivateKey, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return Credentials(KEY_NAME, private_key=pem), key, pem


def _verify_es256(token: str, key: ec.EllipticCurvePrivateKey) -> None:
    header, claims, sig = token.split(".")
    raw = _unb64(sig)
    assert len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.public_key().verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))


def test_rest_jwt_header_and_claims_are_pinned_and_signature_verifies() -> None:
    creds, key, _ = _ec_creds()
    req = signing.sign_request(
        creds,
        "post",
        "/api/v3/brokerage/orders",
        body={"client_order_id": "x", "product_id": "BTC-USD"},
        timestamp_ms=TS_MS,
        nonce=NONCE,
    )
    assert req.method == "POST"
    assert req.url == "https://api.coinbase.com/api/v3/brokerage/orders"
    assert req.body == b'{"client_order_id":"x","product_id":"BTC-USD"}'
    assert req.headers["Content-Type"] == "application/json"
    scheme, token = req.headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    header, claims, _ = token.split(".")
    assert (
        _unb64(header)
        == ('{"alg":"ES256","kid":"' + KEY_NAME + '","nonce":"' + NONCE + '","typ":"JWT"}').encode()
    )
    assert (
        _unb64(claims)
        == (
            '{"sub":"' + KEY_NAME + '","iss":"cdp","nbf":1700000000,"exp":1700000120,'
            '"uri":"POST api.coinbase.com/api/v3/brokerage/orders"}'
        ).encode()
    )
    _verify_es256(token, key)
    # Randomized: a second JWT for the same request differs only in its signature.
    again = signing.build_jwt(creds, "POST api.coinbase.com/api/v3/brokerage/orders", TS_MS, nonce=NONCE)
    assert again.rsplit(".", 1)[0] == token.rsplit(".", 1)[0]
    _verify_es256(again, key)


def test_query_string_is_not_part_of_the_uri_claim() -> None:
    creds, key, _ = _ec_creds()
    req = signing.sign_request(
        creds,
        "GET",
        "/api/v3/brokerage/orders/historical/batch",
        {"limit": 10, "product_ids": "BTC-USD"},
        timestamp_ms=TS_MS,
    )
    assert req.url.endswith("/historical/batch?limit=10&product_ids=BTC-USD")
    token = req.headers["Authorization"].removeprefix("Bearer ")
    claims = json.loads(_unb64(token.split(".")[1]))
    assert claims["uri"] == "GET api.coinbase.com/api/v3/brokerage/orders/historical/batch"
    assert len(json.loads(_unb64(token.split(".")[0]))["nonce"]) == 64
    _verify_es256(token, key)


def test_ws_jwt_and_subscribe_message() -> None:
    creds, key, _ = _ec_creds()
    message = json.loads(signing.ws_auth_message(creds, "user", ["BTC-USD"], TS_MS, nonce=NONCE))
    assert list(message) == ["type", "product_ids", "channel", "jwt"]
    assert (
        message["type"] == "subscribe"
        and message["channel"] == "user"
        and message["product_ids"] == ["BTC-USD"]
    )
    claims = json.loads(_unb64(message["jwt"].split(".")[1]))
    assert claims == {"sub": KEY_NAME, "iss": "cdp", "nbf": 1700000000, "exp": 1700000120}
    _verify_es256(message["jwt"], key)


def test_ed25519_key_uses_eddsa() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    creds = Credentials("key-id", private_key=base64.b64encode(seed + pub).decode())
    token = signing.ws_jwt(creds, TS_MS, nonce=NONCE)
    header, claims, sig = token.split(".")
    assert json.loads(_unb64(header))["alg"] == "EdDSA"
    key.public_key().verify(_unb64(sig), f"{header}.{claims}".encode())


def test_hmac_and_rsa_keys_are_refused() -> None:
    with pytest.raises(CredentialsError, match="Coinbase"):
        signing.sign_request(
            Credentials("k", secret="s"), "GET", "/api/v3/brokerage/accounts", timestamp_ms=TS_MS
        )


def test_verifies_with_pyjwt() -> None:
    jwt = pytest.importorskip("jwt", reason="PyJWT (via coinbase-advanced-py, a test extra) not installed")
    creds, key, _ = _ec_creds()
    token = signing.build_jwt(creds, "GET api.coinbase.com/api/v3/brokerage/accounts", TS_MS, nonce=NONCE)
    decoded = jwt.decode(
        token, key.public_key(), algorithms=["ES256"], options={"verify_exp": False, "verify_nbf": False}
    )
    assert decoded["uri"] == "GET api.coinbase.com/api/v3/brokerage/accounts"


def _official_sdk(monkeypatch: pytest.MonkeyPatch) -> object:
    jwt_generator = pytest.importorskip(
        "coinbase.jwt_generator", reason="coinbase-advanced-py (official SDK, a test extra) not installed"
    )
    # The SDK reads time.time() and secrets.token_hex(); pin both so its JWT is reproducible.
    monkeypatch.setattr(jwt_generator.time, "time", lambda: TS_MS / 1000)
    monkeypatch.setattr(jwt_generator.secrets, "token_hex", lambda *a: NONCE)
    return jwt_generator


def test_matches_official_sdk_es256(monkeypatch: pytest.MonkeyPatch) -> None:
    sdk = _official_sdk(monkeypatch)
    creds, key, pem = _ec_creds()
    uri = sdk.format_jwt_uri("POST", "/api/v3/brokerage/orders")  # type: ignore[attr-defined]
    theirs = sdk.build_rest_jwt(uri, KEY_NAME, pem)  # type: ignore[attr-defined]
    ours = signing.sign_request(
        creds, "POST", "/api/v3/brokerage/orders", body={}, timestamp_ms=TS_MS, nonce=NONCE
    )
    token = ours.headers["Authorization"].removeprefix("Bearer ")
    assert token.rsplit(".", 1)[0] == theirs.rsplit(".", 1)[0]  # header and claims byte-identical
    _verify_es256(token, key)
    _verify_es256(theirs, key)
    ws_theirs = sdk.build_ws_jwt(KEY_NAME, pem)  # type: ignore[attr-defined]
    assert signing.ws_jwt(creds, TS_MS, nonce=NONCE).rsplit(".", 1)[0] == ws_theirs.rsplit(".", 1)[0]


def test_matches_official_sdk_ed25519_byte_for_byte(monkeypatch: pytest.MonkeyPatch) -> None:
    sdk = _official_sdk(monkeypatch)
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    secret = base64.b64encode(seed + pub).decode()
    creds = Credentials("key-id", private_key=secret)
    uri = sdk.format_jwt_uri("GET", "/api/v3/brokerage/accounts")  # type: ignore[attr-defined]
    theirs = sdk.build_rest_jwt(uri, "key-id", secret)  # type: ignore[attr-defined]
    ours = signing.build_jwt(creds, "GET api.coinbase.com/api/v3/brokerage/accounts", TS_MS, nonce=NONCE)
    assert ours == theirs
