"""Reading inputs on two processes gives exactly the Workspace one process builds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from policyeval import sources
from policyeval.model.workspace import Workspace
from policyeval.sources import load_paths

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not hasattr(os, "fork"), reason="parallel reading needs the fork start method"
)


@pytest.fixture()
def estate(tmp_path: Path) -> Path:
    """Every input format, the samples estate, a broken file and an orphan needs file."""
    shutil.copytree(ROOT / "tests" / "fixtures" / "formats", tmp_path / "formats")
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    (tmp_path / "broken.json").write_text('{"Version": "2012-10-17", "Statement": [', "utf-8")
    (tmp_path / "orphan.needs.json").write_text("[]", "utf-8")
    return tmp_path


def _same(a: Workspace, b: Workspace) -> None:
    assert a == b
    # Spans take no part in model equality: compare them, and the diagnostics, apart.
    assert list(a.diagnostics) == list(b.diagnostics)
    assert [(r.name, r.span) for r in a.roles] == [(r.name, r.span) for r in b.roles]
    assert [(p.name, p.span, tuple(s.span for s in p.statements)) for p in a.policies] == [
        (p.name, p.span, tuple(s.span for s in p.statements)) for p in b.policies
    ]
    assert a.sources.texts == b.sources.texts


def test_two_processes_read_the_same_workspace(
    estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = load_paths([str(estate)], jobs=1)
    monkeypatch.setattr(sources, "PARALLEL_MIN_BYTES", 0)
    together = load_paths([str(estate)], jobs=2)
    assert alone.roles and alone.tasks and alone.diagnostics
    _same(alone, together)


def test_a_child_that_dies_leaves_its_files_to_the_parent(
    estate: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = load_paths([str(estate)], jobs=1)

    def die(*_: object) -> None:
        os._exit(3)

    monkeypatch.setattr(sources, "PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(sources, "_child_load", die)
    _same(alone, load_paths([str(estate)], jobs=2))


def test_small_inputs_stay_in_one_process(estate: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    def no_fork(*_: object) -> None:
        raise AssertionError("a second process was started for a small input")

    monkeypatch.setattr(multiprocessing, "get_context", no_fork)
    _same(load_paths([str(estate)], jobs=1), load_paths([str(estate)], jobs=2))
