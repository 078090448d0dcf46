"""Venue adapters, one package per exchange with the same skeleton (``urls``, ``signing``, ...)."""
