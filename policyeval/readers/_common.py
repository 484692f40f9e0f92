"""Small pieces every reader shares: diagnostic codes, typed field access, and turning an
already-loaded IAM policy document (from a template, plan or account dump) into a `Policy`.

Codes of the readers (PE060–PE089; limits are PE090–PE099 in `positions.py`):

- PE060 malformed JSON, PE061 malformed YAML (raised by `positions`)
- PE062 a field has the wrong shape (a list where a mapping belongs …)
- PE063 a value could not be resolved (CloudFormation intrinsic, Terraform unknown): UNKNOWN
- PE064 (unused: embedded policy documents report the IAM JSON reader's PE040–PE059)
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
from policyeval.model.policy import Policy
from policyeval.readers.positions import span_of

BAD_SHAPE = "PE062"
UNRESOLVED = "PE063"
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


def policy_from_document(
    document: Any, name: str, out: Collector, where: Span | None = None
) -> Policy | None:
    """An IAM policy document embedded in a template, plan or dump, as a `Policy`.

    Delegates to the IAM JSON reader so every input obeys the same element rules (PE040–
    PE059); a document AWS would refuse gives diagnostics and no policy.
    """
    from policyeval.readers.iam_json import policy_from_document as convert

    policy, diagnostics = convert(document, name, out.path, where)
    out.diagnostics.extend(diagnostics)
    return policy


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
