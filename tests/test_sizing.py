"""Sizing against the plan's worked numbers, refusals, order sizes, and the ``rentrade sizing`` command."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

import pytest

import rentrade
from rentrade import cli, sizing

BTC = rentrade.Instrument("BTCUSDT", "binance_usdm", "0.1", "0.001", min_qty="0.001", min_notional="100")


def test_plan_numbers() -> None:
    f_star = sizing.kelly_fraction(0.479, 2)
    assert f_star == Fraction(437, 2000)
    assert round(float(f_star), 4) == 0.2185
    quarter = sizing.fractional_kelly("0.479", "2", "0.25")
    assert quarter == Fraction(437, 8000)  # 5.4625 %
    assert f"{float(quarter) * 100:.2f} %" == "5.46 %"
    allocation = sizing.allocate(1_000_000, 100, 0.479, 2, 0.25)
    assert allocation.has_edge and allocation.reason == "ok"
    assert allocation.per_instrument == Fraction(54625, 100)  # $546.25 exactly
    assert int(allocation.per_instrument) == 546  # the plan's $546: rounded down to whole dollars
    # The plan's derivation: capital / instruments x quarter Kelly.
    assert allocation.per_instrument == Fraction(1_000_000, 100) * quarter


def test_inputs_are_read_as_the_decimals_written() -> None:
    assert sizing.kelly_fraction(Decimal("0.479"), 2) == sizing.kelly_fraction("0.479", "2.0")
    assert sizing.kelly_fraction(0.6, 1) == Fraction(1, 5)


def test_no_edge_means_do_not_trade() -> None:
    allocation = sizing.allocate(1_000_000, 10, 0.3, 2, 0.25)
    assert allocation.kelly == Fraction(-1, 20)
    assert not allocation.has_edge and "do not trade" in allocation.reason
    assert allocation.per_instrument == 0 and allocation.capital_fraction == 0
    assert sizing.fractional_kelly(0.5, 1) == 0  # break-even is no edge either


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1000, 1, 0, 2), "win rate must be strictly between 0 and 1"),
        ((1000, 1, 1, 2), "win rate"),
        ((1000, 1, 0.5, 0), "payoff"),
        ((1000, 1, 0.5, -2), "payoff"),
        ((0, 1, 0.5, 2), "capital must be > 0"),
        ((1000, 0, 0.5, 2), "instruments must be >= 1"),
        ((1000, 1, float("nan"), 2), "finite"),
        ((1000, 1, "abc", 2), "not a finite decimal"),
    ],
)
def test_nonsense_is_refused(args: tuple[object, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sizing.allocate(*args)  # type: ignore[arg-type]


def test_fraction_must_be_in_zero_one() -> None:
    with pytest.raises(ValueError, match=r"Kelly fraction must be in \(0, 1\]"):
        sizing.allocate(1000, 1, 0.6, 2, 1.5)
    with pytest.raises(ValueError, match="Kelly fraction"):
        sizing.fractional_kelly(0.6, 2, 0)


def test_max_order_rounds_down_and_respects_minimums() -> None:
    order = sizing.max_order(BTC, BTC.price_to_ticks("60000"), Fraction(2185, 4))
    assert (order.qty_lots, order.qty, order.notional, order.ok) == (9, "0.009", Decimal("540.0000"), True)
    small = sizing.max_order(BTC, BTC.price_to_ticks("60000"), "109.25")  # 1 lot = 60 < 100 minimum
    assert small.qty_lots == 0 and not small.ok and "minimum notional" in small.reason
    tiny = sizing.max_order(BTC, BTC.price_to_ticks("60000"), 50)
    assert tiny.qty_lots == 0 and "less than one lot" in tiny.reason
    with pytest.raises(ValueError, match="price must be > 0"):
        sizing.max_order(BTC, 0, 100)


def test_allocation_matrix() -> None:
    matrix = sizing.allocation_matrix(["100000", "1000000"], [10, 100], 0.479, 2)
    assert [[cell.per_instrument for cell in row] for row in matrix] == [
        [Fraction("546.25"), Fraction("54.625")],
        [Fraction("5462.5"), Fraction("546.25")],
    ]


def test_cli_prints_the_plan_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sizing", "--win-rate", "0.479", "--payoff", "2", "--fraction", "0.25"]
    argv += ["--capital", "1000000", "--instruments", "100", "--price", "60000", "--tick", "0.1"]
    argv += ["--lot", "0.001", "--min-notional", "100", "--symbol", "BTCUSDT"]
    assert cli.main(argv) == 0
    out = capsys.readouterr().out
    assert "0.2185" in out
    assert "5.4625 %" in out
    assert "546.25" in out and "546 in whole units" in out
    assert "0.009 BTCUSDT (9 lots of 0.001), notional 540.0000" in out
    assert "10,000,000.00" in out  # the allocation matrix rows


def test_cli_no_edge_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    common = ["--payoff", "2", "--capital", "1e6", "--instruments", "5"]
    assert cli.main(["sizing", "--win-rate", "0.3", *common]) == 0
    assert "NO EDGE" in capsys.readouterr().out
    assert cli.main(["sizing", "--win-rate", "1.2", *common]) == 2
    assert "win rate must be strictly between 0 and 1" in capsys.readouterr().err
