"""IAM policy documents: bare, or wrapped as the AWS CLI and API return them.

Accepted shapes: a bare document; `get-role-policy` / `get-user-policy` output
(`PolicyDocument`); `get-policy-version` output (`PolicyVersion.Document`); a document held
as a JSON string, or URL-encoded as the raw IAM API returns it; resource-policy wrappers
(`Policy`, `policyText`). A document that AWS would refuse gets coded diagnostics and no
policy: AWS never grants anything through a policy it did not accept.

Codes: PE040 not a policy document, PE041 unknown top-level element, PE042 unknown Version,
PE043 missing or malformed Statement, PE044 unknown statement element, PE045 bad Effect,
PE046 Action/NotAction, PE047 Resource/NotResource, PE048 Principal/NotPrincipal,
PE049 malformed Condition block, PE050 unknown condition operator, PE051 element value
of the wrong type.
"""

from __future__ import annotations

import functools
import json
import urllib.parse
from pathlib import Path
from typing import Any

from policyeval.compiler.conditions import operator_suggestions, parse_operator
from policyeval.errors import Diagnostic, Severity, Span
from policyeval.limits import (
    CODE_POLICY_TOO_LARGE,
    MAX_POLICY_ENTRIES,
    TOO_LARGE_HELP,
    policy_entries,
    too_large_message,
)
from policyeval.model.policy import (
    KNOWN_VERSIONS,
    Condition,
    Effect,
    Policy,
    Principal,
    Statement,
)
from policyeval.model.trusted import trusted
from policyeval.readers.positions import InputError, key_span, load_json, span_at, span_of

# Nodes are built from values this reader has checked and turned into plain `str` (`_str`):
# validating them again could change nothing (tests/unit/test_iam_json_trusted.py).
_new_policy = trusted(Policy)
_new_statement = trusted(Statement)
_new_principal = trusted(Principal)
_new_condition = trusted(Condition)


def _str(value: str) -> str:
    """A plain `str` (the position-aware loader hands out a `str` subclass)."""
    return value if type(value) is str else str.__str__(value)


_TOP = {"Version", "Id", "Statement"}
_STATEMENT = {
    "Sid",
    "Effect",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Principal",
    "NotPrincipal",
    "Condition",
}
_PRINCIPAL_KINDS = ("AWS", "Service", "Federated", "CanonicalUser")


class _Collector:
    def __init__(self, path: str, fallback: Span | None) -> None:
        self.path = path
        self.fallback = fallback
        self.items: list[Diagnostic] = []

    def span(self, container: Any, key: str | int | None = None) -> Span | None:
        found = span_of(container) if key is None else span_at(container, key)
        return found or self.fallback

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.items.append(Diagnostic(code, Severity.ERROR, message, span or self.fallback, hint))


def looks_like_policy(document: Any) -> bool:
    """True for a bare policy document or one of the wrappers this reader accepts."""
    return _unwrap(document)[0] is not None


def _unwrap(document: Any) -> tuple[Any, str | None]:
    """The policy document inside known wrappers, and a name the wrapper gives it."""
    name: str | None = None
    for _ in range(3):
        if isinstance(document, str):
            document = _decode_string_document(document)
            continue
        if not isinstance(document, dict):
            return None, name
        if "Statement" in document:
            return document, name
        if isinstance(document.get("PolicyName"), str):
            name = document["PolicyName"]
        for key in ("PolicyDocument", "Document", "Policy", "policyText", "PolicyVersion"):
            if key in document:
                document = document[key]
                break
        else:
            return None, name
    return (document if isinstance(document, dict) and "Statement" in document else None), name


def _decode_string_document(text: str) -> Any:
    candidate = text.strip()
    if candidate.startswith("%7B") or candidate.startswith("%7b"):
        candidate = urllib.parse.unquote(candidate)
    try:
        return json.loads(candidate)
    except (ValueError, RecursionError):
        return None


