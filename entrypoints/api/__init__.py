"""The REST API (FastAPI), built by `create_app(container)`."""
