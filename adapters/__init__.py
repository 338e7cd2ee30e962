"""Adapters: implementations of the application's ports (SQL, in-memory fakes, crypto, clock)."""
