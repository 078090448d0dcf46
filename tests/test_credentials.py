"""Credentials: loading, the 0600 rule, key types, and the guards against showing a secret."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import os
import pickle
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from rentrade.credentials import Credentials, CredentialsError

SECRET = "s3cr3t-NOT-A-REAL-KEY-0123456789abcdef"


def _pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _write(path: Path, content: str, mode: int) -> Path:
    path.write_text(content)
    path.chmod(mode)
    return path


# ---------------------------------------------------------------------- construction and key types


def test_hmac_credentials_sign_like_the_hmac_module() -> None:
    creds = Credentials("key", secret=SECRET)
    msg = b"symbol=BTCUSDT&side=BUY&timestamp=1"
    assert creds.key_type == "hmac"
    assert creds.hmac_sha256(msg) == hmac.new(SECRET.encode(), msg, hashlib.sha256).digest()
    assert creds.hmac_sha256_hex(msg) == hmac.new(SECRET.encode(), msg, hashlib.sha256).hexdigest()


@pytest.mark.parametrize("length", [0, 1, 63, 64, 65, 128, 200])
def test_prepared_hmac_matches_hmac_module_for_every_key_length(length: int) -> None:
    # Keys longer than the 64-byte block are hashed first (RFC 2104); check both sides of it.
    secret = (bytes(range(1, 256)) * 3)[: max(length, 1)]
    creds = Credentials("key", secret=secret)
    for msg in (b"", b"x", b"a" * 1000):
        assert creds.hmac_sha256_hex(msg) == hmac.new(secret, msg, hashlib.sha256).hexdigest()


def test_kraken_hmac_sha512_uses_the_base64_decoded_secret() -> None:
    raw = os.urandom(64)
    creds = Credentials("key", secret=base64.b64encode(raw).decode())
    assert creds.hmac_sha512_b64key(b"m") == hmac.new(raw, b"m", hashlib.sha512).digest()


def test_kraken_hmac_sha512_refuses_a_non_base64_secret() -> None:
    with pytest.raises(CredentialsError, match="not valid base64"):
        Credentials("key", secret="not base64 !!").hmac_sha512_b64key(b"m")


def test_ed25519_pem_key() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    creds = Credentials("key", private_key=_pem(key))
    assert creds.key_type == "ed25519"
    key.public_key().verify(creds.sign(b"payload"), b"payload")


def test_ed25519_base64_seed_and_coinbase_64_byte_form() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    for text in (base64.b64encode(seed).decode(), base64.b64encode(seed + pub).decode()):
        creds = Credentials("key", private_key=text)
        key.public_key().verify(creds.sign(b"m"), b"m")


def test_ecdsa_p256_signs_jws_r_s() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    creds = Credentials("key", private_key=_pem(key))
    assert creds.key_type == "ecdsa_p256"
    sig = creds.sign(b"m")
    assert len(sig) == 64
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    key.public_key().verify(der, b"m", ec.ECDSA(hashes.SHA256()))


def test_sec1_ec_private_key_as_coinbase_issues_it() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    sec1 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    assert sec1.startswith("-----BEGIN EC PRIVATE KEY-----")
    assert Credentials("key", private_key=sec1).key_type == "ecdsa_p256"


def test_other_curves_are_refused() -> None:
    with pytest.raises(CredentialsError, match="P-256"):
        Credentials("key", private_key=_pem(ec.generate_private_key(ec.SECP384R1())))


def test_rsa_signs_pkcs1v15_sha256() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    creds = Credentials("key", private_key=_pem(key))
    assert creds.key_type == "rsa"
    key.public_key().verify(creds.sign(b"m"), b"m", padding.PKCS1v15(), hashes.SHA256())


def test_encrypted_pem_needs_its_password() -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    ).decode()
    with pytest.raises(CredentialsError, match="could not be parsed"):
        Credentials("key", private_key=pem)
    assert Credentials("key", private_key=pem, private_key_password="pw").key_type == "ed25519"


def test_key_object_accepted() -> None:
    assert Credentials("key", private_key=ed25519.Ed25519PrivateKey.generate()).key_type == "ed25519"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"api_key": ""}, "api_key is empty"),
        ({"api_key": "k"}, "exactly one"),
        ({"api_key": "k", "secret": "s", "private_key": ed25519.Ed25519PrivateKey.generate()}, "exactly one"),
        ({"api_key": "k", "secret": ""}, "secret is empty"),
        (
            {
                "api_key": "k",
                "private_key": "-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----",
            },
            "parsed",
        ),
    ],
)
def test_bad_arguments_say_what_to_fix(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(CredentialsError, match=message):
        Credentials(**kwargs)  # type: ignore[arg-type]


def test_wrong_key_kind_for_an_operation() -> None:
    with pytest.raises(CredentialsError, match="needs an API secret"):
        Credentials("k", private_key=ed25519.Ed25519PrivateKey.generate()).hmac_sha256(b"m")
    with pytest.raises(CredentialsError, match="HMAC credentials"):
        Credentials("k", secret="s").sign(b"m")
    with pytest.raises(CredentialsError, match="does not accept hmac"):
        Credentials("k", secret="s").require("ed25519", venue="X")


def test_passphrase_only_through_its_accessor() -> None:
    creds = Credentials("k", secret="s", passphrase="pass-phrase")
    assert creds.has_passphrase
    assert creds.passphrase_for_header() == "pass-phrase"
    with pytest.raises(CredentialsError, match="PASSPHRASE"):
        Credentials("k", secret="s").passphrase_for_header()


# ---------------------------------------------------------------------- leak guards


def test_repr_str_format_are_redacted() -> None:
    creds = Credentials("abcdefghijklmnop", secret=SECRET, passphrase="PASSPHRASE-XYZ")
    for text in (repr(creds), str(creds), f"{creds}", f"{creds!r:>10}", "%s" % (creds,)):  # noqa: UP031 (%-formatting is what is tested)
        assert SECRET not in text
        assert "PASSPHRASE-XYZ" not in text
        assert "abcdefghijklmnop" not in text
        assert "<redacted>" in text


def test_immutable_and_not_picklable() -> None:
    creds = Credentials("k", secret=SECRET)
    with pytest.raises(AttributeError):
        creds._secret = b"x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del creds._secret  # type: ignore[misc]
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(creds)
    assert copy.copy(creds) is creds
    assert copy.deepcopy(creds) is creds
    assert not hasattr(creds, "__dict__")


# ---------------------------------------------------------------------- environment


def test_from_env_hmac_and_passphrase() -> None:
    env = {"RT_OKX_API_KEY": "k", "RT_OKX_API_SECRET": SECRET, "RT_OKX_PASSPHRASE": "pp"}
    creds = Credentials.from_env("RT_OKX", environ=env)
    assert creds.api_key == "k" and creds.key_type == "hmac" and creds.passphrase_for_header() == "pp"
    assert Credentials.from_env("RT_OKX_", environ=env).api_key == "k"


def test_from_env_private_key_text_and_file(tmp_path: Path) -> None:
    pem = _pem(ed25519.Ed25519PrivateKey.generate())
    creds = Credentials.from_env("RT_BN", environ={"RT_BN_API_KEY": "k", "RT_BN_PRIVATE_KEY": pem})
    assert creds.key_type == "ed25519"
    path = _write(tmp_path / "key.pem", pem, 0o600)
    env = {"RT_BN_API_KEY": "k", "RT_BN_PRIVATE_KEY_FILE": str(path)}
    assert Credentials.from_env("RT_BN", environ=env).key_type == "ed25519"
    path.chmod(0o644)
    with pytest.raises(CredentialsError, match=f"chmod 600 {path}"):
        Credentials.from_env("RT_BN", environ=env)


def test_from_env_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RT_TEST_API_KEY", "k")
    monkeypatch.setenv("RT_TEST_API_SECRET", SECRET)
    assert Credentials.from_env("RT_TEST").api_key == "k"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "RT_X_API_KEY is not set"),
        ({"RT_X_API_KEY": "k"}, "exactly one of RT_X_API_SECRET"),
        ({"RT_X_API_KEY": "k", "RT_X_API_SECRET": "s", "RT_X_PRIVATE_KEY": "p"}, "found 2"),
    ],
)
def test_from_env_names_the_missing_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(CredentialsError, match=message):
        Credentials.from_env("RT_X", environ=env)


# ---------------------------------------------------------------------- files


def test_from_file_json(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "okx.json",
        json.dumps({"api_key": "k", "api_secret": SECRET, "passphrase": "pp"}),
        0o600,
    )
    creds = Credentials.from_file(path)
    assert creds.api_key == "k" and creds.passphrase_for_header() == "pp"
    assert creds.hmac_sha256_hex(b"m") == hmac.new(SECRET.encode(), b"m", hashlib.sha256).hexdigest()


def test_from_file_private_key(tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = _write(
        tmp_path / "cb.json",
        json.dumps({"api_key": "organizations/o/apiKeys/k", "private_key": _pem(key)}),
        0o400,
    )
    assert Credentials.from_file(str(path)).key_type == "ecdsa_p256"


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o666, 0o700 | 0o004, 0o620])
def test_from_file_refuses_group_or_other_access(tmp_path: Path, mode: int) -> None:
    path = _write(tmp_path / "creds.json", json.dumps({"api_key": "k", "api_secret": SECRET}), mode)
    with pytest.raises(CredentialsError) as err:
        Credentials.from_file(path)
    assert f"chmod 600 {path}" in str(err.value)
    assert SECRET not in str(err.value)


def test_from_file_missing_and_malformed(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="does not exist"):
        Credentials.from_file(tmp_path / "nope.json")
    bad = _write(tmp_path / "bad.json", '{"api_key": "k", "api_secret": "' + SECRET, 0o600)
    with pytest.raises(CredentialsError, match="not a JSON object") as err:
        Credentials.from_file(bad)
    assert SECRET not in str(err.value)
    assert err.value.__context__ is None and err.value.__cause__ is None
    nokey = _write(tmp_path / "nokey.json", json.dumps({"api_secret": SECRET}), 0o600)
    with pytest.raises(CredentialsError, match="api_key"):
        Credentials.from_file(nokey)
    with pytest.raises(CredentialsError, match="regular file"):
        Credentials.from_file(tmp_path)
