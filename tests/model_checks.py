"""Checks shared by tests of the code that builds model nodes without validation
(`policyeval.model.trusted`): every node must equal, field by field and type by type, what
pydantic would have built from the same values."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from enum import Enum
from typing import Any

from lark import Token

from policyeval.syntax.driver import PelToken


def shape(value: Any) -> Any:
    """A value with every field compared, spans and token positions included."""
    if isinstance(value, (Token, PelToken)):
        where = (value.start_pos, value.end_pos, value.line, value.column)
        return ("Token", value.type, str(value), *where, value.end_line, value.end_column)
    if isinstance(value, Enum):
        return (type(value).__name__, value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (
            type(value).__name__,
            tuple((f.name, shape(getattr(value, f.name))) for f in fields),
        )
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, tuple(shape(v) for v in value))
    return (type(value).__name__, value)


def model_nodes(value: Any) -> Iterator[Any]:
    """Every pydantic model node inside `value` (documents, nodes, lists and tuples)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(item)
        elif dataclasses.is_dataclass(item) and not isinstance(item, type):
            if hasattr(type(item), "__pydantic_validator__"):
                yield item
            stack.extend(getattr(item, f.name) for f in dataclasses.fields(item))


def assert_nodes_are_what_validation_makes(document: Any) -> None:
    """Nodes the parser builds without validation (`_trusted`) equal validated copies."""
    for node in model_nodes(document):
        values = {f.name: getattr(node, f.name) for f in dataclasses.fields(node)}
        validated = type(node)(**values)
        assert shape(validated) == shape(node)
        assert list(vars(validated)) == list(vars(node))
