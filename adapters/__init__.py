"""Adapters: implementations of the application's ports (SQL, webhook HTTP, crypto, metrics, clock)."""
