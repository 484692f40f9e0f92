"""Golden outputs of `effective` (JSON) and `graph` (Mermaid, DOT) for fixture estates.

Regenerate with `pytest --update-golden` and read the diff before committing it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from policyeval.model.topology import HostMount, LaunchType, MetadataOptions
from policyeval.model.workspace import Workspace
from policyeval.report.effective_out import render_effective_json
from policyeval.report.to_graph import render_graph_dot, render_graph_mermaid
from policyeval.resolver.credentials import resolve_credentials
from policyeval.resolver.effective import effective_permissions
from tests.resolver_fixtures import ecs_workspace, eks_workspace, lambda_workspace

HERE = Path(__file__).parent


def _estate() -> Workspace:
    ecs = ecs_workspace(metadata=MetadataOptions(http_tokens="required", hop_limit=2))
    eks = eks_workspace(irsa="irsa")
    fn = lambda_workspace()
    return replace(ecs, roles=ecs.roles).merge(replace(eks, roles=())).merge(replace(fn, roles=()))


CASES = {
    "estate": _estate,
    "ecs-external-mount": lambda: ecs_workspace(
        launch=LaunchType.EXTERNAL, mounts=(HostMount("/root/.aws", "/creds"),)
    ),
    "ecs-fargate": lambda: ecs_workspace(launch=LaunchType.FARGATE),
}


def _check(path: Path, text: str, update: bool) -> None:
    if update:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"missing golden file {path.name}: run pytest --update-golden"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(CASES))
def test_effective_json_matches_golden(name: str, update_golden: bool) -> None:
    report = effective_permissions(CASES[name]())
    _check(HERE / f"{name}.json", render_effective_json(report), update_golden)


@pytest.mark.parametrize("name", sorted(CASES))
def test_graph_mermaid_matches_golden(name: str, update_golden: bool) -> None:
    _check(
        HERE / f"{name}.mmd",
        render_graph_mermaid(resolve_credentials(CASES[name]())),
        update_golden,
    )


def test_graph_dot_matches_golden(update_golden: bool) -> None:
    _check(HERE / "estate.dot", render_graph_dot(resolve_credentials(_estate())), update_golden)


def test_reachable_host_credentials_are_drawn_red_and_bold() -> None:
    mermaid = render_graph_mermaid(resolve_credentials(_estate()))
    hot = [
        line
        for line in mermaid.splitlines()
        if line.startswith("  class ") and line.endswith(" hot")
    ]
    assert hot, mermaid
    assert "linkStyle" in mermaid
    dot = render_graph_dot(resolve_credentials(_estate()))
    assert "penwidth=3, style=bold" in dot


def test_graph_labels_escape_input_text() -> None:
    ws = ecs_workspace()
    ws = replace(ws, tasks=(replace(ws.tasks[0], id='we"b]|<x>'),))
    mermaid = render_graph_mermaid(resolve_credentials(ws))
    assert 'we"b' not in mermaid
    assert "we#quot;b" in mermaid
    dot = render_graph_dot(resolve_credentials(ws))
    assert 'we\\"b' in dot
