"""Pre-trade risk through rentrade.Risk: each check's accepted and refused side, reason messages, the kill
switch at every scope, loss limits, throttles, book health, self-trade prevention, and refusals."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rentrade
from rentrade import MarketView, Risk, RiskError, RiskReason, TradingState, _fastcore

# Money unit 1e-4 USDT; px_ticks x qty_lots is the notional in those units.
BTC = rentrade.Instrument("BTCUSDT", "binance", "0.1", "0.001")
ETH = rentrade.Instrument("ETHUSDT", "binance", "0.1", "0.001")
SOL = rentrade.Instrument("SOL-USDT", "okx", "0.1", "0.001")
NOW = 1_700_000_000_000_000_000
MARKET = MarketView(bid_px_ticks=999, ask_px_ticks=1001, last_trade_px_ticks=1000, book_ts_local_ns=NOW)


def make_risk() -> Risk:
    return Risk([BTC, ETH, SOL], order_capacity=64)


def check(risk: Risk, side: str, px: int, qty: int, instrument: int = 0, **kwargs: object) -> RiskReason:
    ts = kwargs.pop("ts", NOW)
    market = kwargs.pop("market", MARKET)
    return risk.check(instrument, side, px, qty, ts, market=market, **kwargs)  # type: ignore[arg-type]


def test_every_reason_has_a_message() -> None:
    assert len(RiskReason) == 34
    for reason in RiskReason:
        assert reason.message == rentrade.describe_risk(reason)
        assert reason.message and reason.message != "unknown risk reason"
    assert "own working orders" in RiskReason.SELF_TRADE.message
    assert RiskReason.OK == 0 and isinstance(RiskReason.OK, int)


def test_scale_and_venues() -> None:
    risk = make_risk()
    assert risk.scale == 4
    assert risk.venues == ["binance", "okx"]
    assert check(risk, "buy", 1000, 5) is RiskReason.OK


Case = tuple[dict[str, object], tuple[str, int, int], RiskReason, tuple[str, int, int]]

# (limits, accepted order, reason, refused order): both sides of each size, price and exposure check.
CASES: list[Case] = [
    ({"min_qty_lots": 3}, ("buy", 1000, 3), RiskReason.QTY_BELOW_MIN, ("buy", 1000, 2)),
    ({"max_qty_lots": 10}, ("buy", 1000, 10), RiskReason.QTY_ABOVE_MAX, ("buy", 1000, 11)),
    ({"qty_step_lots": 5}, ("buy", 1000, 10), RiskReason.NOT_LOT_MULTIPLE, ("buy", 1000, 11)),
    ({"px_step_ticks": 5}, ("buy", 1000, 1), RiskReason.NOT_TICK_MULTIPLE, ("buy", 1001, 1)),
    ({"min_notional": "1"}, ("buy", 1000, 10), RiskReason.NOTIONAL_BELOW_MIN, ("buy", 1000, 9)),
    ({"max_order_notional": "1"}, ("buy", 1000, 10), RiskReason.NOTIONAL_ABOVE_MAX, ("buy", 1000, 11)),
    ({"collar_mid_bps": 100}, ("buy", 1010, 1), RiskReason.OUTSIDE_COLLAR_MID, ("buy", 1011, 1)),
    ({"collar_mid_bps": 100}, ("sell", 990, 1), RiskReason.OUTSIDE_COLLAR_MID, ("sell", 989, 1)),
    ({"collar_last_bps": 50}, ("buy", 1005, 1), RiskReason.OUTSIDE_COLLAR_LAST, ("buy", 1006, 1)),
    ({"max_long_lots": 7}, ("buy", 1000, 7), RiskReason.MAX_LONG_POSITION, ("buy", 1000, 8)),
    ({"max_short_lots": 7}, ("sell", 1000, 7), RiskReason.MAX_SHORT_POSITION, ("sell", 1000, 8)),
    ({"max_gross_notional": "1"}, ("buy", 1000, 10), RiskReason.INSTRUMENT_GROSS_NOTIONAL, ("buy", 1000, 11)),
    ({}, ("buy", 1000, 1), RiskReason.BAD_QTY, ("buy", 1000, 0)),
    ({}, ("buy", 1000, 1), RiskReason.BAD_PRICE, ("buy", 0, 1)),
]


@pytest.mark.parametrize(("limits", "accepted", "reason", "refused"), CASES)
def test_check_accepts_and_refuses(
    limits: dict[str, object],
    accepted: tuple[str, int, int],
    reason: RiskReason,
    refused: tuple[str, int, int],
) -> None:
    risk = make_risk()
    risk.set_limits(0, **limits)  # type: ignore[arg-type]
    assert check(risk, *accepted) is RiskReason.OK
    assert check(risk, *refused) is reason


def test_instrument_minimums_are_a_floor() -> None:
    floor = rentrade.Instrument("X", "okx", "0.1", "0.001", min_qty="0.005", min_notional="1")
    risk = Risk([floor])
    assert check(risk, "buy", 2000, 4) is RiskReason.QTY_BELOW_MIN
    assert check(risk, "buy", 1000, 9) is RiskReason.NOTIONAL_BELOW_MIN
    assert check(risk, "buy", 1000, 10) is RiskReason.OK
    risk.set_limits(0, min_qty_lots=1, min_notional=0)
    assert check(risk, "buy", 2000, 4) is RiskReason.QTY_BELOW_MIN


def test_in_flight_counts_immediately_and_lifecycle_releases() -> None:
    risk = make_risk()
    risk.set_limits(0, max_long_lots=10, max_open_orders=2)
    assert risk.submit(1, 0, "buy", 990, 6, NOW, market=MARKET) is RiskReason.OK
    assert risk.is_working(1) and risk.working_lots(0, "buy") == 6 and risk.open_orders(0) == 1
    assert check(risk, "buy", 990, 5) is RiskReason.MAX_LONG_POSITION
    assert check(risk, "buy", 990, 4) is RiskReason.OK
    risk.on_ack(1)
    risk.on_fill(1, 990, 2)
    assert risk.net_lots(0) == 2 and risk.working_lots(0, "buy") == 4
    assert check(risk, "buy", 990, 5) is RiskReason.MAX_LONG_POSITION
    assert risk.submit(2, 0, "buy", 980, 1, NOW, market=MARKET) is RiskReason.OK
    assert check(risk, "buy", 980, 1) is RiskReason.TOO_MANY_OPEN_ORDERS
    assert risk.submit(2, 0, "buy", 980, 1, NOW, market=MARKET) is RiskReason.TOO_MANY_OPEN_ORDERS
    risk.on_reject(2)
    assert risk.submit(2, 0, "buy", 980, 1, NOW, market=MARKET) is RiskReason.OK
    risk.on_cancel(2)
    risk.on_cancel(1)
    assert risk.working_orders == 0 and risk.working_lots(0, "buy") == 0
    assert check(risk, "buy", 990, 8) is RiskReason.OK
    assert check(risk, "buy", 990, 9) is RiskReason.MAX_LONG_POSITION


def test_duplicate_id_and_full_table() -> None:
    risk = Risk([BTC], order_capacity=2)
    assert risk.submit(7, 0, "buy", 900, 1, NOW, market=MARKET) is RiskReason.OK
    assert risk.submit(7, 0, "buy", 900, 1, NOW, market=MARKET) is RiskReason.DUPLICATE_ORDER_ID
    risk.on_order_sent(8, 0, "buy", 900, 1, NOW)
    assert check(risk, "buy", 900, 1) is RiskReason.ORDER_TABLE_FULL
    with pytest.raises(RiskError, match="full"):
        risk.on_order_sent(9, 0, "buy", 900, 1, NOW)
    with pytest.raises(RiskError, match="already working"):
        risk.on_order_sent(8, 0, "buy", 900, 1, NOW)


def test_gross_notional_per_venue_and_total() -> None:
    risk = make_risk()
    risk.set_venue_limits("binance", max_gross_notional="3")
    risk.set_global_limits(max_gross_notional="3.5")
    risk.on_order_sent(1, 1, "buy", 1000, 10, NOW)  # 1 USDT on binance
    assert risk.gross_notional(venue="binance") == Decimal("1")
    assert check(risk, "buy", 1000, 20) is RiskReason.OK
    assert check(risk, "buy", 1000, 21) is RiskReason.VENUE_GROSS_NOTIONAL
    risk.on_order_sent(2, 2, "buy", 1000, 20, NOW)  # 2 USDT on okx
    assert risk.gross_notional() == Decimal("3")
    assert check(risk, "buy", 1000, 5) is RiskReason.OK
    assert check(risk, "buy", 1000, 6) is RiskReason.TOTAL_GROSS_NOTIONAL
    risk.on_fill(1, 1000, 10)
    risk.set_mark(1, 1100)
    assert risk.gross_notional(instrument_id=1) == Decimal("1.1")
    # Selling the position back reduces exposure, so it passes even over the limit.
    assert check(risk, "sell", 1000, 10, instrument=1) is RiskReason.OK
    assert check(risk, "sell", 1000, 11, instrument=1) is RiskReason.TOTAL_GROSS_NOTIONAL


def test_kill_switch_transitions_at_every_scope() -> None:
    risk = make_risk()
    risk.on_order_sent(1, 0, "buy", 990, 1, NOW)
    risk.on_order_sent(2, 1, "buy", 990, 1, NOW)
    risk.on_order_sent(3, 2, "buy", 990, 1, NOW)
    risk.set_position(0, 5, 1000)

    assert risk.halt(instrument_id=0) == [1]
    assert risk.effective_state(0) is TradingState.HALTED
    assert check(risk, "sell", 1000, 1) is RiskReason.INSTRUMENT_HALTED
    assert check(risk, "buy", 1000, 1, instrument=1) is RiskReason.OK
    assert risk.set_state(TradingState.REDUCE_ONLY, instrument_id=0) == []
    assert check(risk, "buy", 1000, 1) is RiskReason.INSTRUMENT_REDUCE_ONLY
    assert check(risk, "sell", 1000, 5) is RiskReason.OK
    risk.set_state(TradingState.ACTIVE, instrument_id=0)

    assert sorted(risk.halt(venue="binance")) == [1, 2]
    assert check(risk, "sell", 1000, 1) is RiskReason.VENUE_HALTED
    assert check(risk, "buy", 1000, 1, instrument=2) is RiskReason.OK
    risk.set_state(TradingState.REDUCE_ONLY, venue="binance")
    assert risk.state(venue="binance") is TradingState.REDUCE_ONLY
    assert check(risk, "buy", 1000, 1) is RiskReason.VENUE_REDUCE_ONLY
    assert check(risk, "sell", 1000, 5) is RiskReason.OK
    # The most restrictive scope wins.
    risk.halt(instrument_id=0)
    assert check(risk, "sell", 1000, 5) is RiskReason.INSTRUMENT_HALTED
    risk.set_state(TradingState.ACTIVE, instrument_id=0)
    risk.set_state(TradingState.ACTIVE, venue=0)

    assert sorted(risk.halt()) == [1, 2, 3]
    assert check(risk, "buy", 1000, 1, instrument=2) is RiskReason.GLOBAL_HALTED
    risk.set_state(TradingState.REDUCE_ONLY)
    assert check(risk, "buy", 1000, 1, instrument=2) is RiskReason.GLOBAL_REDUCE_ONLY
    assert check(risk, "sell", 1000, 5) is RiskReason.OK
    risk.set_state(TradingState.ACTIVE)
    assert check(risk, "buy", 1000, 1, instrument=2) is RiskReason.OK
    assert risk.state() is TradingState.ACTIVE

    with pytest.raises(ValueError, match="not both"):
        risk.halt(instrument_id=0, venue="okx")
    with pytest.raises(KeyError, match="kraken"):
        risk.halt(venue="kraken")
    with pytest.raises(IndexError):
        risk.halt(instrument_id=3)


def test_reduce_only_flag() -> None:
    risk = make_risk()
    risk.set_position(0, 5, 1000)
    assert check(risk, "sell", 1000, 5, reduce_only=True) is RiskReason.OK
    assert check(risk, "sell", 1000, 6, reduce_only=True) is RiskReason.REDUCE_ONLY_WOULD_INCREASE
    assert check(risk, "buy", 1000, 1, reduce_only=True) is RiskReason.REDUCE_ONLY_WOULD_INCREASE
    risk.on_order_sent(1, 0, "sell", 1010, 3, NOW)
    assert check(risk, "sell", 1010, 3, reduce_only=True) is RiskReason.REDUCE_ONLY_WOULD_INCREASE


def test_throttles() -> None:
    risk = make_risk()
    risk.set_limits(0, orders_per_s=10, burst=2)
    assert risk.submit(1, 0, "buy", 1000, 1, NOW, market=MARKET) is RiskReason.OK
    assert risk.submit(2, 0, "buy", 1000, 1, NOW, market=MARKET) is RiskReason.OK
    assert check(risk, "buy", 1000, 1) is RiskReason.INSTRUMENT_THROTTLED
    assert check(risk, "buy", 1000, 1, ts=NOW + 99_999_999) is RiskReason.INSTRUMENT_THROTTLED
    assert check(risk, "buy", 1000, 1, ts=NOW + 100_000_000) is RiskReason.OK
    risk.set_venue_limits("okx", orders_per_s=1, burst=1)
    assert risk.submit(3, 2, "buy", 1000, 1, NOW, market=MARKET) is RiskReason.OK
    assert check(risk, "buy", 1000, 1, instrument=2) is RiskReason.VENUE_THROTTLED
    assert check(risk, "buy", 1000, 1, instrument=2, ts=NOW + 1_000_000_000) is RiskReason.OK
    with pytest.raises(RiskError, match="burst"):
        risk.set_limits(0, orders_per_s=5, burst=0)


def test_loss_limits_escalate_and_latch() -> None:
    risk = make_risk()
    risk.set_global_limits(daily_loss_reduce="100", daily_loss_halt="200", drawdown_reduce="500")
    risk.on_order_sent(1, 0, "buy", 990, 1, NOW)
    assert risk.update_pnl("-99.99") == []
    assert risk.loss_state() is TradingState.ACTIVE
    assert risk.update_pnl(Decimal("-100")) == []
    assert risk.loss_state() is TradingState.REDUCE_ONLY
    assert check(risk, "buy", 1000, 1) is RiskReason.GLOBAL_REDUCE_ONLY
    assert risk.update_pnl(0) == []
    assert risk.loss_state() is TradingState.REDUCE_ONLY  # latched
    assert risk.update_pnl("-200") == [1]
    assert risk.effective_state(2) is TradingState.HALTED
    assert check(risk, "buy", 1000, 1) is RiskReason.GLOBAL_HALTED
    risk.reset_day()
    assert check(risk, "buy", 1000, 1) is RiskReason.OK
    risk.update_pnl("1000")
    risk.update_pnl("500.0001")
    assert risk.loss_state() is TradingState.ACTIVE
    risk.update_pnl("500")
    assert risk.loss_state() is TradingState.REDUCE_ONLY
    risk.reset_day()
    risk.set_venue_limits("okx", daily_loss_halt="10")
    assert risk.update_pnl("-10", venue="okx") == []
    assert risk.loss_state(venue="okx") is TradingState.HALTED
    assert check(risk, "buy", 1000, 1, instrument=2) is RiskReason.VENUE_HALTED
    assert check(risk, "buy", 1000, 1) is RiskReason.OK
    with pytest.raises(TypeError, match="float"):
        risk.update_pnl(-1.5)  # type: ignore[arg-type]
    with pytest.raises(rentrade.DecimalError):
        risk.update_pnl("-0.00001")


def test_book_health_allows_reducing_orders() -> None:
    risk = make_risk()
    risk.set_limits(0, stale_after_ns=1_000_000, collar_mid_bps=100)
    risk.set_position(0, 4, 1000)
    assert check(risk, "buy", 1000, 1, ts=NOW + 1_000_000) is RiskReason.OK
    assert check(risk, "buy", 1000, 1, ts=NOW + 1_000_001) is RiskReason.BOOK_STALE
    assert check(risk, "sell", 1000, 4, ts=NOW + 1_000_001) is RiskReason.OK
    crossed = MarketView(bid_px_ticks=1002, ask_px_ticks=1001, book_ts_local_ns=NOW)
    assert crossed.crossed
    assert check(risk, "buy", 1000, 1, market=crossed) is RiskReason.BOOK_CROSSED
    assert check(risk, "sell", 1000, 4, market=crossed) is RiskReason.OK
    resync = MarketView(bid_px_ticks=999, ask_px_ticks=1001, book_ts_local_ns=NOW, resyncing=True)
    assert check(risk, "buy", 1000, 1, market=resync) is RiskReason.BOOK_RESYNCING
    assert check(risk, "sell", 1000, 2, market=resync) is RiskReason.OK
    one_sided = MarketView(bid_px_ticks=999, book_ts_local_ns=NOW)
    assert one_sided.ask_px_ticks is None
    assert check(risk, "buy", 1000, 1, market=one_sided) is RiskReason.NO_REFERENCE_PRICE


def test_market_view_from_an_order_book() -> None:
    book = rentrade.OrderBook(BTC)
    book.apply_snapshot([[999, 5]], [[1001, 5]], ts_local_ns=NOW)
    view = MarketView.from_book(book, last_trade_px_ticks=1000)
    assert (view.bid_px_ticks, view.ask_px_ticks, view.last_trade_px_ticks) == (999, 1001, 1000)
    assert view.book_ts_local_ns == NOW and not view.crossed and not view.resyncing
    risk = make_risk()
    risk.set_limits(0, collar_mid_bps=10, stale_after_ns=1_000)
    assert check(risk, "buy", 1001, 1, market=view) is RiskReason.OK
    assert check(risk, "buy", 1002, 1, market=view) is RiskReason.OUTSIDE_COLLAR_MID
    assert check(risk, "buy", 1001, 1, market=view, ts=NOW + 1_001) is RiskReason.BOOK_STALE
    book.update_ticks("bid", 1001, 1)
    assert MarketView.from_book(book).crossed
    assert MarketView.from_book(book, resyncing=True).resyncing


def test_overflow_is_refused() -> None:
    risk = make_risk()
    big = 2**62
    assert check(risk, "buy", big, big) is RiskReason.NOTIONAL_ABOVE_MAX
    with pytest.raises(RiskError, match="2\\^100"):
        risk.on_order_sent(1, 0, "buy", big, big, NOW)


def test_self_trade_prevention() -> None:
    risk = make_risk()
    risk.on_order_sent(1, 0, "sell", 1003, 1, NOW)
    risk.on_order_sent(2, 0, "buy", 995, 1, NOW)
    assert check(risk, "buy", 1002, 1) is RiskReason.OK
    assert check(risk, "buy", 1003, 1) is RiskReason.SELF_TRADE
    assert check(risk, "sell", 996, 1) is RiskReason.OK
    assert check(risk, "sell", 995, 1) is RiskReason.SELF_TRADE
    risk.on_cancel(1)
    assert check(risk, "buy", 1003, 1) is RiskReason.OK


def test_refusals_are_clear() -> None:
    risk = make_risk()
    with pytest.raises(RiskError, match="no working order"):
        risk.on_ack(42)
    risk.on_order_sent(1, 0, "buy", 1000, 2, NOW)
    with pytest.raises(RiskError, match="larger than"):
        risk.on_fill(1, 1000, 3)
    with pytest.raises(RiskError, match=r">= 0"):
        risk.set_limits(0, max_long_lots=-1)
    with pytest.raises(IndexError, match="out of range"):
        risk.check(9, "buy", 1000, 1, NOW)
    with pytest.raises(ValueError, match="order_capacity"):
        Risk([BTC], order_capacity=0)
    with pytest.raises(ValueError, match="at least one"):
        Risk([])
    with pytest.raises(ValueError, match="side"):
        risk.check(0, "hold", 1000, 1, NOW)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["send", "fill", "cancel", "ack"]),
            st.integers(0, 7),
            st.booleans(),
            st.integers(1, 20),
        ),
        max_size=80,
    )
)
def test_exposure_matches_a_ledger(ops: list[tuple[str, int, bool, int]]) -> None:
    """Working lots, open orders and net position follow a plain Python ledger of the same lifecycle."""
    risk = Risk([BTC], order_capacity=8)
    orders: dict[int, tuple[bool, int]] = {}
    net = 0
    actions: dict[str, Callable[[int, bool, int], None]] = {}

    def send(order_id: int, buy: bool, qty: int) -> None:
        if order_id in orders:
            return
        risk.on_order_sent(order_id, 0, "buy" if buy else "sell", 1000, qty, NOW)
        orders[order_id] = (buy, qty)

    def fill(order_id: int, _buy: bool, qty: int) -> None:
        nonlocal net
        if order_id not in orders:
            return
        buy, remaining = orders[order_id]
        take = min(qty, remaining)
        risk.on_fill(order_id, 1000, take)
        net += take if buy else -take
        if take == remaining:
            del orders[order_id]
        else:
            orders[order_id] = (buy, remaining - take)

    def cancel(order_id: int, _buy: bool, _qty: int) -> None:
        if order_id in orders:
            risk.on_cancel(order_id)
            del orders[order_id]

    def ack(order_id: int, _buy: bool, _qty: int) -> None:
        if order_id in orders:
            risk.on_ack(order_id)

    actions.update(send=send, fill=fill, cancel=cancel, ack=ack)
    for name, order_id, buy, qty in ops:
        actions[name](order_id, buy, qty)
        assert risk.net_lots(0) == net
        assert risk.open_orders(0) == len(orders) == risk.working_orders
        assert risk.working_lots(0, "buy") == sum(q for b, q in orders.values() if b)
        assert risk.working_lots(0, "sell") == sum(q for b, q in orders.values() if not b)
        gross = abs(net) * 1000 + sum(q * 1000 for _, q in orders.values())
        assert risk.gross_notional() == Decimal(gross).scaleb(-4)


def test_measure_risk_check_exercises_both_sides() -> None:
    risk = Risk([BTC, SOL])
    risk.set_limits(0, collar_mid_bps=100)
    run, reasons = _fastcore.measure_risk_check(risk, 20_000, seed=3, passes=1, mid_px_ticks=1_000_000)
    assert run.timed_ops == 20_000 and run.throughput_ops == 20_000
    assert sum(reasons.values()) == 20_000
    assert reasons[RiskReason.OK] > 0 and reasons[RiskReason.OUTSIDE_COLLAR_MID] > 0
    assert 0 < run.histogram.percentile(50) < 100_000
