"""OKX v5."""
