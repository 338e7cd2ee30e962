"""Alembic from Python: `shop migrate` and the tests run the same migrations against a given URL, and
`shop migrate --sql` writes them out as SQL for a DBA."""

import io
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

# The project root, which holds alembic.ini and migrations/ (the package is installed editable).
ROOT = Path(__file__).resolve().parents[2]


class RevisionError(ValueError):
    """A revision migrations/ does not hold (or a prefix of several), or a range that does not lead up."""


def _config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.attributes["configure_logging"] = False
    return config


def alembic_config(url: str) -> Config:
    config = _config()
    config.attributes["database_url"] = url
    return config


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def check_revision(revision: str) -> None:
    """Raise RevisionError unless `revision` names one revision: its id, a unique prefix of it (`0005`),
    `head` or `base`."""
    try:
        _scripts().get_revision(revision)
    except CommandError as error:
        raise RevisionError(str(error)) from None


def _check_range(start: str, end: str) -> None:
    scripts = _scripts()
    first, last = scripts.get_revision(start), scripts.get_revision(end)
    if first is None or last is None:  # from the base, or to it (then from the base too: nothing to do)
        if first is not None:
            raise RevisionError(f"{end!r} comes before {start!r}: upgrades only")
        return
    if first.revision not in {s.revision for s in scripts.walk_revisions("base", last.revision)}:
        raise RevisionError(f"{last.revision!r} comes before {first.revision!r}: upgrades only")


def migration_sql(start: str | None = None, end: str = "head") -> str:
    """The SQL that takes a PostgreSQL database from `start` (None: an empty database) up to `end`, in one
    transaction that also keeps `alembic_version`: Alembic's offline mode, which connects to nothing."""
    out = io.StringIO()
    config = _config()
    config.output_buffer = out
    try:
        if start is not None:
            _check_range(start, end)
        command.upgrade(config, end if start is None else f"{start}:{end}", sql=True)
    except CommandError as error:  # an unknown revision
        raise RevisionError(str(error)) from None
    return out.getvalue()


@cache
def head_revisions() -> frozenset[str]:
    """The revisions a fully migrated database is at (read from migrations/ once, no database needed)."""
    return frozenset(ScriptDirectory.from_config(_config()).get_heads())