def policy_from_document(
    document: Any,
    name: str,
    path: str = "<input>",
    span: Span | None = None,
    *,
    max_entries: int = MAX_POLICY_ENTRIES,
) -> tuple[Policy | None, list[Diagnostic]]:
    """Validate a parsed document (positions kept when it came from `load_json`).

    A document holding more than `max_entries` entries is refused (PE093): AWS refuses it too.
    """
    fallback = span or span_of(document) or _file_start(path)
    out = _Collector(path, fallback)
    inner, wrapped_name = _unwrap(document)
    if inner is None:
        out.error(
            "PE040",
            "not an IAM policy document: expected an object with a `Statement` element",
            out.span(document),
            'a policy looks like {"Version": "2012-10-17", "Statement": [...]}',
        )
        return None, out.items
    if inner is not document and span_of(inner) is None:
        # A document held in a string: positions point at that string.
        out.fallback = span_of(document) or fallback
    policy = _policy(inner, wrapped_name or name, out)
    if policy is not None and not out.items:
        entries = policy_entries(policy)
        if entries > max_entries:
            out.error(
                CODE_POLICY_TOO_LARGE,
                too_large_message(entries, max_entries),
                policy.span or out.fallback,
                TOO_LARGE_HELP,
            )
    return (policy if not out.items else None), out.items


def _policy(doc: dict[str, Any], name: str, out: _Collector) -> Policy | None:
    for key in doc:
        if key not in _TOP:
            out.error(
                "PE041",
                f"unknown policy element `{key}`",
                key_span(doc, key) or out.span(doc, key),
                _hint(key, _TOP),
            )
    version = doc.get("Version")
    if version is not None and version not in KNOWN_VERSIONS:
        out.error(
            "PE042",
            f"unknown policy Version `{version}`",
            out.span(doc, "Version"),
            'use "2012-10-17" (the only version with policy variables) or "2008-10-17"',
        )
    raw = doc.get("Statement")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if items is None:
        out.error(
            "PE043",
            "`Statement` must be an object or a list of objects",
            out.span(doc, "Statement"),
        )
        return None
    statements: list[Statement] = []
    for index, item in enumerate(items):
        where = out.span(items, index) if isinstance(raw, list) else out.span(doc, "Statement")
        if not isinstance(item, dict):
            out.error("PE043", "each statement must be an object", where)
            continue
        stmt = _statement(item, out, where)
        if stmt is not None:
            statements.append(stmt)
    doc_id = doc.get("Id")
    return _new_policy(
        name=_str(name),
        statements=tuple(statements),
        version=_str(version) if isinstance(version, str) else None,
        id=_str(doc_id) if isinstance(doc_id, str) else None,
        span=out.span(doc),
    )


@functools.lru_cache(maxsize=256)
def _file_start(path: str) -> Span:
    """The first position of `path`, where a diagnostic without a better place points
    (shared: the batch reads a policy per case from the same pseudo-path)."""
    return Span(path, 1, 1)


def _hint(word: str, choices: set[str] | tuple[str, ...]) -> str | None:
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def _strings(stmt: dict[str, Any], key: str, out: _Collector) -> tuple[str, ...] | None:
    if key not in stmt:
        return None
    value = stmt[key]
    if type(value) is str:  # the common shapes, already plain `str`
        return (value,)
    if type(value) is list and value and all(type(v) is str for v in value):
        return tuple(value)
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) for v in items):
        out.error(
            "PE051", f"`{key}` must be a string or a non-empty list of strings", out.span(stmt, key)
        )
        return ()
    return tuple(str(v) for v in items)


def _statement(stmt: dict[str, Any], out: _Collector, where: Span | None) -> Statement | None:
    errors_before = len(out.items)
    for key in stmt:
        if key not in _STATEMENT:
            out.error(
                "PE044",
                f"unknown statement element `{key}`",
                key_span(stmt, key) or out.span(stmt, key),
                _hint(key, _STATEMENT),
            )
    effect_raw = stmt.get("Effect")
    effect: Effect | None = None
    if effect_raw == "Allow":
        effect = Effect.ALLOW
    elif effect_raw == "Deny":
        effect = Effect.DENY
    else:
        out.error(
            "PE045",
            f"`Effect` must be `Allow` or `Deny`, not `{effect_raw}`"
            if effect_raw is not None
            else "statement has no `Effect`",
            out.span(stmt, "Effect") if "Effect" in stmt else where,
        )
    if ("Action" in stmt) == ("NotAction" in stmt):
        out.error("PE046", "a statement needs exactly one of `Action` and `NotAction`", where)
    if "Resource" in stmt and "NotResource" in stmt:
        out.error("PE047", "a statement cannot have both `Resource` and `NotResource`", where)
    if "Principal" in stmt and "NotPrincipal" in stmt:
        out.error("PE048", "a statement cannot have both `Principal` and `NotPrincipal`", where)
    sid = stmt.get("Sid")
    if sid is not None and not isinstance(sid, str):
        out.error("PE051", "`Sid` must be a string", out.span(stmt, "Sid"))
    action = _strings(stmt, "Action", out)
    not_action = _strings(stmt, "NotAction", out)
    resource = _strings(stmt, "Resource", out)
    not_resource = _strings(stmt, "NotResource", out)
    principal = _principals(stmt, "Principal", out)
    not_principal = _principals(stmt, "NotPrincipal", out)
    conditions = _conditions(stmt, out)
    if len(out.items) > errors_before or effect is None:
        return None
    return _new_statement(
        effect=effect,
        sid=_str(sid) if isinstance(sid, str) else None,
        action=action,
        not_action=not_action,
        resource=resource,
        not_resource=not_resource,
        principal=principal,
        not_principal=not_principal,
        condition=conditions,
        span=where,
    )


