"""Kraken Futures (derivatives)."""
