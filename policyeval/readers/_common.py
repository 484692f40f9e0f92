"""Small pieces every reader shares: diagnostic codes, typed field access, and turning an
already-loaded IAM policy document (from a template, plan or account dump) into a `Policy`.

Codes of the readers (PE060–PE089; limits are PE090–PE099 in `positions.py`):

- PE060 malformed JSON, PE061 malformed YAML (raised by `positions`)
- PE062 a field has the wrong shape (a list where a mapping belongs …)
- PE063 a value could not be resolved (CloudFormation intrinsic, Terraform unknown): UNKNOWN
- PE064 an embedded IAM policy document is malformed
- PE065 part of the input is not modelled (users and groups, an unknown resource type)
- PE066 a needs file is malformed
- PE067 a CloudTrail record cannot be mapped to an action
- PE068 an approximation was made (pseudo parameters, URL-encoded documents …)
- PE069 a file's format was not recognised
- PE070 a file could not be read (missing, not UTF-8, a directory loop …)
- PE071 a reader that belongs to another stage is not available
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from policyeval.errors import Diagnostic, Severity, Span
from policyeval.model.policy import Condition, Effect, Policy, Principal, Statement
from policyeval.readers.positions import span_near, span_of

BAD_SHAPE = "PE062"
UNRESOLVED = "PE063"
BAD_POLICY = "PE064"
NOT_MODELLED = "PE065"
BAD_NEEDS = "PE066"
BAD_TRAIL = "PE067"
APPROXIMATED = "PE068"
UNRECOGNISED = "PE069"
UNREADABLE = "PE070"
MISSING_READER = "PE071"


@dataclass
class Collector:
    """Diagnostics of one file, plus the file's path for spans of last resort."""

    path: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(
        self,
        code: str,
        message: str,
        span: Span | None = None,
        *,
        severity: Severity = Severity.ERROR,
        hint: str | None = None,
    ) -> None:
        self.diagnostics.append(
            Diagnostic(code, severity, message, span=span or Span(self.path, 1, 1), help=hint)
        )

    def note(
        self, code: str, message: str, span: Span | None = None, hint: str | None = None
    ) -> None:
        self.add(code, message, span, severity=Severity.INFO, hint=hint)

    def warn(
        self, code: str, message: str, span: Span | None = None, hint: str | None = None
    ) -> None:
        self.add(code, message, span, severity=Severity.MEDIUM, hint=hint)


def text(value: Any) -> str | None:
    """A plain `str` (never a spanned subclass) or None when the value is not text."""
    return str(value) if isinstance(value, str) else None


def as_bool(value: Any) -> bool | None:
    """JSON booleans, and the strings CloudFormation and Terraform write for them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def mapping(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


def items(value: Any) -> list[Any]:
    """A list as a list; a single value as a one-element list; nothing as empty."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def short(value: Any, limit: int = 60) -> str:
    """User text for a message, trimmed and safe inside backticks."""
    shown = str(value).replace("`", "'").replace("\n", " ")
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


# -- IAM policy documents ----------------------------------------------------------------

