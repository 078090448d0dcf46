"""Instruments from Binance's ``exchangeInfo`` response (USD-M ``/fapi/v1/exchangeInfo`` or spot)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import orjson

from rentrade._fastcore import Instrument

__all__ = ["VENUE", "ExchangeInfoError", "instruments_from_exchange_info"]

VENUE: Final = "binance_usdm"
"""The ``venue`` name given to USD-M instruments."""


class ExchangeInfoError(ValueError):
    """An ``exchangeInfo`` response lacks what an instrument needs; the text names symbol and filter."""


def _filter(symbol: Mapping[str, Any], filter_type: str) -> Mapping[str, Any] | None:
    for item in symbol.get("filters", ()):
        if isinstance(item, dict) and item.get("filterType") == filter_type:
            return item
    return None


def _text(value: Any, where: str) -> str:
    # Binance sends every decimal as a string; a JSON number here would already have been through a float.
    if not isinstance(value, str):
        raise ExchangeInfoError(f"{where} must be a decimal string, got {value!r}")
    return value


def instruments_from_exchange_info(
    payload: bytes | str,
    symbols: Iterable[str] | None = None,
    venue: str = VENUE,
) -> list[Instrument]:
    """Build instruments from an ``exchangeInfo`` response body.

    Tick size comes from ``PRICE_FILTER.tickSize``, lot size and minimum quantity from
    ``LOT_SIZE.stepSize``/``minQty``, minimum notional from ``MIN_NOTIONAL`` (``notional`` on
    futures, ``minNotional`` on spot; ``"0"`` when the symbol has no such filter).

    Parameters
    ----------
    payload : bytes or str
        The response body.
    symbols : iterable of str, optional
        Only these symbols, in this order; all symbols in response order when omitted.
    venue : str, optional
        The ``venue`` of the instruments.

    Returns
    -------
    list of Instrument

    Raises
    ------
    ExchangeInfoError
        If the body is not an ``exchangeInfo`` object, a requested symbol is missing, or a symbol lacks
        ``PRICE_FILTER`` or ``LOT_SIZE``.
    rentrade.DecimalError
        If a tick or lot size is not a positive decimal.
    """
    try:
        info = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise ExchangeInfoError(f"exchangeInfo response is not JSON: {exc}") from None
    if not isinstance(info, dict) or not isinstance(info.get("symbols"), list):
        raise ExchangeInfoError("exchangeInfo response has no 'symbols' list")
    by_symbol = {s["symbol"]: s for s in info["symbols"] if isinstance(s, dict) and "symbol" in s}
    if symbols is None:
        wanted = list(by_symbol)
    else:
        wanted = [s.upper() for s in symbols]
        missing = [s for s in wanted if s not in by_symbol]
        if missing:
            raise ExchangeInfoError(f"exchangeInfo has no symbol(s) {missing}")
    return [_instrument(by_symbol[name], venue) for name in wanted]


def _instrument(symbol: Mapping[str, Any], venue: str) -> Instrument:
    name = symbol["symbol"]
    price_filter = _filter(symbol, "PRICE_FILTER")
    lot_filter = _filter(symbol, "LOT_SIZE")
    if price_filter is None or lot_filter is None:
        raise ExchangeInfoError(f"exchangeInfo symbol {name} lacks a PRICE_FILTER or LOT_SIZE filter")
    notional_filter = _filter(symbol, "MIN_NOTIONAL") or _filter(symbol, "NOTIONAL")
    min_notional = "0"
    if notional_filter is not None:
        key = "notional" if "notional" in notional_filter else "minNotional"
        min_notional = _text(notional_filter.get(key), f"{name} MIN_NOTIONAL.{key}")
    return Instrument(
        symbol=name,
        venue=venue,
        tick_size=_text(price_filter.get("tickSize"), f"{name} PRICE_FILTER.tickSize"),
        lot_size=_text(lot_filter.get("stepSize"), f"{name} LOT_SIZE.stepSize"),
        min_qty=_text(lot_filter.get("minQty", "0"), f"{name} LOT_SIZE.minQty"),
        min_notional=min_notional,
    )
