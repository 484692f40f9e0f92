"""Access added and removed between two versions of an estate (`policyeval diff`).

For each workload, the access is every (action, resource) that a credential it can reach
allows, as the evaluator decides it, attributed to the source. The diff is the set
difference per workload, so a pipeline can fail on new access (`--fail-on-new-access`)
while a pure refactoring of policies passes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from policyeval.errors import Diagnostic
from policyeval.model.workspace import Workspace


class DiffError(Exception):
    """A usage problem: a revision that does not exist, git missing."""


@dataclass(frozen=True, slots=True, order=True)
class Access:
    """One thing a workload can do, through one credential source."""

    action: str
    resource: str
    source: str
    conditional: bool = False

    def text(self) -> str:
        cond = " (conditional)" if self.conditional else ""
        return f"{self.action} on {self.resource} via {self.source}{cond}"


@dataclass(frozen=True, slots=True)
class WorkloadDiff:
    workload: str
    added: tuple[Access, ...]
    removed: tuple[Access, ...]


@dataclass(frozen=True, slots=True)
class DiffResult:
    workloads: tuple[WorkloadDiff, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    new_workloads: tuple[str, ...] = ()
    gone_workloads: tuple[str, ...] = field(default=())

    @property
    def added_count(self) -> int:
        return sum(len(w.added) for w in self.workloads)

    @property
    def removed_count(self) -> int:
        return sum(len(w.removed) for w in self.workloads)


def access_map(workspace: Workspace) -> dict[str, set[Access]]:
    """Workload id → its access, from every credential source it can reach (the
    resolver's effective permissions)."""
    from policyeval.resolver.effective import effective_permissions

    out: dict[str, set[Access]] = {}
    for w in effective_permissions(workspace).workloads:
        out[w.id] = {
            Access(g.action, g.resource, f"{g.source} {g.role or ''}".strip(), g.conditional)
            for g in w.allowed
        }
    return out


def diff_workspaces(old: Workspace, new: Workspace) -> DiffResult:
    before, after = access_map(old), access_map(new)
    workloads = []
    for wid in sorted(set(before) | set(after)):
        added = tuple(sorted(after.get(wid, set()) - before.get(wid, set())))
        removed = tuple(sorted(before.get(wid, set()) - after.get(wid, set())))
        if added or removed:
            workloads.append(WorkloadDiff(wid, added, removed))
    return DiffResult(
        workloads=tuple(workloads),
        diagnostics=tuple(old.diagnostics) + tuple(new.diagnostics),
        new_workloads=tuple(sorted(set(after) - set(before))),
        gone_workloads=tuple(sorted(set(before) - set(after))),
    )


def diff_paths(old: Sequence[str], new: Sequence[str]) -> DiffResult:
    from policyeval.audit.run import load

    for p in (*old, *new):
        if not Path(p).exists():
            raise DiffError(f"`{p}` does not exist")
    return diff_workspaces(load(list(old)), load(list(new)))


def _git(args: Sequence[str], cwd: Path) -> str:
    if shutil.which("git") is None:
        raise DiffError("`git` is not installed")
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise DiffError(f"git {' '.join(args)}: {done.stderr.strip() or 'failed'}")
    return done.stdout


def diff_git(rev1: str, rev2: str, paths: Sequence[str], repo: Path | None = None) -> DiffResult:
    """Check out both revisions into temporary worktrees and diff the same paths there."""
    cwd = repo or Path.cwd()
    top = Path(_git(["rev-parse", "--show-toplevel"], cwd).strip())
    prefix = Path(_git(["rev-parse", "--show-prefix"], cwd).strip() or ".")
    results: list[Workspace] = []
    from policyeval.audit.run import load

    with tempfile.TemporaryDirectory(prefix="policyeval-diff-") as tmp:
        for index, rev in enumerate((rev1, rev2)):
            _git(["rev-parse", "--verify", f"{rev}^{{commit}}"], top)
            target = Path(tmp) / f"rev{index}"
            _git(["worktree", "add", "--detach", "--quiet", str(target), rev], top)
            try:
                inside = [str(target / prefix / p) for p in paths]
                existing = [p for p in inside if Path(p).exists()]
                workspace = load(existing) if existing else Workspace()
                results.append(_relative(workspace, target))
            finally:
                _git(["worktree", "remove", "--force", str(target)], top)
    return diff_workspaces(results[0], results[1])


def _relative(workspace: Workspace, root: Path) -> Workspace:
    """Spans point into a temporary tree; diffs compare access, not positions, so the
    workspace is kept as is (access keys carry no paths)."""
    del root
    return workspace


# -- rendering -----------------------------------------------------------------------------


def render_text(result: DiffResult) -> str:
    out = []
    for w in result.workloads:
        out.append(f"{w.workload}")
        out += [f"  + {a.text()}" for a in w.added]
        out += [f"  - {a.text()}" for a in w.removed]
    out.append(f"{result.added_count} access(es) added, {result.removed_count} removed")
    return "\n".join(out) + "\n"


def render_markdown(result: DiffResult) -> str:
    out = ["## policyeval diff", ""]
    for w in result.workloads:
        out += [f"### `{w.workload}`", "", "```diff"]
        out += [f"+ {a.text()}" for a in w.added]
        out += [f"- {a.text()}" for a in w.removed]
        out += ["```", ""]
    out.append(f"**{result.added_count} added, {result.removed_count} removed**")
    return "\n".join(out) + "\n"


def render_json(result: DiffResult) -> str:
    def one(a: Access) -> dict[str, object]:
        return {
            "action": a.action,
            "resource": a.resource,
            "source": a.source,
            "conditional": a.conditional,
        }

    document = {
        "schema_version": "1.0",
        "added": result.added_count,
        "removed": result.removed_count,
        "workloads": [
            {
                "workload": w.workload,
                "added": [one(a) for a in w.added],
                "removed": [one(a) for a in w.removed],
            }
            for w in result.workloads
        ],
        "new_workloads": list(result.new_workloads),
        "gone_workloads": list(result.gone_workloads),
    }
    return json.dumps(document, indent=2) + "\n"
