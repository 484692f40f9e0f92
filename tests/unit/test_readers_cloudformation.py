"""CloudFormation: intrinsics, links between resources, unknowns and broken templates."""

from __future__ import annotations

import json
from pathlib import Path

from policyeval.model.topology import UNKNOWN, LaunchType, NodeGroupKind
from policyeval.readers.cloudformation import read_cloudformation

FORMATS = Path(__file__).parent.parent / "fixtures" / "formats"
TEMPLATE = FORMATS / "cloudformation-ecs-ec2.yaml"


def _example():  # type: ignore[no-untyped-def]
    return read_cloudformation(TEMPLATE.read_text(), str(TEMPLATE))


def test_roles_read_with_inline_managed_boundary_and_trust() -> None:
    ws = _example()
    roles = {r.name: r for r in ws.roles}
    assert set(roles) == {"orders-api-task", "OrdersExecutionRole", "ContainerInstanceRole"}
    task_role = roles["orders-api-task"]  # RoleName wins over the logical ID
    assert [p.name for p in task_role.inline] == ["orders-table-rw"]
    assert task_role.boundary is not None
    assert task_role.boundary.ref == "arn:aws:iam::*:policy/workload-boundary"
    assert [a.ref for a in roles["ContainerInstanceRole"].managed] == [
        "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    ]
    assert all(a.aws_managed for a in roles["ContainerInstanceRole"].managed)
    statement = task_role.inline[0].statements[0]
    assert statement.resource == ("arn:aws:dynamodb:*:*:table/orders-prod",)
    assert statement.span is not None and statement.span.path == str(TEMPLATE)


def test_pseudo_parameters_are_substituted_with_one_note() -> None:
    ws = _example()
    notes = [d for d in ws.diagnostics if "pseudo parameters" in d.message]
    assert [d.code for d in notes] == ["PE068"]
    exact = read_cloudformation(
        TEMPLATE.read_text(), str(TEMPLATE), account="111122223333", region="eu-west-1"
    )
    role = next(r for r in exact.roles if r.name == "orders-api-task")
    assert role.arn == "arn:aws:iam::111122223333:role/orders-api-task"
    assert role.inline[0].statements[0].resource == (
        "arn:aws:dynamodb:eu-west-1:111122223333:table/orders-prod",
    )
    assert not any("pseudo parameters" in d.message for d in exact.diagnostics)


def test_task_links_through_launch_template_to_instance_profile_and_role() -> None:
    ws = _example()
    (task,) = ws.tasks
    assert task.id == "OrdersTaskDefinition" and task.family == "orders-api"
    assert task.task_role is not None and task.task_role.value.endswith(":role/orders-api-task")
    assert task.task_role.span is not None and task.task_role.span.line == 117
    assert task.network_mode == "awsvpc"
    (cluster,) = ws.ecs_clusters
    assert cluster.name == "orders-prod"  # from ECS_CLUSTER=${ClusterName} in user data
    (capacity,) = cluster.capacities
    assert task.cluster == cluster.id and task.capacity == capacity.name
    assert capacity.instance_profile is not None
    (profile,) = ws.instance_profiles
    assert capacity.instance_profile.value.endswith(profile.name)
    assert profile.role is not None and profile.role.value == "ContainerInstanceRole"


def test_metadata_options_and_agent_settings_come_from_the_launch_template() -> None:
    capacity = _example().ecs_clusters[0].capacities[0]
    assert capacity.metadata is not None
    assert (capacity.metadata.http_tokens, capacity.metadata.hop_limit) == ("required", 1)
    assert capacity.host is not None
    assert capacity.host.agent_setting("ECS_AWSVPC_BLOCK_IMDS") == "true"
    assert capacity.host.agent_setting("ECS_ENABLE_TASK_IAM_ROLE_NETWORK_HOST") == "false"


def _template(resources: dict[str, object], **extra: object) -> str:
    return json.dumps({"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources, **extra})


def test_service_places_task_on_capacity_provider_asg_and_launch_template() -> None:
    resources = {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "node"}},
        "Profile": {
            "Type": "AWS::IAM::InstanceProfile",
            "Properties": {"Roles": [{"Ref": "Role"}]},
        },
        "LT": {
            "Type": "AWS::EC2::LaunchTemplate",
            "Properties": {
                "LaunchTemplateData": {
                    "IamInstanceProfile": {"Name": {"Ref": "Profile"}},
                    "MetadataOptions": {"HttpTokens": "optional"},
                    "UserData": {
                        "Fn::Base64": "#!/bin/bash\niptables --insert DOCKER-USER 1 "
                        "--in-interface docker+ --destination 169.254.169.254/32 --jump DROP\n"
                    },
                }
            },
        },
        "ASG": {
            "Type": "AWS::AutoScaling::AutoScalingGroup",
            "Properties": {"LaunchTemplate": {"LaunchTemplateId": {"Ref": "LT"}, "Version": "1"}},
        },
        "CP": {
            "Type": "AWS::ECS::CapacityProvider",
            "Properties": {"AutoScalingGroupProvider": {"AutoScalingGroupArn": {"Ref": "ASG"}}},
        },
        "Cluster": {
            "Type": "AWS::ECS::Cluster",
            "Properties": {"ClusterName": "shop", "CapacityProviders": [{"Ref": "CP"}]},
        },
        "TD": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {"Family": "web", "ContainerDefinitions": [{"Name": "app"}]},
        },
        "Svc": {
            "Type": "AWS::ECS::Service",
            "Properties": {
                "Cluster": {"Ref": "Cluster"},
                "TaskDefinition": {"Ref": "TD"},
                "CapacityProviderStrategy": [{"CapacityProvider": {"Ref": "CP"}}],
                "EnableExecuteCommand": True,
            },
        },
    }
    ws = read_cloudformation(_template(resources), "t.json")
    (task,) = ws.tasks
    assert (task.cluster, task.capacity, task.enable_execute_command) == ("Cluster", "CP", True)
    (service,) = ws.services
    assert service.task.value == "TD"
    (cluster,) = ws.ecs_clusters
    (capacity,) = cluster.capacities
    assert capacity.name == "CP" and capacity.launch is LaunchType.EC2
    assert capacity.instance_profile is not None and capacity.instance_profile.value == "Profile"
    assert capacity.host is not None and capacity.host.iptables_blocks_imds is True
    assert capacity.metadata is not None and capacity.metadata.hop_limit is None


