"""The order (WebSocket API) connection of a :class:`~rentrade.wire.binance_trader.BinanceTraderListener`.

Orders leave from the market-data listener itself (C++ encodes, picows sends); this connection only
carries them and reads the answers: each response becomes an engine report
(:func:`rentrade.venues.binance_usdm.orders.report_from_response`), and whatever the engine decides on it
(an exit after a cancel, say) is sent at once. Responses are rare next to market frames, so they are
read in Python.
"""

from __future__ import annotations

from typing import Any, cast

from picows import WSFrame, WSListener, WSMsgType, WSTransport, ws_connect

from rentrade.venues.binance_usdm.orders import report_from_response

__all__ = ["OrderConnectionListener", "connect_orders"]


class OrderConnectionListener(WSListener):
    """Reads WebSocket API responses into the trader's engine and sends what they cause.

    Parameters
    ----------
    market_listener
        The :class:`~rentrade.wire.binance_trader.BinanceTraderListener` whose trader placed the orders;
        its ``order_transport`` is set to this connection when it opens (and cleared when it closes).
    """

    def __init__(self, market_listener: Any) -> None:
        super().__init__()
        self.market_listener = market_listener
        self.responses = 0
        self.reports = 0
        self.unmatched = 0
        self.last_error: bytes | None = None

    def on_ws_connected(self, transport: WSTransport) -> None:
        self.market_listener.order_transport = transport

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        if self.market_listener.order_transport is transport:
            self.market_listener.order_transport = None

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        if frame.msg_type == WSMsgType.CLOSE:
            transport.send_close(frame.get_close_code(), frame.get_close_message())
            transport.disconnect()
            return
        if frame.msg_type != WSMsgType.TEXT:
            return
        self.responses += 1
        payload = frame.get_payload_as_bytes()
        if b'"error"' in payload:
            self.last_error = payload
        trader = self.market_listener.trader
        report = report_from_response(payload, trader.engine)
        if report is None:
            self.unmatched += 1
            return
        self.reports += 1
        trader.on_reports(report)
        self.market_listener.flush()


async def connect_orders(url: str, market_listener: Any) -> tuple[WSTransport, OrderConnectionListener]:
    """Open the order connection to ``url`` (e.g. ``wss://ws-fapi.binance.com/ws-fapi/v1``).

    Returns the transport and its listener; the market listener sends on it from then on.
    """
    transport, listener = await ws_connect(lambda: OrderConnectionListener(market_listener), url)
    return transport, cast(OrderConnectionListener, listener)
