"""CPU time spent by a process and everything it started, from /proc (Linux): what the bench divides by the
orders placed to say how many orders/s one core of app and one core of database serve."""

from pathlib import Path

_TICKS = 100  # USER_HZ: clock ticks per second on Linux


def _stat(pid: int) -> list[str]:
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                tree.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
            except (OSError, IndexError):  # gone meanwhile
                continue
    return tree


def cpu_seconds(root: int) -> float:
    """User + system time of `root` and its live descendants, plus that of descendants that have exited
    (counted in their parents' cumulative times)."""
    tree, total, todo = _children(), 0, [root]
    while todo:
        pid = todo.pop()
        try:
            fields = _stat(pid)
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        todo += tree.get(pid, [])
    return total / _TICKS
