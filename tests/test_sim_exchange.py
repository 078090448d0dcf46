"""rentrade.SimulatedExchange from Python: order dtypes, fill models, latency, fees, determinism."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

import rentrade
from rentrade import _fastcore
from rentrade.events import KIND_DELTA, KIND_TRADE, SIDE_ASK, SIDE_BID, empty_events
from rentrade.orders import (
    INTENT_CANCEL,
    INTENT_DTYPE,
    INTENT_NEW,
    INTENT_REPLACE,
    LIQUIDITY_MAKER,
    LIQUIDITY_TAKER,
    REASON_NO_LIQUIDITY,
    REASON_POST_ONLY_WOULD_CROSS,
    REASON_UNKNOWN_ORDER,
    REASON_USER_CANCEL,
    REPORT_ACK,
    REPORT_CANCELLED,
    REPORT_DTYPE,
    REPORT_FILL,
    REPORT_REJECT,
    TIF_GTC,
    TIF_IOC,
    TIF_POST_ONLY,
    TYPE_LIMIT,
    TYPE_MARKET,
    empty_intents,
)

INSTRUMENT = rentrade.Instrument("BTCUSDT", "binance_usdm", "0.1", "0.001")
END = 2**63 - 1


def test_empty_intents_are_aligned() -> None:
    records = empty_intents(3)
    assert len(records) == 3 and records.ctypes.data % 64 == 0 and not records.view("u1").any()
    assert records.dtype == INTENT_DTYPE
    with pytest.raises(ValueError, match="count"):
        empty_intents(-1)


def events(*rows: tuple[int, int, int, int, int]) -> npt.NDArray[np.void]:
    """(kind, side, px, qty, ts) rows as events of instrument 0."""
    out = empty_events(len(rows))
    for i, (kind, side, px, qty, ts) in enumerate(rows):
        out[i] = (ts, ts, px, qty, 0, 0, 0, kind, side, 1, 0, b"")
    return out


def level(side: int, px: int, qty: int, ts: int) -> tuple[int, int, int, int, int]:
    return (KIND_DELTA, side, px, qty, ts)


def trade(aggressor: int, px: int, qty: int, ts: int) -> tuple[int, int, int, int, int]:
    return (KIND_TRADE, aggressor, px, qty, ts)


BOOK = (
    level(SIDE_ASK, 101, 5, 10),
    level(SIDE_ASK, 102, 5, 10),
    level(SIDE_ASK, 103, 10, 10),
    level(SIDE_BID, 100, 10, 10),
    level(SIDE_BID, 99, 10, 10),
)


def intents(*rows: dict[str, int]) -> npt.NDArray[np.void]:
    out = empty_intents(len(rows))
    for i, row in enumerate(rows):
        defaults = {"kind": INTENT_NEW, "type": TYPE_LIMIT, "tif": TIF_GTC, "ts_ns": 20}
        for key, value in {**defaults, **row}.items():
            out[i][key] = value
    return out


def venue(**kwargs: object) -> _fastcore.SimulatedExchange:
    exchange = _fastcore.SimulatedExchange([INSTRUMENT], **kwargs)  # type: ignore[arg-type]
    exchange.on_events(events(*BOOK))
    return exchange


def test_market_order_walks_the_book_with_taker_fees() -> None:
    exchange = venue(taker_fee_bps="5", maker_fee_bps="-0.5")
    exchange.submit(intents({"order_id": 1, "side": SIDE_BID, "qty_lots": 25, "type": TYPE_MARKET}))
    exchange.advance_to(END)
    r = exchange.drain_reports()
    assert r.dtype == REPORT_DTYPE
    assert list(r["kind"]) == [REPORT_FILL] * 3 + [REPORT_CANCELLED]
    assert list(r["px_ticks"][:3]) == [101, 102, 103] and list(r["qty_lots"][:3]) == [5, 5, 10]
    assert r["reason"][3] == REASON_NO_LIQUIDITY
    assert (r["liquidity"][:3] == LIQUIDITY_TAKER).all()
    # Notional units of BTCUSDT are 1e-4 USDT (0.1 x 0.001): 101 x 5 x 5 bps = 0.2525 units -> 1 (rounded up).
    scale = exchange.money_scale(0)
    assert scale == (1, 4)
    assert list(r["fee_units"][:3]) == [1, 1, 1]
    assert exchange.position_lots(0) == 20
    assert exchange.stats["taker_fills"] == 3


def test_post_only_ioc_and_resting() -> None:
    exchange = venue()
    exchange.submit(
        intents(
            {"order_id": 1, "side": SIDE_BID, "px_ticks": 101, "qty_lots": 1, "tif": TIF_POST_ONLY},
            {"order_id": 2, "side": SIDE_BID, "px_ticks": 101, "qty_lots": 8, "tif": TIF_IOC},
            {"order_id": 3, "side": SIDE_BID, "px_ticks": 100, "qty_lots": 2, "tif": TIF_POST_ONLY},
        )
    )
    exchange.advance_to(END)
    r = exchange.drain_reports()
    assert [(int(x["order_id"]), int(x["kind"])) for x in r] == [
        (1, REPORT_CANCELLED),
        (2, REPORT_FILL),
        (2, REPORT_CANCELLED),
        (3, REPORT_ACK),
    ]
    assert r["reason"][0] == REASON_POST_ONLY_WOULD_CROSS
    assert r["qty_lots"][1] == 5
    assert exchange.open_orders == 1 and exchange.queue_ahead(3) == 10


def test_trade_through_queue_and_partial_fills() -> None:
    exchange = venue(maker_fee_bps="-1")
    exchange.submit(intents({"order_id": 7, "side": SIDE_BID, "px_ticks": 100, "qty_lots": 5}))
    exchange.advance_to(END)
    assert exchange.drain_reports()["kind"].tolist() == [REPORT_ACK]
    exchange.on_events(events(trade(SIDE_ASK, 100, 7, 30)))  # 7 of the 10 ahead
    assert exchange.queue_ahead(7) == 3 and len(exchange.drain_reports()) == 0
    exchange.on_events(events(trade(SIDE_ASK, 100, 5, 40)))  # 3 ahead, 2 to us
    r = exchange.drain_reports()
    assert r["qty_lots"].tolist() == [2] and r["liquidity"][0] == LIQUIDITY_MAKER
    assert r["fee_units"][0] <= 0  # a rebate, rounded toward zero
    exchange.on_events(events(trade(SIDE_ASK, 99, 1, 50)))  # through our price: the rest
    assert exchange.drain_reports()["qty_lots"].tolist() == [3]
    assert exchange.queue_ahead(7) == -1


def test_probabilistic_queue_is_seeded() -> None:
    def ahead_after(seed: int) -> int:
        exchange = venue(queue_model="probabilistic", seed=seed)
        exchange.submit(intents({"order_id": 1, "side": SIDE_BID, "px_ticks": 100, "qty_lots": 1}))
        exchange.advance_to(END)
        exchange.on_events(events(level(SIDE_BID, 100, 20, 30), level(SIDE_BID, 100, 15, 40)))
        return exchange.queue_ahead(1)

    results = [ahead_after(seed) for seed in range(1, 201)]
    assert set(results) == {5, 10}
    assert 60 < results.count(5) < 140
    assert results == [ahead_after(seed) for seed in range(1, 201)]


def test_latency_no_look_ahead_and_response_delay() -> None:
    exchange = _fastcore.SimulatedExchange([INSTRUMENT], order_latency=1_000, response_latency=500)
    exchange.on_events(events(level(SIDE_ASK, 101, 5, 1_000), level(SIDE_ASK, 102, 5, 1_000)))
    exchange.submit(
        intents({"order_id": 1, "side": SIDE_BID, "qty_lots": 5, "type": TYPE_MARKET, "ts_ns": 100})
    )
    exchange.on_events(events(level(SIDE_ASK, 101, 0, 1_100)))
    assert exchange.pending_intents == 1
    exchange.on_events(events(level(SIDE_ASK, 101, 5, 1_101)))
    assert len(exchange.drain_reports(until_local_ns=1_599)) == 0
    r = exchange.drain_reports(until_local_ns=1_600)
    assert r["px_ticks"].tolist() == [102]
    assert (int(r["ts_exchange_ns"][0]), int(r["ts_local_ns"][0])) == (1_100, 1_600)
    assert exchange.latency["order"]["max"] == 1_000
    assert exchange.stats["late_orders"] == 0


def test_cancel_race_replace_and_rejects() -> None:
    exchange = venue(order_latency=1_000)
    exchange.submit(intents({"order_id": 1, "side": SIDE_BID, "px_ticks": 100, "qty_lots": 5, "ts_ns": 0}))
    exchange.on_events(events(level(SIDE_BID, 99, 11, 1_500)))
    exchange.submit(intents({"order_id": 1, "kind": INTENT_CANCEL, "ts_ns": 1_500}))
    exchange.on_events(events(trade(SIDE_ASK, 98, 20, 2_000), level(SIDE_BID, 99, 12, 3_000)))
    r = exchange.drain_reports()
    assert r["kind"].tolist() == [REPORT_ACK, REPORT_FILL, REPORT_REJECT]
    assert r["reason"][2] == REASON_UNKNOWN_ORDER
    exchange.submit(
        intents(
            {"order_id": 2, "side": SIDE_BID, "px_ticks": 90, "qty_lots": 5, "ts_ns": 3_000},
            {"order_id": 2, "kind": INTENT_REPLACE, "px_ticks": 91, "qty_lots": 4, "ts_ns": 3_000},
            {"order_id": 2, "kind": INTENT_CANCEL, "ts_ns": 3_000},
            {"order_id": 0, "side": SIDE_BID, "px_ticks": 90, "qty_lots": 5, "ts_ns": 3_000},
        )
    )
    exchange.advance_to(END)
    r = exchange.drain_reports()
    assert r["kind"].tolist() == [REPORT_ACK, REPORT_ACK, REPORT_CANCELLED, REPORT_REJECT]
    assert r["px_ticks"][1] == 91 and r["reason"][2] == REASON_USER_CANCEL


def test_bad_configuration_and_events() -> None:
    with pytest.raises(ValueError, match="queue_model"):
        _fastcore.SimulatedExchange([INSTRUMENT], queue_model="magic")
    with pytest.raises(TypeError, match="basis points"):
        _fastcore.SimulatedExchange([INSTRUMENT], taker_fee_bps=0.05)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fees"):
        _fastcore.SimulatedExchange([INSTRUMENT], taker_fee_bps="20000")
    with pytest.raises(ValueError, match=">= 0"):
        _fastcore.SimulatedExchange([INSTRUMENT], order_latency=-1)
    with pytest.raises(ValueError, match="uniform"):
        _fastcore.SimulatedExchange([INSTRUMENT], order_latency=("uniform", 5, 1))
    with pytest.raises(ValueError, match="at least one instrument"):
        _fastcore.SimulatedExchange([])
    exchange = venue()
    bad = events(level(SIDE_BID, 1, 1, 30), level(SIDE_BID, 1, 1, 30))
    bad["instrument_id"][1] = 5
    with pytest.raises(rentrade.BookError, match=r"event 1 .*instrument"):
        exchange.on_events(bad)
    with pytest.raises(TypeError, match="INTENT_DTYPE"):
        exchange.submit(empty_events(1))


def test_latency_specs_and_round_trips() -> None:
    uniform = venue(order_latency=("uniform", 100, 200), seed=3)
    samples = venue(order_latency=("samples", [7, 9]), response_latency=("constant", 4))
    rtt = venue(round_trips=np.array([1_000, 3_001]))
    for exchange in (uniform, samples, rtt):
        exchange.submit(
            intents(*({"order_id": i, "side": SIDE_BID, "px_ticks": 90, "qty_lots": 1} for i in range(1, 51)))
        )
        exchange.advance_to(END)
    assert 100 <= uniform.latency["order"]["p50"] <= 200
    assert samples.latency["order"]["max"] == 9 and samples.latency["response"]["max"] == 4
    assert rtt.latency["order"]["max"] == 1_500 and rtt.latency["response"]["max"] == 1_501


def test_same_seed_same_reports() -> None:
    market = _fastcore.synthetic_events(1, 30_000, seed=5)

    def run(seed: int) -> bytes:
        exchange = _fastcore.SimulatedExchange(
            [INSTRUMENT],
            queue_model="probabilistic",
            order_latency=("uniform", 0, 5_000_000),
            response_latency=("samples", [1, 2, 3]),
            seed=seed,
        )
        rows = []
        for i in range(1, 200):
            px = 600_000 + (i % 7) - 3
            rows.append(
                {
                    "order_id": i,
                    "side": i % 2,
                    "px_ticks": px,
                    "qty_lots": 50,
                    "ts_ns": int(market["ts_local_ns"][i * 100]),
                }
            )
        exchange.submit(intents(*rows))
        exchange.on_events(market)
        exchange.advance_to(END)
        return exchange.drain_reports().tobytes()

    first = run(1)
    assert len(first) > 0
    assert first == run(1)
    assert first != run(2)
