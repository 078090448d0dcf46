"""Exact decimal conversion: every accepted string round-trips, every bad one is refused by name."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rentrade import DecimalError, Instrument

BTC = Instrument("BTCUSDT", "binance_usdm", "0.10", "0.001", min_qty="0.001", min_notional="100")


def test_fields_and_repr() -> None:
    assert (BTC.tick_size, BTC.lot_size, BTC.min_qty, BTC.min_qty_lots) == ("0.1", "0.001", "0.001", 1)
    assert Decimal(BTC.min_notional) == 100
    assert "BTCUSDT" in repr(BTC) and "0.1" in repr(BTC)
    assert Instrument("BTCUSDT", "binance_usdm", "0.1", "0.001", min_qty="0.001", min_notional="100") == BTC
    assert BTC != "BTCUSDT"


@pytest.mark.parametrize(
    ("text", "ticks"),
    [("61800.2", 618002), ("61800.20000000", 618002), ("0", 0), ("-0", 0), ("1e2", 1000), ("0.3", 3)],
)
def test_price_to_ticks(text: str, ticks: int) -> None:
    assert BTC.price_to_ticks(text) == ticks


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("61800.25", "more decimals than the increment allows"),
        ("nan", "NaN or infinity"),
        ("-Infinity", "NaN or infinity"),
        ("-1", "negative value not allowed"),
        ("", "empty"),
        ("1,5", "not a decimal number"),
        ("1e400", "too large"),
        ("922337203685477580.8", "too large"),
    ],
)
def test_bad_prices_are_refused_with_value_and_instrument(text: str, reason: str) -> None:
    with pytest.raises(DecimalError, match=reason) as error:
        BTC.price_to_ticks(text)
    assert f"'{text}'" in str(error.value) and "BTCUSDT on binance_usdm" in str(error.value)
    assert isinstance(error.value, ValueError)


def test_not_a_multiple_and_negative_prices() -> None:
    half = Instrument("X", "v", "0.5", "1")
    assert half.price_to_ticks("100.5") == 201
    with pytest.raises(DecimalError, match="not a whole multiple"):
        half.price_to_ticks("100.3")
    spread = Instrument("CL-SPREAD", "v", "0.01", "1", allow_negative_price=True)
    assert spread.price_to_ticks("-37.63") == -3763
    assert spread.ticks_to_price(-3763) == "-37.63"


def test_bad_instrument_fields_are_named() -> None:
    with pytest.raises(
        DecimalError, match="invalid tick_size '0' for X on v: increment must be greater than zero"
    ):
        Instrument("X", "v", "0", "1")
    with pytest.raises(DecimalError, match=r"invalid min_qty '0\.0005'"):
        Instrument("X", "v", "0.1", "0.001", min_qty="0.0005")
    with pytest.raises(DecimalError, match="invalid lot_size 'abc'"):
        Instrument("X", "v", "0.1", "abc")


@given(st.integers(-(2**63) + 1, 2**63 - 1))
def test_ticks_round_trip_exactly(ticks: int) -> None:
    signed = Instrument("X", "v", "0.001", "1", allow_negative_price=True)
    text = signed.ticks_to_price(ticks)
    assert Decimal(text) == Decimal(ticks) * Decimal("0.001")
    assert signed.price_to_ticks(text) == ticks


@given(st.decimals(min_value=0, max_value=10**12, places=3, allow_nan=False))
def test_quantities_convert_like_decimal(value: Decimal) -> None:
    assert BTC.qty_to_lots(str(value)) == int(value * 1000)
    assert Decimal(BTC.lots_to_qty(BTC.qty_to_lots(str(value)))) == value


def test_notional_is_exact() -> None:
    assert BTC.notional(618002, 1500) == Decimal("92700.3")
    inverse = Instrument("XBTUSD", "v", "0.5", "1", contract_size="0.0001")
    assert inverse.notional(2, 3) == Decimal("0.0003")
