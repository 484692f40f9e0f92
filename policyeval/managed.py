"""AWS managed policies bundled with policyeval, looked up by name or ARN.

AWS changes managed policies over time, so each document carries the version id and date
it was taken at (`data/managed_policies/index.json`). A live account dump that includes the
policy's `PolicyVersionList` takes precedence; this data is the fall-back for attachments
whose document the input does not contain. Updating the data means replacing the JSON files
and their index entries.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from policyeval.model.topology import ManagedPolicy

_AWS_POLICY_MARKER = ":iam::aws:policy/"
#: How spans of bundled documents name their file (they are not in the user's tree).
BUNDLED_PREFIX = "aws-managed/"


@dataclass(frozen=True, slots=True)
class ManagedPolicyInfo:
    """Where a bundled managed policy came from: its ARN, version id and version date."""

    name: str
    arn: str
    version: str
    date: str
    file: str


def is_aws_managed_arn(arn: str) -> bool:
    """`arn:<partition>:iam::aws:policy/...` names a policy AWS owns."""
    return arn.startswith("arn:") and _AWS_POLICY_MARKER in arn


@functools.cache
def bundled_managed_policies() -> tuple[ManagedPolicyInfo, ...]:
    """Every bundled policy, in index order."""
    raw = _data_dir().joinpath("index.json").read_text(encoding="utf-8")
    index = json.loads(raw)
    return tuple(
        ManagedPolicyInfo(
            name=entry["name"],
            arn=entry["arn"],
            version=entry["version"],
            date=entry["date"],
            file=entry["file"],
        )
        for entry in index["policies"]
    )


def bundled_snapshot() -> str:
    """Which upstream snapshot the bundled documents were taken from."""
    index = json.loads(_data_dir().joinpath("index.json").read_text(encoding="utf-8"))
    return str(index["snapshot"])


def managed_policy_info(name_or_arn: str) -> ManagedPolicyInfo | None:
    """The bundled entry for a policy name (`AmazonECSTaskExecutionRolePolicy`) or an AWS
    managed policy ARN in any partition (the path, e.g. `service-role/`, must match)."""
    key = name_or_arn.strip()
    if key.startswith("arn:"):
        if not is_aws_managed_arn(key):
            return None
        tail = key.split(_AWS_POLICY_MARKER, 1)[1]
        for info in bundled_managed_policies():
            if info.arn.split(_AWS_POLICY_MARKER, 1)[1] == tail:
                return info
        return None
    for info in bundled_managed_policies():
        if info.name == key:
            return info
    return None


def managed_policy(name_or_arn: str) -> ManagedPolicy | None:
    """The bundled AWS managed policy with its default version's document, or None."""
    info = managed_policy_info(name_or_arn)
    if info is None:
        return None
    return _load(info.name)


@functools.cache
def _load(name: str) -> ManagedPolicy | None:
    from policyeval.readers._common import Collector, policy_from_document
    from policyeval.readers.positions import load_json

    info = managed_policy_info(name)
    if info is None:  # pragma: no cover - callers pass indexed names only
        return None
    path = f"{BUNDLED_PREFIX}{info.file}"
    document = load_json(_data_dir().joinpath(info.file).read_text(encoding="utf-8"), path)
    out = Collector(path)
    policy = policy_from_document(document, info.name, out)
    # INVARIANT: bundled documents are valid; a test loads every one and checks this.
    if policy is None or out.diagnostics:
        return None
    return ManagedPolicy(name=info.name, arn=info.arn, document=policy, span=policy.span)


def _data_dir() -> Path:
    # Package data next to this module (shipped in the wheel with the package).
    return Path(__file__).parent / "data" / "managed_policies"
