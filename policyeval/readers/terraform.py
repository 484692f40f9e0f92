"""`terraform show -json` output: plans (`planned_values`) and state (`values`).

Resources of the root module and every child module become topology nodes whose ids are
Terraform addresses. Values unknown until apply (a role ARN created in the same plan) are
absent or null in `planned_values`; links then follow the `configuration` expressions'
`references` (Terraform docs, "JSON Output Format"). Attributes that hold JSON as text
(`assume_role_policy`, `policy`, `container_definitions`) are parsed, with positions
approximated to the attribute that holds them.
"""

from __future__ import annotations

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
    InstanceProfile,
    LaunchType,
    ManagedPolicy,
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
    text,
)
from policyeval.readers.launch_template import host_settings_from_user_data, metadata_from
from policyeval.readers.positions import InputError, load_json, span_near, span_of
from policyeval.readers.taskdef import container_from, launch_types

_INDEX = re.compile(r"\[[^\]]*\]$")


def is_terraform(document: Any) -> bool:
    return (
        isinstance(document, dict)
        and "format_version" in document
        and any(k in document for k in ("planned_values", "values", "resource_changes"))
    )


def read_terraform(text_: str, path: str, *, document: Any = None) -> Workspace:
    sources = SourceText()
    sources.add(path, text_)
    if document is None:
        try:
            document = load_json(text_, path)
        except InputError as exc:
            return Workspace(diagnostics=(exc.diagnostic,), sources=sources)
    out = Collector(path)
    if not isinstance(document, dict):
        out.add(BAD_SHAPE, "Terraform JSON output must be an object", span_of(document))
        return Workspace(diagnostics=tuple(out.diagnostics), sources=sources)
    plan = _Plan(document, out)
    return replace(plan.build(), sources=sources)


@dataclass
class _Resource:
    address: str
    type: str
    values: dict[str, Any]
    module: str  # "" for the root module, else "module.a.module.b"
    span: Span | None


