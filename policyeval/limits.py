"""Limits that keep the cost of hostile input bounded, in one place (codes PE090–PE099).

Each limit is a default that a caller can raise on purpose: `--max-file-size` on the CLI,
keyword parameters in the library (`load_paths(max_bytes=)`, `load_json(max_depth=)`,
`policy_from_document(max_entries=)` …). docs/diagnostics.md lists them with their codes.
"""

from __future__ import annotations

from policyeval.model.policy import Policy

#: Most entries one policy document may hold: Action/NotAction, Resource/NotResource and
#: Principal values plus condition values, over all its statements. AWS refuses documents
#: long before this (IAM User Guide, "IAM and AWS STS quotas": managed policies 6,144
#: characters, role inline policies 10,240, SCPs 5,120), so a larger one cannot be real; the
#: cap keeps per-action work in `effective` (actions × statement entries) bounded.
MAX_POLICY_ENTRIES = 4096
CODE_POLICY_TOO_LARGE = "PE093"


def policy_entries(policy: Policy) -> int:
    """How many entries the policy's statements hold (see `MAX_POLICY_ENTRIES`)."""
    total = 0
    for statement in policy.statements:
        for values in (
            statement.action,
            statement.not_action,
            statement.resource,
            statement.not_resource,
            statement.principal,
            statement.not_principal,
        ):
            total += len(values) if values is not None else 0
        total += sum(len(c.values) for c in statement.condition)
    return total


def too_large_message(entries: int, limit: int) -> str:
    return f"policy holds {entries} entries, more than the limit of {limit}"


TOO_LARGE_HELP = (
    "AWS refuses policy documents this large (6,144 characters for a managed policy); "
    "split it, or raise the limit on purpose with `max_entries=`"
)


_SIZE_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def parse_size(text: str) -> int | None:
    """`65536`, `64K`, `64M`, `1G` (binary units, case-insensitive) → bytes; None when the
    text is not a positive size."""
    raw = text.strip().lower().removesuffix("b").removesuffix("i")
    unit = raw[-1:] if raw[-1:] in _SIZE_UNITS else ""
    number = raw[: len(raw) - len(unit)].strip()
    if not number.isdigit() or int(number) <= 0:
        return None
    return int(number) * _SIZE_UNITS[unit]
