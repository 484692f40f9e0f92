"""The `.pel` parser: model nodes, spans, syntax errors in human words."""

from __future__ import annotations

from policyeval.errors import SourceText, render_plain
from policyeval.model.policy import Condition, Effect, Principal
from policyeval.model.topology import LaunchType, NodeGroupKind
from policyeval.syntax.parser import parse_pel


def parse_ok(text: str):  # type: ignore[no-untyped-def]
    document, diagnostics = parse_pel(text, "t.pel")
    assert diagnostics == [], diagnostics
    return document


def codes(text: str) -> list[str]:
    return [d.code for d in parse_pel(text, "t.pel")[1]]


def test_policy_statement_elements_map_to_iam_elements() -> None:
    doc = parse_ok(
        """
        policy p {
          version "2008-10-17"
          id "doc-1"
          allow s3:GetObject, "s3:List*" on "arn:aws:s3:::b", "arn:aws:s3:::b/*" sid "Read"
            if ForAnyValue:StringLikeIfExists aws:PrincipalTag/team = "a", "b"
            if Bool aws:SecureTransport = true
          deny all except iam:* on all except "arn:aws:iam::1:role/x"
            principal all except aws "arn:aws:iam::1:root", canonical-user "abc"
        }
        """
    )
    (policy,) = doc.policies
    assert policy.name == "p" and policy.version == "2008-10-17" and policy.id == "doc-1"
    allow, deny = policy.statements
    assert allow.effect is Effect.ALLOW and allow.sid == "Read"
    assert allow.action == ("s3:GetObject", "s3:List*")
    assert allow.resource == ("arn:aws:s3:::b", "arn:aws:s3:::b/*")
    assert allow.condition == (
        Condition("ForAnyValue:StringLikeIfExists", "aws:PrincipalTag/team", ("a", "b")),
        Condition("Bool", "aws:SecureTransport", ("true",)),
    )
    assert deny.not_action == ("iam:*",) and deny.action is None
    assert deny.not_resource == ("arn:aws:iam::1:role/x",)
    assert deny.not_principal == (
        Principal("AWS", "arn:aws:iam::1:root"),
        Principal("CanonicalUser", "abc"),
    )


def test_version_none_means_no_version_element() -> None:
    (policy,) = parse_ok('policy p { version none\n allow a:b on "x" }').policies
    assert policy.version is None


def test_principal_star_differs_from_aws_star() -> None:
    (policy,) = parse_ok('policy p { allow a:b principal *, aws "*" }').policies
    assert policy.statements[0].principal == (Principal("*", "*"), Principal("AWS", "*"))


def test_every_node_carries_a_span_with_line_and_column() -> None:
    doc = parse_ok('policy p {\n  allow s3:GetObject\n    on "x"\n}\n')
    statement = doc.policies[0].statements[0]
    assert statement.span is not None
    assert (statement.span.path, statement.span.line, statement.span.column) == ("t.pel", 2, 3)
    assert statement.span.end_line == 3


def test_role_trust_service_shorthand_builds_assume_role_statement() -> None:
    doc = parse_ok(
        'role r { trust service ecs-tasks.amazonaws.com; attach p, aws "X", '
        '"arn:aws:iam::aws:policy/Y"; boundary b; tag team = "t" }'
    )
    role = doc.roles[0].role
    assert role.trust is not None
    (statement,) = role.trust.statements
    assert statement.action == ("sts:AssumeRole",)
    assert statement.principal == (Principal("Service", "ecs-tasks.amazonaws.com"),)
    assert [(a.ref, a.aws_managed) for a in role.managed] == [
        ("p", False),
        ("X", True),
        ("arn:aws:iam::aws:policy/Y", True),
    ]
    assert role.boundary is not None and role.boundary.ref == "b"
    assert role.tags == (("team", "t"),)


