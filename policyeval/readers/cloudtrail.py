"""CloudTrail event records as recorded usage: what each principal actually called.

A record's `eventSource` host and `eventName` give the IAM action (`s3.amazonaws.com` +
`GetObject` → `s3:GetObject`). Most services use the host's first label as their action
prefix; the few that do not are listed in `_PREFIX_BY_HOST` (Service Authorization
Reference, "Actions, resources, and condition keys for AWS services", prefix of each
service). Calls made with an assumed role are attributed to the role (the session issuer),
as CloudTrail records it (CloudTrail User Guide, "CloudTrail userIdentity element").
Calls that failed (`errorCode` set) are not usage and are counted in a note.
"""

from __future__ import annotations

import re
from typing import Any

from policyeval.errors import SourceText, Span
from policyeval.model.expect import Need
from policyeval.model.workspace import Workspace
from policyeval.readers._common import BAD_SHAPE, BAD_TRAIL, Collector, items, text
from policyeval.readers.positions import InputError, load_json, span_of

#: Event-source hosts whose IAM action prefix is not their first label.
_PREFIX_BY_HOST = {
    "monitoring": "cloudwatch",
    "email": "ses",
    "api.ecr": "ecr",
    "api.pricing": "pricing",
    "runtime.sagemaker": "sagemaker",
    "runtime.lex": "lex",
    "models.lex": "lex",
    "data.iot": "iot",
    "bedrock-runtime": "bedrock",
    "streams.dynamodb": "dynamodb",
    "sso-directory": "sso-directory",
    "execute-api": "execute-api",
}
# Some APIs carry their version in the event name (`GetFunction20150331v2`).
_VERSION_SUFFIX = re.compile(r"\d{8}(v\d+)?$")


def is_cloudtrail(document: Any) -> bool:
    if not isinstance(document, dict) or not isinstance(document.get("Records"), list):
        return False
    records = document["Records"]
    return not records or (isinstance(records[0], dict) and "eventSource" in records[0])


def action_of(event_source: str, event_name: str) -> str | None:
    """The IAM action a CloudTrail event stands for, or None when the record says nothing."""
    host = event_source.strip().lower()
    if not host or not event_name:
        return None
    host = host.removesuffix(".amazonaws.com")
    prefix = _PREFIX_BY_HOST.get(host) or host.split(".", 1)[0]
    name = _VERSION_SUFFIX.sub("", event_name.strip())
    return f"{prefix}:{name}" if name else None


def principal_of(record: dict[str, Any]) -> str | None:
    identity = record.get("userIdentity")
    if not isinstance(identity, dict):
        return None
    if identity.get("type") == "AssumedRole":
        issuer = identity.get("sessionContext")
        issuer = issuer.get("sessionIssuer") if isinstance(issuer, dict) else None
        arn = text(issuer.get("arn")) if isinstance(issuer, dict) else None
        if arn:
            return arn
    return text(identity.get("arn"))


def usage_from_records(document: Any, out: Collector) -> dict[str, list[Need]]:
    """Principal ARN → the needs its successful calls show, in first-seen order."""
    usage: dict[str, dict[str, list[str]]] = {}
    spans: dict[tuple[str, str], Span | None] = {}
    failed = 0
    records = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(records, list):
        out.add(BAD_SHAPE, "CloudTrail input needs a `Records` list", span_of(document))
        return {}
    for record in records:
        if not isinstance(record, dict):
            out.add(BAD_TRAIL, "a CloudTrail record must be an object", span_of(record))
            continue
        if record.get("errorCode"):
            failed += 1
            continue
        source, name = text(record.get("eventSource")), text(record.get("eventName"))
        action = action_of(source or "", name or "")
        principal = principal_of(record)
        if action is None or principal is None:
            out.add(
                BAD_TRAIL,
                "a CloudTrail record lacks `eventSource`, `eventName` or `userIdentity`",
                span_of(record),
            )
            continue
        resources = [
            str(r["ARN"])
            for r in items(record.get("resources"))
            if isinstance(r, dict) and isinstance(r.get("ARN"), str)
        ] or ["*"]
        by_action = usage.setdefault(principal, {})
        seen = by_action.setdefault(action, [])
        for resource in resources:
            if resource not in seen:
                seen.append(resource)
        spans.setdefault((principal, action), span_of(record))
    if failed:
        out.note(
            BAD_TRAIL,
            f"{failed} failed calls (with `errorCode`) are not counted as usage",
            span_of(records),
        )
    result: dict[str, list[Need]] = {}
    for principal, by_action in usage.items():
        needs: list[Need] = []
        for action, resources in by_action.items():
            chosen = ("*",) if "*" in resources else tuple(resources)
            needs.append(Need(action=action, resources=chosen, span=spans[(principal, action)]))
        result[principal] = needs
    return result


def read_cloudtrail_usage(
    text_: str, path: str, *, document: Any = None
) -> tuple[dict[str, list[Need]], Workspace]:
    """Usage by principal, plus a Workspace holding the same usage and the diagnostics."""
    sources = SourceText()
    sources.add(path, text_)
    if document is None:
        try:
            document = load_json(text_, path)
        except InputError as exc:
            return {}, Workspace(diagnostics=(exc.diagnostic,), sources=sources)
    out = Collector(path)
    usage = usage_from_records(document, out)
    workspace = Workspace(
        recorded_usage=tuple((p, tuple(n)) for p, n in usage.items()),
        diagnostics=tuple(out.diagnostics),
        sources=sources,
    )
    return usage, workspace
