"""Two implementations of one `Decider` protocol: policyeval in-process, and the independent
simulator (@cloud-copilot/iam-simulate, AGPL) in ONE long-lived node process.

The simulator is only ever a separate process speaking JSON lines (`oracle/run.mjs`); it is
never imported, vendored or shipped. Both deciders take batch-format cases (the shape of
`policyeval eval --cases`) and return one result dict per case, in order.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

Case = dict[str, Any]
Result = dict[str, Any]

ORACLE_DIR = Path(__file__).resolve().parent / "oracle"
SIMULATOR_PACKAGE = ORACLE_DIR / "node_modules" / "@cloud-copilot" / "iam-simulate"


class OracleUnavailable(RuntimeError):
    """node or the pinned simulator package is missing (`make test` installs them)."""


class Decider(Protocol):
    name: str

    def decide_many(self, cases: Sequence[Case]) -> list[Result]:
        """One result per case, in order: `{"id", "decision", "error"?, ...}`."""
        ...


class PolicyevalDecider:
    """policyeval's batch mode, in-process (`policyeval.batch.decide_case`)."""

    name = "policyeval"

    def decide_many(self, cases: Sequence[Case]) -> list[Result]:
        from policyeval.batch import decide_case

        return [decide_case(dict(case)) for case in cases]


def oracle_problem() -> str | None:
    """Why the simulator cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "`node` is not on PATH: install Node.js 20 (the differential test needs it)"
    if not SIMULATOR_PACKAGE.is_dir():
        return (
            f"the simulator is not installed in {ORACLE_DIR}: run `make test`, or "
            f"`cd {ORACLE_DIR} && npm ci`"
        )
    return None


class SimulatorDecider:
    """The simulator in one node process for the whole run, fed one JSON line per case.

    A writer thread feeds stdin while the caller reads stdout, so a large batch never
    deadlocks on full pipes.
    """

    name = "iam-simulate"

    def __init__(self) -> None:
        problem = oracle_problem()
        if problem:
            raise OracleUnavailable(problem)
        node = shutil.which("node")
        assert node is not None
        self._proc = subprocess.Popen(
            [node, "run.mjs"],
            cwd=ORACLE_DIR,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )

    def _write(self, lines: Iterable[str]) -> None:
        stdin = self._proc.stdin
        assert stdin is not None
        try:
            for line in lines:
                stdin.write(line)
            stdin.flush()
        except BrokenPipeError:  # the reader reports the dead process
            pass

    def decide_many(self, cases: Sequence[Case]) -> list[Result]:
        stdout = self._proc.stdout
        assert stdout is not None
        lines = [json.dumps(case, separators=(",", ":")) + "\n" for case in cases]
        writer = threading.Thread(target=self._write, args=(lines,), daemon=True)
        writer.start()
        results: list[Result] = []
        for case in cases:
            line = stdout.readline()
            if not line:
                stderr = self._proc.stderr.read() if self._proc.stderr else ""
                raise RuntimeError(f"the simulator process ended early: {stderr.strip()[:2000]}")
            result = json.loads(line)
            if result.get("id") != case.get("id"):
                raise RuntimeError(
                    f"simulator answered {result.get('id')!r} for {case.get('id')!r}"
                )
            results.append(result)
        writer.join()
        return results

    def close(self) -> None:
        if self._proc.poll() is None:
            if self._proc.stdin:
                self._proc.stdin.close()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        for stream in (self._proc.stdout, self._proc.stderr):
            if stream:
                stream.close()

    def __enter__(self) -> SimulatorDecider:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def comparable(result: Result) -> bool:
    """The simulator answered this very request: a decision, no error, no ignored context
    keys, and a single-resource simulation."""
    return (
        result.get("decision") is not None
        and not result.get("error")
        and not result.get("ignoredContextKeys")
        and not result.get("wildcard")
    )
