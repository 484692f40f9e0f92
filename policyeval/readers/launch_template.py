"""EC2 launch-template facts that decide whether containers reach host credentials.

- Metadata options (EC2 User Guide, "Configure the instance metadata options"): endpoint,
  tokens, hop limit, IPv6. A field the input leaves out stays None: the resolver applies
  (and reports) AWS's default, the reader never guesses it.
- User data: ECS agent settings written to `/etc/ecs/ecs.config` (ECS Developer Guide,
  "Amazon ECS container agent configuration"; e.g. `ECS_AWSVPC_BLOCK_IMDS=true`) and
  iptables rules that drop container traffic to IMDS (ECS Developer Guide, "Task IAM role",
  the `DOCKER-USER`/`FORWARD` DROP recipes).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from typing import Any

from policyeval.errors import Span
from policyeval.model.topology import UNKNOWN, HostSettings, MetadataOptions
from policyeval.readers._common import as_int, text
from policyeval.readers.positions import span_of

_CFN_KEYS = {
    "http_endpoint": "HttpEndpoint",
    "http_tokens": "HttpTokens",
    "hop_limit": "HttpPutResponseHopLimit",
    "http_protocol_ipv6": "HttpProtocolIpv6",
}
_TF_KEYS = {
    "http_endpoint": "http_endpoint",
    "http_tokens": "http_tokens",
    "hop_limit": "http_put_response_hop_limit",
    "http_protocol_ipv6": "http_protocol_ipv6",
}

_ECS_CONFIG = "/etc/ecs/ecs.config"
_AGENT_SETTING = re.compile(r"\b(ECS_[A-Z0-9_]+)=(\"[^\"\n]*\"|'[^'\n]*'|[^\s\"'>|;&]*)")
_IMDS_V4 = "169.254.169.254"
_DROP = re.compile(r"(-j|--jump)\s+(DROP|REJECT)\b")


def metadata_from(
    raw: Any, *, terraform: bool = False, resolve: Callable[[Any], Any] = lambda v: v
) -> MetadataOptions | None:
    """Launch template `MetadataOptions` (CloudFormation) or `metadata_options` (Terraform)."""
    if isinstance(raw, list):  # Terraform blocks are one-element lists
        raw = raw[0] if raw else None
    if not isinstance(raw, dict):
        return None
    keys = _TF_KEYS if terraform else _CFN_KEYS
    values: dict[str, Any] = {}
    for attr, key in keys.items():
        value = resolve(raw.get(key))
        if attr == "hop_limit":
            values[attr] = as_int(value)
        else:
            found = text(value)
            values[attr] = found.lower() if found and found != UNKNOWN else None
    return MetadataOptions(**values, span=span_of(raw))


def decode_user_data(value: str) -> str:
    """User data as text: base64 is decoded when it decodes to text, else kept as written."""
    compact = "".join(value.split())
    if compact and len(compact) % 4 == 0 and re.fullmatch(r"[A-Za-z0-9+/]+=*", compact):
        try:
            decoded = base64.b64decode(compact, validate=True)
            return decoded.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            pass
    return value


def host_settings_from_user_data(user_data: str, span: Span | None) -> HostSettings:
    """Agent settings and iptables IMDS blocks found in a user-data script.

    `ECS_*=` assignments count only when the script writes `/etc/ecs/ecs.config` (heredoc,
    `echo … >>`, `tee`); the last assignment of a name wins, as in the file itself.
    """
    script = decode_user_data(user_data)
    agent: dict[str, str] = {}
    if _ECS_CONFIG in script:
        for match in _AGENT_SETTING.finditer(script):
            agent[match.group(1)] = match.group(2).strip("\"'")
    blocks: bool | None = None
    for line in script.splitlines():
        if _IMDS_V4 in line and _DROP.search(line) and not line.lstrip().startswith("#"):
            blocks = True
    return HostSettings(agent=tuple(agent.items()), iptables_blocks_imds=blocks, span=span)


def instance_profile_name(raw: Any, resolve: Callable[[Any], Any] = lambda v: v) -> str | None:
    """`IamInstanceProfile` {Arn|Name} / `iam_instance_profile` [{arn, name}] as text."""
    if isinstance(raw, list):
        raw = raw[0] if raw else None
    if not isinstance(raw, dict):
        return None
    for key in ("Arn", "Name", "arn", "name"):
        value = resolve(raw.get(key))
        if isinstance(value, str) and value:
            return str(value)
    return None
