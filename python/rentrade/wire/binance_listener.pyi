from collections.abc import Callable
from typing import Any

from picows import WSFrame, WSListener, WSTransport

from rentrade._fastcore import BinanceFeed

class BinanceListener(WSListener):
    """Feeds each Binance WebSocket frame to a BinanceFeed in C++; Python only for non-OK frames."""

    transport: WSTransport | None
    frames: int
    callbacks: int
    def __init__(
        self,
        feed: BinanceFeed,
        on_control: Callable[[int, bytes], Any],
        on_connected: Callable[[WSTransport], Any] | None = None,
        on_disconnected: Callable[[WSTransport], Any] | None = None,
        forward_ignored: bool = False,
    ) -> None: ...
    @property
    def feed(self) -> BinanceFeed: ...
    def on_ws_connected(self, transport: WSTransport) -> None: ...
    def on_ws_disconnected(self, transport: WSTransport) -> None: ...
    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None: ...
