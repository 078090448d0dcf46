"""Decode Binance market-data frames into the core's event records.

This is the Python decoder: it defines the meaning of every field and is what recordings replay
through. The live hot path uses the C++ parser in ``src/fastcore/venue/``, which must produce the
same records (the tests compare both on the recordings).

Handled, for USD-M futures and spot alike (spot frames lack ``pu``, ``E`` on ``bookTicker`` and ``e``
on ``bookTicker``):

- ``depthUpdate`` -> one ``DELTA`` per level, bids then asks, ``seq = u``, ``ts_exchange_ns = E`` ms.
- REST ``/depth`` snapshot -> ``CLEAR`` then one ``SNAPSHOT_LEVEL`` per level, ``seq = lastUpdateId``.
- ``bookTicker`` -> two ``BBO`` records (bid, then ask), ``seq = u``.
- ``trade`` / ``aggTrade`` -> one ``TRADE``, ``side`` = aggressor, ``aux`` = trade id, ``seq = 0``.

The last record of every message carries ``FLAG_LAST_IN_MESSAGE``: the book is consistent only there.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import orjson

from rentrade._fastcore import DecimalError, Instrument
from rentrade.events import (
    FLAG_LAST_IN_MESSAGE,
    KIND_BBO,
    KIND_CLEAR,
    KIND_DELTA,
    KIND_SNAPSHOT_LEVEL,
    KIND_TRADE,
    SIDE_ASK,
    SIDE_BID,
    empty_events,
)

__all__ = [
    "BINANCE_VENUE_ID",
    "DecodedMessage",
    "MessageDecoder",
    "MessageError",
    "MessageKind",
    "UnknownSymbolError",
]

BINANCE_VENUE_ID: Final = 1
"""``venue_id`` written into every record this decoder makes (until venues get a central registry)."""

_MS_TO_NS: Final = 1_000_000
_DECODED_TYPES: Final = frozenset({"depthUpdate", "bookTicker", "trade", "aggTrade"})


class MessageError(ValueError):
    """A frame is not a well-formed Binance message; the text says which field is wrong."""


class UnknownSymbolError(MessageError):
    """A frame names a symbol the decoder was given no :class:`~rentrade.Instrument` for."""


class MessageKind(enum.Enum):
    """What a decoded message was."""

    DEPTH_UPDATE = "depthUpdate"
    DEPTH_SNAPSHOT = "depthSnapshot"
    BOOK_TICKER = "bookTicker"
    TRADE = "trade"
    AGG_TRADE = "aggTrade"


@dataclass(frozen=True, slots=True)
class DecodedMessage:
    """One decoded frame.

    Attributes
    ----------
    kind : MessageKind
        The message type.
    symbol : str
        Upper-case symbol, e.g. ``"BTCUSDT"``.
    instrument_id : int
        Index of the symbol's instrument in the decoder's instrument list.
    events : numpy.ndarray
        Records of ``rentrade.events.EVENT_DTYPE`` (64-byte aligned); empty only for a depth update
        that carries no levels.
    first_update_id : int
        ``U`` of a depth update; for other kinds the same as ``last_update_id``.
    last_update_id : int
        ``u`` (depth update, bookTicker), ``lastUpdateId`` (snapshot) or the trade id.
    prev_update_id : int or None
        ``pu`` of a futures depth update; None on spot and for other kinds.
    """

    kind: MessageKind
    symbol: str
    instrument_id: int
    events: npt.NDArray[np.void]
    first_update_id: int
    last_update_id: int
    prev_update_id: int | None


def _require(data: Mapping[str, Any], key: str, what: str) -> Any:
    try:
        return data[key]
    except KeyError:
        raise MessageError(f"{what} has no '{key}' field") from None


def _int_field(data: Mapping[str, Any], key: str, what: str) -> int:
    value = _require(data, key, what)
    # bool is an int subclass; a JSON true here is corruption, not an id
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MessageError(f"{what} field '{key}' must be a non-negative integer, got {value!r}")
    return value


def _optional_ms(data: Mapping[str, Any], key: str, what: str) -> int:
    """Exchange ms timestamp as ns; 0 (the record's 'unknown') when the venue omits it (spot)."""
    if key not in data:
        return 0
    return _int_field(data, key, what) * _MS_TO_NS


class MessageDecoder:
    """Turns Binance frames into event records for a fixed list of instruments.

    Parameters
    ----------
    instruments : sequence of Instrument
        The instruments to decode; ``instrument_id`` of each record is the index in this sequence
        (the same numbering as ``rentrade.BookSet(instruments)``).
    venue_id : int, optional
        Written into every record.

    Notes
    -----
    Cost: one ``orjson`` parse plus two exact decimal conversions (C++) per level, and one small array
    per message. Fine for replay and tests; the live path decodes in C++.
    """

    def __init__(self, instruments: Sequence[Instrument], venue_id: int = BINANCE_VENUE_ID) -> None:
        self._instruments = list(instruments)
        self._ids: dict[str, int] = {}
        for index, instrument in enumerate(self._instruments):
            if instrument.symbol in self._ids:
                raise ValueError(f"instrument {instrument.symbol!r} is listed twice")
            self._ids[instrument.symbol] = index
        self._venue_id = venue_id

    @property
    def instruments(self) -> list[Instrument]:
        """The decoder's instruments, indexed by ``instrument_id``."""
        return list(self._instruments)

    def instrument_id(self, symbol: str) -> int:
        """Return the ``instrument_id`` of ``symbol`` (case-insensitive).

        Raises
        ------
        UnknownSymbolError
            If the decoder has no instrument for it.
        """
        if not isinstance(symbol, str):
            raise MessageError(f"symbol must be a string, got {symbol!r}")
        try:
            return self._ids[symbol.upper()]
        except KeyError:
            raise UnknownSymbolError(
                f"no instrument for symbol {symbol!r}; known: {sorted(self._ids)[:20]}"
            ) from None

    # ----------------------------------------------------------------------------------------------

    def decode_frame(self, payload: bytes | str, ts_local_ns: int) -> DecodedMessage | None:
        """Decode one WebSocket frame, combined-stream (``{"stream":..,"data":..}``) or raw.

        Parameters
        ----------
        payload : bytes or str
            The frame as received.
        ts_local_ns : int
            Local receive time, written into every record.

        Returns
        -------
        DecodedMessage or None
            None for frames that carry no book or trade data (subscription acks, klines, mark price).

        Raises
        ------
        MessageError
            On malformed JSON or missing or ill-typed fields.
        UnknownSymbolError
            On a symbol without an instrument.
        rentrade.DecimalError
            On a price or quantity the instrument cannot represent exactly.
        """
        parsed = self.parse_frame(payload)
        if parsed is None:
            return None
        event_type, data = parsed
        if event_type == "depthUpdate":
            return self.decode_depth_update(data, ts_local_ns)
        if event_type == "bookTicker":
            return self.decode_book_ticker(data, ts_local_ns)
        return self.decode_trade(data, ts_local_ns)

    @staticmethod
    def parse_frame(payload: bytes | str) -> tuple[str, dict[str, Any]] | None:
        """Parse a frame and say what it is, without converting any number.

        Returns
        -------
        tuple of (str, dict) or None
            ``(event_type, data)`` with ``event_type`` one of ``"depthUpdate"``, ``"bookTicker"``,
            ``"trade"``, ``"aggTrade"``; None for frames this module does not decode.

        Raises
        ------
        MessageError
            If the frame is not a JSON object, or a combined-stream frame has no ``data`` object.
        """
        try:
            frame = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise MessageError(f"frame is not JSON: {exc}") from None
        if not isinstance(frame, dict):
            raise MessageError(f"frame is not a JSON object: {str(payload)[:80]}")
        stream = frame.get("stream")
        data = frame.get("data") if isinstance(stream, str) else frame
        if not isinstance(data, dict):
            raise MessageError(f"stream {stream!r} has no 'data' object")
        event_type = data.get("e")
        if event_type is None:
            # Spot bookTicker frames have no "e": recognise them by stream name or by their fields.
            if (isinstance(stream, str) and stream.endswith("@bookTicker")) or (
                "u" in data and "b" in data and "a" in data and "B" in data and "A" in data
            ):
                return "bookTicker", data
            return None
        if event_type in _DECODED_TYPES:
            return event_type, data
        return None

    def decode_depth_update(self, data: Mapping[str, Any], ts_local_ns: int) -> DecodedMessage:
        """Decode the ``data`` object of a ``depthUpdate`` into ``DELTA`` records (bids, then asks)."""
        what = "depthUpdate"
        symbol = _require(data, "s", what)
        instrument_id = self.instrument_id(symbol)
        first_id = _int_field(data, "U", what)
        last_id = _int_field(data, "u", what)
        if first_id > last_id:
            raise MessageError(f"depthUpdate for {symbol} has U={first_id} > u={last_id}")
        prev_id = _int_field(data, "pu", what) if "pu" in data else None
        events = self._levels(
            instrument_id,
            _require(data, "b", what),
            _require(data, "a", what),
            kind=KIND_DELTA,
            seq=last_id,
            ts_exchange_ns=_optional_ms(data, "E", what),
            ts_local_ns=ts_local_ns,
            symbol=symbol,
        )
        return DecodedMessage(
            MessageKind.DEPTH_UPDATE, symbol, instrument_id, events, first_id, last_id, prev_id
        )

    def decode_depth_snapshot(self, payload: bytes | str, symbol: str, ts_local_ns: int) -> DecodedMessage:
        """Decode a REST ``GET /depth`` response into ``CLEAR`` plus ``SNAPSHOT_LEVEL`` records.

        Parameters
        ----------
        payload : bytes or str
            The response body (it does not name its symbol).
        symbol : str
            The symbol the snapshot was requested for.
        ts_local_ns : int
            Local receive time of the response.

        Returns
        -------
        DecodedMessage
            ``first_update_id == last_update_id == lastUpdateId``.
        """
        try:
            data = orjson.loads(payload)
        except orjson.JSONDecodeError as exc:
            raise MessageError(f"depth snapshot for {symbol} is not JSON: {exc}") from None
        if not isinstance(data, dict):
            raise MessageError(f"depth snapshot for {symbol} is not a JSON object")
        what = f"depth snapshot for {symbol}"
        instrument_id = self.instrument_id(symbol)
        last_id = _int_field(data, "lastUpdateId", what)
        events = self._levels(
            instrument_id,
            _require(data, "bids", what),
            _require(data, "asks", what),
            kind=KIND_SNAPSHOT_LEVEL,
            seq=last_id,
            ts_exchange_ns=_optional_ms(data, "E", what),
            ts_local_ns=ts_local_ns,
            symbol=symbol,
            clear_first=True,
        )
        return DecodedMessage(
            MessageKind.DEPTH_SNAPSHOT, symbol.upper(), instrument_id, events, last_id, last_id, None
        )

    def book_ticker_quote(self, data: Mapping[str, Any]) -> tuple[str, int, int, int, int, int]:
        """Convert a ``bookTicker`` ``data`` object without making records.

        Returns
        -------
        tuple
            ``(symbol, u, bid_px_ticks, bid_qty_lots, ask_px_ticks, ask_qty_lots)``.
        """
        what = "bookTicker"
        symbol = _require(data, "s", what)
        instrument = self._instruments[self.instrument_id(symbol)]
        update_id = _int_field(data, "u", what)
        try:
            return (
                symbol,
                update_id,
                instrument.price_to_ticks(_require(data, "b", what)),
                instrument.qty_to_lots(_require(data, "B", what)),
                instrument.price_to_ticks(_require(data, "a", what)),
                instrument.qty_to_lots(_require(data, "A", what)),
            )
        except DecimalError as exc:
            raise DecimalError(f"bookTicker u={update_id} for {symbol}: {exc}") from None

    def decode_book_ticker(self, data: Mapping[str, Any], ts_local_ns: int) -> DecodedMessage:
        """Decode a ``bookTicker`` ``data`` object into two ``BBO`` records (bid, then ask)."""
        symbol, update_id, bid_px, bid_qty, ask_px, ask_qty = self.book_ticker_quote(data)
        instrument_id = self.instrument_id(symbol)
        events = empty_events(2)
        events["px_ticks"] = (bid_px, ask_px)
        events["qty_lots"] = (bid_qty, ask_qty)
        events["side"] = (SIDE_BID, SIDE_ASK)
        self._fill_common(
            events,
            instrument_id,
            kind=KIND_BBO,
            seq=update_id,
            ts_exchange_ns=_optional_ms(data, "E", "bookTicker"),
            ts_local_ns=ts_local_ns,
        )
        return DecodedMessage(
            MessageKind.BOOK_TICKER, symbol, instrument_id, events, update_id, update_id, None
        )

    def decode_trade(self, data: Mapping[str, Any], ts_local_ns: int) -> DecodedMessage:
        """Decode a ``trade`` or ``aggTrade`` ``data`` object into one ``TRADE`` record.

        ``side`` is the aggressor: ``m`` (buyer is maker) true means the seller crossed, so ``ASK``.
        """
        what = str(data.get("e", "trade"))
        kind = MessageKind.AGG_TRADE if what == "aggTrade" else MessageKind.TRADE
        symbol = _require(data, "s", what)
        instrument_id = self.instrument_id(symbol)
        trade_id = _int_field(data, "a" if kind is MessageKind.AGG_TRADE else "t", what)
        buyer_is_maker = _require(data, "m", what)
        if not isinstance(buyer_is_maker, bool):
            raise MessageError(f"{what} field 'm' must be true or false, got {buyer_is_maker!r}")
        instrument = self._instruments[instrument_id]
        events = empty_events(1)
        try:
            events["px_ticks"] = instrument.price_to_ticks(_require(data, "p", what))
            events["qty_lots"] = instrument.qty_to_lots(_require(data, "q", what))
        except DecimalError as exc:
            raise DecimalError(f"{what} {trade_id} for {symbol}: {exc}") from None
        events["side"] = SIDE_ASK if buyer_is_maker else SIDE_BID
        events["aux"] = trade_id
        # E (event time) rather than T (trade time): every record kind then carries the same clock.
        self._fill_common(
            events,
            instrument_id,
            kind=KIND_TRADE,
            seq=0,
            ts_exchange_ns=_optional_ms(data, "E", what),
            ts_local_ns=ts_local_ns,
        )
        return DecodedMessage(kind, symbol, instrument_id, events, trade_id, trade_id, None)

    # ----------------------------------------------------------------------------------------------

    def _levels(
        self,
        instrument_id: int,
        bids: Any,
        asks: Any,
        *,
        kind: int,
        seq: int,
        ts_exchange_ns: int,
        ts_local_ns: int,
        symbol: str,
        clear_first: bool = False,
    ) -> npt.NDArray[np.void]:
        if not isinstance(bids, list) or not isinstance(asks, list):
            raise MessageError(f"{symbol} book message: bids and asks must be lists of [price, qty]")
        instrument = self._instruments[instrument_id]
        head = 1 if clear_first else 0
        events = empty_events(head + len(bids) + len(asks))
        px = events["px_ticks"]
        qty = events["qty_lots"]
        index = head
        for side_levels, name in ((bids, "bid"), (asks, "ask")):
            for level in side_levels:
                try:
                    price, size = level
                    px[index] = instrument.price_to_ticks(price)
                    qty[index] = instrument.qty_to_lots(size)
                except (TypeError, ValueError) as exc:
                    if isinstance(exc, DecimalError):
                        raise DecimalError(f"{symbol} {name} level {level!r} (u={seq}): {exc}") from None
                    raise MessageError(f"{symbol} {name} level must be [price, qty], got {level!r}") from None
                index += 1
        events["side"][head + len(bids) :] = SIDE_ASK
        if events.size:
            self._fill_common(
                events,
                instrument_id,
                kind=kind,
                seq=seq,
                ts_exchange_ns=ts_exchange_ns,
                ts_local_ns=ts_local_ns,
            )
        if clear_first:
            events["kind"][0] = KIND_CLEAR
        return events

    def _fill_common(
        self,
        events: npt.NDArray[np.void],
        instrument_id: int,
        *,
        kind: int,
        seq: int,
        ts_exchange_ns: int,
        ts_local_ns: int,
    ) -> None:
        events["ts_exchange_ns"] = ts_exchange_ns
        events["ts_local_ns"] = ts_local_ns
        events["seq"] = seq
        events["instrument_id"] = instrument_id
        events["kind"] = kind
        events["venue_id"] = self._venue_id
        events["flags"][-1] = FLAG_LAST_IN_MESSAGE
