"""Positions and P&L: exact cases, property tests against a cash ledger and a reference model, a
million random fills through the numpy batch path, duplicates, and refusals."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rentrade
from position_reference import ReferencePosition
from rentrade import _fastcore
from rentrade.fills import FILL_DTYPE, empty_fills

BTC = rentrade.Instrument("BTCUSDT", "binance_usdm", "0.1", "0.001")  # notional unit 1e-4 USDT
ETH = rentrade.Instrument("ETHUSDT", "binance_usdm", "0.01", "0.001")  # 1e-5
SOL = rentrade.Instrument("SOL-USDT", "okx", "0.001", "0.01")  # 1e-5

fills_strategy = st.lists(
    st.tuples(
        st.booleans(),
        st.integers(1, 10**9),
        st.integers(1, 10**6),
        st.integers(-(10**6), 10**6),
        st.booleans(),
    ),
    max_size=60,
)


def test_fill_dtype_matches_the_core() -> None:
    layout = _fastcore.fill_layout()
    assert FILL_DTYPE.itemsize == 48
    assert set(layout) == set(FILL_DTYPE.names or ())
    for name, (offset, size) in layout.items():
        field = FILL_DTYPE.fields[name]  # type: ignore[index]
        assert (field[1], field[0].itemsize) == (offset, size), name


def test_average_entry_partial_close_and_flip() -> None:
    p = rentrade.Position(BTC)
    assert p.apply_fill("buy", 600_000, 10, trade_id=1)  # 0.010 BTC at 60000.0
    assert p.apply_fill(rentrade.Side.BID, 610_000, 10, trade_id=2)  # 0.010 at 61000.0
    assert p.net_lots == 20 and p.net_qty == "0.020"
    assert p.cost_basis == Decimal("1210.0000")
    assert p.avg_entry_px_ticks == 605_000.0
    assert p.apply_fill("sell", 620_000, 5, trade_id=3)
    assert p.realized_pnl == Decimal("7.5000")  # 0.005 x (62000 - 60500)
    assert p.unrealized_pnl(620_000) == Decimal("22.5000")
    assert p.apply_fill("sell", 590_000, 25, trade_id=4)  # long 15 -> short 10
    assert p.net_lots == -10
    assert p.realized_pnl == Decimal("7.5000") + Decimal("-22.5000")
    assert p.cost_basis == Decimal("590.0000")
    assert p.traded_notional == Decimal("2995.0000")  # 600 + 610 + 310 + 1475
    with pytest.raises(rentrade.PositionError, match="no mark price"):
        p.unrealized_pnl()
    p.set_mark(580_000)
    assert p.mark_px_ticks == 580_000
    assert p.unrealized_pnl() == Decimal("10.0000")


def test_fees_and_rebates() -> None:
    p = rentrade.Position(BTC)
    p.apply_fill("buy", 600_000, 10, trade_id=1, fee="0.24", liquidity="taker")
    p.apply_fill("sell", 600_100, 10, trade_id=2, fee=Decimal("-0.012"), liquidity=rentrade.Liquidity.MAKER)
    assert p.taker_fees == Decimal("0.2400")
    assert p.maker_fees == Decimal("-0.0120")
    assert p.fees == Decimal("0.2280")
    assert p.realized_pnl == Decimal("0.1000")
    with pytest.raises(TypeError, match="fee must be"):
        p.apply_fill("buy", 600_000, 1, trade_id=3, fee=0.1)  # type: ignore[arg-type]
    with pytest.raises(rentrade.DecimalError, match="notional unit"):
        p.apply_fill("buy", 600_000, 1, trade_id=3, fee="0.00001")
    assert p.fills == 2


def test_duplicates_are_counted_once() -> None:
    book = rentrade.Positions([BTC, ETH, SOL], quote="USDT")
    assert book.apply_fill(0, "buy", 600_000, 10, trade_id=7)
    assert not book.apply_fill(0, "buy", 600_000, 10, trade_id=7)
    assert not book.apply_fill(0, "sell", 1, 1, trade_id=7)  # same id: ignored whatever it says
    # Ids are per instrument: Binance and OKX number trades per symbol.
    assert book.apply_fill(1, "buy", 300_000, 10, trade_id=7)
    assert book[0].net_lots == 10 and book[0].fills == 1
    assert book.duplicates == 2


def test_refusals_name_the_problem() -> None:
    book = rentrade.Positions([BTC, SOL])
    with pytest.raises(rentrade.PositionError, match="trade id 0"):
        book.apply_fill(0, "buy", 1, 1, trade_id=0)
    with pytest.raises(rentrade.PositionError, match="quantity must be > 0"):
        book.apply_fill(0, "buy", 1, 0, trade_id=1)
    with pytest.raises(rentrade.PositionError, match="negative price"):
        book.apply_fill(0, "buy", -1, 1, trade_id=1)
    with pytest.raises(rentrade.PositionError, match="overflows"):
        book.apply_fill(0, "buy", 1, 2**63 - 1, trade_id=1)
        book.apply_fill(0, "buy", 1, 1, trade_id=2)
    assert book[0].net_lots == 2**63 - 1
    with pytest.raises(IndexError):
        book[2]
    with pytest.raises(ValueError, match="liquidity"):
        book.apply_fill(1, "buy", 1, 1, trade_id=1, liquidity="both")
    with pytest.raises(rentrade.PositionError, match="'USDT', 'USD'"):
        rentrade.Positions([BTC, SOL], quote=["USDT", "USD"])
    with pytest.raises(ValueError, match="dedup_capacity"):
        rentrade.Positions([BTC], dedup_capacity=0)


def test_totals_per_venue_and_overall_in_one_unit() -> None:
    book = rentrade.Positions([BTC, ETH, SOL], quote="USDT")
    assert book.venues == ["binance_usdm", "okx"] and book.scale == 5
    book.apply_fill(0, "buy", 600_000, 10, trade_id=1, fee="0.24")
    book.apply_fill(0, "sell", 600_100, 10, trade_id=2, fee="-0.012", liquidity="maker")
    book.apply_fill(2, "sell", 150_000, 100, trade_id=1)  # 1.00 SOL at 150.000
    book.set_mark(2, 149_500)
    totals = book.totals()
    assert totals.realized == Decimal("0.10000")
    assert totals.fees == Decimal("0.22800")
    assert totals.unrealized == Decimal("0.50000")
    assert totals.net == Decimal("0.10000") - Decimal("0.228") + Decimal("0.5")
    assert totals.fills == 3 and totals.open_without_mark == 0
    okx = book.totals("okx")
    assert okx.realized == 0 and okx.unrealized == Decimal("0.5") and okx.fills == 1
    assert book.totals("binance_usdm").unrealized == 0
    with pytest.raises(KeyError):
        book.totals("kraken")


@settings(max_examples=300, deadline=None)
@given(fills=fills_strategy, mark=st.integers(1, 10**9))
def test_property_position_matches_fills_and_cash_ledger(
    fills: list[tuple[bool, int, int, int, bool]], mark: int
) -> None:
    instrument = rentrade.Instrument("X", "v", "1", "1")  # notional unit = 1 tick-lot
    p = rentrade.Position(instrument)
    ref = ReferencePosition()
    for trade_id, (buy, px, qty, fee, maker) in enumerate(fills, start=1):
        assert p.apply_fill(
            "buy" if buy else "sell",
            px,
            qty,
            trade_id=trade_id,
            fee=fee,
            liquidity="maker" if maker else "taker",
        )
        ref.apply(buy, px, qty, fee, maker)
    # Position is the signed sum of the fills.
    assert p.net_lots == sum(q if b else -q for b, _, q, _, _ in fills)
    # Realized + unrealized is the cash ledger valued at the mark, exactly.
    assert p.realized_pnl + p.unrealized_pnl(mark) == ref.cash + p.net_lots * mark
    # And the split matches the reference model.
    assert p.realized_pnl == ref.realized
    assert p.cost_basis == ref.open_cost
    assert p.fees == ref.maker_fees + ref.taker_fees
    assert p.maker_fees == ref.maker_fees
    assert p.traded_notional == ref.traded


def test_a_million_random_fills_without_drift() -> None:
    instruments = [BTC, ETH, SOL]
    book = rentrade.Positions(instruments, quote="USDT")
    rng = np.random.default_rng(20240601)
    n = 1_000_000
    fills = empty_fills(n)
    ids = rng.integers(0, len(instruments), n)
    fills["instrument_id"] = ids
    fills["venue_id"] = np.array([book.venue_id(i) for i in range(len(instruments))], dtype=np.uint8)[ids]
    fills["side"] = rng.integers(0, 2, n)
    fills["liquidity"] = rng.integers(0, 2, n)
    # Prices drift like a market; sizes mostly small with rare large ones (flips happen often).
    fills["px_ticks"] = 1_000_000 + np.cumsum(rng.integers(-50, 51, n))
    fills["qty_lots"] = np.where(rng.random(n) < 0.05, rng.integers(1, 100_000, n), rng.integers(1, 100, n))
    fills["fee_units"] = rng.integers(-1_000, 5_000, n)
    fills["trade_id"] = np.arange(1, n + 1)
    # Replay a slice: all of it must be recognised as duplicates.
    replay = fills[n - 1000 :].copy()
    assert book.apply_fills(fills) == n
    assert book.apply_fills(replay) == 0
    assert book.duplicates == 1000

    refs = [ReferencePosition() for _ in instruments]
    for instrument_id, side, liquidity, px, qty, fee in zip(
        ids.tolist(),
        fills["side"].tolist(),
        fills["liquidity"].tolist(),
        fills["px_ticks"].tolist(),
        fills["qty_lots"].tolist(),
        fills["fee_units"].tolist(),
        strict=True,
    ):
        refs[instrument_id].apply(side == 0, px, qty, fee, liquidity == 0)

    scale = Decimal(10) ** -book.scale
    instrument_decimals = [4, 5, 5]  # notional decimals of BTC, ETH, SOL
    total_cash_value = Decimal(0)
    total_fees = Decimal(0)
    for instrument_id, (instrument, ref) in enumerate(zip(instruments, refs, strict=True)):
        position = book[instrument_id]
        unit = Decimal(instrument.notional(1, 1))  # one tick-lot in the quote currency
        mark = int(fills["px_ticks"][-1]) + 7
        book.set_mark(instrument_id, mark)
        assert position.net_lots == ref.net_lots
        assert position.fills == ref.fills
        assert position.realized_pnl == ref.realized * unit
        assert position.cost_basis == ref.open_cost * unit
        assert position.realized_pnl + position.unrealized_pnl() == (ref.cash + ref.net_lots * mark) * unit
        fee_unit = Decimal(1).scaleb(-instrument_decimals[instrument_id])
        assert position.fees == (ref.maker_fees + ref.taker_fees) * fee_unit
        total_cash_value += (ref.cash + ref.net_lots * mark) * unit
        total_fees += (ref.maker_fees + ref.taker_fees) * fee_unit
    totals = book.totals()
    assert totals.realized + totals.unrealized == total_cash_value
    assert totals.fees == total_fees
    assert totals.net == total_cash_value - total_fees
    assert totals.realized.as_tuple().exponent == -book.scale
    assert scale == Decimal("0.00001")


def test_apply_fills_stops_at_a_refused_fill() -> None:
    book = rentrade.Positions([BTC])
    fills = empty_fills(3)
    fills["qty_lots"] = [1, 0, 1]
    fills["px_ticks"] = 600_000
    fills["trade_id"] = [1, 2, 3]
    with pytest.raises(rentrade.PositionError, match="fill 1 refused; fills before it were applied"):
        book.apply_fills(fills)
    assert book[0].net_lots == 1
    with pytest.raises(TypeError, match="FILL_DTYPE"):
        book.apply_fills(np.zeros(3, dtype=np.int64))


def test_measure_position_update_does_the_work() -> None:
    book = rentrade.Positions([BTC, ETH])
    rng = np.random.default_rng(1)
    fills = empty_fills(20_000)
    fills["instrument_id"] = rng.integers(0, 2, fills.size)
    fills["side"] = rng.integers(0, 2, fills.size)
    fills["px_ticks"] = rng.integers(590_000, 610_000, fills.size)
    fills["qty_lots"] = rng.integers(1, 50, fills.size)
    fills["trade_id"] = np.arange(1, fills.size + 1)
    run = _fastcore.measure_position_update(book, fills, passes=2)
    assert run.timed_ops == 20_000 and run.throughput_ops == 40_000
    assert book[0].fills + book[1].fills == 60_000
    assert 0 < run.histogram.percentile(50) <= run.histogram.percentile(99)
