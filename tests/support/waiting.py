"""Waiting for a condition, with a deadline: tests poll for what they need instead of sleeping a guess."""

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], object], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
