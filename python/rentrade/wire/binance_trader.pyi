from collections.abc import Callable
from typing import Any

from picows import WSFrame, WSListener, WSTransport

from rentrade._fastcore import BinanceTrader
from rentrade.wire.binance_listener import BinanceListener

class BinanceTraderListener(BinanceListener):
    """Market frames -> BinanceTrader (feed, engine, encoder in C++) -> orders sent on order_transport."""

    orders_sent: int
    order_transport: WSTransport | None
    def __init__(
        self,
        trader: BinanceTrader,
        on_control: Callable[[int, bytes], Any],
        on_connected: Callable[[WSTransport], Any] | None = None,
        on_disconnected: Callable[[WSTransport], Any] | None = None,
        forward_ignored: bool = False,
    ) -> None: ...
    @property
    def trader(self) -> BinanceTrader: ...
    def flush(self) -> int: ...

class ReplyListener(WSListener):
    """Answers every text frame with a fixed reply (the transport floor of the trader)."""

    replies: int
    def __init__(self, reply: bytes) -> None: ...
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None: ...
