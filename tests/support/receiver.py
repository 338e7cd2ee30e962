"""A real HTTP server receiving webhooks for the tests: it records every POST and answers as told, or holds
the requests it got until released (a receiver that has read the body but not answered yet)."""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event_id(self) -> int:
        return int(self.headers["Shop-Event-Id"])

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    def __init__(self, port: int, status: int = 200) -> None:
        self.status = status
        self.received: list[Received] = []
        self.released = threading.Event()
        self.released.set()
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.arrived:
                    receiver.received.append(Received(dict(self.headers), body))
                    receiver.arrived.notify_all()
                receiver.released.wait(60)
                try:
                    self.send_response(receiver.status)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender is gone

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def hold(self) -> None:
        """Read the requests but answer none until `release`."""
        self.released.clear()

    def release(self) -> None:
        self.released.set()

    def wait_for(self, count: int, timeout: float = 60) -> bool:
        """Until `count` requests have arrived (True), or the timeout."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout)

    def event_ids(self) -> set[int]:
        return {r.event_id for r in self.received}

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
