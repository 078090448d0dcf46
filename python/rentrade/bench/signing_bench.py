"""Request-signing latency: rentrade's Binance HMAC order signing against ccxt's, same request.

Both sides sign ``POST /fapi/v1/order`` for a typical limit order (seven order fields plus
``timestamp`` and ``recvWindow``) with the same key. ccxt puts ``timestamp`` first and rentrade
last, so the bodies differ in order only; before timing, both are checked to carry the same
parameters and a correct signature, so the figures compare equal work. ccxt is optional: without it only
rentrade is measured.
"""

from __future__ import annotations

import gc
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any, Final

from rentrade.credentials import Credentials
from rentrade.venues.binance_usdm import signing as binance

__all__ = ["CCXT_BINANCEUSDM_HMAC", "RENTRADE_BINANCE_HMAC", "measure_signing"]

RENTRADE_BINANCE_HMAC: Final = "rentrade_binance_usdm_hmac_order"
CCXT_BINANCEUSDM_HMAC: Final = "ccxt_binanceusdm_hmac_order"

# Binance's published example key pair (from its API documentation), not a real account.
_API_KEY: Final = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
_SECRET: Final = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
_TIMESTAMP_MS: Final = 1_700_000_000_123
_RECV_WINDOW_MS: Final = 5000
_ORDER: Final = {
    "symbol": "BTCUSDT",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": "0.010",
    "price": "60000.00",
    "newClientOrderId": "rt-000000000042",
}


def _ccxt_signer() -> Any | None:
    try:
        import ccxt  # type: ignore[import-untyped]
    except ImportError:
        return None
    exchange = ccxt.binanceusdm({"apiKey": _API_KEY, "secret": _SECRET})
    exchange.options["recvWindow"] = _RECV_WINDOW_MS
    exchange.nonce = lambda: _TIMESTAMP_MS  # pin the timestamp so both sides sign the same bytes
    return exchange


def _same_signed_request(a: bytes, b: bytes) -> bool:
    """Same parameters (ccxt orders them differently) and each body correctly signed."""

    def split(body: bytes) -> tuple[list[bytes], bytes]:
        payload, _, signature = body.rpartition(b"&signature=")
        expected = hmac.new(_SECRET.encode(), payload, hashlib.sha256).hexdigest().encode()
        assert signature == expected, "a benchmarked body carries a wrong signature"
        return sorted(payload.split(b"&")), signature

    return split(a)[0] == split(b)[0]


def measure_signing(samples: int) -> dict[str, list[int]]:
    """Per-call wall time, in nanoseconds, of signing one Binance USD-M order with HMAC.

    Parameters
    ----------
    samples
        Calls to time per implementation (after a warm-up of ``min(samples, 1000)`` calls).

    Returns
    -------
    dict[str, list[int]]
        ``{RENTRADE_BINANCE_HMAC: [...]}``, plus ``CCXT_BINANCEUSDM_HMAC`` when ccxt is importable.
        Each list has ``samples`` entries, in call order.

    Raises
    ------
    AssertionError
        If rentrade and ccxt do not sign the same parameters correctly (the comparison would be void).

    Notes
    -----
    Each sample is timed with two ``time.perf_counter_ns`` reads (about 50-100 ns of overhead,
    included). The garbage collector is paused while timing. Both sides receive a fresh ``dict``
    of order fields per call, as a caller building an order would.
    """
    if samples < 1:
        raise ValueError("samples must be at least 1")
    credentials = Credentials(_API_KEY, secret=_SECRET)

    def ours() -> bytes:
        # The call a user makes: order fields in, timestamp and recvWindow appended by rentrade.
        return binance.sign_request(
            credentials,
            "POST",
            "/fapi/v1/order",
            None,
            dict(_ORDER),
            _TIMESTAMP_MS,
            recv_window_ms=_RECV_WINDOW_MS,
        ).body

    results: dict[str, list[int]] = {}
    exchange = _ccxt_signer()
    theirs: Callable[[], bytes] | None = None
    if exchange is not None:

        def ccxt_sign() -> bytes:
            signed = exchange.sign("order", ["fapiPrivate"], "POST", dict(_ORDER))
            return str(signed["body"]).encode()

        theirs = ccxt_sign
        assert _same_signed_request(ours(), theirs()), "rentrade and ccxt signed different requests"

    for name, fn in ((RENTRADE_BINANCE_HMAC, ours), (CCXT_BINANCEUSDM_HMAC, theirs)):
        if fn is None:
            continue
        for _ in range(min(samples, 1000)):
            fn()
        out = [0] * samples
        clock = time.perf_counter_ns
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            for i in range(samples):
                start = clock()
                fn()
                out[i] = clock() - start
        finally:
            if gc_was_enabled:
                gc.enable()
        results[name] = out
    return results


def _main() -> None:  # pragma: no cover - manual use: python -m rentrade.bench.signing_bench
    import statistics

    for name, values in measure_signing(100_000).items():
        ordered = sorted(values)

        def pct(q: float, ordered: list[int] = ordered) -> float:
            return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1000

        print(
            f"{name:36s} p50 {pct(0.5):6.2f} us  p99 {pct(0.99):6.2f} us  "
            f"p99.9 {pct(0.999):6.2f} us  mean {statistics.fmean(values) / 1000:6.2f} us"
        )


if __name__ == "__main__":  # pragma: no cover
    _main()
