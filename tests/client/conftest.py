"""The generated client runs against the same in-memory app as the API unit tests. It lives outside
tests/unit because generating the client (a subprocess) takes longer than the fast suite's whole budget."""

from tests.unit.api.conftest import admin, api, clock, service  # noqa: F401  (fixtures, used by name)
