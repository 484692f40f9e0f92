"""The tree-less `.pel` parse (`syntax/driver.py`) gives exactly what the Lark tree gives.

`parse_pel` parses text in the language with `FastParser` and leaves everything else to
Lark. These tests parse the same texts both ways and compare the whole document, spans and
comment tokens included (model equality ignores spans), and the diagnostics.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lark import Token

from policyeval.syntax import parser as pel_parser_module
from policyeval.syntax.driver import FastParser, PelToken
from policyeval.syntax.formatter import format_policy
from policyeval.syntax.parser import (
    _Builder,
    _fast_parser,
    _parse_document,
    _parse_fast,
    parse_tree,
)
from tests.fuzz.fuzz_strategies import broken_pel, pel_grammar_text
from tests.model_checks import assert_nodes_are_what_validation_makes
from tests.model_checks import shape as _shape
from tests.properties.test_pel_roundtrip import policies

ROOT = Path(__file__).resolve().parents[2]

#: Every construct of the grammar, with comments, `;`, escapes and settings the builder
#: reports (PE003, PE004, PE006, PE007), and keyword prefixes the contextual lexer splits.
KITCHEN_SINK = r"""# top comment
account 111122223333; import "taskdefs/x.json"
policy orders-exec = import "policies/orders-exec.json"
policy p {
  version "2008-10-17"; id "doc-1"
  allow s3:GetObject, "s3:List*" on "arn:aws:s3:::b", "arn:aws:s3:::b/*" sid "Read"
    if ForAnyValue:StringLikeIfExists aws:PrincipalTag/team = "a\u00e9", "b\"q"
    if Bool aws:SecureTransport = true  # trailing
  deny all except iam:* on all except "arn:aws:iam::1:role/x"
    principal all except aws "arn:aws:iam::1:root", canonical-user "abc", federated f, service s
  allow a:b principal * sid x sid y on a on b
  allow "bad \q escape" on *
  deny get on * if StringEqual k = v
}
policy empty {}
role r {
  trust service ecs-tasks.amazonaws.com, lambda.amazonaws.com
  trust { allow sts:AssumeRole principal aws "arn:aws:iam::1:root" }
  attach p, aws "AmazonSSMManagedInstanceCore", "arn:aws:iam::aws:policy/X"
  inline p; inline extra { allow sqs:SendMessage on "q" }
  boundary aws "B"; tag team = "orders"; arn "arn:aws:iam::1:role/r"
}
role t { trust p }
role allow {}
rolex {}
instance-profile ip { role r; arn "arn:aws:iam::1:instance-profile/ip" }
organization {
  root { scp FullAWSAccess }
  ou workloads { scp a, b; rcp c }
  account { scp d }
}
cluster shop {
  capacity pool {
    launch ec2; instance-profile ip; imds v2 hop-limit 1 tokens optional endpoint enabled
    agent ECS_AWSVPC_BLOCK_IMDS = "true"; iptables block-imds
  }
  capacity edge { launch ec3; host-role r; imds v1 disabled ipv6 on hop-limit 99 }
  capacity none { iptables maybe }
  task api {
    definition "taskdefs/api.json"; family "api"; task-role r; execution-role "arn:x"
    network bridge; launch fargate; pid host; ipc none; runs-on pool; exec-command
    network host
    needs s3:GetObject, s3:PutObject on "arn:aws:s3:::b/*"
    needs dynamodb:GetItem
    container web {
      image "nginx"; privileged; mount "/var/run/docker.sock" to "/d"; mount "/tmp"
      secret "arn:aws:secretsmanager:x"; env MODE = "prod"; needs sqs:Send on "q"
      ignore PE201 reason "why"
      # policyeval: ignore PE202 reason "inside"
    }
    ignore PE203 for other reason "r"
  }
  service svc { task api; runs-on pool; launch ec2; exec-command; ignore PE204 reason "s" }
  service lost { launch moon }
  ignore PE205 reason "cluster-wide"
}
eks-cluster cat {
  node-group general { kind managed; role r; instance-profile ip; imds v2; agent A = "b" }
  node-group odd { kind weird }
  fargate-profile jobs { role r; namespaces "jobs", "batch"; namespaces more }
  service-account catalog/api { irsa r; pod-identity "arn:pi" }
  service-account nonamespace {}
  pod catalog/api {
    kind Deployment; service-account api; node-group general
    host-network; host-pid; privileged; host-path "/var/run" to "/x"; host-path "/y"
    needs s3:GetObject on "arn:aws:s3:::c/*"; ignore PE206 reason "pod"
  }
}
function fn {
  execution-role r; schedule "cron(0 2 * * ? *)"
  resource-policy { allow lambda:InvokeFunction principal service "events.amazonaws.com" }
  needs s3:PutObject on "arn:aws:s3:::r/*"; ignore PE207 reason "fn"
}
function fn2 { resource-policy p; resource-policy q }
repository repo { resource-policy p }
repository repo2 { resource-policy { allow ecr:BatchGetImage principal * } }
expect {
  no container can iam:PassRole on *
  every task cannot s3:DeleteObject
  task api cannot s3:DeleteObject on "arn:aws:s3:::x/*"
  agent of pool can ecs:RegisterContainerInstance
  function fn can s3:PutObject
}
ignore PE201 reason "Fargate"
ignore PE203 for api reason "SEC-42"
ignore XX1 reason "bad code"
# policyeval: ignore PE999 reason "malformed?
# policyeval: ignore PE208 for api reason "c"
account 999
"""


@functools.cache
def _driver_from_tables() -> FastParser:
    """The driver as a cold start loads it: from its tables, through JSON, without Lark."""
    from policyeval.syntax.grammar import pel_parser

    built = FastParser(pel_parser()[0], frozenset({"COMMENT"}))
    return FastParser.from_tables(json.loads(json.dumps(built.tables())))


def assert_same_both_ways(text: str) -> None:
    fast = _parse_document(text, "t.pel", fast=True)
    slow = _parse_document(text, "t.pel", fast=False)
    assert _shape(fast) == _shape(slow), text
    # the driver loaded from stored tables gives the same too
    stored = _parse_document(text, "t.pel", fast=True, driver=_driver_from_tables())
    assert _shape(stored) == _shape(slow), text
    assert_nodes_are_what_validation_makes(fast[0])
    # and the fast path takes exactly the texts Lark takes
    accepted = _parse_fast(text, "t.pel", _Builder("t.pel")) is not None
    assert accepted == (parse_tree(text, "t.pel")[0] is not None), text


def corpus() -> list[str]:
    texts = [
        KITCHEN_SINK,
        "",
        KITCHEN_SINK.replace("\n", "\r\n"),
        KITCHEN_SINK.replace("  ", "\t\f"),
    ]
    texts.append(
        'policy p { allow "s3:\U0001f600" on "\u00e9\u00e9" }  # \U0001f600 \u00e9\nrole r {}'
    )
    for file in sorted(ROOT.glob("samples/**/*.pel")) + sorted(ROOT.glob("tests/**/*.pel")):
        texts.append(file.read_text(encoding="utf-8"))
    for doc in ("docs/language.md", "README.md"):
        markdown = (ROOT / doc).read_text(encoding="utf-8")
        texts += re.findall(r"```\n(.*?)```", markdown, flags=re.DOTALL)
    return texts


def test_the_fast_path_is_used_for_the_shipped_grammar() -> None:
    assert _fast_parser() is not None
    assert _parse_fast(KITCHEN_SINK, "t.pel", _Builder("t.pel")) is not None


def test_kitchen_sink_reports_what_the_builder_reports() -> None:
    _, diagnostics = _parse_document(KITCHEN_SINK, "t.pel", fast=True)
    codes = {d.code for d in diagnostics}
    assert {"PE002", "PE003", "PE004", "PE006", "PE007"} <= codes


def test_every_corpus_text_parses_the_same_both_ways() -> None:
    texts = corpus()
    assert len(texts) > 20
    for text in texts:
        assert_same_both_ways(text)


def test_every_prefix_and_every_cut_of_the_kitchen_sink_parses_the_same_both_ways() -> None:
    lines = KITCHEN_SINK.splitlines(keepends=True)
    for index in range(len(lines)):
        assert_same_both_ways("".join(lines[:index]))
        assert_same_both_ways("".join(lines[:index] + lines[index + 1 :]))


def test_a_failing_builder_method_leaves_the_text_to_the_tree_path(monkeypatch: Any) -> None:
    def broken(self: Any, meta: Any, c: list[Any]) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(pel_parser_module._Builder, "tag", broken)
    assert _parse_fast('role r { tag a = "b" }', "t.pel", _Builder("t.pel")) is None


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(st.one_of(pel_grammar_text, broken_pel(), policies.map(format_policy)))
def test_generated_texts_parse_the_same_both_ways(text: str) -> None:
    assert_same_both_ways(text)


_pieces = [*'ab{}";=,*# \n\\:-', "role", "policy", "allow", "on", "all", "except", "if"]


@given(st.lists(st.sampled_from(_pieces), max_size=40).map("".join))
def test_arbitrary_texts_parse_the_same_both_ways(text: str) -> None:
    assert_same_both_ways(text)


@given(st.text(st.characters(blacklist_characters='"\\\n')))
def test_a_string_without_escapes_is_the_text_between_its_quotes(text: str) -> None:
    token = Token("STRING", f'"{text}"')
    builder = _Builder("t.pel")
    assert builder._text(token) == json.loads(f'"{text}"', strict=False)
    assert type(builder._text(token)) is str and builder.diagnostics == []


# -- the driver on its own, over another grammar ------------------------------------------

_TOY = r"""
start: _stmt*
_stmt: assign | call | _SEMI
assign: NAME "=" expr _SEMI
call: NAME "(" _args? ")" _SEMI
_args: expr ("," expr)*
?expr: term | expr "+" term -> add
?term: NAME | NUMBER | "(" expr ")" | neg
!neg: "-" term
NAME: /[a-z]+/
NUMBER: /[0-9]+/
_SEMI: ";"
COMMENT: /#[^\n]*/
%import common.WS
%ignore WS
%ignore COMMENT
"""


def _toy_parser(**options: Any) -> Any:
    from lark import Lark

    return Lark(_TOY, parser="lalr", lexer="contextual", propagate_positions=True, **options)


@functools.cache
def _toy_actions(fast: Any) -> dict[str, Any]:
    """A tree of (rule, span, children) tuples from every rule, tokens by their shape."""

    def action(name: str) -> Any:
        def build(span: Any, children: list[Any]) -> Any:
            where = (
                None if span is None else (span.line, span.column, span.end_line, span.end_column)
            )
            return (name, where, [c if isinstance(c, tuple) else _shape(c) for c in children])

        return build

    return {name: action(name) for name in fast.rule_names}


def _toy_with_driver() -> tuple[Any, Any]:
    from policyeval.syntax.driver import FastParser

    lark = _toy_parser(lexer_callbacks={"COMMENT": lambda t: t})
    return lark, FastParser(lark, frozenset({"COMMENT"}))


def _toy_tree_shape(tree: Any) -> Any:
    from lark import Tree

    if isinstance(tree, Tree):
        meta = tree.meta
        where = None if meta.empty else (meta.line, meta.column, meta.end_line, meta.end_column)
        return (str(tree.data), where, [_toy_tree_shape(c) for c in tree.children])
    return _shape(tree)


def test_the_driver_shapes_children_and_spans_as_lark_does_for_another_grammar() -> None:
    from policyeval.syntax.driver import Rejected

    lark, fast = _toy_with_driver()

    actions = _toy_actions(fast)
    texts = [
        "",
        "a = 1;",
        "f();\n# note\ng(a, 2 + b + (c + 3));;\n  x = -y + --4;\r\nh(-(1));",
        "a = b\n + c;\tf(\n);",
        "x = (a);\nf((1), -(b + c), ((d)));\ny = ((-(e)) + (f));",
    ]
    for text in texts:
        result, comments = fast.parse(text, "toy", actions)
        assert result == _toy_tree_shape(lark.parse(text)), text
        assert [str(c) for c in comments] == re.findall(r"#[^\n]*", text)
    for bad in ["a = ;", "f(", "a = 1", "1 = a;", "a = b +;", "é;"]:
        try:
            fast.parse(bad, "toy", actions)
        except Rejected:
            continue
        raise AssertionError(f"accepted {bad!r}")


def test_the_driver_refuses_what_it_does_not_reproduce() -> None:
    from lark import Lark

    from policyeval.syntax.driver import FastParser, Unsupported

    refused = [
        Lark(_TOY, parser="earley"),
        _toy_parser(keep_all_tokens=True),
        Lark('start: x [y]\nx: "x"\ny: "y"', parser="lalr", maybe_placeholders=True),
    ]
    for lark in refused:
        try:
            FastParser(lark, frozenset())
        except Unsupported:
            continue
        raise AssertionError(f"drove {lark.options.parser} {lark.options.keep_all_tokens}")


_toy_expressions = st.recursive(
    st.sampled_from(["a", "b", "1", "42"]),
    lambda inner: st.one_of(
        inner.map(lambda e: f"({e})"),
        inner.map(lambda e: f"-{e}"),
        st.tuples(inner, inner).map(lambda p: f"{p[0]} + {p[1]}"),
    ),
    max_leaves=8,
)
_toy_statements = st.one_of(
    _toy_expressions.map(lambda e: f"x = {e};"),
    st.lists(_toy_expressions, max_size=3).map(lambda args: f"f({', '.join(args)});"),
    st.just(";"),
    st.just("# c"),
)


@given(st.lists(_toy_statements, max_size=6), st.sampled_from(["\n", " ", "\r\n  "]))
def test_the_driver_matches_lark_on_generated_toy_programs(statements: list[str], sep: str) -> None:
    lark, fast = _toy_with_driver()

    text = sep.join(statements) + "\n"
    result, _ = fast.parse(text, "toy", _toy_actions(fast))
    assert result == _toy_tree_shape(lark.parse(text))


def test_the_toy_driver_from_its_tables_matches_lark() -> None:
    lark, built = _toy_with_driver()
    fast = FastParser.from_tables(json.loads(json.dumps(built.tables())))
    assert fast.rule_names == built.rule_names and fast.kept_terminals == built.kept_terminals

    actions = _toy_actions(fast)
    text = "f();\n# note\ng(a, 2 + b + (c + 3));;\n  x = -y + --4;\r\nh(-(1));"
    result, comments = fast.parse(text, "toy", actions)
    assert result == _toy_tree_shape(lark.parse(text))
    assert [_shape(c) for c in comments] == [
        _shape(c) for c in built.parse(text, "toy", actions)[1]
    ]


# -- tokens and the stored driver tables ---------------------------------------------------


def test_driver_tokens_read_and_compare_as_lark_tokens() -> None:
    import copy
    import pickle

    token = PelToken("WORD", "abc", 3, 1, 4, 1, 7, 6)
    lark_token = Token("WORD", "abc", 3, 1, 4, 1, 7, 6)
    assert _shape(token) == _shape(lark_token)
    assert token == "abc" and token != "abd" and hash(token) == hash("abc")
    assert token == PelToken("WORD", "abc") and token != PelToken("STRING", "abc")
    assert token.value == "abc" and str(token) == "abc" and type(str(token)) is str
    for copied in (pickle.loads(pickle.dumps(token)), copy.deepcopy(token)):
        assert type(copied) is PelToken and _shape(copied) == _shape(token)
    builder = _Builder("t.pel")
    assert builder._text(PelToken("STRING", '"a b"')) == builder._text(Token("STRING", '"a b"'))


def _stored_tables_setup(tmp_path: Path, monkeypatch: Any) -> tuple[Any, Path]:
    from policyeval.syntax import grammar

    monkeypatch.delenv(grammar.NO_CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    where = grammar._driver_tables_key("model", frozenset({"COMMENT"}))
    assert where is not None
    return grammar, Path(where[0])


def _fresh_driver() -> FastParser:
    made = _fast_parser.__wrapped__()  # type: ignore[attr-defined]
    assert isinstance(made, FastParser)
    return made


def _assert_drives_like_lark(fast: FastParser) -> None:
    for text in (KITCHEN_SINK, "policy p { allow a:b on * }\n# c\n", "role {"):
        slow = _parse_document(text, "t.pel", fast=False)
        assert _shape(_parse_document(text, "t.pel", fast=True, driver=fast)) == _shape(slow)


def test_the_driver_tables_are_stored_once_and_then_loaded_without_lark(
    tmp_path: Path, monkeypatch: Any
) -> None:
    _, file = _stored_tables_setup(tmp_path, monkeypatch)
    assert not file.exists()
    built = _fresh_driver()  # from the Lark parser, and stored
    assert file.exists() and file.stat().st_mode & 0o777 == 0o600
    assert hasattr(built, "_lark_table")
    loaded = _fresh_driver()
    assert not hasattr(loaded, "_lark_table")  # made from the stored tables
    assert loaded.rule_names == built.rule_names
    _assert_drives_like_lark(loaded)
    # a new process that finds the tables never imports Lark for text in the language
    script = (
        "import sys\n"
        "from policyeval.syntax.parser import parse_pel\n"
        "document, diagnostics = parse_pel(sys.argv[1], 'a.pel')\n"
        "assert document.policies and not diagnostics, diagnostics\n"
        "assert 'lark' not in sys.modules, 'lark imported'\n"
    )
    import os
    import subprocess
    import sys

    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    text = 'policy p { allow s3:GetObject on "*" }  # c\nrole r { attach p }\n'
    subprocess.run([sys.executable, "-c", script, text], check=True, env=env, cwd=ROOT)


def test_damaged_or_foreign_driver_tables_are_ignored_and_rewritten(
    tmp_path: Path, monkeypatch: Any
) -> None:
    grammar, file = _stored_tables_setup(tmp_path, monkeypatch)
    _fresh_driver()
    good = file.read_bytes()
    head, _, body = good.partition(b"\n")
    header = json.loads(head)
    tables = json.loads(body)

    def signed(content: Any, key: str = header["key"]) -> bytes:
        data = json.dumps(content).encode()
        digest = __import__("hashlib").sha256(data).hexdigest()
        return json.dumps({"key": key, "sha256": digest}).encode() + b"\n" + data

    foreign_key = json.loads(header["key"])
    foreign_key[1] = "0.0.1"  # another Lark version
    broken_rows = {**tables, "states": [{"X": 10**6}] * len(tables["states"])}
    damaged = [
        b"",
        good[: len(good) // 2],  # truncated
        good[:-10] + b"0123456789",  # changed after the header
        b"\x00\xff" * 100,
        head + b"\n",
        good.replace(b'"sha256"', b'"sha257"', 1),
        signed(tables, key=json.dumps(foreign_key)),  # intact, but for another key
        signed({**tables, "format": 999}),
        signed(broken_rows),
        signed({**tables, "rules": tables["rules"][:1]}),
        signed([1, 2, 3]),
        signed({**tables, "comments": ["WORD"]}),
    ]
    for content in damaged:
        file.write_bytes(content)
        fast = _fresh_driver()
        assert hasattr(fast, "_lark_table"), content[:80]  # not made from the file
        _assert_drives_like_lark(fast)
        assert file.read_bytes() == good, content[:80]  # rebuilt and rewritten
    # a lexer expression that does not compile (only met when its state is): every text
    # then goes to Lark, which gives the same documents and diagnostics
    file.write_bytes(signed({**tables, "lexers": [["(", 0, {}, [], []]] * len(tables["lexers"])}))
    _assert_drives_like_lark(_fresh_driver())
    # with the cache disabled, nothing is read or written (nor the tables made)
    monkeypatch.setenv(grammar.NO_CACHE_ENV, "1")

    def no_tables(self: Any) -> Any:
        raise AssertionError("tables made for no cache")

    monkeypatch.setattr(FastParser, "tables", no_tables)
    file.unlink()
    assert grammar.load_driver_tables("model", frozenset({"COMMENT"})) is None
    _assert_drives_like_lark(_fresh_driver())
    assert not file.exists()


def test_tables_of_another_shape_are_refused() -> None:
    import pytest

    tables = json.loads(json.dumps(_driver_from_tables_data()))
    variants: list[Any] = [
        None,
        [],
        {},
        {**tables, "format": 0},
        {**tables, "start": "0"},
        {**tables, "end": len(tables["states"])},
        {**tables, "states": tables["states"][:-1]},
        {**tables, "state_lexers": [len(tables["lexers"])] * len(tables["states"])},
        {**tables, "rules": [[1, "a", 7, None, "a", None]]},
        {**tables, "rules": [[1, "a", 2, [[5, False]], "a", None]]},
        {**tables, "lexers": [["(", 0, {}, [], []]]},
        {**tables, "lexers": [[1, 0, {}, [], []]] * len(tables["lexers"])},
        {**tables, "kept": "WORD"},
    ]
    for variant in variants:
        with pytest.raises(ValueError):
            FastParser.from_tables(variant)


@functools.cache
def _driver_from_tables_data() -> dict[str, Any]:
    from policyeval.syntax.grammar import pel_parser

    return FastParser(pel_parser()[0], frozenset({"COMMENT"})).tables()
