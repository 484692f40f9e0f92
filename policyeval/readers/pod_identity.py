"""EKS Pod Identity associations (`aws eks describe-pod-identity-association` output).

An association maps (cluster, namespace, service account) to a role; it lives in the EKS
API, not in Kubernetes (EKS User Guide, "Learn how EKS Pod Identity grants pods access to
AWS services"). With `targetRoleArn` EKS chains into that role and the pod receives the
target role's credentials (EKS API Reference, "PodIdentityAssociation").
"""

from __future__ import annotations

from typing import Any

from policyeval.errors import SourceText
from policyeval.model.topology import Ref, ServiceAccount
from policyeval.model.workspace import Workspace
from policyeval.readers._common import BAD_SHAPE, Collector, items, text
from policyeval.readers.positions import InputError, load_json, span_near, span_of

_REQUIRED = ("clusterName", "namespace", "serviceAccount")


def is_association(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    inner = document.get("association")
    if isinstance(inner, dict):
        return True
    listed = document.get("associations")
    if isinstance(listed, list):
        return True
    return all(key in document for key in (*_REQUIRED, "roleArn"))


def read_pod_identity(text_: str, path: str, *, document: Any = None) -> Workspace:
    sources = SourceText()
    sources.add(path, text_)
    if document is None:
        try:
            document = load_json(text_, path)
        except InputError as exc:
            return Workspace(diagnostics=(exc.diagnostic,), sources=sources)
    out = Collector(path)
    raw_list: list[Any]
    if isinstance(document, dict) and isinstance(document.get("association"), dict):
        raw_list = [document["association"]]
    elif isinstance(document, dict) and isinstance(document.get("associations"), list):
        raw_list = items(document["associations"])
    else:
        raw_list = [document]
    accounts = [a for raw in raw_list if (a := _association(raw, out)) is not None]
    return Workspace(
        service_accounts=tuple(accounts), diagnostics=tuple(out.diagnostics), sources=sources
    )


def _association(raw: Any, out: Collector) -> ServiceAccount | None:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) for k in _REQUIRED):
        out.add(
            BAD_SHAPE,
            "a pod identity association needs `clusterName`, `namespace` and `serviceAccount`",
            span_of(raw),
        )
        return None
    key = "targetRoleArn" if text(raw.get("targetRoleArn")) else "roleArn"
    arn = text(raw.get(key))
    role = Ref(value=arn, span=span_near(raw, key)) if arn else None
    if role is None:
        out.add(BAD_SHAPE, "a pod identity association has no `roleArn`", span_of(raw))
    return ServiceAccount(
        namespace=str(raw["namespace"]),
        name=str(raw["serviceAccount"]),
        cluster=str(raw["clusterName"]),
        pod_identity_role=role,
        span=span_of(raw),
    )
