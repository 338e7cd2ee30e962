"""A webhook sender that posts nowhere: it answers with a fixed status (or error) and keeps what was sent."""

from application.event_ports import Response


class RecordingSender:
    """Answers every POST with `status` (or fails with `error`), and keeps what was sent."""

    def __init__(self, status: int | None = 200, error: str | None = None) -> None:
        self.status, self.error = status, error
        self.sent: list[tuple[str, bytes, dict[str, str]]] = []

    def check_target(self, url: str) -> None:
        return None

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> Response:
        self.sent.append((url, body, headers))
        return Response(
            latency_ms=3, status_code=self.status, body="ok" if self.status else None, error=self.error
        )
