"""Binance frame decoding into event records, and instruments from exchangeInfo."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from rentrade import DecimalError, Instrument
from rentrade.events import (
    EVENT_DTYPE,
    FLAG_LAST_IN_MESSAGE,
    KIND_BBO,
    KIND_CLEAR,
    KIND_DELTA,
    KIND_SNAPSHOT_LEVEL,
    KIND_TRADE,
    SIDE_ASK,
    SIDE_BID,
    is_aligned,
)
from rentrade.recordings import open_recording
from rentrade.venues.binance_usdm.instruments import ExchangeInfoError, instruments_from_exchange_info
from rentrade.venues.binance_usdm.messages import (
    BINANCE_VENUE_ID,
    DecodedMessage,
    MessageDecoder,
    MessageError,
    MessageKind,
    UnknownSymbolError,
)

BTC = Instrument("BTCUSDT", "binance_usdm", "0.10", "0.001")
ETH = Instrument("ETHUSDT", "binance_usdm", "0.01", "0.001")
TS_LOCAL = 1_723_161_255_030_314_667


@pytest.fixture
def decoder() -> MessageDecoder:
    return MessageDecoder([BTC, ETH])


def _frame(stream: str, data: dict[str, object]) -> bytes:
    return orjson.dumps({"stream": stream, "data": data})


def _check_records(message: DecodedMessage) -> None:
    events = message.events
    assert events.dtype == EVENT_DTYPE
    assert is_aligned(events)
    # exactly one end-of-message flag, on the last record: the book is consistent only there
    assert list(events["flags"]) == [0] * (events.size - 1) + [FLAG_LAST_IN_MESSAGE]
    assert set(events["venue_id"]) == {BINANCE_VENUE_ID}
    assert set(events["instrument_id"]) == {message.instrument_id}
    assert bytes(events["reserved"].tobytes()) == b"\x00" * 8 * events.size


def test_futures_depth_update(decoder: MessageDecoder) -> None:
    data = {
        "e": "depthUpdate",
        "E": 1723161256299,
        "T": 1723161256298,
        "s": "ETHUSDT",
        "U": 100,
        "u": 105,
        "pu": 99,
        "b": [["2681.62", "1.165"], ["2681.50", "0.000"]],
        "a": [["2681.63", "73.077"]],
    }
    message = decoder.decode_frame(_frame("ethusdt@depth@0ms", data), TS_LOCAL)
    assert message is not None
    assert (message.kind, message.symbol, message.instrument_id) == (MessageKind.DEPTH_UPDATE, "ETHUSDT", 1)
    assert (message.first_update_id, message.last_update_id, message.prev_update_id) == (100, 105, 99)
    ev = message.events
    assert list(ev["kind"]) == [KIND_DELTA] * 3
    assert list(ev["side"]) == [SIDE_BID, SIDE_BID, SIDE_ASK]
    assert list(ev["px_ticks"]) == [268162, 268150, 268163]
    assert list(ev["qty_lots"]) == [1165, 0, 73077]
    assert set(ev["seq"]) == {105}
    assert set(ev["ts_exchange_ns"]) == {1_723_161_256_299_000_000}
    assert set(ev["ts_local_ns"]) == {TS_LOCAL}
    _check_records(message)


def test_spot_depth_update_has_no_prev_id(decoder: MessageDecoder) -> None:
    data = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 7, "u": 9, "b": [], "a": [["61837.60", "1.5"]]}
    message = decoder.decode_frame(_frame("btcusdt@depth@100ms", data), TS_LOCAL)
    assert message is not None and message.prev_update_id is None
    assert list(message.events["px_ticks"]) == [618376]


def test_raw_stream_frame_without_combined_wrapper(decoder: MessageDecoder) -> None:
    raw = orjson.dumps(
        {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": 1, "u": 1, "pu": 0, "b": [["1.0", "1"]], "a": []}
    )
    message = decoder.decode_frame(raw, TS_LOCAL)
    assert message is not None and message.events.size == 1


def test_rest_snapshot(decoder: MessageDecoder) -> None:
    body = orjson.dumps(
        {
            "lastUpdateId": 5123107852948,
            "E": 1723161256501,
            "T": 1723161256493,
            "bids": [["61800.20", "2.909"], ["61800.10", "0.696"]],
            "asks": [["61800.30", "3.1"]],
        }
    )
    message = decoder.decode_depth_snapshot(body, "btcusdt", TS_LOCAL)
    assert message.kind is MessageKind.DEPTH_SNAPSHOT and message.symbol == "BTCUSDT"
    ev = message.events
    assert list(ev["kind"]) == [KIND_CLEAR, KIND_SNAPSHOT_LEVEL, KIND_SNAPSHOT_LEVEL, KIND_SNAPSHOT_LEVEL]
    assert list(ev["side"][1:]) == [SIDE_BID, SIDE_BID, SIDE_ASK]
    assert list(ev["px_ticks"]) == [0, 618002, 618001, 618003]
    assert list(ev["qty_lots"]) == [0, 2909, 696, 3100]
    assert set(ev["seq"]) == {5123107852948}
    _check_records(message)


def test_empty_snapshot_is_one_clear(decoder: MessageDecoder) -> None:
    message = decoder.decode_depth_snapshot(b'{"lastUpdateId":3,"bids":[],"asks":[]}', "BTCUSDT", 1)
    assert list(message.events["kind"]) == [KIND_CLEAR]
    assert message.events["ts_exchange_ns"][0] == 0  # spot snapshots carry no E: 0 means unknown
    _check_records(message)


@pytest.mark.parametrize(
    ("stream", "data", "ts_exchange_ns"),
    [
        (
            "btcusdt@bookTicker",
            {
                "e": "bookTicker",
                "u": 77,
                "s": "BTCUSDT",
                "b": "61800.20",
                "B": "2.507",
                "a": "61800.30",
                "A": "2.510",
                "T": 1723161256313,
                "E": 1723161256314,
            },
            1_723_161_256_314_000_000,
        ),
        # spot: no "e" and no "E"
        (
            "btcusdt@bookTicker",
            {"u": 77, "s": "BTCUSDT", "b": "61800.20", "B": "2.507", "a": "61800.30", "A": "2.510"},
            0,
        ),
    ],
)
def test_book_ticker(
    decoder: MessageDecoder, stream: str, data: dict[str, object], ts_exchange_ns: int
) -> None:
    for payload in (_frame(stream, data), orjson.dumps(data)):
        message = decoder.decode_frame(payload, TS_LOCAL)
        assert message is not None and message.kind is MessageKind.BOOK_TICKER
        ev = message.events
        assert list(ev["kind"]) == [KIND_BBO, KIND_BBO]
        assert list(ev["side"]) == [SIDE_BID, SIDE_ASK]
        assert list(ev["px_ticks"]) == [618002, 618003]
        assert list(ev["qty_lots"]) == [2507, 2510]
        assert set(ev["seq"]) == {77}
        assert set(ev["ts_exchange_ns"]) == {ts_exchange_ns}
        _check_records(message)
    assert decoder.book_ticker_quote(data) == ("BTCUSDT", 77, 618002, 2507, 618003, 2510)


@pytest.mark.parametrize(("maker", "side"), [(True, SIDE_ASK), (False, SIDE_BID)])
def test_trade_side_is_the_aggressor(decoder: MessageDecoder, maker: bool, side: int) -> None:
    data = {
        "e": "trade",
        "E": 1723161256322,
        "T": 1723161256321,
        "s": "BTCUSDT",
        "t": 5266583935,
        "p": "61800.30",
        "q": "0.006",
        "X": "MARKET",
        "m": maker,
    }
    message = decoder.decode_frame(_frame("btcusdt@trade", data), TS_LOCAL)
    assert message is not None and message.kind is MessageKind.TRADE
    ev = message.events
    assert (ev["kind"][0], ev["side"][0]) == (KIND_TRADE, side)
    assert (ev["px_ticks"][0], ev["qty_lots"][0]) == (618003, 6)
    assert (ev["aux"][0], ev["seq"][0], ev["ts_exchange_ns"][0]) == (5266583935, 0, 1_723_161_256_322_000_000)
    _check_records(message)


def test_agg_trade_uses_aggregate_id(decoder: MessageDecoder) -> None:
    data = {
        "e": "aggTrade",
        "E": 1,
        "a": 16599292,
        "s": "ETHUSDT",
        "p": "1.01",
        "q": "10",
        "f": 2,
        "l": 2,
        "T": 1,
        "m": False,
    }
    message = decoder.decode_frame(_frame("ethusdt@aggTrade", data), TS_LOCAL)
    assert message is not None and message.kind is MessageKind.AGG_TRADE
    assert message.events["aux"][0] == 16599292


@pytest.mark.parametrize(
    "payload",
    [
        b'{"result":null,"id":1}',
        _frame("btcusdt@kline_1m", {"e": "kline", "E": 1, "s": "BTCUSDT", "k": {}}),
        _frame("btcusdt@markPrice", {"e": "markPriceUpdate", "E": 1, "s": "BTCUSDT", "p": "1"}),
    ],
)
def test_frames_without_book_or_trade_data_are_skipped(decoder: MessageDecoder, payload: bytes) -> None:
    assert decoder.decode_frame(payload, TS_LOCAL) is None


@pytest.mark.parametrize(
    ("payload", "error", "match"),
    [
        (b"{not json", MessageError, "not JSON"),
        (b"[1,2]", MessageError, "not a JSON object"),
        (b'{"stream":"x","data":3}', MessageError, "no 'data' object"),
        (
            _frame("s", {"e": "depthUpdate", "s": "BTCUSDT", "u": 2, "b": [], "a": []}),
            MessageError,
            "depthUpdate has no 'U' field",
        ),
        (
            _frame("s", {"e": "depthUpdate", "s": "BTCUSDT", "U": 3, "u": 2, "b": [], "a": []}),
            MessageError,
            "U=3 > u=2",
        ),
        (
            _frame("s", {"e": "depthUpdate", "s": "BTCUSDT", "U": "1", "u": 2, "b": [], "a": []}),
            MessageError,
            "'U' must be a non-negative integer",
        ),
        (
            _frame("s", {"e": "depthUpdate", "s": "BTCUSDT", "U": 1, "u": 2, "b": [["1.0"]], "a": []}),
            MessageError,
            r"bid level must be \[price, qty\]",
        ),
        (
            _frame("s", {"e": "depthUpdate", "s": "BTCUSDT", "U": 1, "u": 2, "b": [[1.0, "1"]], "a": []}),
            MessageError,
            r"bid level must be \[price, qty\]",
        ),
        (
            _frame("s", {"e": "depthUpdate", "s": "SOLUSDT", "U": 1, "u": 2, "b": [], "a": []}),
            UnknownSymbolError,
            "no instrument for symbol 'SOLUSDT'",
        ),
        (
            _frame("s", {"e": "depthUpdate", "s": "BTCUSDT", "U": 1, "u": 2, "b": [["1.05", "1"]], "a": []}),
            DecimalError,
            "BTCUSDT bid level .* more decimals",
        ),
        (
            _frame("s", {"e": "depthUpdate", "s": "BTCUSDT", "U": 1, "u": 2, "b": [], "a": [["1.0", "-1"]]}),
            DecimalError,
            "BTCUSDT ask level .*negative",
        ),
        (
            _frame("s", {"e": "trade", "s": "BTCUSDT", "t": 1, "p": "1.0", "q": "1", "m": "yes"}),
            MessageError,
            "'m' must be true or false",
        ),
        (
            _frame(
                "s", {"e": "bookTicker", "s": "BTCUSDT", "u": 1, "b": "nan", "B": "1", "a": "1", "A": "1"}
            ),
            DecimalError,
            "bookTicker u=1 for BTCUSDT",
        ),
    ],
)
def test_malformed_frames_raise_actionable_errors(
    decoder: MessageDecoder, payload: bytes, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        decoder.decode_frame(payload, TS_LOCAL)


def test_duplicate_instrument_is_refused() -> None:
    with pytest.raises(ValueError, match="listed twice"):
        MessageDecoder([BTC, BTC])


# --------------------------------------------------------------------------------------------------
# exchangeInfo


EXCHANGE_INFO = orjson.dumps(
    {
        "symbols": [
            {
                "symbol": "BTCUSDT",
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": "556.72",
                        "maxPrice": "1000000",
                        "tickSize": "0.10",
                    },
                    {"filterType": "LOT_SIZE", "stepSize": "0.001", "maxQty": "1000", "minQty": "0.001"},
                    {"filterType": "MIN_NOTIONAL", "notional": "100"},
                ],
            },
            {
                "symbol": "XUSDT",
                "filters": [
                    {"filterType": "PRICE_FILTER", "tickSize": "0.00010"},
                    {"filterType": "LOT_SIZE", "stepSize": "1", "minQty": "1"},
                ],
            },
        ]
    }
)


def test_instruments_from_exchange_info() -> None:
    btc, x = instruments_from_exchange_info(EXCHANGE_INFO)
    assert (btc.symbol, btc.venue) == ("BTCUSDT", "binance_usdm")
    assert btc.price_to_ticks("61800.20") == 618002
    assert btc.qty_to_lots("0.006") == 6
    assert btc.min_qty_lots == 1
    assert btc.notional(1000, 1000) == 100  # MIN_NOTIONAL 100 at 100.0 x 1.000
    assert float(btc.min_notional) == 100
    assert x.price_to_ticks("0.0123") == 123 and float(x.min_notional) == 0
    assert [i.symbol for i in instruments_from_exchange_info(EXCHANGE_INFO, ["xusdt"])] == ["XUSDT"]


@pytest.mark.parametrize(
    ("payload", "symbols", "match"),
    [
        (b"nope", None, "not JSON"),
        (b"{}", None, "no 'symbols' list"),
        (EXCHANGE_INFO, ["ETHUSDT"], r"no symbol\(s\) \['ETHUSDT'\]"),
        (orjson.dumps({"symbols": [{"symbol": "A", "filters": []}]}), None, "A lacks a PRICE_FILTER"),
        (
            orjson.dumps(
                {
                    "symbols": [
                        {
                            "symbol": "A",
                            "filters": [
                                {"filterType": "PRICE_FILTER", "tickSize": 0.1},
                                {"filterType": "LOT_SIZE", "stepSize": "1"},
                            ],
                        }
                    ]
                }
            ),
            None,
            "A PRICE_FILTER.tickSize must be a decimal string",
        ),
    ],
)
def test_exchange_info_errors(payload: bytes, symbols: list[str] | None, match: str) -> None:
    with pytest.raises(ExchangeInfoError, match=match):
        instruments_from_exchange_info(payload, symbols)


@pytest.mark.recordings
def test_real_exchange_info(shared_data: Path) -> None:
    frame = next(open_recording(shared_data / "cryptofeed-master/sample_data/BINANCE_FUTURES.0"))
    instruments = instruments_from_exchange_info(frame.payload)
    assert len(instruments) == 122
    by_symbol = {i.symbol: i for i in instruments}
    sushi = by_symbol["SUSHIUSDT"]
    assert (sushi.price_to_ticks("7.6110"), sushi.qty_to_lots("297")) == (7611, 297)
    assert float(sushi.min_notional) == 5
    assert by_symbol["BTCUSDT"].price_to_ticks("61800.20") == 6180020


@pytest.mark.recordings
def test_every_real_binance_frame_decodes(shared_data: Path) -> None:
    # Every frame decodes, with the expected kinds. Spot only: its quotes lack "e" and "E", which makes it
    # the harder file; the futures files are decoded in full by test_real_data_books.py.
    files = {
        # Lot 1e-8, not spot BTCUSDT's 0.00001 step: some resting levels hold quantities like
        # 25.42618900 (orders from before a step-size change), which a 0.00001 lot rightly refuses.
        "hftbacktest/examples/spot/btcusdt_20240808.gz": (
            Instrument("BTCUSDT", "binance_spot", "0.01", "0.00000001"),
            {MessageKind.DEPTH_UPDATE: 3451, MessageKind.BOOK_TICKER: 28040, MessageKind.TRADE: 9757},
        ),
    }
    for relative, (instrument, expected) in files.items():
        decoder = MessageDecoder([instrument])
        counts: dict[MessageKind, int] = {}
        for frame in open_recording(shared_data / relative):
            if b'"stream"' not in frame.payload:
                continue  # the in-band REST snapshot
            message = decoder.decode_frame(frame.payload, frame.ts_local_ns)
            assert message is not None
            counts[message.kind] = counts.get(message.kind, 0) + 1
            assert message.events["ts_local_ns"][-1] == frame.ts_local_ns
        assert counts == expected, relative