_STATEMENT_KEYS = {
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


def condition_text(value: Any) -> str | None:
    """IAM compares condition values as text: `true` and `"true"` are the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return str(value)
    return None


def policy_from_document(
    document: Any, name: str, out: Collector, where: Span | None = None
) -> Policy | None:
    """An IAM JSON policy document (already loaded, spans kept) as a `Policy`.

    Statements that cannot be read are reported (PE064) and left out; a document without any
    readable statement gives None. The element rules follow the IAM User Guide, "IAM JSON
    policy element reference" (`Statement` may be one object; `Action`, `Resource` and
    `Principal` values may be a string or a list).
    """
    anchor = span_of(document) or where
    if not isinstance(document, dict):
        out.add(BAD_POLICY, f"policy `{short(name)}` is not a JSON object", anchor)
        return None
    raw_statements = document.get("Statement")
    if raw_statements is None:
        out.add(BAD_POLICY, f"policy `{short(name)}` has no `Statement`", anchor)
        return None
    statements: list[Statement] = []
    for raw in items(raw_statements):
        statement = _statement(raw, name, out, anchor)
        if statement is not None:
            statements.append(statement)
    version = document.get("Version")
    if version is not None and not isinstance(version, str):
        out.add(BAD_POLICY, "`Version` must be text", span_near(document, "Version"))
        version = None
    policy_id = document.get("Id")
    return Policy(
        name=name,
        statements=tuple(statements),
        version=str(version) if isinstance(version, str) else None,
        id=str(policy_id) if isinstance(policy_id, str) else None,
        span=anchor,
    )


def _strings(raw: Any, element: str, out: Collector, parent: Any) -> tuple[str, ...] | None:
    values = items(raw)
    if not values or not all(isinstance(v, str) for v in values):
        out.add(
            BAD_POLICY,
            f"`{element}` must be text or a list of text",
            span_near(parent, element),
        )
        return None
    return tuple(str(v) for v in values)


def _statement(raw: Any, name: str, out: Collector, anchor: Span | None) -> Statement | None:
    where = span_of(raw) or anchor
    if not isinstance(raw, dict):
        out.add(BAD_POLICY, f"a statement of policy `{short(name)}` is not an object", where)
        return None
    for key in raw:
        if key not in _STATEMENT_KEYS:
            out.add(
                BAD_POLICY,
                f"unknown statement element `{short(key)}` in policy `{short(name)}`",
                span_near(raw, key),
                hint="AWS rejects documents with unknown elements",
            )
            return None
    effect_raw = raw.get("Effect")
    if effect_raw not in ("Allow", "Deny"):
        out.add(
            BAD_POLICY,
            f"statement `Effect` must be `Allow` or `Deny`, not `{short(effect_raw)}`",
            span_near(raw, "Effect"),
        )
        return None
    fields: dict[str, Any] = {}
    for element, attr in (
        ("Action", "action"),
        ("NotAction", "not_action"),
        ("Resource", "resource"),
        ("NotResource", "not_resource"),
    ):
        if element in raw:
            values = _strings(raw[element], element, out, raw)
            if values is None:
                return None
            fields[attr] = values
    if ("action" in fields) == ("not_action" in fields):
        out.add(
            BAD_POLICY,
            "a statement needs exactly one of `Action` and `NotAction`",
            where,
        )
        return None
    if "resource" in fields and "not_resource" in fields:
        out.add(BAD_POLICY, "a statement has both `Resource` and `NotResource`", where)
        return None
    for element, attr in (("Principal", "principal"), ("NotPrincipal", "not_principal")):
        if element in raw:
            principals = _principals(raw[element], element, out, raw)
            if principals is None:
                return None
            fields[attr] = principals
    conditions: list[Condition] = []
    if "Condition" in raw:
        block = raw["Condition"]
        if not isinstance(block, dict):
            out.add(BAD_POLICY, "`Condition` must be an object", span_near(raw, "Condition"))
            return None
        for operator, keys in block.items():
            if not isinstance(keys, dict):
                out.add(
                    BAD_POLICY,
                    f"condition operator `{short(operator)}` must map keys to values",
                    span_near(block, operator),
                )
                return None
            for key, values in keys.items():
                texts = [condition_text(v) for v in items(values)]
                if any(t is None for t in texts):
                    out.add(
                        BAD_POLICY,
                        f"condition key `{short(key)}` has a value that is not text",
                        span_near(keys, key),
                    )
                    return None
                conditions.append(
                    Condition(
                        operator=str(operator),
                        key=str(key),
                        values=tuple(t for t in texts if t is not None),
                        span=span_near(keys, key),
                    )
                )
    sid = raw.get("Sid")
    return Statement(
        effect=Effect(str(effect_raw)),
        sid=str(sid) if isinstance(sid, str) else None,
        condition=tuple(conditions),
        span=where,
        **fields,
    )


def _principals(
    raw: Any, element: str, out: Collector, parent: Any
) -> tuple[Principal, ...] | None:
    if raw == "*":
        return (Principal(kind="*", value="*", span=span_near(parent, element)),)
    if not isinstance(raw, dict):
        out.add(
            BAD_POLICY,
            f'`{element}` must be `"*"` or an object such as `{{"Service": …}}`',
            span_near(parent, element),
        )
        return None
    found: list[Principal] = []
    for kind, values in raw.items():
        for index, value in enumerate(items(values)):
            if not isinstance(value, str):
                out.add(
                    BAD_POLICY,
                    f"`{element}` `{short(kind)}` values must be text",
                    span_near(raw, kind),
                )
                return None
            at = span_of(value) or span_near(raw, kind)
            del index
            found.append(Principal(kind=str(kind), value=str(value), span=at))
    return tuple(found)


def needs_from_list(raw: Any, out: Collector, where: Span | None = None) -> tuple[Any, ...]:
    """A needs list: `["s3:GetObject", {"action": "sqs:SendMessage", "resources": [...]}]`
    (also `Action`/`Resource`, or a mapping with a `needs` list)."""
    from policyeval.model.expect import Need

    if isinstance(raw, dict):
        raw = raw.get("needs", raw.get("Needs"))
    if not isinstance(raw, list):
        out.add(BAD_NEEDS, "a needs file must hold a list of actions", span_of(raw) or where)
        return ()
    needs: list[Need] = []
    for entry in raw:
        at = span_of(entry) or where
        if isinstance(entry, str):
            needs.append(Need(action=str(entry), span=at))
            continue
        if isinstance(entry, dict):
            action = entry.get("action", entry.get("Action"))
            resources = entry.get("resources", entry.get("Resource", entry.get("resource", "*")))
            values = items(resources)
            if isinstance(action, str) and values and all(isinstance(v, str) for v in values):
                needs.append(
                    Need(action=str(action), resources=tuple(str(v) for v in values), span=at)
                )
                continue
        out.add(
            BAD_NEEDS,
            f"a need must be an action or `{{action, resources}}`, not `{short(entry)}`",
            at,
        )
    return tuple(needs)


def first(values: Iterable[Any]) -> Any:
    for value in values:
        return value
    return None
