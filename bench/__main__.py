"""`python -m bench`: run every `bench/*_bench.py` in name order, each through its `main()`.

Benchmarks measure; they never assert (DESIGN.md §8: targets are measured, not timed tests).
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path


def main() -> int:
    here = Path(__file__).resolve().parent
    names = sorted(path.stem for path in here.glob("*_bench.py"))
    if not names:
        print("no bench/*_bench.py found", file=sys.stderr)
        return 1
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        run = getattr(module, "main", None)
        if run is None:
            print(f"bench/{name}.py has no main(): skipped", file=sys.stderr)
            continue
        try:
            run([])
        except SystemExit as exc:  # a bench that cannot run says why and the rest go on
            if exc.code not in (0, None):
                print(f"bench/{name}.py: {exc.code}", file=sys.stderr)
                failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
