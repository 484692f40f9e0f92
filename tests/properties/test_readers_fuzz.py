"""Readers are total: any mutation of a real input gives a Workspace, never an exception."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyeval.model.workspace import Workspace
from policyeval.sources import load_text

FORMATS = Path(__file__).parent.parent / "fixtures" / "formats"
EXAMPLES = sorted(FORMATS.iterdir())
TEXTS = {p.name: p.read_text() for p in EXAMPLES}

_PIECES = st.sampled_from(
    [
        '"',
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        "- ",
        "!Ref ",
        "*a",
        "&a ",
        "\n",
        "\t",
        "null",
        "1e999",
        "\\u12",
        "<<: ",
        "#",
        "\x00",
        "é",
        '"Statement"',
        '"Effect": 1',
        "Fn::If",
    ]
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, str]:
    name = draw(st.sampled_from(sorted(TEXTS)))
    text = TEXTS[name]
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(_PIECES | st.text(max_size=6))
        if action == "insert":
            text = text[:at] + piece + text[at:]
        elif action == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        else:
            text = text[:at] + piece + text[at + len(piece) :]
    return name, text


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_inputs_give_a_workspace_never_an_exception(case: tuple[str, str]) -> None:
    name, text = case
    ws = load_text(text, name)
    assert isinstance(ws, Workspace)
    for diagnostic in ws.diagnostics:
        assert diagnostic.code.startswith("PE")
        assert diagnostic.message and not diagnostic.message.endswith(".")


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.dictionaries(
                st.sampled_from(
                    [
                        "Resources",
                        "Type",
                        "Properties",
                        "Records",
                        "family",
                        "containerDefinitions",
                        "RoleDetailList",
                        "apiVersion",
                        "kind",
                        "metadata",
                        "spec",
                        "format_version",
                        "planned_values",
                        "root_module",
                        "resources",
                        "values",
                        "association",
                    ]
                ),
                inner,
                max_size=4,
            )
        ),
        max_leaves=20,
    )
)
def test_arbitrary_json_shapes_never_crash_the_readers(value: object) -> None:
    import json

    ws = load_text(json.dumps(value), "shape.json")
    assert isinstance(ws, Workspace)
