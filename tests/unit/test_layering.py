"""Dependencies point forward through the pipeline (STYLE §1): a stage imports only earlier
stages, and nothing imports the CLI. Checked on the source, so a stray import fails here."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "policyeval"

#: Stages in pipeline order; a module may import modules of its own stage or earlier ones.
STAGES: tuple[tuple[str, ...], ...] = (
    ("errors", "_gc"),  # _gc: a process-level helper with no policyeval imports
    ("model", "limits"),
    ("compiler",),
    ("evaluator",),
    ("readers", "managed", "syntax", "catalog"),
    ("pel", "convert", "sources"),
    ("resolver",),
    ("audit",),
    ("diff", "report"),
    ("batch", "evalcli", "auditcli", "pelcli", "api"),
    ("cli", "entry"),
    ("__main__", "__init__"),
)
RANK = {name: rank for rank, names in enumerate(STAGES) for name in names}


def stage_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path, module: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "policyeval":
                found.update(f"policyeval.{alias.name}" for alias in node.names)
            elif node.module.startswith("policyeval."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("policyeval."))
    found.discard(module)
    return found


def modules() -> list[tuple[Path, str]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if module == "policyeval":
            module = "policyeval.__init__"
        out.append((path, module))
    return out


def test_every_stage_is_known() -> None:
    unknown = {stage_of(m) for _, m in modules()} - set(RANK)
    assert not unknown, f"add these modules to STAGES: {sorted(unknown)}"


def test_imports_point_backwards_through_the_pipeline() -> None:
    wrong = []
    for path, module in modules():
        own = RANK[stage_of(module)]
        for target in imports_of(path, module):
            if RANK.get(stage_of(target), -1) > own:
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(wrong)
