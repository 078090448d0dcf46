"""Busy polling: keep the event loop from ever sleeping in ``epoll_wait``, as HFT clients do.

An idle asyncio/uvloop loop blocks in ``epoll_wait`` until a socket is readable; the wake-up costs
scheduler latency, and while it sleeps the vCPU idles and the caches go cold, so the first frame
after a quiet spell is handled slowly. :class:`BusyPoll` keeps one callback always ready: with a
ready callback the loop polls with a zero timeout and runs again at once, so a frame is read within
one loop turn of its arrival, on a warm core.

The price is a whole core at 100 % for as long as it runs (the loop's thread never sleeps), plus a
poll system call per turn. Off by default everywhere; use it only on a machine with a core to spare
for the trading thread.
"""

from __future__ import annotations

import asyncio

__all__ = ["BusyPoll"]


class BusyPoll:
    """Keeps the running event loop spinning (a callback that reschedules itself every turn).

    Parameters
    ----------
    loop : asyncio.AbstractEventLoop, optional
        The loop to keep busy; the running loop by default (call from inside it).

    Notes
    -----
    Use as ``with BusyPoll():`` inside the loop, or :meth:`start` / :meth:`stop`. The callback does
    nothing but reschedule itself; the loop's own I/O polling (with a zero timeout while a callback
    is ready) is what reads the sockets. :attr:`turns` counts loop turns while it ran.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._loop = loop
        self._running = False
        self.turns = 0

    @property
    def running(self) -> bool:
        """Whether the loop is being kept busy."""
        return self._running

    def start(self) -> None:
        """Start spinning (idempotent)."""
        if self._running:
            return
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        self._running = True
        self._loop.call_soon(self._turn)

    def stop(self) -> None:
        """Stop spinning: the loop sleeps in its poll again when idle (idempotent)."""
        self._running = False

    def _turn(self) -> None:
        if self._running:
            self.turns += 1
            assert self._loop is not None  # set by start
            self._loop.call_soon(self._turn)

    def __enter__(self) -> BusyPoll:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
