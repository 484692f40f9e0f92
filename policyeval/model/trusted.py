"""Model nodes built without pydantic re-validating values that already have their exact
field types.

Pydantic validates every argument of a model dataclass (~4 µs a node). The `.pel` parser
and the IAM JSON reader build tens of thousands of nodes from values they have just
checked or made themselves; for those, validation could change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import MISSING
from dataclasses import fields as dataclass_fields
from typing import Any, TypeVar

_Node = TypeVar("_Node")


def validators_free(cls: type) -> bool:
    """Whether constructing `cls` only checks and copies its arguments: a pydantic dataclass
    without validators, `__post_init__`, default factories or `init=False` fields."""
    decorators = getattr(cls, "__pydantic_decorators__", None)
    if decorators is None or hasattr(cls, "__post_init__"):
        return False
    hooks = ("validators", "field_validators", "root_validators", "model_validators")
    if any(getattr(decorators, hook, True) for hook in hooks):
        return False
    return all(f.init and f.default_factory is MISSING for f in dataclass_fields(cls))


def trusted(cls: type[_Node]) -> Callable[..., _Node]:
    """A constructor for model nodes whose arguments already have their fields' exact types
    (plain `str`, not a subclass; `tuple`; enums; spans; other nodes).

    For a class that validation could change nothing of (`validators_free`), this sets the
    same `__dict__` that validation would set, in field order; for any other class it is the
    class itself. Tests re-validate the nodes the parser and the JSON reader build this way
    and compare the results, types included.
    """
    if not validators_free(cls):
        return cls
    names = tuple(f.name for f in dataclass_fields(cls))  # type: ignore[arg-type]
    # Every field in order, holding its default (None for a required field, which callers
    # always pass): a copy updated with the arguments keeps the field order validation has.
    template = {
        f.name: (f.default if f.default is not MISSING else None)
        for f in dataclass_fields(cls)  # type: ignore[arg-type]
    }
    new = object.__new__
    set_attribute = object.__setattr__

    count = len(names)

    def construct(*args: Any, **kwargs: Any) -> _Node:
        if len(args) == count:  # every field given in order: no template needed
            values = dict(zip(names, args, strict=True))
        else:
            values = template.copy()
            if args:
                values.update(zip(names, args, strict=False))
        if kwargs:
            values.update(kwargs)
        node = new(cls)
        set_attribute(node, "__dict__", values)
        return node

    return construct