def _principals(stmt: dict[str, Any], key: str, out: _Collector) -> tuple[Principal, ...] | None:
    if key not in stmt:
        return None
    value = stmt[key]
    if value == "*":
        return (_new_principal("*", "*", out.span(stmt, key)),)
    if not isinstance(value, dict) or not value:
        out.error(
            "PE048",
            f'`{key}` must be "*" or an object such as {{"AWS": [...]}}',
            out.span(stmt, key),
        )
        return ()
    entries: list[Principal] = []
    for kind, raw in value.items():
        if kind not in _PRINCIPAL_KINDS:
            out.error(
                "PE048",
                f"unknown principal type `{kind}`",
                out.span(value, kind),
                _hint(kind, _PRINCIPAL_KINDS),
            )
            continue
        items = raw if isinstance(raw, list) else [raw]
        for index, item in enumerate(items):
            if not isinstance(item, str):
                out.error("PE051", f"`{key}.{kind}` values must be strings", out.span(value, kind))
                continue
            span = out.span(items, index) if isinstance(raw, list) else out.span(value, kind)
            entries.append(_new_principal(_str(kind), _str(item), span))
    return tuple(entries)


def _conditions(stmt: dict[str, Any], out: _Collector) -> tuple[Condition, ...]:
    if "Condition" not in stmt:
        return ()
    block = stmt["Condition"]
    if not isinstance(block, dict):
        out.error(
            "PE049", "`Condition` must be an object of operators", out.span(stmt, "Condition")
        )
        return ()
    conditions: list[Condition] = []
    for operator, keys in block.items():
        if parse_operator(operator) is None:
            close = operator_suggestions(operator)
            out.error(
                "PE050",
                f"unknown condition operator `{operator}`",
                out.span(block, operator),
                f"did you mean `{close[0]}`?" if close else None,
            )
            continue
        if not isinstance(keys, dict) or not keys:
            out.error(
                "PE049",
                f"`{operator}` must map condition keys to values",
                out.span(block, operator),
            )
            continue
        for key, raw in keys.items():
            items = raw if isinstance(raw, list) else [raw]
            if not all(isinstance(v, (str, bool, int, float)) for v in items):
                out.error(
                    "PE049",
                    f"values of `{key}` must be strings, numbers or booleans",
                    out.span(keys, key),
                )
                continue
            values = tuple(_text(v) for v in items)
            conditions.append(
                _new_condition(_str(operator), _str(key), values, out.span(keys, key))
            )
    return tuple(conditions)


def _text(value: str | bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def load_policy_text(
    text: str, path: str, name: str | None = None, *, max_entries: int = MAX_POLICY_ENTRIES
) -> tuple[Policy | None, list[Diagnostic]]:
    """Parse and validate policy JSON text, keeping positions."""
    try:
        document = load_json(text, path)
    except InputError as exc:
        return None, [exc.diagnostic]
    return policy_from_document(document, name or Path(path).stem, path, max_entries=max_entries)


def load_policy_file(path: str, text: str | None = None) -> tuple[Policy | None, list[Diagnostic]]:
    """Read one policy file; unreadable files are diagnostics too."""
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return None, [
                Diagnostic(
                    "PE040",
                    Severity.ERROR,
                    f"cannot read file: {exc}",
                    Span(path, 1, 1),
                )
            ]
    return load_policy_text(text, path)
