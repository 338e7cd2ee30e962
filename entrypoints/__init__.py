"""Entrypoints: the FastAPI app, the `shop` CLI and the dependency-injector container that wires them."""
