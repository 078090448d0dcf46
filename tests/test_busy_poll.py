"""BusyPoll keeps the event loop turning while it would otherwise sleep, and stops when told."""

from __future__ import annotations

import asyncio

import pytest

from rentrade.wire.busy_poll import BusyPoll

pytestmark = pytest.mark.asyncio


async def test_busy_poll_spins_while_idle_and_stops() -> None:
    with BusyPoll() as spin:
        assert spin.running
        await asyncio.sleep(0.05)  # an idle loop would sleep in its poll for all of this
        turns = spin.turns
    assert turns > 100
    assert not spin.running
    await asyncio.sleep(0.02)  # the last scheduled turn runs once, then nothing
    after = spin.turns
    await asyncio.sleep(0.05)
    assert spin.turns == after


async def test_busy_poll_does_not_delay_other_work() -> None:
    loop = asyncio.get_running_loop()
    spin = BusyPoll(loop)
    spin.start()
    spin.start()  # idempotent: one spinning callback, not two
    try:
        reader, writer = await asyncio.open_connection(*await _echo_server())
        writer.write(b"ping\n")
        assert await asyncio.wait_for(reader.readline(), 5) == b"ping\n"
        writer.close()
    finally:
        spin.stop()


async def _echo_server() -> tuple[str, int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(await reader.readline())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    host, port = server.sockets[0].getsockname()[:2]
    return host, port
