"""Kubernetes manifests and EKS pod identity associations."""

from __future__ import annotations

from pathlib import Path

from policyeval.readers.kubernetes import read_kubernetes
from policyeval.readers.pod_identity import read_pod_identity

FORMATS = Path(__file__).parent.parent / "fixtures" / "formats"


def test_irsa_annotation_becomes_the_service_account_role_with_its_line() -> None:
    path = FORMATS / "k8s-serviceaccount-irsa.yaml"
    ws = read_kubernetes(path.read_text(), str(path))
    (account,) = ws.service_accounts
    assert (account.namespace, account.name) == ("billing", "invoice-exporter")
    assert account.irsa_role is not None
    assert account.irsa_role.value == "arn:aws:iam::111122223333:role/invoice-exporter-irsa"
    assert account.irsa_role.span is not None and account.irsa_role.span.line == 13
    deployment, pod = ws.pods
    assert (deployment.id, deployment.kind) == ("billing/invoice-exporter", "Deployment")
    assert deployment.service_account == "invoice-exporter"
    assert not deployment.host_network and not deployment.privileged
    assert pod.kind == "Pod"


POD_SPEC = """
  hostNetwork: true
  hostPID: true
  nodeSelector:
    eks.amazonaws.com/nodegroup: system
  containers:
    - name: agent
      securityContext: {privileged: true}
      volumeMounts: [{name: sock, mountPath: /var/run/docker.sock}]
  volumes:
    - name: sock
      hostPath: {path: /var/run/docker.sock}
"""


def test_pod_exposure_fields_and_default_service_account() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:" + POD_SPEC
    (pod,) = read_kubernetes(text, "p.yaml").pods
    assert pod.id == "default/p" and pod.service_account == "default"
    assert pod.host_network and pod.host_pid and pod.privileged
    assert pod.node_group == "system"
    assert [(m.source_path, m.container_path) for m in pod.host_paths] == [
        ("/var/run/docker.sock", "/var/run/docker.sock")
    ]


def test_cronjob_and_daemonset_pod_templates_are_found() -> None:
    indented = POD_SPEC.replace("\n", "\n" + " " * 8)
    cron = (
        "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c, namespace: ops}\n"
        "spec:\n  jobTemplate:\n    spec:\n      template:\n        spec:" + indented
    )
    daemon = (
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d, namespace: ops}\n"
        "spec:\n  template:\n    spec:" + POD_SPEC.replace("\n", "\n" + " " * 4)
    )
    ws = read_kubernetes(cron + "\n---\n" + daemon, "w.yaml")
    assert [(p.id, p.kind, p.privileged) for p in ws.pods] == [
        ("ops/c", "CronJob", True),
        ("ops/d", "DaemonSet", True),
    ]


def test_documents_without_kind_or_name_are_reported_and_others_read() -> None:
    text = "just: data\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {}\n---\n" + (
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ok}\n"
    )
    ws = read_kubernetes(text, "m.yaml")
    assert [a.name for a in ws.service_accounts] == ["ok"]
    assert [(d.code, d.span.line if d.span else 0) for d in ws.diagnostics] == [
        ("PE062", 1),
        ("PE062", 5),
    ]


def test_a_list_kind_is_unpacked() -> None:
    text = '{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": []}}]}'
    assert [p.id for p in read_kubernetes(text, "l.json").pods] == ["default/x"]


def test_pod_identity_association_maps_to_a_service_account_role() -> None:
    path = FORMATS / "eks-describe-pod-identity-association.json"
    ws = read_pod_identity(path.read_text(), str(path))
    (account,) = ws.service_accounts
    assert (account.cluster, account.namespace, account.name) == (
        "payments-prod",
        "ledger",
        "ledger-writer",
    )
    assert account.pod_identity_role is not None
    assert account.pod_identity_role.value.endswith("role/ledger-writer-pod-identity")
    assert account.pod_identity_role.span is not None
    assert account.pod_identity_role.span.line == 6


def test_target_role_wins_for_cross_account_pod_identity() -> None:
    """EKS API Reference: with targetRoleArn the pod receives the target role."""
    text = (
        '{"association": {"clusterName": "c", "namespace": "n", "serviceAccount": "s", '
        '"roleArn": "arn:aws:iam::1:role/a", "targetRoleArn": "arn:aws:iam::2:role/b"}}'
    )
    (account,) = read_pod_identity(text, "p.json").service_accounts
    assert account.pod_identity_role is not None
    assert account.pod_identity_role.value == "arn:aws:iam::2:role/b"


def test_incomplete_association_is_pe062() -> None:
    ws = read_pod_identity('{"association": {"clusterName": "c"}}', "p.json")
    assert ws.service_accounts == ()
    assert [d.code for d in ws.diagnostics] == ["PE062"]
