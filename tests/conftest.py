"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from rentrade._fastcore import Instrument
from rentrade.backtest import load_market

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The recorded exchange data (``../shared/data`` beside the repository, or ``$RENTRADE_SHARED_DATA``).

    Skips the test when the data is absent, except under ``RENTRADE_REQUIRE_RECORDINGS=1`` (CI), where a
    missing recording must fail loudly instead of silently skipping the real-data tests.
    """
    configured = os.environ.get("RENTRADE_SHARED_DATA")
    path = Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"
    if not path.is_dir():
        message = f"recorded exchange data not found at {path}; see README"
        if os.environ.get("RENTRADE_REQUIRE_RECORDINGS") == "1":
            pytest.fail(message + " (RENTRADE_REQUIRE_RECORDINGS=1 requires it)", pytrace=False)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def btcusdt_usdm_market(shared_data: Path) -> tuple[npt.NDArray[np.void], list[Instrument]]:
    """The Binance USD-M BTCUSDT recording of 2024-08-08 as backtest events (tick 0.1) and its instrument.

    Loaded once per session; tests must not modify the array.
    """
    path = shared_data / "hftbacktest" / "examples" / "usdm" / "btcusdt_20240808.gz"
    events, instruments, _ = load_market([str(path)], tick_size="0.1")
    return events, list(instruments)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> dict[str, object] | None:
    """Run every ``@pytest.mark.asyncio`` test on both asyncio's and uvloop's event loop (DESIGN.md)."""
    import asyncio

    try:
        import uvloop
    except ImportError:
        return {"asyncio": asyncio.new_event_loop}
    return {"asyncio": asyncio.new_event_loop, "uvloop": uvloop.new_event_loop}
