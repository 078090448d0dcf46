"""Binance USD-M futures."""