def test_ecs_cluster_capacity_task_and_container_settings() -> None:
    doc = parse_ok(
        """
        cluster c {
          capacity pool { launch ec2; instance-profile node; imds v1 hop-limit 2
            agent ECS_AWSVPC_BLOCK_IMDS = "true"; iptables block-imds }
          capacity far { launch fargate }
          capacity edge { launch external; host-role ssm-host }
          task t { task-role tr; execution-role er; network bridge; pid host; runs-on pool
            exec-command
            container app { image "img"; privileged; mount "/var/run/docker.sock" to "/s"
              secret "arn:aws:secretsmanager:eu-west-1:1:secret:x"; env A = "1"
              needs s3:GetObject, s3:PutObject on "arn:aws:s3:::b/*" } }
          service s { task t; runs-on pool }
        }
        """
    )
    pool, far, edge = doc.ecs_clusters[0].capacities
    assert pool.launch is LaunchType.EC2 and pool.instance_profile is not None
    assert pool.metadata is not None
    assert (pool.metadata.http_tokens, pool.metadata.hop_limit) == ("optional", 2)
    assert pool.host is not None and pool.host.iptables_blocks_imds is True
    assert pool.host.agent_setting("ECS_AWSVPC_BLOCK_IMDS") == "true"
    assert far.launch is LaunchType.FARGATE
    assert edge.host_role is not None and edge.host_role.value == "ssm-host"
    (task,) = doc.tasks
    assert (task.cluster, task.capacity, task.network_mode, task.pid_mode) == (
        "c",
        "pool",
        "bridge",
        "host",
    )
    assert task.enable_execute_command
    (container,) = task.containers
    assert container.privileged and container.mounts[0].source_path == "/var/run/docker.sock"
    assert [n.action for n in container.needs] == ["s3:GetObject", "s3:PutObject"]
    assert container.needs[0].resources == ("arn:aws:s3:::b/*",)
    assert doc.services[0].task.value == "t"


def test_eks_node_groups_service_accounts_and_pods() -> None:
    doc = parse_ok(
        """
        eks-cluster k {
          node-group ng { kind self-managed; role node; imds v2 hop-limit 1 }
          fargate-profile fp { role pod-exec; namespaces "jobs" }
          service-account web/api { irsa api-role; pod-identity api-pi }
          pod web/api { kind Deployment; service-account api; node-group ng
            host-network; host-pid; privileged; host-path "/etc" }
        }
        """
    )
    ng, fp = doc.node_groups
    assert ng.kind is NodeGroupKind.SELF_MANAGED and ng.cluster == "k"
    assert fp.kind is NodeGroupKind.FARGATE and fp.namespaces == ("jobs",)
    (account,) = doc.service_accounts
    assert (account.namespace, account.name) == ("web", "api")
    (pod,) = doc.pods
    assert pod.id == "web/api" and pod.host_network and pod.host_pid and pod.privileged


def test_expectations_and_suppressions() -> None:
    doc = parse_ok(
        """
        expect {
          no container can iam:PassRole on *
          every task cannot s3:DeleteObject
          agent of pool can ecs:RegisterContainerInstance
        }
        function f { ignore PE203 reason "reviewed" }
        # policyeval: ignore PE101 reason "legacy"
        """
    )
    no_container, every_task, agent = doc.expectations
    assert (no_container.subject_kind, no_container.subject_name, no_container.can) == (
        "container",
        None,
        False,
    )
    assert every_task.resource == "*" and not every_task.can
    assert (agent.subject_kind, agent.subject_name, agent.can) == ("agent", "pool", True)
    assert [(s.code, s.workload, s.reason) for s in doc.suppressions] == [
        ("PE203", "f", "reviewed"),
        ("PE101", None, "legacy"),
    ]


def test_comment_suppression_applies_to_enclosing_workload() -> None:
    doc = parse_ok(
        'cluster c { task t {\n  # policyeval: ignore PE201 reason "ok"\n  network host } }'
    )
    assert [(s.code, s.workload) for s in doc.suppressions] == [("PE201", "t")]


