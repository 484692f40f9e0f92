"""The faster paths for big estates give exactly the results of the plain ones.

Each fast path (C JSON parser with token spans, libyaml events, indexed look-ups, shared
compiled policies, paused garbage collector) is checked against the straightforward
implementation it replaces, on generated and on reference inputs.
"""

from __future__ import annotations

import gc
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyeval._gc import collector_paused
from policyeval.compiler.compiled import PolicySet, compile_policies
from policyeval.evaluator.engine import evaluate
from policyeval.evaluator.request import Request
from policyeval.model.policy import Effect, Policy, Statement
from policyeval.model.topology import InstanceProfile, ManagedPolicy, Ref, Role, Service, Task
from policyeval.model.workspace import Workspace
from policyeval.readers import positions, yaml_positions
from policyeval.readers.positions import (
    InputError,
    key_span,
    load_json,
    load_yaml_documents,
    span_at,
    span_of,
)
from policyeval.resolver.compiling import PolicyCompiler
from policyeval.resolver.credentials import _services_of_task

FORMATS = Path(__file__).resolve().parent.parent / "fixtures" / "formats"


def _same_tree(fast: Any, slow: Any) -> None:
    """Equal values, equal types and equal spans at every node, keys in the same order."""
    assert type(fast) is type(slow)
    assert fast == slow
    assert span_of(fast) == span_of(slow)
    if isinstance(fast, dict):
        assert list(fast) == list(slow)
        for key in fast:
            assert key_span(fast, key) == key_span(slow, key)
            assert span_at(fast, key) == span_at(slow, key)
            _same_tree(fast[key], slow[key])
    elif isinstance(fast, list):
        for index, (a, b) in enumerate(zip(fast, slow, strict=True)):
            assert span_at(fast, index) == span_at(slow, index)
            _same_tree(a, b)


def _scanned(text: str, path: str = "f.json") -> Any:
    return positions._scan_json(text, positions._Locator(text, path), positions.MAX_DEPTH)


_JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


@given(_JSON, st.sampled_from([None, 0, 2]), st.booleans())
def test_fast_json_loader_matches_the_scanner_values_and_spans(
    value: Any, indent: int | None, ascii_only: bool
) -> None:
    text = json.dumps(value, indent=indent, ensure_ascii=ascii_only)
    _same_tree(load_json(text, "f.json"), _scanned(text))


@pytest.mark.parametrize("name", sorted(p.name for p in FORMATS.glob("*.json")))
def test_fast_json_loader_matches_the_scanner_on_reference_files(name: str) -> None:
    text = (FORMATS / name).read_text(encoding="utf-8")
    _same_tree(load_json(text, name), _scanned(text, name))


def test_json_duplicate_keys_keep_the_last_value_and_key_span_on_the_fast_path() -> None:
    text = '{"a": 1, "b": "x", "a": "two"}'
    _same_tree(load_json(text, "f.json"), _scanned(text))
    assert list(load_json(text, "f.json")) == ["a", "b"]


def test_json_with_a_byte_order_mark_keeps_offsets_of_the_original_text() -> None:
    text = '\ufeff{"k": ["v"]}'
    doc = load_json(text, "f.json")
    _same_tree(doc, _scanned(text))
    assert span_of(doc["k"][0]) is not None


@pytest.mark.parametrize("text", ['{"a": NaN}', "[Infinity]", "[1e5, -Infinity]"])
def test_non_json_constants_are_still_malformed_json(text: str) -> None:
    with pytest.raises(InputError) as caught:
        load_json(text, "f.json")
    assert caught.value.diagnostic.code == "PE060"


def test_nesting_limit_holds_on_the_fast_path() -> None:
    assert load_json("[" * 10 + "]" * 10, "ok.json", max_depth=10) == json.loads(
        "[" * 10 + "]" * 10
    )
    with pytest.raises(InputError) as caught:
        load_json("[" * 11 + "]" * 11, "deep.json", max_depth=10)
    assert caught.value.diagnostic.code == "PE090"


def test_huge_integers_are_reported_as_by_the_scanner() -> None:
    text = "[" + "9" * 5000 + "]"
    with pytest.raises(InputError) as caught:
        load_json(text, "f.json")
    assert "number too long" in caught.value.diagnostic.message


# -- YAML: libyaml events give the same documents and spans ---------------------------------


def _python_yaml(text: str, path: str) -> list[Any]:
    loader = yaml_positions._SafeEventLoader(text)
    try:
        return yaml_positions._build_documents(
            loader, path, positions.MAX_DEPTH, positions.MAX_YAML_NODES
        )
    finally:
        loader.dispose()


@pytest.mark.skipif(
    yaml_positions._FastEventLoader is yaml_positions._SafeEventLoader,
    reason="PyYAML built without libyaml",
)
@pytest.mark.parametrize("name", sorted(p.name for p in FORMATS.glob("*.yaml")))
def test_libyaml_events_build_the_same_documents_as_pyyaml(name: str) -> None:
    text = (FORMATS / name).read_text(encoding="utf-8")
    fast = load_yaml_documents(text, name)
    slow = _python_yaml(text, name)
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow, strict=True):
        _same_tree(a, b)


