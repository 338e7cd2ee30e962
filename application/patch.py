"""Partial updates: a field left UNSET was not sent and must not change."""

from dataclasses import fields
from typing import Any, Final


class _Unset:
    _instance: "_Unset | None" = None

    def __new__(cls) -> "_Unset":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Final = _Unset()


def changes(patch: Any) -> dict[str, Any]:
    """The fields of a patch dataclass that were actually sent."""
    return {f.name: getattr(patch, f.name) for f in fields(patch) if getattr(patch, f.name) is not UNSET}
