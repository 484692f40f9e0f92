"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, `${*}` `${?}` `${$}`.

IAM User Guide, "IAM policy elements: Variables and tags": variables are replaced only in
policies whose Version is 2012-10-17 (elsewhere `${...}` is literal text); a variable whose
key is absent from the request, with no default, makes the element not match; `${*}`,
`${?}` and `${$}` stand for the literal characters. Substituted values are always literal:
a `*` in a user name is not a wildcard.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from policyeval.compiler.wildcard import STAR, Token, tokenize


@dataclass(frozen=True, slots=True)
class Var:
    key: str  # lower-cased: condition key names are case-insensitive
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Lit:
    """Text from the policy itself; `*` and `?` in it are wildcards where the element allows."""

    text: str


@dataclass(frozen=True, slots=True)
class Escaped:
    """A character written `${*}`, `${?}` or `${$}`: always literal."""

    char: str


Part = Lit | Escaped | Var

_VAR = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s][^,]*?)\s*,\s*'([^']*)'\s*$")


def parse_template(text: str, *, substitute: bool) -> tuple[Part, ...]:
    """Split policy text into literal parts and variables (only when `substitute`)."""
    if not substitute or "${" not in text:
        return (Lit(text),)
    parts: list[Part] = []
    pos = 0
    for match in _VAR.finditer(text):
        if match.start() > pos:
            parts.append(Lit(text[pos : match.start()]))
        inner = match.group(1)
        if inner in ("*", "?", "$"):
            parts.append(Escaped(inner))
        else:
            default = _DEFAULT.match(inner)
            if default:
                parts.append(Var(default.group(1).strip().lower(), default.group(2)))
            else:
                parts.append(Var(inner.strip().lower()))
        pos = match.end()
    if pos < len(text):
        parts.append(Lit(text[pos:]))
    return tuple(parts)


def has_variables(parts: tuple[Part, ...]) -> bool:
    return any(isinstance(p, Var) for p in parts)


class Missing:
    """A variable's key is absent and has no default: the element does not match."""


MISSING = Missing()


def resolve_variable(
    var: Var, context: Mapping[str, tuple[str, ...]], unknown: frozenset[str] | None
) -> str | Missing | frozenset[str]:
    """The variable's value; MISSING; or the frozenset of unknown keys it depends on.

    `unknown` None means every absent key is unknown (incomplete context).
    """
    values = context.get(var.key)
    if values is None:
        if unknown is None or var.key in unknown:
            return frozenset((var.key,))
        return var.default if var.default is not None else MISSING
    if len(values) != 1:  # a multi-valued key cannot be substituted
        return MISSING
    return values[0]


def to_tokens(
    parts: tuple[Part, ...],
    context: Mapping[str, tuple[str, ...]],
    unknown: frozenset[str] | None,
    *,
    wildcards: bool,
) -> list[Token] | Missing | frozenset[str]:
    """Resolve variables and produce matcher tokens; wildcards only where `wildcards`."""
    tokens: list[Token] = []
    pending_unknown: frozenset[str] = frozenset()
    for part in parts:
        if isinstance(part, Lit):
            if wildcards:
                tokens.extend(tokenize(part.text))
            else:
                tokens.append(part.text)
        elif isinstance(part, Escaped):
            tokens.append(part.char)
        else:
            value = resolve_variable(part, context, unknown)
            if isinstance(value, Missing):
                return MISSING
            if isinstance(value, frozenset):
                pending_unknown |= value
                continue
            tokens.append(value)
    if pending_unknown:
        return pending_unknown
    return tokens


def literal_text(tokens: list[Token]) -> str:
    """The text of tokens that hold no wildcard (for exact comparisons)."""
    return "".join(t if isinstance(t, str) else ("*" if t is STAR else "?") for t in tokens)
