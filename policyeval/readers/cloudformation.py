"""CloudFormation templates (JSON or YAML, short or long intrinsic forms).

Resources become topology nodes whose ids are the template's logical IDs; links follow
`Ref` / `Fn::GetAtt` between resources, so task → service → cluster → capacity provider →
Auto Scaling group → launch template → instance profile → role are joined by name.
Intrinsic functions (CloudFormation User Guide, "Intrinsic function reference") are
evaluated where the template alone decides the value: parameter defaults, `Fn::Sub`,
`Fn::Join`, `Fn::Select`, `Fn::If` on conditions that can be decided, `Fn::Base64`,
`Fn::FindInMap`. `Fn::ImportValue`, parameters without defaults and undecidable conditions
whose branches differ give `UNKNOWN` with a PE063 note.

`AWS::AccountId` and `AWS::Region` are unknown to a template; inside text (ARNs) they are
replaced by `*` unless the caller passes them, with one PE068 note per file: a policy then
matches resources of that name in any account or region, the reading closest to a stack
deployed in one account.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field, replace
from typing import Any

from policyeval.errors import SourceText, Span
from policyeval.managed import is_aws_managed_arn
from policyeval.model.policy import Condition, Effect, Policy, Principal, Statement
from policyeval.model.topology import (
    UNKNOWN,
    Capacity,
    EcrRepository,
    EcsCluster,
    EksCluster,
    Function,
    HostSettings,
    InstanceProfile,
    LaunchType,
    ManagedPolicy,
    MetadataOptions,
    NodeGroup,
    NodeGroupKind,
    PolicyAttachment,
    Ref,
    Role,
    Service,
    ServiceAccount,
    Task,
)
from policyeval.model.workspace import Workspace
from policyeval.readers._common import (
    APPROXIMATED,
    BAD_SHAPE,
    UNRESOLVED,
    Collector,
    as_bool,
    items,
    policy_from_document,
    short,
)
from policyeval.readers.launch_template import (
    host_settings_from_user_data,
    metadata_from,
)
from policyeval.readers.positions import (
    InputError,
    SpannedDict,
    SpannedList,
    SpannedStr,
    load_json,
    load_yaml_documents,
    span_near,
    span_of,
)
from policyeval.readers.taskdef import task_from_definition

_SUB_VAR = re.compile(r"\$\{([^}!][^}]*)\}")
_MAX_RESOLVE_DEPTH = 200


def is_cloudformation(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    if "AWSTemplateFormatVersion" in document:
        return True
    resources = document.get("Resources")
    return isinstance(resources, dict) and any(
        isinstance(r, dict) and str(r.get("Type", "")).startswith(("AWS::", "Custom::"))
        for r in resources.values()
    )


def read_cloudformation(
    text_: str,
    path: str,
    *,
    document: Any = None,
    account: str | None = None,
    region: str | None = None,
) -> Workspace:
    """A template file → Workspace. JSON when the text starts with `{`, YAML otherwise."""
    sources = SourceText()
    sources.add(path, text_)
    if document is None:
        try:
            if text_.lstrip().startswith("{"):
                document = load_json(text_, path)
            else:
                documents = load_yaml_documents(text_, path)
                document = documents[0] if documents else None
        except InputError as exc:
            return Workspace(diagnostics=(exc.diagnostic,), sources=sources)
    out = Collector(path)
    if not isinstance(document, dict) or not isinstance(document.get("Resources"), dict):
        out.add(BAD_SHAPE, "a CloudFormation template needs a `Resources` mapping", None)
        return Workspace(diagnostics=tuple(out.diagnostics), sources=sources)
    template = _Template(document, out, account, region)
    workspace = template.build()
    return replace(workspace, sources=sources)


@dataclass
class _Host:
    """What a launch template / launch configuration / ASG says about its instances."""

    instance_profile: Ref | None = None
    metadata: MetadataOptions | None = None
    host: HostSettings | None = None
    cluster_name: str | None = None
    span: Span | None = None


@dataclass
class _Template:
    document: dict[str, Any]
    out: Collector
    account: str | None
    region: str | None
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    approximated: set[str] = field(default_factory=set)
    unresolved_noted: set[int] = field(default_factory=set)

    def __post_init__(self) -> None:
        for lid, raw in self.document["Resources"].items():
            if isinstance(raw, dict) and isinstance(raw.get("Type"), str):
                self.resources[str(lid)] = raw
            else:
                self.out.add(
                    BAD_SHAPE,
                    f"resource `{short(lid)}` needs a `Type`",
                    span_near(self.document["Resources"], lid),
                )
        params = self.document.get("Parameters")
        if isinstance(params, dict):
            for name, spec in params.items():
                default = spec.get("Default") if isinstance(spec, dict) else None
                self.parameters[str(name)] = default if default is not None else UNKNOWN
        conditions = self.document.get("Conditions")
        if isinstance(conditions, dict):
            self.conditions = {str(k): v for k, v in conditions.items()}

    # -- intrinsic functions ---------------------------------------------------------------

    def props(self, lid: str) -> dict[str, Any]:
        properties = self.resources[lid].get("Properties")
        return properties if isinstance(properties, dict) else {}

    def kind(self, lid: str) -> str:
        return str(self.resources[lid]["Type"])

    def node_name(self, lid: str) -> str:
        """The physical name a resource gets: its name property when literal, else its
        logical ID (CloudFormation generates a name we cannot know)."""
        name_keys = {
            "AWS::IAM::Role": "RoleName",
            "AWS::IAM::InstanceProfile": "InstanceProfileName",
            "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
            "AWS::IAM::Policy": "PolicyName",
            "AWS::ECS::Cluster": "ClusterName",
            "AWS::EKS::Cluster": "Name",
            "AWS::Lambda::Function": "FunctionName",
            "AWS::ECR::Repository": "RepositoryName",
            "AWS::EKS::Nodegroup": "NodegroupName",
            "AWS::EKS::FargateProfile": "FargateProfileName",
            "AWS::ECS::Service": "ServiceName",
        }
        key = name_keys.get(self.kind(lid))
        if key is not None:
            value = self.resolve(self.props(lid).get(key))
            if isinstance(value, str) and value and value != UNKNOWN:
                return value
        return lid

    def arn_of(self, lid: str) -> str:
        kind = self.kind(lid)
        name = self.node_name(lid)
        partition, account = "aws", self.account or self._pseudo_text("AWS::AccountId")
        region = self.region or self._pseudo_text("AWS::Region")
        path = self.resolve(self.props(lid).get("Path"))
        path = path if isinstance(path, str) and path.startswith("/") else "/"
        if kind == "AWS::IAM::Role":
            return f"arn:{partition}:iam::{account}:role{path}{name}"
        if kind == "AWS::IAM::InstanceProfile":
            return f"arn:{partition}:iam::{account}:instance-profile{path}{name}"
        if kind == "AWS::IAM::ManagedPolicy":
            return f"arn:{partition}:iam::{account}:policy{path}{name}"
        if kind == "AWS::Lambda::Function":
            return f"arn:{partition}:lambda:{region}:{account}:function:{name}"
        if kind == "AWS::ECR::Repository":
            return f"arn:{partition}:ecr:{region}:{account}:repository/{name}"
        if kind == "AWS::ECS::Cluster":
            return f"arn:{partition}:ecs:{region}:{account}:cluster/{name}"
        return UNKNOWN

    def _pseudo_text(self, name: str) -> str:
        self.approximated.add(name)
        return "*"

    def pseudo(self, name: str) -> Any:
        if name == "AWS::Partition":
            return "aws"
        if name == "AWS::URLSuffix":
            return "amazonaws.com"
        if name == "AWS::AccountId":
            return self.account or self._pseudo_text(name)
        if name == "AWS::Region":
            return self.region or self._pseudo_text(name)
        if name == "AWS::NoValue":
            return None
        return UNKNOWN

    def ref(self, target: Any, where: Any) -> Any:
        if not isinstance(target, str):
            return self.unknown("`Ref` needs a name", where)
        target = str(target)
        if target.startswith("AWS::"):
            return self.pseudo(target)
        if target in self.parameters:
            value = self.parameters[target]
            if value == UNKNOWN:
                return self.unknown(f"parameter `{short(target)}` has no default", where)
            return self.resolve(value)
        if target in self.resources:
            kind = self.kind(target)
            if kind == "AWS::IAM::ManagedPolicy":
                return self.arn_of(target)
            return self.node_name(target)
        return self.unknown(
            f"`Ref` to `{short(target)}`, which the template does not define", where
        )

    def get_att(self, args: Any, where: Any) -> Any:
        values = [self.resolve(a) for a in items(args)]
        if len(values) != 2 or not all(isinstance(v, str) for v in values):
            return self.unknown("`Fn::GetAtt` needs a resource and an attribute", where)
        lid, attribute = str(values[0]), str(values[1])
        if lid not in self.resources:
            return self.unknown(f"`Fn::GetAtt` on `{short(lid)}`, which is not defined", where)
        if attribute == "Arn":
            arn = self.arn_of(lid)
            if arn != UNKNOWN:
                return arn
        if attribute in ("Name", "RoleId") or attribute.endswith("Name"):
            return self.node_name(lid)
        return self.unknown(f"attribute `{short(lid)}.{short(attribute)}` is not known", where)

    def unknown(self, why: str, where: Any) -> str:
        key = id(where)
        if key not in self.unresolved_noted:
            self.unresolved_noted.add(key)
            self.out.note(UNRESOLVED, f"value is unknown: {why}", span_of(where))
        return UNKNOWN

    def condition(self, name: Any, where: Any, depth: int = 0) -> bool | None:
        """True/False when the template decides the condition, None when it cannot."""
        if not isinstance(name, str) or name not in self.conditions:
            return None
        return self.truth(self.conditions[name], depth + 1)

    def truth(self, expr: Any, depth: int) -> bool | None:
        if depth > _MAX_RESOLVE_DEPTH or not isinstance(expr, dict) or len(expr) != 1:
            return None
        ((op, args),) = expr.items()
        args_list = items(args)
        if op == "Condition":
            return self.condition(args, expr, depth)
        if op == "Fn::Equals" and len(args_list) == 2:
            left, right = (self.resolve(a, depth + 1) for a in args_list)
            if UNKNOWN in (left, right) or "*" in (left, right):
                return None
            return bool(left == right)
        parts = [self.truth(a, depth + 1) for a in args_list]
        if op == "Fn::Not" and len(parts) == 1:
            return None if parts[0] is None else not parts[0]
        if op == "Fn::And":
            if False in parts:
                return False
            return None if None in parts else True
        if op == "Fn::Or":
            if True in parts:
                return True
            return None if None in parts else False
        return None

    def resolve(self, value: Any, depth: int = 0) -> Any:
        """Evaluate intrinsics inside `value`; containers keep their spans."""
        if depth > _MAX_RESOLVE_DEPTH:
            return UNKNOWN
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, args),) = value.items()
                if key == "Ref" or key.startswith("Fn::"):
                    result = self.intrinsic(str(key), args, value, depth)
                    if isinstance(result, str) and not isinstance(result, SpannedStr):
                        raw = span_of(value)
                        return SpannedStr.make(result, None, raw) if raw else result
                    return result
            copy = SpannedDict(None, span_of(value) or Span(self.out.path, 1, 1))
            for key, item in value.items():
                resolved = self.resolve(item, depth + 1)
                if resolved is None and item is not None:
                    continue  # AWS::NoValue removes the property
                copy[key] = resolved
                for src, dst in ((span_near(value, key), copy._values),):
                    if src is not None:
                        dst[key] = src
                key_at = span_near(value, key)
                if key_at is not None:
                    copy._keys[key] = key_at
            return copy
        if isinstance(value, list):
            seq = SpannedList(None, span_of(value) or Span(self.out.path, 1, 1))
            for index, item in enumerate(value):
                resolved = self.resolve(item, depth + 1)
                if resolved is None and item is not None:
                    continue
                seq.append(resolved)
                seq._items.append(span_near(value, index) or seq._raw)
            return seq
        return value

    def intrinsic(self, key: str, args: Any, where: Any, depth: int) -> Any:
        if key == "Ref":
            return self.ref(self.resolve(args, depth + 1), where)
        if key == "Fn::GetAtt":
            if isinstance(args, str):
                args = str(args).split(".", 1)
            return self.get_att(args, where)
        if key == "Fn::Sub":
            return self.sub(args, where, depth)
        if key == "Fn::Join":
            parts = items(args)
            if len(parts) != 2:
                return self.unknown("`Fn::Join` needs a delimiter and a list", where)
            delimiter = self.resolve(parts[0], depth + 1)
            values = self.resolve(parts[1], depth + 1)
            if not isinstance(delimiter, str) or not isinstance(values, list):
                return self.unknown("`Fn::Join` of something that is not a list", where)
            pieces = [v for v in values if v is not None]
            if not all(isinstance(v, str | int) for v in pieces):
                return UNKNOWN
            return str(delimiter).join(str(v) for v in pieces)
        if key == "Fn::Select":
            parts = items(args)
            if len(parts) != 2:
                return self.unknown("`Fn::Select` needs an index and a list", where)
            index = self.resolve(parts[0], depth + 1)
            values = self.resolve(parts[1], depth + 1)
            try:
                position = int(index)
            except (TypeError, ValueError):
                return self.unknown("`Fn::Select` index is not a number", where)
            if isinstance(values, list) and 0 <= position < len(values):
                return values[position]
            return self.unknown("`Fn::Select` index is out of range", where)
        if key == "Fn::If":
            parts = items(args)
            if len(parts) != 3:
                return self.unknown("`Fn::If` needs a condition and two values", where)
            decided = self.condition(parts[0], where)
            if decided is not None:
                return self.resolve(parts[1] if decided else parts[2], depth + 1)
            first = self.resolve(parts[1], depth + 1)
            second = self.resolve(parts[2], depth + 1)
            if first == second:
                return first
            return self.unknown(
                f"condition `{short(parts[0])}` cannot be decided and its branches differ",
                where,
            )
        if key == "Fn::Base64":
            # Kept as plain text: readers want the script, not its encoding.
            return self.resolve(args, depth + 1)
        if key == "Fn::FindInMap":
            parts = [self.resolve(p, depth + 1) for p in items(args)]
            mappings = self.document.get("Mappings")
            node: Any = mappings
            for part in parts[:3]:
                if not isinstance(node, dict) or not isinstance(part, str) or part not in node:
                    return self.unknown("`Fn::FindInMap` key is not in `Mappings`", where)
                node = node[part]
            return self.resolve(node, depth + 1)
        if key == "Fn::ImportValue":
            return self.unknown("`Fn::ImportValue` comes from another stack", where)
        if key == "Fn::Split":
            parts = items(args)
            if len(parts) == 2:
                delimiter = self.resolve(parts[0], depth + 1)
                source = self.resolve(parts[1], depth + 1)
                if isinstance(delimiter, str) and isinstance(source, str) and source != UNKNOWN:
                    return [*str(source).split(str(delimiter))]
            return self.unknown("`Fn::Split` of an unknown value", where)
        return self.unknown(f"`{short(key)}` is not evaluated", where)

    def sub(self, args: Any, where: Any, depth: int) -> Any:
        variables: dict[str, Any] = {}
        template = args
        if isinstance(args, list):
            if not args:
                return self.unknown("`Fn::Sub` is empty", where)
            template = args[0]
            if len(args) > 1 and isinstance(args[1], dict):
                variables = {str(k): v for k, v in args[1].items()}
        if not isinstance(template, str):
            return self.unknown("`Fn::Sub` needs a text template", where)

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name in variables:
                value = self.resolve(variables[name], depth + 1)
            elif "." in name and not name.startswith("AWS::"):
                value = self.get_att(name.split(".", 1), where)
            else:
                value = self.ref(name, where)
            return str(value) if isinstance(value, str | int | float) else UNKNOWN

        result = _SUB_VAR.sub(substitute, str(template))
        return result.replace("${!", "${")

    # -- building nodes --------------------------------------------------------------------

    def text_of(self, raw: Any) -> str | None:
        value = self.resolve(raw)
        return str(value) if isinstance(value, str) else None

    def link(self, mapping: dict[str, Any], key: str, kinds: tuple[str, ...] = ()) -> Ref | None:
        """A reference: `Ref`/`GetAtt` to a resource of `kinds` gives that node's name (or
        logical ID for ids), anything else its resolved text; UNKNOWN when unresolvable."""
        raw = mapping.get(key)
        if raw is None:
            return None
        target = self.target(raw)
        span = span_near(mapping, key)
        if target is not None and (not kinds or self.kind(target) in kinds):
            return Ref(value=self.link_name(target), span=span)
        value = self.resolve(raw)
        if value is None:
            return None
        return Ref(value=str(value) if isinstance(value, str) else UNKNOWN, span=span)

    def link_name(self, lid: str) -> str:
        """How other nodes refer to the node built from `lid`."""
        if self.kind(lid) in ("AWS::IAM::Role", "AWS::IAM::InstanceProfile"):
            return self.node_name(lid)
        return lid

    def target(self, raw: Any) -> str | None:
        """The logical ID a `Ref`/`GetAtt` names, when it is a resource of this template."""
        if isinstance(raw, dict) and len(raw) == 1:
            ((key, args),) = raw.items()
            name: Any = None
            if key == "Ref":
                name = args
            elif key == "Fn::GetAtt":
                name = str(args).split(".", 1)[0] if isinstance(args, str) else items(args)[:1]
                name = name[0] if isinstance(name, list) and name else name
            if isinstance(name, str) and name in self.resources:
                return str(name)
        return None

    def build(self) -> Workspace:
        roles: dict[str, Role] = {}
        managed: list[ManagedPolicy] = []
        extra_inline: dict[str, list[Policy]] = {}
        extra_managed: dict[str, list[PolicyAttachment]] = {}
        profiles: list[InstanceProfile] = []
        hosts: dict[str, _Host] = {}
        tasks: dict[str, Task] = {}
        services: list[Service] = []
        clusters: dict[str, EcsCluster] = {}
        cluster_capacities: dict[str, list[str]] = {}
        capacities: dict[str, Capacity] = {}
        node_groups: list[NodeGroup] = []
        service_accounts: list[ServiceAccount] = []
        eks_clusters: list[EksCluster] = []
        functions: dict[str, Function] = {}
        permissions: dict[str, list[Statement]] = {}
        repositories: list[EcrRepository] = []

        order = list(self.resources)
        for lid in order:
            kind, props, span = self.kind(lid), self.props(lid), span_of(self.resources[lid])
            if kind == "AWS::IAM::Role":
                roles[lid] = self.role(lid, props, span)
            elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                name = self.node_name(lid)
                document = self.resolve(props.get("PolicyDocument"))
                policy = policy_from_document(
                    document, name, self.out, span_near(props, "PolicyDocument")
                )
                if policy is None:
                    continue
                if kind == "AWS::IAM::ManagedPolicy":
                    arn = self.arn_of(lid)
                    managed.append(ManagedPolicy(name=name, arn=arn, document=policy, span=span))
                for role_raw in items(props.get("Roles")):
                    role_lid = self.target(role_raw)
                    role_name = self.node_name(role_lid) if role_lid else self.text_of(role_raw)
                    if not role_name or role_name == UNKNOWN:
                        continue
                    if kind == "AWS::IAM::Policy":
                        extra_inline.setdefault(role_name, []).append(policy)
                    else:
                        extra_managed.setdefault(role_name, []).append(
                            PolicyAttachment(ref=name, span=span_of(role_raw) or span)
                        )
            elif kind == "AWS::IAM::InstanceProfile":
                roles_raw = items(props.get("Roles"))
                role_ref = None
                if roles_raw:
                    holder = SpannedDict(None, span or Span(self.out.path, 1, 1))
                    holder["Role"] = roles_raw[0]
                    first_span = span_near(props.get("Roles"), 0)
                    if first_span is not None:
                        holder._values["Role"] = first_span
                    role_ref = self.link(holder, "Role", ("AWS::IAM::Role",))
                arn = self.arn_of(lid)
                profiles.append(
                    InstanceProfile(
                        name=self.node_name(lid),
                        arn=arn if self.account else None,
                        role=role_ref,
                        span=span,
                    )
                )
            elif kind in ("AWS::EC2::LaunchTemplate", "AWS::AutoScaling::LaunchConfiguration"):
                data = (
                    props.get("LaunchTemplateData", props) if kind.endswith("Template") else props
                )
                hosts[lid] = self.host(data if isinstance(data, dict) else {}, span)
            elif kind == "AWS::ECS::TaskDefinition":
                task = task_from_definition(props, self.out, task_id=lid, resolve=self.resolve)
                if task is not None:
                    tasks[lid] = replace(task, span=span)
            elif kind == "AWS::ECS::Cluster":
                clusters[lid] = EcsCluster(id=lid, name=self.node_name(lid), span=span)
                for entry in items(props.get("CapacityProviders")):
                    cluster_capacities.setdefault(lid, []).append(self.capacity_name(entry))
            elif kind == "AWS::ECS::ClusterCapacityProviderAssociations":
                cluster = self.target(props.get("Cluster")) or self.text_of(props.get("Cluster"))
                if cluster:
                    for entry in items(props.get("CapacityProviders")):
                        cluster_capacities.setdefault(cluster, []).append(self.capacity_name(entry))
            elif kind == "AWS::EKS::Cluster":
                eks_clusters.append(EksCluster(id=lid, name=self.node_name(lid), span=span))
            elif kind == "AWS::EKS::PodIdentityAssociation":
                namespace = self.text_of(props.get("Namespace"))
                account_name = self.text_of(props.get("ServiceAccount"))
                if namespace and account_name:
                    service_accounts.append(
                        ServiceAccount(
                            namespace=namespace,
                            name=account_name,
                            cluster=self.text_of(props.get("ClusterName")),
                            pod_identity_role=self.link(props, "RoleArn", ("AWS::IAM::Role",)),
                            span=span,
                        )
                    )
            elif kind == "AWS::Lambda::Function":
                functions[lid] = Function(
                    id=lid,
                    name=self.node_name(lid),
                    execution_role=self.link(props, "Role", ("AWS::IAM::Role",)),
                    span=span,
                )
            elif kind == "AWS::Lambda::Permission":
                target = self.target(props.get("FunctionName"))
                statement = self.permission(props, span)
                if target is not None and statement is not None:
                    permissions.setdefault(target, []).append(statement)
            elif kind == "AWS::ECR::Repository":
                policy = None
                if props.get("RepositoryPolicyText") is not None:
                    policy = policy_from_document(
                        self.resolve(props["RepositoryPolicyText"]),
                        f"{self.node_name(lid)} repository policy",
                        self.out,
                        span_near(props, "RepositoryPolicyText"),
                    )
                repositories.append(
                    EcrRepository(id=lid, name=self.node_name(lid), policy=policy, span=span)
                )

        # Second pass: things that link to what the first pass built.
        asg_hosts: dict[str, _Host] = {}
        cp_hosts: dict[str, _Host] = {}
        for lid in order:
            kind, props = self.kind(lid), self.props(lid)
            if kind == "AWS::AutoScaling::AutoScalingGroup":
                asg_hosts[lid] = self.asg_host(props, hosts)
        for lid in order:
            kind, props, span = self.kind(lid), self.props(lid), span_of(self.resources[lid])
            if kind == "AWS::ECS::CapacityProvider":
                provider = props.get("AutoScalingGroupProvider")
                asg = (
                    self.target(provider.get("AutoScalingGroupArn"))
                    if isinstance(provider, dict)
                    else None
                )
                host = asg_hosts.get(asg) if asg else None
                if host is not None:
                    cp_hosts[lid] = host
                capacities[lid] = self.capacity(lid, host, span)
            elif kind == "AWS::EKS::Nodegroup":
                template = props.get("LaunchTemplate")
                host = None
                if isinstance(template, dict):
                    lt = self.target(template.get("Id")) or self.target(template.get("Name"))
                    host = hosts.get(lt) if lt else None
                node_groups.append(
                    NodeGroup(
                        id=lid,
                        name=self.node_name(lid),
                        cluster=self.text_of(props.get("ClusterName")) or UNKNOWN,
                        kind=NodeGroupKind.MANAGED,
                        role=self.link(props, "NodeRole", ("AWS::IAM::Role",)),
                        instance_profile=host.instance_profile if host else None,
                        metadata=host.metadata if host else None,
                        host=host.host if host else None,
                        span=span,
                    )
                )
            elif kind == "AWS::EKS::FargateProfile":
                namespaces = tuple(
                    ns
                    for selector in items(props.get("Selectors"))
                    if isinstance(selector, dict)
                    and (ns := self.text_of(selector.get("Namespace"))) is not None
                )
                node_groups.append(
                    NodeGroup(
                        id=lid,
                        name=self.node_name(lid),
                        cluster=self.text_of(props.get("ClusterName")) or UNKNOWN,
                        kind=NodeGroupKind.FARGATE,
                        role=self.link(props, "PodExecutionRoleArn", ("AWS::IAM::Role",)),
                        namespaces=namespaces,
                        span=span,
                    )
                )

        # Clusters get their capacity providers; hosts that join a cluster by `ECS_CLUSTER`
        # in user data (no capacity provider) become a capacity of that cluster.
        by_name = {c.name: lid for lid, c in clusters.items()}
        consumed = {id(host) for host in cp_hosts.values()}
        standalone = [
            (lid, host)
            for lid, host in hosts.items()
            if not any(host is used for used in asg_hosts.values())
        ]
        for host_lid, host in [*asg_hosts.items(), *standalone]:
            if id(host) in consumed or host.cluster_name in (None, UNKNOWN):
                continue
            cluster_name = str(host.cluster_name)
            cluster_lid = by_name.get(cluster_name)
            if cluster_lid is None:
                cluster_lid = cluster_name
                clusters[cluster_lid] = EcsCluster(
                    id=cluster_lid, name=cluster_name, span=host.span
                )
                by_name[cluster_name] = cluster_lid
            capacities[host_lid] = self.capacity(host_lid, host, host.span)
            cluster_capacities.setdefault(cluster_lid, []).append(host_lid)
        for cluster_lid, names in cluster_capacities.items():
            if cluster_lid not in clusters:
                continue
            chosen = tuple(self.capacity_for(name, capacities) for name in dict.fromkeys(names))
            clusters[cluster_lid] = replace(clusters[cluster_lid], capacities=chosen)

        # Services place tasks.
        for lid in order:
            if self.kind(lid) != "AWS::ECS::Service":
                continue
            props, span = self.props(lid), span_of(self.resources[lid])
            task_ref = self.link(props, "TaskDefinition", ("AWS::ECS::TaskDefinition",))
            if task_ref is None:
                self.out.add(BAD_SHAPE, "service has no `TaskDefinition`", span)
                continue
            cluster_lid = self.target(props.get("Cluster"))
            cluster = cluster_lid or self.text_of(props.get("Cluster")) or "default"
            strategy = items(props.get("CapacityProviderStrategy"))
            capacity = None
            if strategy and isinstance(strategy[0], dict):
                capacity = self.capacity_name(strategy[0].get("CapacityProvider"))
            launch_raw = self.text_of(props.get("LaunchType"))
            launch = (
                LaunchType(launch_raw.upper())
                if launch_raw and launch_raw.upper() in LaunchType.__members__
                else None
            )
            if capacity in ("FARGATE", "FARGATE_SPOT"):
                launch = LaunchType.FARGATE
            exec_cmd = as_bool(self.resolve(props.get("EnableExecuteCommand"))) is True
            service = Service(
                id=lid,
                name=self.node_name(lid),
                task=task_ref,
                cluster=cluster,
                capacity=capacity,
                launch_type=launch,
                enable_execute_command=exec_cmd,
                span=span,
            )
            services.append(service)
            task = tasks.get(task_ref.value)
            if task is not None and task.cluster is None:
                if capacity is None and launch in (None, LaunchType.EC2):
                    capacity = self.single_capacity(clusters.get(cluster))
                tasks[task_ref.value] = replace(
                    task,
                    cluster=cluster,
                    capacity=capacity,
                    launch_type=launch,
                    enable_execute_command=exec_cmd,
                )

        # A template with one ECS cluster and EC2 tasks but no service: place them there.
        if len(clusters) == 1:
            ((cluster_lid, cluster_node),) = clusters.items()
            for lid, task in list(tasks.items()):
                ec2 = not task.compatibilities or LaunchType.EC2 in task.compatibilities
                if task.cluster is None and ec2:
                    tasks[lid] = replace(
                        task,
                        cluster=cluster_lid,
                        capacity=self.single_capacity(cluster_node),
                    )
                    self.out.note(
                        APPROXIMATED,
                        f"task `{lid}` has no service; assumed to run on cluster "
                        f"`{cluster_node.name}`, the only cluster of the template",
                        task.span,
                    )

        for lid, statements in permissions.items():
            if lid in functions:
                functions[lid] = replace(
                    functions[lid],
                    resource_policy=Policy(
                        name=f"{functions[lid].name} resource policy",
                        statements=tuple(statements),
                        span=functions[lid].span,
                    ),
                    triggers=tuple(
                        p.value for s in statements for p in (s.principal or ()) if p.value
                    ),
                )

        role_nodes = []
        for role in roles.values():
            role_nodes.append(
                replace(
                    role,
                    inline=role.inline + tuple(extra_inline.get(role.name, ())),
                    managed=role.managed + tuple(extra_managed.get(role.name, ())),
                )
            )
        if self.approximated:
            listed = ", ".join(f"`{n}`" for n in sorted(self.approximated))
            self.out.note(
                APPROXIMATED,
                f"pseudo parameters {listed} are not known from the template; `*` was used",
                Span(self.out.path, 1, 1),
                hint="pass the account and region to resolve them exactly",
            )
        return Workspace(
            account=self.account,
            managed_policies=tuple(managed),
            roles=tuple(role_nodes),
            instance_profiles=tuple(profiles),
            ecs_clusters=tuple(clusters.values()),
            tasks=tuple(tasks.values()),
            services=tuple(services),
            eks_clusters=tuple(eks_clusters),
            node_groups=tuple(node_groups),
            service_accounts=tuple(service_accounts),
            functions=tuple(functions.values()),
            repositories=tuple(repositories),
            diagnostics=tuple(self.out.diagnostics),
        )

    def single_capacity(self, cluster: EcsCluster | None) -> str | None:
        if cluster is not None and len(cluster.capacities) == 1:
            return cluster.capacities[0].name
        return None

    def capacity_name(self, raw: Any) -> str:
        target = self.target(raw)
        if target is not None:
            return target
        return self.text_of(raw) or UNKNOWN

    def capacity_for(self, name: str, capacities: dict[str, Capacity]) -> Capacity:
        if name in capacities:
            return capacities[name]
        if name in ("FARGATE", "FARGATE_SPOT"):
            return Capacity(name=name, launch=LaunchType.FARGATE)
        return Capacity(name=name, launch=LaunchType.EC2)

    def capacity(self, lid: str, host: _Host | None, span: Span | None) -> Capacity:
        return Capacity(
            name=lid,
            launch=LaunchType.EC2,
            instance_profile=host.instance_profile if host else None,
            metadata=host.metadata if host else None,
            host=host.host if host else None,
            span=span,
        )

    def asg_host(self, props: dict[str, Any], hosts: dict[str, _Host]) -> _Host:
        spec = props.get("LaunchTemplate")
        mixed = props.get("MixedInstancesPolicy")
        if spec is None and isinstance(mixed, dict):
            inner = mixed.get("LaunchTemplate")
            spec = inner.get("LaunchTemplateSpecification") if isinstance(inner, dict) else None
        lid = None
        if isinstance(spec, dict):
            lid = self.target(spec.get("LaunchTemplateId")) or self.target(
                spec.get("LaunchTemplateName")
            )
        if lid is None:
            lid = self.target(props.get("LaunchConfigurationName"))
        return hosts.get(lid, _Host()) if lid else _Host()

    def host(self, data: dict[str, Any], span: Span | None) -> _Host:
        profile_raw = data.get("IamInstanceProfile")
        profile: Ref | None = None
        if isinstance(profile_raw, dict):
            for key in ("Arn", "Name"):
                if key in profile_raw:
                    profile = self.link(profile_raw, key, ("AWS::IAM::InstanceProfile",))
                    break
        elif profile_raw is not None:  # launch configurations name the profile directly
            profile = self.link(data, "IamInstanceProfile", ("AWS::IAM::InstanceProfile",))
        metadata = metadata_from(self.resolve(data.get("MetadataOptions")))
        settings = None
        cluster_name = None
        if data.get("UserData") is not None:
            user_data = self.resolve(data.get("UserData"))
            if isinstance(user_data, str):
                settings = host_settings_from_user_data(
                    _maybe_base64(str(user_data)), span_near(data, "UserData")
                )
                cluster_name = settings.agent_setting("ECS_CLUSTER")
        return _Host(
            instance_profile=profile,
            metadata=metadata,
            host=settings,
            cluster_name=cluster_name,
            span=span,
        )

    def role(self, lid: str, props: dict[str, Any], span: Span | None) -> Role:
        name = self.node_name(lid)
        trust = None
        if props.get("AssumeRolePolicyDocument") is not None:
            trust = policy_from_document(
                self.resolve(props["AssumeRolePolicyDocument"]),
                f"{name} trust policy",
                self.out,
                span_near(props, "AssumeRolePolicyDocument"),
            )
        inline: list[Policy] = []
        for entry in items(props.get("Policies")):
            if not isinstance(entry, dict):
                continue
            policy_name = self.text_of(entry.get("PolicyName")) or "inline"
            policy = policy_from_document(
                self.resolve(entry.get("PolicyDocument")),
                policy_name,
                self.out,
                span_near(entry, "PolicyDocument"),
            )
            if policy is not None:
                inline.append(policy)
        managed_refs: list[PolicyAttachment] = []
        arns = props.get("ManagedPolicyArns")
        for index, raw in enumerate(items(arns)):
            at = span_near(arns, index) if isinstance(arns, list) else span_of(raw)
            target = self.target(raw)
            if target is not None:
                managed_refs.append(PolicyAttachment(ref=self.node_name(target), span=at))
                continue
            value = self.text_of(raw) or UNKNOWN
            managed_refs.append(
                PolicyAttachment(ref=value, aws_managed=is_aws_managed_arn(value), span=at)
            )
        boundary = None
        if props.get("PermissionsBoundary") is not None:
            raw = props["PermissionsBoundary"]
            target = self.target(raw)
            value = self.node_name(target) if target else (self.text_of(raw) or UNKNOWN)
            boundary = PolicyAttachment(
                ref=value,
                aws_managed=is_aws_managed_arn(value),
                span=span_near(props, "PermissionsBoundary"),
            )
        tags = tuple(
            (k, v)
            for tag in items(props.get("Tags"))
            if isinstance(tag, dict)
            and (k := self.text_of(tag.get("Key"))) is not None
            and (v := self.text_of(tag.get("Value"))) is not None
        )
        return Role(
            name=name,
            arn=self.arn_of(lid) if self.account else None,
            trust=trust,
            managed=tuple(managed_refs),
            inline=tuple(inline),
            boundary=boundary,
            tags=tags,
            span=span,
        )

    def permission(self, props: dict[str, Any], span: Span | None) -> Statement | None:
        """`AWS::Lambda::Permission` as the resource-policy statement Lambda writes for it
        (Lambda Developer Guide, "Working with resource-based IAM policies in Lambda")."""
        action = self.text_of(props.get("Action"))
        principal = self.text_of(props.get("Principal"))
        if not action or not principal:
            self.out.add(BAD_SHAPE, "a Lambda permission needs `Action` and `Principal`", span)
            return None
        kind = "Service" if principal.endswith(".amazonaws.com") else "AWS"
        if principal == "*":
            kind = "*"
        conditions: list[Condition] = []
        source_arn = self.text_of(props.get("SourceArn"))
        if source_arn:
            conditions.append(
                Condition(operator="ArnLike", key="AWS:SourceArn", values=(source_arn,))
            )
        source_account = self.text_of(props.get("SourceAccount"))
        if source_account:
            conditions.append(
                Condition(
                    operator="StringEquals", key="AWS:SourceAccount", values=(source_account,)
                )
            )
        target = self.target(props.get("FunctionName"))
        resource = self.arn_of(target) if target else UNKNOWN
        return Statement(
            effect=Effect.ALLOW,
            action=(action,),
            resource=(resource,),
            principal=(Principal(kind=kind, value=principal, span=span),),
            condition=tuple(conditions),
            span=span,
        )


def _maybe_base64(value: str) -> str:
    """`Fn::Base64` is evaluated as text above; a literal base64 string is decoded here."""
    try:
        compact = "".join(value.split())
        if compact and re.fullmatch(r"[A-Za-z0-9+/]+=*", compact) and len(compact) % 4 == 0:
            return base64.b64decode(compact, validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        pass
    return value