def test_undecidable_if_with_different_branches_is_unknown_with_a_note() -> None:
    resources = {
        "TD": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "f",
                "TaskRoleArn": {
                    "Fn::If": ["UseA", "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]
                },
                "ExecutionRoleArn": {"Fn::ImportValue": "shared-exec"},
                "ContainerDefinitions": [],
            },
        }
    }
    params = {"Parameters": {"Env": {"Type": "String"}}}
    conditions = {"Conditions": {"UseA": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}}}
    ws = read_cloudformation(_template(resources, **params, **conditions), "t.json")
    (task,) = ws.tasks
    assert task.task_role is not None and task.task_role.value == UNKNOWN
    assert task.execution_role is not None and task.execution_role.value == UNKNOWN
    assert sum(d.code == "PE063" for d in ws.diagnostics) >= 2


def test_decidable_if_picks_its_branch() -> None:
    resources = {
        "TD": {
            "Type": "AWS::ECS::TaskDefinition",
            "Properties": {
                "Family": "f",
                "TaskRoleArn": {
                    "Fn::If": ["IsProd", "arn:aws:iam::1:role/a", {"Ref": "AWS::NoValue"}]
                },
            },
        }
    }
    extra = {
        "Parameters": {"Env": {"Type": "String", "Default": "prod"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]}},
    }
    (task,) = read_cloudformation(_template(resources, **extra), "t.json").tasks
    assert task.task_role is not None and task.task_role.value == "arn:aws:iam::1:role/a"


