"""`make mutation`'s last line: the share of mutants the fast suite kills, from mutmut's own summary
(`mutmut export-cicd-stats` writes mutants/mutmut-cicd-stats.json). A mutant that makes the suite time out
counts as killed; one that no test reaches counts as surviving. Equivalent mutants are not generated at all:
their lines carry `# pragma: no mutate` with the reason."""

import json
import sys
from pathlib import Path

TARGET = 90.0


def main(stats_file: str = "mutants/mutmut-cicd-stats.json") -> int:
    stats = json.loads(Path(stats_file).read_text())
    killed = stats["killed"] + stats["timeout"]
    missed = stats["survived"] + stats["no_tests"] + stats["suspicious"]
    score = 100 * killed / (killed + missed)
    print(
        f"mutation score {score:.1f} % ({killed} killed of {killed + missed}: {stats['survived']} survived, "
        f"{stats['no_tests']} reached by no test, {stats['suspicious']} suspicious); target {TARGET:.0f} %"
    )
    return 0 if score >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
