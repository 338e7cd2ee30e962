"""Partial updates for the use cases' patches: the sentinel lives with the aggregates, whose `update`
methods take it (domain.patch)."""

from domain.patch import UNSET as UNSET
from domain.patch import Unset as Unset
from domain.patch import sent as sent