def test_eks_lambda_and_ecr_resources_become_nodes() -> None:
    resources = {
        "NodeRole": {"Type": "AWS::IAM::Role", "Properties": {}},
        "NG": {
            "Type": "AWS::EKS::Nodegroup",
            "Properties": {"ClusterName": "pay", "NodeRole": {"Fn::GetAtt": ["NodeRole", "Arn"]}},
        },
        "FP": {
            "Type": "AWS::EKS::FargateProfile",
            "Properties": {
                "ClusterName": "pay",
                "PodExecutionRoleArn": {"Fn::GetAtt": "NodeRole.Arn"},
                "Selectors": [{"Namespace": "batch"}],
            },
        },
        "PIA": {
            "Type": "AWS::EKS::PodIdentityAssociation",
            "Properties": {
                "ClusterName": "pay",
                "Namespace": "ledger",
                "ServiceAccount": "writer",
                "RoleArn": {"Fn::GetAtt": ["NodeRole", "Arn"]},
            },
        },
        "Fn": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Role": {"Fn::GetAtt": ["NodeRole", "Arn"]}},
        },
        "Perm": {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "FunctionName": {"Ref": "Fn"},
                "Action": "lambda:InvokeFunction",
                "Principal": "events.amazonaws.com",
                "SourceArn": "arn:aws:events:eu-west-1:1:rule/nightly",
            },
        },
        "Repo": {
            "Type": "AWS::ECR::Repository",
            "Properties": {
                "RepositoryName": "web",
                "RepositoryPolicyText": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}
                    ],
                },
            },
        },
    }
    ws = read_cloudformation(_template(resources), "t.json")
    managed, fargate = ws.node_groups
    assert managed.kind is NodeGroupKind.MANAGED and managed.cluster == "pay"
    assert managed.role is not None and managed.role.value == "NodeRole"  # linked by name
    assert fargate.kind is NodeGroupKind.FARGATE and fargate.namespaces == ("batch",)
    (account,) = ws.service_accounts
    assert (account.namespace, account.name, account.cluster) == ("ledger", "writer", "pay")
    (function,) = ws.functions
    assert function.resource_policy is not None
    (statement,) = function.resource_policy.statements
    assert statement.condition[0].values == ("arn:aws:events:eu-west-1:1:rule/nightly",)
    assert function.triggers == ("events.amazonaws.com",)
    (repo,) = ws.repositories
    assert repo.name == "web" and repo.policy is not None


def test_standalone_policy_resources_attach_to_their_roles() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}],
    }
    resources = {
        "R": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "app"}},
        "P": {
            "Type": "AWS::IAM::Policy",
            "Properties": {
                "PolicyName": "send",
                "PolicyDocument": document,
                "Roles": [{"Ref": "R"}],
            },
        },
        "M": {
            "Type": "AWS::IAM::ManagedPolicy",
            "Properties": {
                "ManagedPolicyName": "shared",
                "PolicyDocument": document,
                "Roles": ["app"],
            },
        },
    }
    ws = read_cloudformation(_template(resources), "t.json")
    (role,) = ws.roles
    assert [p.name for p in role.inline] == ["send"]
    assert [a.ref for a in role.managed] == ["shared"]
    assert [m.name for m in ws.managed_policies] == ["shared"]


def test_broken_yaml_and_missing_resources_are_diagnostics() -> None:
    ws = read_cloudformation("Resources:\n  A: [\n", "t.yaml")
    assert [d.code for d in ws.diagnostics] == ["PE061"]
    ws = read_cloudformation("AWSTemplateFormatVersion: '2010-09-09'\n", "t.yaml")
    assert [d.code for d in ws.diagnostics] == ["PE062"]


def test_a_bad_policy_document_is_reported_at_its_line_and_the_rest_is_read() -> None:
    text = (
        "Resources:\n"
        "  R:\n"
        "    Type: AWS::IAM::Role\n"
        "    Properties:\n"
        "      Policies:\n"
        "        - PolicyName: p\n"
        "          PolicyDocument:\n"
        "            Statement:\n"
        "              - Effect: Maybe\n"
        "                Action: s3:GetObject\n"
        "  T:\n"
        "    Type: AWS::ECS::TaskDefinition\n"
        "    Properties: {Family: web}\n"
    )
    ws = read_cloudformation(text, "t.yaml")
    assert [t.family for t in ws.tasks] == ["web"]
    (bad,) = [d for d in ws.diagnostics if d.code.startswith("PE04")]
    assert bad.span is not None and bad.span.line == 9
