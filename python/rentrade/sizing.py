"""Position sizing: Kelly fraction, fractional Kelly, capital per instrument and the largest order.

Thin wrappers over the core (``src/fastcore/risk/sizing.hpp``), which computes with exact fractions.
Numbers may be given as ``str``, :class:`~decimal.Decimal`, ``int`` or ``float``; a float is read as the
shortest decimal that prints it (``0.479`` is 479/1000, not the nearest binary fraction), so the plan's
worked numbers come out exactly: ``p = 0.479, b = 2`` gives f* = 0.2185; a quarter of it is 5.4625 %
(the plan's "5.46 %"); $1,000,000 over 100 instruments gives $546.25 per instrument per trade (the
plan's "$546" rounds that down to whole dollars). Order sizes are always rounded down.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from rentrade import _fastcore
from rentrade._fastcore import Instrument

Number = str | Decimal | int | float

__all__ = [
    "Allocation",
    "OrderSize",
    "allocate",
    "allocation_matrix",
    "fractional_kelly",
    "kelly_fraction",
    "max_order",
]


def _text(value: Number, name: str) -> str:
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a number, not bool")
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value!r}")
        return repr(value)
    if isinstance(value, int | Decimal | str):
        return str(value)
    raise TypeError(f"{name} must be a str, Decimal, int or float, not {type(value).__name__}")


def _fraction(pair: tuple[int, int]) -> Fraction:
    return Fraction(pair[0], pair[1])


def kelly_fraction(win_rate: Number, payoff: Number) -> Fraction:
    """Kelly fraction f* = p - (1 - p) / b, exactly.

    Parameters
    ----------
    win_rate
        Probability p of a winning trade, strictly between 0 and 1.
    payoff
        b = average win / average loss, > 0.

    Returns
    -------
    fractions.Fraction
        f*. Zero or negative means the strategy has no edge: do not trade (never size it negatively).

    Raises
    ------
    ValueError
        p outside (0, 1), b <= 0, or not a finite number.
    """
    p, b = _text(win_rate, "win rate"), _text(payoff, "payoff")
    try:
        return _fraction(_fastcore.sizing_kelly(p, b))
    except ValueError as error:
        raise ValueError(f"{error} (win rate {p}, payoff {b})") from None


def fractional_kelly(win_rate: Number, payoff: Number, fraction: Number = "0.25") -> Fraction:
    """``fraction`` x f*, the share of capital risked per trade; 0 when there is no edge.

    ``fraction`` must be in (0, 1] (0.25 is "quarter Kelly").
    """
    return allocate(1, 1, win_rate, payoff, fraction).capital_fraction


@dataclass(frozen=True)
class Allocation:
    """Sizing of one trade of one instrument when capital is spread evenly over instruments."""

    capital: Fraction
    instruments: int
    kelly: Fraction
    """f*; <= 0 means no edge."""
    capital_fraction: Fraction
    """fraction x f*, or 0 without edge."""
    per_instrument: Fraction
    """capital / instruments x capital_fraction, quote currency (exact; round down to display)."""
    has_edge: bool
    reason: str
    """"ok", or why nothing may be traded."""


def allocate(
    capital: Number, instruments: int, win_rate: Number, payoff: Number, fraction: Number = "0.25"
) -> Allocation:
    """Capital per instrument per trade: capital / instruments x fraction x f*.

    Parameters
    ----------
    capital
        Total capital in the quote currency, > 0.
    instruments
        Number of instruments it is spread over, >= 1.
    win_rate, payoff
        As for :func:`kelly_fraction`.
    fraction
        Kelly multiplier in (0, 1]; 0.25 is quarter Kelly.

    Returns
    -------
    Allocation
        With ``has_edge=False`` and zero sizes when f* <= 0.
    """
    if isinstance(instruments, bool) or not isinstance(instruments, int):
        raise TypeError(f"instruments must be an int, not {type(instruments).__name__}")
    c, p, b, f = (
        _text(capital, "capital"),
        _text(win_rate, "win rate"),
        _text(payoff, "payoff"),
        _text(fraction, "fraction"),
    )
    try:
        kelly, share, per_instrument, reason, has_edge = _fastcore.sizing_allocate(c, instruments, p, b, f)
    except ValueError as error:
        raise ValueError(
            f"{error} (capital {c}, instruments {instruments}, win rate {p}, payoff {b}, fraction {f})"
        ) from None
    return Allocation(
        capital=Fraction(c),
        instruments=instruments,
        kelly=_fraction(kelly),
        capital_fraction=_fraction(share),
        per_instrument=_fraction(per_instrument),
        has_edge=has_edge,
        reason=reason,
    )


@dataclass(frozen=True)
class OrderSize:
    """The largest order a budget allows at a price, rounded down to lots and checked against minimums."""

    qty_lots: int
    qty: str
    """``qty_lots`` as an exact quantity string."""
    notional: Decimal
    """Exact notional of that order in the quote currency."""
    ok: bool
    reason: str
    """"ok", or why the size is 0 (below one lot, the minimum quantity or the minimum notional)."""


def max_order(instrument: Instrument, px_ticks: int, budget: Fraction | Number) -> OrderSize:
    """Largest order of ``instrument`` at ``px_ticks`` whose notional fits in ``budget`` (quote currency).

    Rounded down to whole lots; 0 with a reason when below the instrument's minimum quantity or notional.
    """
    amount = budget if isinstance(budget, Fraction) else Fraction(_text(budget, "budget"))
    qty_lots, notional, reason, ok = _fastcore.sizing_max_order(
        instrument, px_ticks, amount.numerator, amount.denominator
    )
    return OrderSize(qty_lots, instrument.lots_to_qty(qty_lots), notional, ok, reason)


def allocation_matrix(
    capitals: Sequence[Number],
    instrument_counts: Sequence[int],
    win_rate: Number,
    payoff: Number,
    fraction: Number = "0.25",
) -> list[list[Allocation]]:
    """:func:`allocate` for every capital (rows) and instrument count (columns)."""
    return [[allocate(c, n, win_rate, payoff, fraction) for n in instrument_counts] for c in capitals]
