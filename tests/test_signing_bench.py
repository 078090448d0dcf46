"""The signing benchmark returns samples for equal work (it is run for figures by ``rentrade bench``)."""

from __future__ import annotations

import importlib.util

import pytest

from rentrade.bench.signing_bench import CCXT_BINANCEUSDM_HMAC, RENTRADE_BINANCE_HMAC, measure_signing


def test_measure_signing_returns_positive_samples() -> None:
    results = measure_signing(50)
    assert len(results[RENTRADE_BINANCE_HMAC]) == 50
    assert all(ns > 0 for ns in results[RENTRADE_BINANCE_HMAC])
    if importlib.util.find_spec("ccxt") is not None:
        assert len(results[CCXT_BINANCEUSDM_HMAC]) == 50
    else:
        assert CCXT_BINANCEUSDM_HMAC not in results


def test_measure_signing_rejects_zero_samples() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        measure_signing(0)
