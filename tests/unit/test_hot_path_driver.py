"""The driver APIs the PostgreSQL hot path (adapters/sql/hot_path.py) stands on: all public (`psycopg.pq`,
`psycopg.adapt.Transformer`, `psycopg.errors.lookup`, SQLAlchemy's `await_only`); this fails loudly if an
upgrade moves one, before the integration suite would, and names it."""

import inspect

import psycopg
from psycopg import errors, pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy.util import await_only


def test_libpq_pipeline_mode_is_there() -> None:
    for method in (
        "enter_pipeline_mode", "exit_pipeline_mode", "pipeline_sync", "send_prepare", "send_query_prepared",
        "send_query_params", "flush", "consume_input", "is_busy", "get_result",
    ):  # fmt: skip
        assert callable(getattr(pq.PGconn, method, None)), method
    assert pq.ExecStatus.PIPELINE_SYNC and pq.DiagnosticField.CONSTRAINT_NAME


def test_the_transformer_dumps_and_loads_as_the_hot_path_calls_it() -> None:
    for method in ("dump_sequence", "set_pgresult", "load_rows"):
        assert callable(getattr(Transformer, method, None)), method
    dumped = Transformer().dump_sequence([1, "a", None], [PyFormat.TEXT] * 3)
    assert [bytes(d) if d is not None else None for d in dumped] == [b"1", b"a", None]


def test_errors_by_sqlstate_carry_it() -> None:
    assert errors.lookup("40P01").sqlstate == "40P01" and issubclass(errors.lookup("23514"), psycopg.Error)
    assert "info" in inspect.signature(psycopg.Error).parameters
    assert callable(await_only)