def test_malformed_yaml_keeps_pyyaml_wording() -> None:
    text = "a: [1, 2\nb: c\n"
    with pytest.raises(InputError) as caught:
        load_yaml_documents(text, "bad.yaml")
    loader = yaml_positions._SafeEventLoader(text)
    with pytest.raises(Exception) as python_error:
        yaml_positions._build_documents(
            loader, "bad.yaml", positions.MAX_DEPTH, positions.MAX_YAML_NODES
        )
    problem = getattr(python_error.value, "problem", "")
    assert problem and problem in caught.value.diagnostic.message


# -- workspace look-ups -----------------------------------------------------------------------


def _linear_find_role(ws: Workspace, key: str) -> Role | None:
    name = key.rsplit("/", 1)[-1] if key.startswith("arn:") else key
    return next((r for r in ws.roles if r.arn == key or r.name == name), None)


def test_role_lookup_returns_the_first_match_in_input_order() -> None:
    roles = (
        Role(name="a", arn="arn:aws:iam::1:role/x"),
        Role(name="x", arn="arn:aws:iam::1:role/other"),
        Role(name="b", arn="arn:aws:iam::1:role/b"),
        Role(name="b", arn="arn:aws:iam::2:role/b"),
    )
    ws = Workspace(roles=roles)
    for key in ("x", "arn:aws:iam::1:role/x", "b", "arn:aws:iam::2:role/b", "missing", "a"):
        assert ws.find_role(key) is _linear_find_role(ws, key)


def test_policy_and_profile_lookups_prefer_managed_then_first() -> None:
    doc = Policy(
        name="p", statements=(Statement(effect=Effect.ALLOW, action=("s3:*",), resource=("*",)),)
    )
    managed = (
        ManagedPolicy(name="p", arn="arn:aws:iam::1:policy/p", document=doc),
        ManagedPolicy(name="q", arn="arn:aws:iam::1:policy/p2", document=doc),
    )
    standalone = (Policy(name="q", statements=()), Policy(name="s", statements=()))
    profiles = (InstanceProfile(name="ip", arn="arn:aws:iam::1:instance-profile/ip"),)
    ws = Workspace(managed_policies=managed, policies=standalone, instance_profiles=profiles)
    assert ws.find_policy("arn:aws:iam::1:policy/p") is managed[0]
    assert ws.find_policy("q") is managed[1]
    assert ws.find_policy("s") is standalone[1]
    assert ws.find_policy("nope") is None
    assert ws.find_instance_profile("arn:aws:iam::1:instance-profile/ip") is profiles[0]
    assert ws.find_instance_profile(Ref("ip")) is profiles[0]


def test_replaced_and_merged_workspaces_never_reuse_an_old_index() -> None:
    ws = Workspace(roles=(Role(name="a"),))
    assert ws.find_role("a") is not None
    changed = replace(ws, roles=(Role(name="b"),))
    assert changed.find_role("a") is None and changed.find_role("b") is not None
    merged = ws.merge(Workspace(roles=(Role(name="c"),)))
    assert merged.find_role("c") is not None


def test_services_index_finds_the_same_services_as_a_scan() -> None:
    services = tuple(
        Service(id=f"s{i}", name=f"s{i}", task=Ref(value))
        for i, value in enumerate(
            ["web", "arn:aws:ecs:eu-west-1:1:task-definition/web", "other", "td/web", "web2", "web"]
        )
    )
    ws = Workspace(services=services)
    for task in (
        Task(id="web", family="web"),
        Task(id="x", family="web2"),
        Task(id="other", family="z"),
    ):
        expected = [
            s
            for s in ws.services
            if s.task.value in (task.id, task.family) or s.task.value.endswith(f"/{task.family}")
        ]
        assert _services_of_task(ws, task) == expected


# -- compiled policies shared across sets ----------------------------------------------------


def test_shared_compiled_policies_decide_like_fresh_compilation() -> None:
    shared = Policy(
        name="shared",
        statements=(
            Statement(effect=Effect.ALLOW, action=("s3:Get*",), resource=("arn:aws:s3:::b/*",)),
            Statement(effect=Effect.DENY, action=("s3:GetObjectAcl",), resource=("*",)),
        ),
    )
    own = Policy(
        name="own", statements=(Statement(effect=Effect.ALLOW, action=("sqs:*",), resource=("*",)),)
    )
    boundary = Policy(
        name="b", statements=(Statement(effect=Effect.ALLOW, action=("s3:*",), resource=("*",)),)
    )
    sets = [
        PolicySet(identity=(shared,)),
        PolicySet(identity=(shared, own)),
        PolicySet(identity=(own, shared), boundary=boundary),
    ]
    compiler = PolicyCompiler()
    requests = [
        Request("arn:aws:iam::1:role/r", action, resource)
        for action in ("s3:GetObject", "s3:GetObjectAcl", "sqs:SendMessage", "s3:PutObject")
        for resource in ("arn:aws:s3:::b/k", "arn:aws:sqs:eu-west-1:1:q")
    ]
    for policies in sets:
        fresh = compile_policies(policies)
        reused = compiler.policy_set(policies)
        for request in requests:
            assert evaluate(reused, request) == evaluate(fresh, request)
    assert compiler.policy_set(sets[0]).identity[0] is compiler.policy_set(sets[1]).identity[0]