def test_syntax_error_says_where_and_what_was_expected() -> None:
    text = "policy p {\n  allow s3:GetObject on }\n"
    document, diagnostics = parse_pel(text, "t.pel")
    (diagnostic,) = diagnostics
    assert diagnostic.code == "PE001"
    assert diagnostic.span is not None and (diagnostic.span.line, diagnostic.span.column) == (2, 25)
    assert "a string" in diagnostic.message and "`}`" in diagnostic.message
    sources = SourceText({"t.pel": text})
    rendered = render_plain(diagnostic, sources)
    assert "2 |   allow s3:GetObject on }" in rendered
    assert rendered.splitlines()[-1].endswith("^") or "^" in rendered
    assert document.policies == []


def test_misspelt_keyword_gets_did_you_mean() -> None:
    (diagnostic,) = parse_pel("role r { atach p }", "t.pel")[1]
    assert diagnostic.code == "PE001" and diagnostic.help == "did you mean `attach`?"


def test_misspelt_operator_gets_did_you_mean() -> None:
    diagnostics = parse_pel('policy p { allow a:b if StringEqual k:x = "v" }', "t.pel")[1]
    assert [d.code for d in diagnostics] == ["PE002"]
    assert diagnostics[0].help == "did you mean `StringEquals`?"


def test_null_has_no_if_exists_form() -> None:
    assert codes("policy p { allow a:b if NullIfExists k:x = true }") == ["PE002"]


def test_each_broken_item_is_reported_without_cascades() -> None:
    text = "policy p {\n allow s3:X on\n}\nrole r { atach x }\nrole q { trust }\n"
    diagnostics = parse_pel(text, "t.pel")[1]
    assert [(d.span.line, d.span.column) for d in diagnostics if d.span] == [
        (3, 1),
        (4, 10),
        (5, 16),
    ]


def test_bad_settings_and_duplicates_are_coded() -> None:
    assert codes("cluster c { capacity p { launch ec3 } }") == ["PE004"]
    assert codes("cluster c { capacity p { launch ec2; imds hop-limit 99 } }") == ["PE004"]
    assert codes('policy p { allow a:b on "x" on "y" }') == ["PE006"]
    assert codes("cluster c { capacity p { imds v2 } }") == ["PE007"]
    assert codes('policy p { allow a:b on "\\q" }') == ["PE003"]


def test_unterminated_string_is_a_syntax_error() -> None:
    (diagnostic,) = parse_pel('policy p { allow a:b on "x }', "t.pel")[1]
    assert diagnostic.code == "PE001" and "unterminated string" in diagnostic.message


def test_deep_nesting_gives_diagnostic_not_recursion_error() -> None:
    diagnostics = parse_pel("policy p " + "{" * 50_000, "t.pel")[1]
    assert diagnostics and diagnostics[0].code == "PE001"


def test_huge_input_is_refused_with_code() -> None:
    diagnostics = parse_pel("#" * (9 * 1024 * 1024), "t.pel")[1]
    assert [d.code for d in diagnostics] == ["PE005"]


def test_keywords_are_names_where_a_name_is_expected() -> None:
    doc = parse_ok("role allow { attach on }")
    assert doc.roles[0].role.name == "allow"
    assert doc.roles[0].role.managed[0].ref == "on"


def test_bare_word_without_service_prefix_is_not_an_action() -> None:
    (diagnostic,) = parse_pel("policy p { allow on }", "t.pel")[1]
    assert diagnostic.code == "PE004" and diagnostic.message == "`on` is not an action"
    assert parse_pel('policy p { allow "on" }', "t.pel")[1] == []


def test_a_bad_escape_in_a_suppression_comment_is_pe003_not_a_crash() -> None:
    text = '# policyeval: ignore PE201 reason "a\\q"\n'
    document, diagnostics = parse_pel(text, "t.pel")
    (diagnostic,) = diagnostics
    assert diagnostic.code == "PE003"
    assert diagnostic.span is not None
    # the caret is under the reason's string: `"a\q"`, columns 35 to 39
    assert (diagnostic.span.line, diagnostic.span.column, diagnostic.span.end_column) == (1, 35, 40)
    (suppression,) = document.suppressions
    assert suppression.code == "PE201" and suppression.reason == "a\\q"
