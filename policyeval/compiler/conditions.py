"""Condition operators: one comparison per family, with IfExists, set qualifiers and Null as
wrappers around them.

IAM User Guide, "IAM JSON policy elements: Condition operators" and "Single-valued vs.
multivalued context keys":
- operators and keys AND together; the values of one key OR together;
- a key absent from the request: the condition is false, except for `...IfExists` (true),
  negated operators such as `StringNotEquals` (true), `ForAllValues:` (true, the empty set
  satisfies "all") and `Null` (true when the policy says "true");
- `ForAnyValue:` needs at least one request value to match; `ForAllValues:` needs every
  request value to match.

A result is `True`, `False`, or a frozenset of the condition keys whose unknown value
decides it (three-valued logic for CONDITIONAL answers).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from policyeval.compiler.variables import (
    Missing,
    Part,
    has_variables,
    literal_text,
    parse_template,
    to_tokens,
)
from policyeval.compiler.wildcard import Token, Wildcard, compile_tokens

Tri = bool | frozenset[str]
Context = Mapping[str, tuple[str, ...]]

# -- value comparisons, one per family ------------------------------------------------------


@lru_cache(maxsize=4096)
def _parse_number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@lru_cache(maxsize=4096)
def parse_date(text: str) -> float | None:
    """ISO 8601 (with or without time / zone) or epoch seconds → epoch seconds."""
    raw = text.strip()
    if not raw:
        return None
    number = _parse_number(raw)
    if number is not None and not ("-" in raw[1:] or ":" in raw):
        return number
    try:
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _numeric(op: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(request: str, policy: str) -> bool:
        a, b = _parse_number(request), _parse_number(policy)
        return a is not None and b is not None and op(a, b)

    return compare


def _date(op: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(request: str, policy: str) -> bool:
        a, b = parse_date(request), parse_date(policy)
        return a is not None and b is not None and op(a, b)

    return compare


def _bool_equals(request: str, policy: str) -> bool:
    return request.strip().lower() == policy.strip().lower()


def _binary_equals(request: str, policy: str) -> bool:
    try:
        return base64.b64decode(request, validate=True) == base64.b64decode(policy, validate=True)
    except (binascii.Error, ValueError):
        return request == policy


@lru_cache(maxsize=4096)
def _network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=4096)
def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip().split("/")[0])
    except ValueError:
        return None


def _ip_in(request: str, policy: str) -> bool:
    network = _network(policy)
    address = _address(request)
    if network is None or address is None:
        return False
    return address.version == network.version and address in network


def _eq(a: float, b: float) -> bool:
    return a == b


def _lt(a: float, b: float) -> bool:
    return a < b


def _le(a: float, b: float) -> bool:
    return a <= b


def _gt(a: float, b: float) -> bool:
    return a > b


def _ge(a: float, b: float) -> bool:
    return a >= b


@dataclass(frozen=True, slots=True)
class OperatorSpec:
    """A base operator: its family, whether it negates, and how values are compared.

    `kind` says how policy values are prepared: `exact`, `fold`, `like` (wildcards),
    `arn` (wildcards per ARN segment), or `plain` (no variables; compare with `compare`).
    """

    family: str
    negated: bool
    kind: str
    compare: Callable[[str, str], bool] | None = None


OPERATORS: dict[str, OperatorSpec] = {
    "StringEquals": OperatorSpec("String", False, "exact"),
    "StringNotEquals": OperatorSpec("String", True, "exact"),
    "StringEqualsIgnoreCase": OperatorSpec("String", False, "fold"),
    "StringNotEqualsIgnoreCase": OperatorSpec("String", True, "fold"),
    "StringLike": OperatorSpec("String", False, "like"),
    "StringNotLike": OperatorSpec("String", True, "like"),
    "NumericEquals": OperatorSpec("Numeric", False, "plain", _numeric(_eq)),
    "NumericNotEquals": OperatorSpec("Numeric", True, "plain", _numeric(_eq)),
    "NumericLessThan": OperatorSpec("Numeric", False, "plain", _numeric(_lt)),
    "NumericLessThanEquals": OperatorSpec("Numeric", False, "plain", _numeric(_le)),
    "NumericGreaterThan": OperatorSpec("Numeric", False, "plain", _numeric(_gt)),
    "NumericGreaterThanEquals": OperatorSpec("Numeric", False, "plain", _numeric(_ge)),
    "DateEquals": OperatorSpec("Date", False, "plain", _date(_eq)),
    "DateNotEquals": OperatorSpec("Date", True, "plain", _date(_eq)),
    "DateLessThan": OperatorSpec("Date", False, "plain", _date(_lt)),
    "DateLessThanEquals": OperatorSpec("Date", False, "plain", _date(_le)),
    "DateGreaterThan": OperatorSpec("Date", False, "plain", _date(_gt)),
    "DateGreaterThanEquals": OperatorSpec("Date", False, "plain", _date(_ge)),
    "Bool": OperatorSpec("Bool", False, "plain", _bool_equals),
    "BinaryEquals": OperatorSpec("Binary", False, "plain", _binary_equals),
    "IpAddress": OperatorSpec("IpAddress", False, "plain", _ip_in),
    "NotIpAddress": OperatorSpec("IpAddress", True, "plain", _ip_in),
    "ArnEquals": OperatorSpec("Arn", False, "arn"),
    "ArnLike": OperatorSpec("Arn", False, "arn"),
    "ArnNotEquals": OperatorSpec("Arn", True, "arn"),
    "ArnNotLike": OperatorSpec("Arn", True, "arn"),
    "Null": OperatorSpec("Null", False, "null"),
}

_LOWER_OPERATORS = {name.lower(): name for name in OPERATORS}


@dataclass(frozen=True, slots=True)
class ParsedOperator:
    base: str
    qualifier: str | None  # "ForAllValues" | "ForAnyValue" | None
    if_exists: bool


def parse_operator(text: str) -> ParsedOperator | None:
    """`ForAnyValue:StringLikeIfExists` → parts; None for an operator AWS does not know."""
    qualifier: str | None = None
    rest = text
    if ":" in rest:
        prefix, rest = rest.split(":", 1)
        lowered = prefix.lower()
        if lowered == "forallvalues":
            qualifier = "ForAllValues"
        elif lowered == "foranyvalue":
            qualifier = "ForAnyValue"
        else:
            return None
    if_exists = False
    if rest.lower().endswith("ifexists") and rest.lower() != "ifexists":
        if_exists = True
        rest = rest[: -len("IfExists")]
    base = (OPERATORS.get(rest) and rest) or _LOWER_OPERATORS.get(rest.lower())
    if base is None:
        return None
    if base == "Null" and (if_exists or qualifier):
        return None
    return ParsedOperator(base, qualifier, if_exists)


def operator_suggestions(text: str) -> list[str]:
    """Close spellings for a "did you mean" hint."""
    import difflib

    name = text.split(":", 1)[-1]
    return difflib.get_close_matches(name, list(OPERATORS), n=3, cutoff=0.6)


# -- compiled conditions ---------------------------------------------------------------------


def _split_arn(text: str) -> list[str] | None:
    parts = text.split(":", 5)
    return parts if len(parts) == 6 else None


class _PolicyValue:
    """One policy value, prepared once; variables resolved per request."""

    __slots__ = ("arn_parts", "fixed_text", "fixed_wild", "parts", "spec")

    def __init__(self, raw: str, spec: OperatorSpec, substitute: bool) -> None:
        self.spec = spec
        use_vars = spec.kind in ("exact", "fold", "like", "arn") and substitute
        self.parts: tuple[Part, ...] | None = None
        self.fixed_text: str | None = None
        self.fixed_wild: Wildcard | None = None
        self.arn_parts: list[Wildcard] | None = None
        parts = parse_template(raw, substitute=use_vars)
        if use_vars and has_variables(parts):
            self.parts = parts
            return
        tokens = to_tokens(parts, {}, frozenset(), wildcards=spec.kind in ("like", "arn"))
        assert isinstance(tokens, list)
        self._prepare(tokens)

    def _prepare(self, tokens: list[Token]) -> None:
        kind = self.spec.kind
        if kind == "like":
            self.fixed_wild = compile_tokens(tokens)
        elif kind == "arn":
            self.arn_parts = _compile_arn_tokens(tokens)
        else:
            text = literal_text(tokens)
            self.fixed_text = text.lower() if kind == "fold" else text

    def bind(
        self, context: Context, unknown: frozenset[str] | None
    ) -> _PolicyValue | Missing | frozenset[str]:
        """This value with variables substituted (self when it has none)."""
        if self.parts is None:
            return self
        tokens = to_tokens(
            self.parts, context, unknown, wildcards=self.spec.kind in ("like", "arn")
        )
        if isinstance(tokens, (Missing, frozenset)):
            return tokens
        bound = object.__new__(_PolicyValue)
        bound.spec = self.spec
        bound.parts = None
        bound.fixed_text = None
        bound.fixed_wild = None
        bound.arn_parts = None
        bound._prepare(tokens)
        return bound

    def matches(self, request: str, raw: str) -> bool:
        kind = self.spec.kind
        if kind == "exact":
            return request == self.fixed_text
        if kind == "fold":
            return request.lower() == self.fixed_text
        if kind == "like":
            assert self.fixed_wild is not None
            return self.fixed_wild.matches(request)
        if kind == "arn":
            return arn_like(self.arn_parts, request)
        assert self.spec.compare is not None
        return self.spec.compare(request, raw)


def _compile_arn_tokens(tokens: list[Token]) -> list[Wildcard] | None:
    """Split tokens at the first five literal colons; None when the pattern has fewer."""
    segments: list[list[Token]] = [[]]
    for token in tokens:
        if isinstance(token, str) and len(segments) < 6 and ":" in token:
            pieces = token.split(":")
            for index, piece in enumerate(pieces):
                if index > 0:
                    if len(segments) < 6:
                        segments.append([])
                    else:
                        segments[-1].append(":")
                if piece:
                    segments[-1].append(piece)
        else:
            segments[-1].append(token)
    if len(segments) != 6:
        return None
    return [compile_tokens(seg) for seg in segments]


def arn_like(parts: list[Wildcard] | None, request: str) -> bool:
    """ArnLike / ArnEquals: both ARNs split in six parts, each matched with wildcards
    (IAM User Guide, "Amazon Resource Name (ARN) condition operators")."""
    if parts is None:
        return False
    segments = _split_arn(request)
    if segments is None:
        return False
    return all(p.matches(s) for p, s in zip(parts, segments, strict=True))


_MEMO_SIZE = 2048
_NO_UNKNOWN: frozenset[str] = frozenset()


def _constant(value: bool) -> Callable[[Context], bool]:
    def constant(_context: Context) -> bool:
        return value

    return constant


class CompiledCondition:
    """One operator/key pair ready to evaluate. `unknown_operator` conditions never match in
    an Allow and always match in a Deny, so an unsupported operator never widens access.

    Without policy variables the answer depends only on the key's values, so it is memoised
    per distinct value tuple.
    """

    __slots__ = (
        "_checks",
        "_memo",
        "key",
        "operator",
        "parsed",
        "raw_values",
        "static",
        "values",
    )

    def __init__(
        self,
        operator: str,
        key: str,
        parsed: ParsedOperator | None,
        values: tuple[_PolicyValue, ...],
        raw_values: tuple[str, ...],
    ) -> None:
        self.operator = operator
        self.key = key  # lower-cased
        self.parsed = parsed
        self.values = values
        self.raw_values = raw_values
        self.static = all(v.parts is None for v in values)
        self._memo: dict[tuple[str, ...], bool] = {}
        self._checks: dict[bool, Callable[[Context], bool]] = {}

    def evaluate(self, context: Context, unknown: frozenset[str] | None, deny: bool) -> Tri:
        parsed = self.parsed
        if parsed is None:
            return deny
        present = context.get(self.key)
        if present is not None and len(present) == 0 and parsed.qualifier is None:
            present = None
        if present is None:
            if unknown is None or self.key in unknown:
                return frozenset((self.key,))
            if parsed.base == "Null":
                return any(v.strip().lower() == "true" for v in self.raw_values)
            if parsed.if_exists:
                return True
            if parsed.qualifier == "ForAllValues":
                return True
            if parsed.qualifier == "ForAnyValue":
                return False
            return OPERATORS[parsed.base].negated
        if parsed.base == "Null":
            return any(v.strip().lower() == "false" for v in self.raw_values)
        if self.static:
            known = self._memo.get(present)
            if known is None:
                known = self._decide(
                    parsed, present, list(zip(self.values, self.raw_values, strict=True))
                )
                if len(self._memo) >= _MEMO_SIZE:
                    self._memo.clear()
                self._memo[present] = known
            return known
        bound: list[tuple[_PolicyValue, str]] = []
        pending: frozenset[str] = frozenset()
        for value, raw in zip(self.values, self.raw_values, strict=True):
            b = value.bind(context, unknown)
            if isinstance(b, Missing):
                continue
            if isinstance(b, frozenset):
                pending |= b
                continue
            bound.append((b, raw))
        if pending:
            return pending
        return self._decide(parsed, present, bound)

    def complete_check_for(self, deny: bool) -> Callable[[Context], bool]:
        """`complete_check(deny)`, built once per condition and effect."""
        found = self._checks.get(deny)
        if found is None:
            found = self._checks[deny] = self.complete_check(deny)
        return found

    def complete_check(self, deny: bool) -> Callable[[Context], bool]:
        """`evaluate` for a complete context with no unknown keys, where the answer is
        always True or False: the parts that depend only on the policy are decided here,
        once, instead of on every request."""
        parsed = self.parsed
        if parsed is None:
            return _constant(deny)
        key = self.key
        if parsed.base == "Null":
            absent = any(v.strip().lower() == "true" for v in self.raw_values)
            present_result = any(v.strip().lower() == "false" for v in self.raw_values)
        elif parsed.if_exists or parsed.qualifier == "ForAllValues":
            absent = True
        elif parsed.qualifier == "ForAnyValue":
            absent = False
        else:
            absent = OPERATORS[parsed.base].negated
        empty_is_absent = parsed.qualifier is None
        if parsed.base == "Null":

            def null(context: Context) -> bool:
                present = context.get(key)
                if present is None or (not present and empty_is_absent):
                    return absent
                return present_result

            return null
        if not self.static:
            evaluate = self.evaluate

            def templated(context: Context) -> bool:
                present = context.get(key)
                if present is None or (not present and empty_is_absent):
                    return absent
                result = evaluate(context, _NO_UNKNOWN, deny)
                assert isinstance(result, bool)
                return result

            return templated
        memo = self._memo
        bound = list(zip(self.values, self.raw_values, strict=True))
        decide = self._decide

        def static(context: Context) -> bool:
            present = context.get(key)
            if present is None or (not present and empty_is_absent):
                return absent
            known = memo.get(present)
            if known is None:
                known = decide(parsed, present, bound)
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()
                memo[present] = known
            return known

        return static

    @staticmethod
    def _decide(
        parsed: ParsedOperator, present: tuple[str, ...], bound: list[tuple[_PolicyValue, str]]
    ) -> bool:
        negated = OPERATORS[parsed.base].negated

        def hit(request_value: str) -> bool:
            return any(v.matches(request_value, raw) for v, raw in bound)

        if parsed.qualifier == "ForAllValues":
            if negated:
                return all(not hit(r) for r in present)
            return all(hit(r) for r in present)
        if parsed.qualifier == "ForAnyValue":
            if negated:
                return any(not hit(r) for r in present)
            return any(hit(r) for r in present)
        positive = any(hit(r) for r in present)
        return not positive if negated else positive


def compile_condition(
    operator: str, key: str, values: tuple[str, ...], substitute: bool
) -> CompiledCondition:
    parsed = parse_operator(operator)
    if parsed is None:
        return CompiledCondition(operator, key.lower(), None, (), values)
    spec = OPERATORS[parsed.base]
    prepared = tuple(_PolicyValue(v, spec, substitute) for v in values)
    return CompiledCondition(operator, key.lower(), parsed, prepared, values)
