"""The core's HMAC-SHA256 and the one-call Binance form signing path, against Python's hmac."""

from __future__ import annotations

import hashlib
import hmac
import pickle
import string
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rentrade._fastcore import HmacSha256, sha256_uses_cpu_extensions
from rentrade.credentials import Credentials
from rentrade.venues.binance_usdm import signing as binance

UNRESERVED = string.ascii_letters + string.digits + "-._~"


@settings(max_examples=150, deadline=None)
@given(key=st.binary(min_size=1, max_size=200), message=st.binary(max_size=600))
def test_mac_matches_python_hmac(key: bytes, message: bytes) -> None:
    mac = HmacSha256(key)
    assert mac.digest(message) == hmac.digest(key, message, "sha256")
    assert mac.hexdigest(message) == hmac.new(key, message, hashlib.sha256).hexdigest()


def test_reports_which_implementation_runs() -> None:
    assert isinstance(sha256_uses_cpu_extensions(), bool)


def test_key_material_is_not_shown_or_pickled() -> None:
    mac = HmacSha256(b"canary-secret-0123456789")
    assert "canary" not in repr(mac) and "canary" not in str(mac)
    with pytest.raises(TypeError):
        pickle.dumps(mac)


plain_text = st.text(alphabet=UNRESERVED, min_size=1, max_size=24)


@settings(max_examples=100, deadline=None)
@given(params=st.dictionaries(plain_text, plain_text, min_size=1, max_size=12))
def test_signed_form_is_the_encoded_form_and_its_mac(params: dict[str, str]) -> None:
    mac = HmacSha256(b"k" * 40)
    signed = mac.signed_form(params, "timestamp=1", "signature")
    assert signed is not None
    payload = "&".join(f"{k}={v}" for k, v in params.items()) + "&timestamp=1"
    expected = hmac.new(b"k" * 40, payload.encode(), hashlib.sha256).hexdigest()
    assert signed == f"{payload}&signature={expected}".encode()


@pytest.mark.parametrize(
    "params",
    [
        {"note": "needs escaping"},  # space
        {"a": "1&b=2"},  # a separator inside a value
        {"sym": "BTC/USDT"},
        {"name": "caf\u00e9"},  # non-ASCII
        {"qty": 1},  # not a str
        {"px": Decimal("1.5")},
    ],
)
def test_signed_form_declines_what_needs_the_general_path(params: dict[str, object]) -> None:
    assert HmacSha256(b"k").signed_form(params, "t=1", "signature") is None  # type: ignore[arg-type]


ORDER_VALUES = st.one_of(
    plain_text,
    st.text(max_size=10),
    st.integers(0, 10**12),
    st.decimals(places=4, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=100, deadline=None)
@given(
    body=st.dictionaries(plain_text, ORDER_VALUES, min_size=1, max_size=8).filter(
        lambda d: "timestamp" not in d
    ),
    recv_window=st.one_of(st.none(), st.integers(1, 60_000)),
)
def test_binance_fast_path_equals_the_general_path(body: dict[str, object], recv_window: int | None) -> None:
    credentials = Credentials("api-key", secret="s3cret-for-tests")
    fast = binance.sign_request(
        credentials, "POST", "/fapi/v1/order", None, body, 1_700_000_000_123, recv_window_ms=recv_window
    )  # type: ignore[arg-type]
    # A list of pairs never takes the compiled path: the reference encoding.
    general = binance.sign_request(
        credentials,
        "POST",
        "/fapi/v1/order",
        None,
        list(body.items()),
        1_700_000_000_123,
        recv_window_ms=recv_window,
    )  # type: ignore[arg-type]
    assert (fast.method, fast.url, fast.headers, fast.body) == (
        general.method,
        general.url,
        general.headers,
        general.body,
    )
    payload, _, signature = fast.body.rpartition(b"&signature=")
    assert signature == hmac.new(b"s3cret-for-tests", payload, hashlib.sha256).hexdigest().encode()
