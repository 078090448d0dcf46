"""Shared signing pieces: query encoding, JSON bodies, SignedRequest, ServerClock, timestamp recovery."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from urllib.parse import urlencode

import pytest

from rentrade.signing import (
    ServerClock,
    SignedRequest,
    TimestampWindowError,
    encode_query,
    format_param,
    is_timestamp_error,
    json_body,
    send_with_timestamp_recovery,
)

# ---------------------------------------------------------------------- encode_query


def test_plain_parameters_keep_order() -> None:
    assert (
        encode_query({"symbol": "BTCUSDT", "side": "BUY", "price": "0.1"})
        == "symbol=BTCUSDT&side=BUY&price=0.1"
    )
    assert encode_query([("b", "2"), ("a", "1")]) == "b=2&a=1"
    assert encode_query({}) == ""


def test_values_are_formatted_exactly() -> None:
    assert encode_query(
        {"n": 5000, "t": True, "f": False, "d": Decimal("1E+2"), "e": Decimal("0.00000001")}
    ) == ("n=5000&t=true&f=false&d=100&e=0.00000001")


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("hello world", "hello%20world"),
        ("a/b", "a%2Fb"),
        ("a+b", "a%2Bb"),
        ("1=2", "1%3D2"),
        ("x&y", "x%26y"),
        ("\uff11\uff12\uff13", "%EF%BC%91%EF%BC%92%EF%BC%93"),
        ('["a","b"]', "%5B%22a%22%2C%22b%22%5D"),
        ("-._~", "-._~"),
    ],
)
def test_reserved_and_non_ascii_characters_are_percent_encoded(value: str, encoded: str) -> None:
    assert encode_query({"k": value, "z": "1"}) == f"k={encoded}&z=1"


def test_agrees_with_urlencode_on_everything_but_space() -> None:
    params = {"symbol": "ETH/BTC", "note": "a+b=c&d", "u": "é", "ok": "A-z_0.9~"}
    assert encode_query(params) == urlencode(
        params, quote_via=lambda s, *a: __import__("urllib.parse").parse.quote(s, safe="")
    )


def test_floats_and_unknown_types_refused() -> None:
    with pytest.raises(TypeError, match="float"):
        encode_query({"price": 0.1})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="unsupported"):
        format_param(object())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        format_param(Decimal("NaN"))


def test_json_body_is_compact_exact_and_refuses_floats() -> None:
    assert (
        json_body({"a": "1", "b": [Decimal("0.10"), 2, None, True]}) == b'{"a":"1","b":["0.10",2,null,true]}'
    )
    assert json_body(b"raw") == b"raw"
    assert json_body("raw") == b"raw"
    with pytest.raises(TypeError, match="float"):
        json_body({"a": {"b": 1.5}})


def test_signed_request_repr_hides_bearer_tokens_and_passphrases() -> None:
    req = SignedRequest(
        "GET", "u", {"Authorization": "Bearer TOKEN", "OK-ACCESS-PASSPHRASE": "PP", "X": "y"}, b""
    )
    text = repr(req)
    assert "TOKEN" not in text and "PP" not in text and "'X': 'y'" in text


# ---------------------------------------------------------------------- ServerClock


class FakeTime:
    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns


def test_clock_without_samples_is_local_time() -> None:
    t = FakeTime(1_700_000_000_123_456_789)
    clock = ServerClock(time_ns=t)
    assert clock.offset_ns == 0 and clock.now_ms() == 1_700_000_000_123


def test_clock_offset_is_median_of_samples_and_ignores_a_slow_round_trip() -> None:
    t = FakeTime(0)
    clock = ServerClock(max_samples=5, time_ns=t)
    # Server is 250 ms ahead; symmetric round trips of 2 ms around local time L.
    for base in (10_000, 20_000, 30_000, 40_000):
        local_ms = base
        clock.add_sample(local_ms + 250, (local_ms - 1) * 1_000_000, (local_ms + 1) * 1_000_000)
    # One asymmetric, slow sample that would say the server is 2 s behind.
    clock.add_sample(50_000 - 2_000, 50_000 * 1_000_000, 50_000 * 1_000_000 + 10_000_000)
    assert clock.sample_count == 5
    assert clock.offset_ns == 250_500_000  # 250 ms + half a ms for the server's truncation
    t.now_ns = 60_000 * 1_000_000
    assert clock.now_ms() == 60_250
    clock.clear()
    assert clock.offset_ns == 0 and clock.sample_count == 0


def test_clock_keeps_only_recent_samples() -> None:
    clock = ServerClock(max_samples=3, time_ns=FakeTime(0))
    for offset_ms in (100, 100, 100, -900, -900, -900):
        clock.add_sample(1_000 + offset_ms, 1_000_000_000, 1_000_000_000)
    assert clock.offset_ns == -900 * 1_000_000 + 500_000


def test_clock_rejects_inverted_round_trip_and_bad_size() -> None:
    with pytest.raises(ValueError, match="earlier"):
        ServerClock().add_sample(1, 10, 5)
    with pytest.raises(ValueError, match="at least 1"):
        ServerClock(max_samples=0)


# ---------------------------------------------------------------------- timestamp-window recovery


@pytest.mark.parametrize(
    ("venue", "code", "expected"),
    [
        ("binance", -1021, True),
        ("binance", "-1021", True),
        ("binance", -1022, False),
        ("bybit", 10002, True),
        ("bybit", 10004, False),
        ("okx", "50102", True),
        ("okx", "50113", False),
        ("kraken_futures", "nonceBelowThreshold", True),
        ("kraken_futures", "nonceDuplicate", True),
        ("kraken_futures", "invalidArgument", False),
        ("coinbase", 401, False),
        ("binance", None, False),
    ],
)
def test_is_timestamp_error(venue: str, code: object, expected: bool) -> None:
    assert is_timestamp_error(venue, code) is expected  # type: ignore[arg-type]


def _scenario(codes: list[object | None]) -> tuple[list[int], list[str], object]:
    t = FakeTime(1_000 * 1_000_000)
    clock = ServerClock(time_ns=t)
    sent: list[int] = []
    events: list[str] = []
    responses = iter(codes)

    async def attempt(ts: int) -> object | None:
        sent.append(ts)
        events.append("send")
        return next(responses)

    async def resync() -> None:
        events.append("resync")
        clock.add_sample(6_000, t.now_ns, t.now_ns)  # the server turns out to be 5 s ahead

    async def main() -> object | None:
        return await send_with_timestamp_recovery(
            attempt, venue="binance", error_code=lambda r: r, clock=clock, resync=resync, max_retries=1
        )

    try:
        result: object = asyncio.run(main())
    except TimestampWindowError as exc:
        result = exc
    return sent, events, result


def test_recovery_resyncs_and_resigns_with_the_new_offset() -> None:
    sent, events, result = _scenario([-1021, None])
    assert events == ["send", "resync", "send"]
    assert sent == [1_000, 6_000]  # the retry is signed with the corrected clock
    assert result is None


def test_recovery_passes_other_errors_through_untouched() -> None:
    _sent, events, result = _scenario([-2010])
    assert events == ["send"] and result == -2010


def test_recovery_gives_up_with_an_actionable_error() -> None:
    _, events, result = _scenario([-1021, -1021])
    assert events == ["send", "resync", "send"]
    assert isinstance(result, TimestampWindowError)
    assert "NTP" in str(result) and result.code == -1021 and result.attempts == 2
