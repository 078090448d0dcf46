"""An independent client, ccxt.pro's ``binanceusdm`` ``watch_order_book``, against the simulated venue.

ccxt is pointed at loopback (its REST and WebSocket base URLs overridden; no internet). It must end
with the same levels as the venue's own book and as rentrade's session book: evidence that the venue
speaks Binance's protocol faithfully enough for a client that rentrade did not write.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from rentrade.sim.binance_usdm import SimBinanceUsdm
from rentrade.sim.market_source import synthetic_source
from rentrade.venues.binance_usdm.session import BinanceUsdmSession

ccxtpro = pytest.importorskip("ccxt.pro")

pytestmark = pytest.mark.asyncio

DEPTH = 50


def ccxt_for(venue: SimBinanceUsdm) -> Any:
    exchange = ccxtpro.binanceusdm({"options": {"fetchMarkets": {"types": ["linear"]}}})
    api = exchange.urls["api"]
    for key, url in list(api.items()):
        if isinstance(url, str) and url.startswith("https://fapi.binance.com"):
            api[key] = url.replace("https://fapi.binance.com", venue.rest_url)
    api["ws"]["linear"] = f"{venue.ws_url}/ws"  # ccxt adds the /public route itself
    return exchange


async def test_ccxt_and_rentrade_build_the_venue_book() -> None:
    source = synthetic_source(2, events=8_000, seed=21, snapshot_levels=200)
    async with SimBinanceUsdm(source, speed=400.0) as venue:
        exchange = ccxt_for(venue)
        session = BinanceUsdmSession(
            [i.symbol for i in source.instruments], ws_url=venue.ws_url, rest_url=venue.rest_url
        )
        try:
            await exchange.load_markets()
            await session.start()
            for symbol in ("BTC/USDT:USDT", "SYN0001/USDT:USDT"):
                await exchange.watch_order_book(symbol)
            while not venue.done:
                await exchange.watch_order_book("BTC/USDT:USDT")
            await asyncio.sleep(0.3)
            await session.wait_synced(timeout_s=10)
            for instrument in source.instruments:
                symbol = f"{instrument.symbol[:-4]}/USDT:USDT"
                theirs = exchange.orderbooks[symbol]
                venue_book = venue.book(instrument.symbol)
                assert venue_book is not None
                ours = session.book(instrument.symbol)
                assert theirs["nonce"] == venue_book.seq
                for side, key in ((0, "bids"), (1, "asks")):
                    expected = [
                        (instrument.ticks_to_price(px), instrument.lots_to_qty(qty))
                        for px, qty in venue_book.levels(side, DEPTH).tolist()
                    ]
                    # ccxt keeps floats; compare through the instrument's exact conversion.
                    got = [
                        (
                            instrument.ticks_to_price(round(px / float(instrument.tick_size))),
                            instrument.lots_to_qty(round(qty / float(instrument.lot_size))),
                        )
                        for px, qty in theirs[key][:DEPTH]
                    ]
                    assert got == expected, (instrument.symbol, key)
                    assert (ours.levels(side, DEPTH) == venue_book.levels(side, DEPTH)).all()
        finally:
            await session.stop()
            await exchange.close()