def test_collector_is_paused_inside_and_restored_after() -> None:
    was = gc.isenabled()
    try:
        gc.enable()
        with collector_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


# -- reports and diagnostics of big runs --------------------------------------------------


def test_source_lines_follow_a_replaced_text() -> None:
    from policyeval.errors import SourceText

    sources = SourceText()
    sources.add("f", "one\ntwo\n")
    assert sources.line("f", 2) == "two"
    sources.add("f", "uno\ndos\ntres\n")
    assert sources.line("f", 2) == "dos"
    assert sources.line("f", 4) is None
    assert sources.line("g", 1) is None


def test_json_report_is_the_text_json_dumps_would_write() -> None:
    from policyeval.audit.run import audit
    from policyeval.report.to_json import render_json, report_model

    samples = Path(__file__).resolve().parent.parent.parent / "samples"
    result = audit([str(samples)])
    assert result.findings  # the sample estate has findings to serialise
    expected = json.dumps(
        report_model(result).model_dump(mode="json"), indent=2, ensure_ascii=False
    )
    assert render_json(result) == expected + "\n"


def test_line_starts_count_only_newlines() -> None:
    for text in ("", "a", "\n", "a\nb", "a\n\nb\n", "\r\n\u2028x\ny\n"):
        expected = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        assert positions._line_starts(text) == expected


# -- the .pel parser cache ----------------------------------------------------------------


def test_parser_cache_lives_in_a_private_user_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyeval.syntax.grammar import NO_CACHE_ENV, cache_file

    monkeypatch.delenv(NO_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    found = cache_file("model")
    assert isinstance(found, str) and found.startswith(str(tmp_path / "policyeval"))
    assert (tmp_path / "policyeval").stat().st_mode & 0o777 == 0o700
    assert cache_file("layout") != found


def test_shared_or_disabled_cache_folder_means_no_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyeval.syntax.grammar import NO_CACHE_ENV, cache_file

    monkeypatch.delenv(NO_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    (tmp_path / "policyeval").mkdir(mode=0o700)
    (tmp_path / "policyeval").chmod(0o777)  # writable by others: a pickle there is not trusted
    assert cache_file("model") is False
    (tmp_path / "policyeval").chmod(0o700)
    monkeypatch.setenv(NO_CACHE_ENV, "1")
    assert cache_file("model") is False


def test_parser_loaded_from_the_cache_parses_like_a_fresh_one(tmp_path: Path) -> None:
    from policyeval.syntax.grammar import CommentSink, _build

    text = (
        'account 111122223333\n# leading comment\npolicy p {\n  allow s3:GetObject on "*"  # why\n}\n'
        "role r { trust service ecs-tasks.amazonaws.com; attach p }\n"
    )
    path = str(tmp_path / "pel.cache")
    trees, comments = [], []
    for cache in (False, path, path):  # no cache, cache written, cache read
        sink = CommentSink()
        trees.append(_build(False, sink, cache).parse(text))
        comments.append([(str(t), t.line, t.column) for t in sink.tokens])
    assert Path(path).exists()
    assert hasattr(_build(False, CommentSink(), path), "grammar")  # hypothesis' from_lark needs it
    assert trees[0] == trees[1] == trees[2]
    assert comments[0] == comments[1] == comments[2] and len(comments[0]) == 2


def test_grants_from_several_sources_come_in_report_order() -> None:
    from policyeval.resolver.effective import Grant, effective_permissions
    from policyeval.sources import load_paths

    samples = Path(__file__).resolve().parent.parent.parent / "samples"
    report = effective_permissions(load_paths([str(samples)]))
    mixed = [w for w in report.workloads if len({(g.source, g.role) for g in w.allowed}) > 1]
    assert mixed  # the sample estate has containers that reach host credentials too
    for w in report.workloads:
        assert list(w.allowed) == sorted(w.allowed, key=Grant.sort_key)


def test_effective_json_is_the_text_json_dumps_would_write() -> None:
    from policyeval.report.effective_out import render_effective_json
    from policyeval.resolver.effective import effective_permissions
    from policyeval.sources import load_paths

    samples = Path(__file__).resolve().parent.parent.parent / "samples"
    report = effective_permissions(load_paths([str(samples)]))
    assert any(w.allowed for w in report.workloads)
    expected = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
    assert render_effective_json(report) == expected


def test_cli_pauses_the_collector_only_for_whole_estate_commands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import sys

    from policyeval import cli

    seen: list[bool] = []
    monkeypatch.setattr(cli, "app", lambda: seen.append(gc.isenabled()))
    was = gc.isenabled()
    try:
        gc.enable()
        monkeypatch.setattr(sys, "argv", ["policyeval", "fmt", "a.pel"])
        cli.main()
        monkeypatch.setattr(sys, "argv", ["policyeval", "audit", "estate/"])
        cli.main()
    finally:
        (gc.enable if was else gc.disable)()
    assert seen == [True, False]
