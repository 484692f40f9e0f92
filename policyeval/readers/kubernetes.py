"""Kubernetes manifests: ServiceAccounts (IRSA annotation) and workloads (pod specs).

Multi-document YAML (or JSON, or a `kind: List`). What matters for credentials (EKS User
Guide, "IAM roles for service accounts"; EKS Best Practices, "Identity and Access
Management" and "Pod Security"): the ServiceAccount annotation `eks.amazonaws.com/role-arn`,
the pod's `serviceAccountName` (default `default`), `hostNetwork`, `hostPID`, privileged
containers and `hostPath` volumes. Ids are `namespace/name`.
"""

from __future__ import annotations

from typing import Any

from policyeval.errors import SourceText
from policyeval.model.topology import HostMount, Pod, Ref, ServiceAccount
from policyeval.model.workspace import Workspace
from policyeval.readers._common import BAD_SHAPE, Collector, as_bool, items, short, text
from policyeval.readers.positions import InputError, load_yaml_documents, span_near, span_of

IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"
NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"

#: Workload kinds and the path from the object to its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


def is_kubernetes_document(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and isinstance(document.get("apiVersion"), str)
        and isinstance(document.get("kind"), str)
    )


def read_kubernetes(text_: str, path: str, *, documents: list[Any] | None = None) -> Workspace:
    sources = SourceText()
    sources.add(path, text_)
    if documents is None:
        try:
            documents = load_yaml_documents(text_, path)
        except InputError as exc:
            return Workspace(diagnostics=(exc.diagnostic,), sources=sources)
    out = Collector(path)
    accounts: list[ServiceAccount] = []
    pods: list[Pod] = []
    pending = list(reversed(documents))
    while pending:
        document = pending.pop()
        if document is None:
            continue
        if not is_kubernetes_document(document):
            out.add(
                BAD_SHAPE,
                "a Kubernetes document needs `apiVersion` and `kind`",
                span_of(document),
            )
            continue
        kind = str(document["kind"])
        if kind.endswith("List") and isinstance(document.get("items"), list):
            pending.extend(reversed(document["items"]))
            continue
        if kind == "ServiceAccount":
            account = _service_account(document, out)
            if account is not None:
                accounts.append(account)
        elif kind in POD_SPEC_PATHS:
            pod = _pod(document, kind, out)
            if pod is not None:
                pods.append(pod)
    return Workspace(
        service_accounts=tuple(accounts),
        pods=tuple(pods),
        diagnostics=tuple(out.diagnostics),
        sources=sources,
    )


def _metadata(document: dict[str, Any], out: Collector) -> tuple[str, str] | None:
    metadata = document.get("metadata")
    name = text(metadata.get("name")) if isinstance(metadata, dict) else None
    if name is None:
        out.add(
            BAD_SHAPE,
            f"`{short(document.get('kind'))}` has no `metadata.name`",
            span_near(document, "metadata"),
        )
        return None
    namespace = text(metadata.get("namespace")) if isinstance(metadata, dict) else None
    return namespace or "default", name


def _service_account(document: dict[str, Any], out: Collector) -> ServiceAccount | None:
    names = _metadata(document, out)
    if names is None:
        return None
    namespace, name = names
    annotations = document["metadata"].get("annotations")
    role: Ref | None = None
    if isinstance(annotations, dict):
        arn = text(annotations.get(IRSA_ANNOTATION))
        if arn:
            role = Ref(value=arn, span=span_near(annotations, IRSA_ANNOTATION))
    return ServiceAccount(namespace=namespace, name=name, irsa_role=role, span=span_of(document))


def _walk(document: Any, keys: tuple[str, ...]) -> Any:
    node = document
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node


def _pod(document: dict[str, Any], kind: str, out: Collector) -> Pod | None:
    names = _metadata(document, out)
    if names is None:
        return None
    namespace, name = names
    spec = _walk(document, POD_SPEC_PATHS[kind])
    if not isinstance(spec, dict):
        out.add(
            BAD_SHAPE,
            f"{kind} `{namespace}/{name}` has no pod spec at `{'.'.join(POD_SPEC_PATHS[kind])}`",
            span_of(document),
        )
        return None
    containers = [
        c
        for key in ("initContainers", "containers", "ephemeralContainers")
        for c in items(spec.get(key))
        if isinstance(c, dict)
    ]
    privileged = any(
        as_bool(_walk(c, ("securityContext", "privileged"))) is True for c in containers
    )
    host_paths: list[HostMount] = []
    for volume in items(spec.get("volumes")):
        if not isinstance(volume, dict):
            continue
        host = volume.get("hostPath")
        source = text(host.get("path")) if isinstance(host, dict) else None
        if source is None:
            continue
        volume_name = volume.get("name")
        target = None
        for container in containers:
            for mount in items(container.get("volumeMounts")):
                if isinstance(mount, dict) and mount.get("name") == volume_name:
                    target = target or text(mount.get("mountPath"))
        host_paths.append(HostMount(source_path=source, container_path=target, span=span_of(host)))
    account = text(spec.get("serviceAccountName")) or text(spec.get("serviceAccount"))
    selector = spec.get("nodeSelector")
    node_group = text(selector.get(NODEGROUP_LABEL)) if isinstance(selector, dict) else None
    return Pod(
        id=f"{namespace}/{name}",
        namespace=namespace,
        name=name,
        kind=kind,
        service_account=account or "default",
        node_group=node_group,
        host_network=as_bool(spec.get("hostNetwork")) is True,
        host_pid=as_bool(spec.get("hostPID")) is True,
        privileged=privileged,
        host_paths=tuple(host_paths),
        span=span_of(document),
    )