@dataclass
class _Plan:
    document: dict[str, Any]
    out: Collector
    resources: dict[str, _Resource] = field(default_factory=dict)
    expressions: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        root = _walk(self.document, ("planned_values", "root_module")) or _walk(
            self.document, ("values", "root_module")
        )
        if root is None:
            self.out.add(
                BAD_SHAPE,
                "no `planned_values.root_module` or `values.root_module` in Terraform output",
                span_of(self.document),
            )
        pending: list[Any] = [root] if isinstance(root, dict) else []
        while pending:
            module = pending.pop()
            module_address = text(module.get("address")) or ""
            for raw in items(module.get("resources")):
                if not isinstance(raw, dict):
                    continue
                address, kind = text(raw.get("address")), text(raw.get("type"))
                values = raw.get("values")
                if address is None or kind is None or raw.get("mode", "managed") != "managed":
                    continue
                self.resources[address] = _Resource(
                    address=address,
                    type=kind,
                    values=values if isinstance(values, dict) else {},
                    module=module_address,
                    span=span_of(raw),
                )
            pending.extend(m for m in items(module.get("child_modules")) if isinstance(m, dict))
        config = _walk(self.document, ("configuration", "root_module"))
        todo: list[tuple[str, Any]] = [("", config)] if isinstance(config, dict) else []
        while todo:
            prefix, module = todo.pop()
            for raw in items(module.get("resources")):
                if isinstance(raw, dict) and isinstance(raw.get("address"), str):
                    expressions = raw.get("expressions")
                    if isinstance(expressions, dict):
                        self.expressions[prefix + str(raw["address"])] = expressions
            calls = module.get("module_calls")
            if isinstance(calls, dict):
                for name, call in calls.items():
                    inner = call.get("module") if isinstance(call, dict) else None
                    if isinstance(inner, dict):
                        todo.append((f"{prefix}module.{name}.", inner))
        variables = self.document.get("variables")
        if isinstance(variables, dict):
            for name, spec in variables.items():
                if isinstance(spec, dict) and "value" in spec:
                    self.variables[str(name)] = spec["value"]

    # -- values and links ------------------------------------------------------------------

    def by_type(self, *kinds: str) -> list[_Resource]:
        return [r for r in self.resources.values() if r.type in kinds]

    def references(self, resource: _Resource, path: tuple[str | int, ...]) -> list[str]:
        """`references` of an attribute's configuration expression (module-relative)."""
        base = _INDEX.sub("", resource.address)
        node: Any = self.expressions.get(base)
        for step in path:
            if isinstance(step, int):
                node = node[step] if isinstance(node, list) and len(node) > step else None
            else:
                node = node.get(step) if isinstance(node, dict) else None
        refs = node.get("references") if isinstance(node, dict) else None
        return [str(r) for r in items(refs) if isinstance(r, str)]

    def target(self, resource: _Resource, path: tuple[str | int, ...]) -> _Resource | None:
        prefix = f"{resource.module}." if resource.module else ""
        for ref in self.references(resource, path):
            parts = ref.split(".")
            if ref.startswith(("var.", "local.", "data.", "module.")) or len(parts) < 2:
                continue
            address = prefix + ".".join(parts[:2])
            found = self.resources.get(address) or next(
                (r for a, r in self.resources.items() if _INDEX.sub("", a) == address), None
            )
            if found is not None:
                return found
        return None

    def node_name(self, resource: _Resource) -> str:
        """Roles, profiles and policies are referred to by name; the rest by address."""
        if resource.type in ("aws_iam_role", "aws_iam_instance_profile", "aws_iam_policy"):
            name = text(resource.values.get("name"))
            if name:
                return name
        return resource.address

    def value(self, resource: _Resource, attr: str, path: tuple[str | int, ...] = ()) -> Any:
        """An attribute's planned value; else a root variable it references; else None."""
        holder: Any = resource.values
        for step in path:
            if isinstance(holder, list) and isinstance(step, int):
                holder = holder[step] if len(holder) > step else None
            elif isinstance(holder, dict) and isinstance(step, str):
                holder = holder.get(step)
            else:
                holder = None
        value = holder.get(attr) if isinstance(holder, dict) else None
        if value is not None:
            return value
        if not resource.module:
            for ref in self.references(resource, (*path, attr)):
                if ref.startswith("var.") and ref[4:] in self.variables:
                    return self.variables[ref[4:]]
        return None

    def link(self, resource: _Resource, attr: str, path: tuple[str | int, ...] = ()) -> Ref | None:
        holder: Any = resource.values
        for step in path:
            if isinstance(holder, list) and isinstance(step, int):
                holder = holder[step] if len(holder) > step else None
            elif isinstance(holder, dict) and isinstance(step, str):
                holder = holder.get(step)
        span = span_near(holder, attr) if isinstance(holder, dict) else resource.span
        span = span or resource.span
        value = self.value(resource, attr, path)
        if isinstance(value, str) and value:
            return Ref(value=str(value), span=span)
        found = self.target(resource, (*path, attr))
        if found is not None:
            return Ref(value=self.node_name(found), span=span)
        if self.references(resource, (*path, attr)):
            self.out.note(
                UNRESOLVED,
                f"`{resource.address}.{attr}` is known only after apply and refers outside "
                "this plan",
                span,
            )
            return Ref(value=UNKNOWN, span=span)
        return None

    def embedded(self, resource: _Resource, attr: str) -> Any:
        """A JSON-in-text attribute, parsed with spans at the attribute."""
        raw = self.value(resource, attr)
        if raw is None:
            return None
        if not isinstance(raw, str):
            return raw
        anchor = span_near(resource.values, attr) or resource.span
        try:
            return load_json(str(raw), self.out.path, at=anchor)
        except InputError as exc:
            self.out.diagnostics.append(exc.diagnostic)
            return None

    def policy(self, resource: _Resource, attr: str, name: str) -> Policy | None:
        document = self.embedded(resource, attr)
        if document is None:
            return None
        anchor = span_near(resource.values, attr) or resource.span
        return policy_from_document(document, name, self.out, anchor)

    # -- nodes -----------------------------------------------------------------------------

    def build(self) -> Workspace:
        roles: dict[str, Role] = {}
        for r in self.by_type("aws_iam_role"):
            roles[self.node_name(r)] = self.role(r)
        managed: list[ManagedPolicy] = []
        for r in self.by_type("aws_iam_policy"):
            name = self.node_name(r)
            policy = self.policy(r, "policy", name)
            if policy is not None:
                arn = text(r.values.get("arn")) or f"arn:aws:iam::*:policy/{name}"
                managed.append(ManagedPolicy(name=name, arn=arn, document=policy, span=r.span))
        for r in self.by_type("aws_iam_role_policy"):
            role = self.link(r, "role")
            name = text(r.values.get("name")) or r.address
            policy = self.policy(r, "policy", name)
            if role is not None and policy is not None:
                self.attach(roles, role, r, inline=policy)
        for r in self.by_type("aws_iam_role_policy_attachment"):
            role = self.link(r, "role")
            policy_ref = self.link(r, "policy_arn")
            if role is not None and policy_ref is not None:
                attachment = PolicyAttachment(
                    ref=policy_ref.value,
                    aws_managed=is_aws_managed_arn(policy_ref.value),
                    span=r.span,
                )
                self.attach(roles, role, r, managed=attachment)
        profiles = [
            InstanceProfile(
                name=self.node_name(r),
                arn=text(r.values.get("arn")),
                role=self.link(r, "role"),
                span=r.span,
            )
            for r in self.by_type("aws_iam_instance_profile")
        ]
        hosts: dict[str, Capacity] = {}
        cluster_of_host: dict[str, str] = {}
        for r in self.by_type("aws_launch_template"):
            user_data = self.value(r, "user_data")
            settings = (
                host_settings_from_user_data(str(user_data), span_near(r.values, "user_data"))
                if isinstance(user_data, str)
                else None
            )
            profile = self.link(r, "name", ("iam_instance_profile", 0)) or self.link(
                r, "arn", ("iam_instance_profile", 0)
            )
            hosts[r.address] = Capacity(
                name=r.address,
                launch=LaunchType.EC2,
                instance_profile=profile,
                metadata=metadata_from(r.values.get("metadata_options"), terraform=True),
                host=settings,
                span=r.span,
            )
            joined = settings.agent_setting("ECS_CLUSTER") if settings else None
            if joined:
                cluster_of_host[r.address] = joined
        asg_host: dict[str, Capacity] = {}
        for r in self.by_type("aws_autoscaling_group"):
            template = self.target(r, ("launch_template", 0, "id")) or self.target(
                r, ("launch_template", 0, "name")
            )
            if template is not None and template.address in hosts:
                asg_host[r.address] = replace(hosts[template.address], name=r.address, span=r.span)
        capacities: dict[str, Capacity] = {}
        for r in self.by_type("aws_ecs_capacity_provider"):
            asg = self.target(r, ("auto_scaling_group_provider", 0, "auto_scaling_group_arn"))
            base = asg_host.get(asg.address) if asg else None
            capacities[r.address] = (
                replace(base, name=r.address, span=r.span)
                if base
                else Capacity(name=r.address, launch=LaunchType.EC2, span=r.span)
            )
        clusters: dict[str, EcsCluster] = {
            r.address: EcsCluster(
                id=r.address, name=text(r.values.get("name")) or r.address, span=r.span
            )
            for r in self.by_type("aws_ecs_cluster")
        }
        for r in self.by_type("aws_ecs_cluster_capacity_providers"):
            cluster = self.target(r, ("cluster_name",))
            if cluster is None or cluster.address not in clusters:
                continue
            names = [text(n) for n in items(r.values.get("capacity_providers"))]
            chosen = [
                capacities.get(n or "")
                or next((c for a, c in capacities.items() if a.endswith(f".{n}")), None)
                or Capacity(
                    name=n or UNKNOWN,
                    launch=LaunchType.FARGATE
                    if (n or "").startswith("FARGATE")
                    else LaunchType.EC2,
                )
                for n in names
            ]
            refs = [
                self.resources[a]
                for ref in self.references(r, ("capacity_providers",))
                if (a := ".".join(ref.split(".")[:2])) in self.resources
            ]
            chosen.extend(capacities[x.address] for x in refs if x.address in capacities)
            unique = {c.name: c for c in chosen}
            clusters[cluster.address] = replace(
                clusters[cluster.address], capacities=tuple(unique.values())
            )
        # Hosts that join a cluster by `ECS_CLUSTER` in user data.
        by_name = {c.name: a for a, c in clusters.items()}
        for host_address, cluster_name in cluster_of_host.items():
            if any(c.name == host_address for c in capacities.values()):
                continue
            address = by_name.get(cluster_name)
            if address is None:
                address = cluster_name
                clusters[address] = EcsCluster(id=address, name=cluster_name)
                by_name[cluster_name] = address
            host = hosts[host_address]
            clusters[address] = replace(
                clusters[address], capacities=(*clusters[address].capacities, host)
            )

        tasks: dict[str, Task] = {}
        for r in self.by_type("aws_ecs_task_definition"):
            task = self.task(r)
            if task is not None:
                tasks[r.address] = task
        services: list[Service] = []
        for r in self.by_type("aws_ecs_service"):
            task_ref = self.link(r, "task_definition")
            target = self.target(r, ("task_definition",))
            if target is not None:
                task_ref = Ref(value=target.address, span=task_ref.span if task_ref else r.span)
            if task_ref is None:
                self.out.add(BAD_SHAPE, f"service `{r.address}` has no `task_definition`", r.span)
                continue
            cluster_target = self.target(r, ("cluster",))
            service_cluster: str = (
                cluster_target.address
                if cluster_target
                else text(self.value(r, "cluster")) or "default"
            )
            strategy = items(r.values.get("capacity_provider_strategy"))
            capacity = None
            if strategy and isinstance(strategy[0], dict):
                cp = self.target(r, ("capacity_provider_strategy", 0, "capacity_provider"))
                capacity = cp.address if cp else text(strategy[0].get("capacity_provider"))
            launch_raw = text(r.values.get("launch_type"))
            launch = (
                LaunchType(launch_raw.upper())
                if launch_raw and launch_raw.upper() in LaunchType.__members__
                else None
            )
            if capacity in ("FARGATE", "FARGATE_SPOT"):
                launch = LaunchType.FARGATE
            exec_cmd = as_bool(r.values.get("enable_execute_command")) is True
            services.append(
                Service(
                    id=r.address,
                    name=text(r.values.get("name")) or r.address,
                    task=task_ref,
                    cluster=service_cluster,
                    capacity=capacity,
                    launch_type=launch,
                    enable_execute_command=exec_cmd,
                    span=r.span,
                )
            )
            task = tasks.get(task_ref.value)
            if task is not None and task.cluster is None:
                tasks[task_ref.value] = replace(
                    task,
                    cluster=service_cluster,
                    capacity=capacity,
                    launch_type=launch,
                    enable_execute_command=exec_cmd,
                )
        if len(clusters) == 1:
            ((address, cluster_node),) = clusters.items()
            only = cluster_node.capacities[0].name if len(cluster_node.capacities) == 1 else None
            for key, task in list(tasks.items()):
                ec2 = not task.compatibilities or LaunchType.EC2 in task.compatibilities
                if task.cluster is None and ec2:
                    tasks[key] = replace(task, cluster=address, capacity=only)
                    self.out.note(
                        APPROXIMATED,
                        f"task `{key}` has no service; assumed to run on cluster "
                        f"`{cluster_node.name}`, the only cluster of the plan",
                        task.span,
                    )

        node_groups: list[NodeGroup] = []
        for r in self.by_type("aws_eks_node_group"):
            template = self.target(r, ("launch_template", 0, "id")) or self.target(
                r, ("launch_template", 0, "name")
            )
            group_host = hosts.get(template.address) if template else None
            node_groups.append(
                NodeGroup(
                    id=r.address,
                    name=text(r.values.get("node_group_name")) or r.address,
                    cluster=(self.link(r, "cluster_name") or Ref(value=UNKNOWN)).value,
                    kind=NodeGroupKind.MANAGED,
                    role=self.link(r, "node_role_arn"),
                    instance_profile=group_host.instance_profile if group_host else None,
                    metadata=group_host.metadata if group_host else None,
                    host=group_host.host if group_host else None,
                    span=r.span,
                )
            )
        for r in self.by_type("aws_eks_fargate_profile"):
            namespaces = tuple(
                str(s["namespace"])
                for s in items(r.values.get("selector"))
                if isinstance(s, dict) and isinstance(s.get("namespace"), str)
            )
            node_groups.append(
                NodeGroup(
                    id=r.address,
                    name=text(r.values.get("fargate_profile_name")) or r.address,
                    cluster=(self.link(r, "cluster_name") or Ref(value=UNKNOWN)).value,
                    kind=NodeGroupKind.FARGATE,
                    role=self.link(r, "pod_execution_role_arn"),
                    namespaces=namespaces,
                    span=r.span,
                )
            )
        service_accounts = []
        for r in self.by_type("aws_eks_pod_identity_association"):
            namespace = text(r.values.get("namespace"))
            account_name = text(r.values.get("service_account"))
            if not namespace or not account_name:
                self.out.add(
                    BAD_SHAPE,
                    f"`{r.address}` needs `namespace` and `service_account`",
                    r.span,
                )
                continue
            role = self.link(r, "target_role_arn") or self.link(r, "role_arn")
            eks_cluster = self.link(r, "cluster_name")
            service_accounts.append(
                ServiceAccount(
                    namespace=namespace,
                    name=account_name,
                    cluster=eks_cluster.value if eks_cluster else None,
                    pod_identity_role=role,
                    span=r.span,
                )
            )
        eks_clusters = [
            EksCluster(id=r.address, name=text(r.values.get("name")) or r.address, span=r.span)
            for r in self.by_type("aws_eks_cluster")
        ]
        functions: dict[str, Function] = {
            r.address: Function(
                id=r.address,
                name=text(r.values.get("function_name")) or r.address,
                execution_role=self.link(r, "role"),
                span=r.span,
            )
            for r in self.by_type("aws_lambda_function")
        }
        for r in self.by_type("aws_lambda_permission"):
            function = self.target(r, ("function_name",))
            function_name = text(r.values.get("function_name"))
            fn_key = (
                function.address
                if function
                else next((a for a, f in functions.items() if f.name == function_name), None)
            )
            statement = self.permission(r)
            if fn_key is None or fn_key not in functions or statement is None:
                continue
            current = functions[fn_key]
            previous = current.resource_policy.statements if current.resource_policy else ()
            functions[fn_key] = replace(
                current,
                resource_policy=Policy(
                    name=f"{current.name} resource policy",
                    statements=(*previous, statement),
                    span=current.span,
                ),
                triggers=(
                    *current.triggers,
                    *(p.value for p in statement.principal or ()),
                ),
            )
        repositories: dict[str, EcrRepository] = {
            text(r.values.get("name")) or r.address: EcrRepository(
                id=r.address, name=text(r.values.get("name")) or r.address, span=r.span
            )
            for r in self.by_type("aws_ecr_repository")
        }
        for r in self.by_type("aws_ecr_repository_policy"):
            repo = self.link(r, "repository")
            name = repo.value if repo else r.address
            policy = self.policy(r, "policy", f"{name} repository policy")
            existing = repositories.get(name)
            repositories[name] = (
                replace(existing, policy=policy)
                if existing
                else EcrRepository(id=r.address, name=name, policy=policy, span=r.span)
            )
        return Workspace(
            managed_policies=tuple(managed),
            roles=tuple(roles.values()),
            instance_profiles=tuple(profiles),
            ecs_clusters=tuple(clusters.values()),
            tasks=tuple(tasks.values()),
            services=tuple(services),
            eks_clusters=tuple(eks_clusters),
            node_groups=tuple(node_groups),
            service_accounts=tuple(service_accounts),
            functions=tuple(functions.values()),
            repositories=tuple(repositories.values()),
            diagnostics=tuple(self.out.diagnostics),
        )

    def attach(
        self,
        roles: dict[str, Role],
        role: Ref,
        source: _Resource,
        *,
        inline: Policy | None = None,
        managed: PolicyAttachment | None = None,
    ) -> None:
        key = role.value
        if key.startswith("arn:"):
            key = key.rsplit("/", 1)[-1]
        current = roles.get(key)
        if current is None:
            self.out.note(
                UNRESOLVED,
                f"`{source.address}` attaches to role `{role.value}`, which this plan does "
                "not define",
                source.span,
            )
            return
        roles[key] = replace(
            current,
            inline=current.inline + ((inline,) if inline else ()),
            managed=current.managed + ((managed,) if managed else ()),
        )

    def role(self, r: _Resource) -> Role:
        name = self.node_name(r)
        trust = self.policy(r, "assume_role_policy", f"{name} trust policy")
        inline: list[Policy] = []
        for block in items(r.values.get("inline_policy")):
            if isinstance(block, dict) and isinstance(block.get("policy"), str):
                anchor = span_of(block) or r.span
                document = None
                try:
                    document = load_json(str(block["policy"]), self.out.path, at=anchor)
                except InputError as exc:
                    self.out.diagnostics.append(exc.diagnostic)
                if document is not None:
                    policy = policy_from_document(
                        document, text(block.get("name")) or "inline", self.out, anchor
                    )
                    if policy is not None:
                        inline.append(policy)
        managed = tuple(
            PolicyAttachment(ref=str(arn), aws_managed=is_aws_managed_arn(str(arn)), span=r.span)
            for arn in items(r.values.get("managed_policy_arns"))
            if isinstance(arn, str)
        )
        boundary_ref = self.link(r, "permissions_boundary")
        boundary = (
            PolicyAttachment(
                ref=boundary_ref.value,
                aws_managed=is_aws_managed_arn(boundary_ref.value),
                span=boundary_ref.span,
            )
            if boundary_ref
            else None
        )
        tags_raw = r.values.get("tags")
        tags = (
            tuple((str(k), str(v)) for k, v in tags_raw.items() if isinstance(v, str))
            if isinstance(tags_raw, dict)
            else ()
        )
        return Role(
            name=name,
            arn=text(r.values.get("arn")),
            trust=trust,
            managed=managed,
            inline=tuple(inline),
            boundary=boundary,
            tags=tags,
            span=r.span,
        )

    def task(self, r: _Resource) -> Task | None:
        family = text(r.values.get("family"))
        if family is None:
            self.out.add(BAD_SHAPE, f"`{r.address}` has no `family`", r.span)
            return None
        volumes: dict[str, tuple[str, Span | None]] = {}
        for volume in items(r.values.get("volume")):
            if isinstance(volume, dict):
                name, host = text(volume.get("name")), text(volume.get("host_path"))
                if name and host:
                    volumes[name] = (host, span_near(volume, "host_path"))
        definitions = self.embedded(r, "container_definitions")
        containers = tuple(
            c
            for raw in items(definitions)
            if (c := container_from(raw, volumes, self.out)) is not None
        )
        return Task(
            id=r.address,
            family=family,
            task_role=self.link(r, "task_role_arn"),
            execution_role=self.link(r, "execution_role_arn"),
            network_mode=(text(r.values.get("network_mode")) or "").lower() or None,
            compatibilities=launch_types(r.values.get("requires_compatibilities"), self.out),
            pid_mode=(text(r.values.get("pid_mode")) or "").lower() or None,
            ipc_mode=(text(r.values.get("ipc_mode")) or "").lower() or None,
            containers=containers,
            span=r.span,
        )

    def permission(self, r: _Resource) -> Statement | None:
        """`aws_lambda_permission` as the statement Lambda adds to the function's policy."""
        action, principal = text(r.values.get("action")), text(r.values.get("principal"))
        if not action or not principal:
            self.out.add(BAD_SHAPE, f"`{r.address}` needs `action` and `principal`", r.span)
            return None
        kind = (
            "*"
            if principal == "*"
            else ("Service" if principal.endswith(".amazonaws.com") else "AWS")
        )
        conditions = []
        source_arn = self.link(r, "source_arn")
        if source_arn is not None:
            conditions.append(
                Condition(operator="ArnLike", key="AWS:SourceArn", values=(source_arn.value,))
            )
        source_account = text(r.values.get("source_account"))
        if source_account:
            conditions.append(
                Condition(
                    operator="StringEquals", key="AWS:SourceAccount", values=(source_account,)
                )
            )
        return Statement(
            effect=Effect.ALLOW,
            action=(action,),
            resource=("*",),
            principal=(Principal(kind=kind, value=principal, span=r.span),),
            condition=tuple(conditions),
            span=r.span,
        )


def _walk(document: Any, keys: tuple[str, ...]) -> Any:
    node = document
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = node.get(key)
    return node
