"""ECS task definitions: `aws ecs describe-task-definition` output and register input.

Also the container-definition logic shared with CloudFormation (PascalCase keys) and
Terraform (`container_definitions` JSON): field names are looked up in camelCase and then in
PascalCase, and every leaf value passes through `resolve` so a template reader can turn
intrinsic functions into text or `UNKNOWN` while spans stay those of the input.

Fields that matter for credentials follow the ECS Developer Guide, "Task definition
parameters": `taskRoleArn`, `executionRoleArn`, `networkMode`, `pidMode`, `ipcMode`,
`requiresCompatibilities`, `volumes[].host.sourcePath`, and per container `privileged`,
`mountPoints`, `secrets[].valueFrom`, `repositoryCredentials.credentialsParameter`,
`logConfiguration.secretOptions`, `environment` and `environmentFiles`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from policyeval.errors import SourceText, Span
from policyeval.model.expect import Need
from policyeval.model.topology import (
    UNKNOWN,
    Container,
    HostMount,
    LaunchType,
    Ref,
    Task,
)
from policyeval.model.workspace import Workspace
from policyeval.readers._common import (
    BAD_SHAPE,
    NOT_MODELLED,
    Collector,
    as_bool,
    items,
    needs_from_list,
    short,
)
from policyeval.readers.positions import (
    InputError,
    load_json,
    load_yaml_documents,
    span_at,
    span_near,
    span_of,
)

Resolver = Callable[[Any], Any]


def _identity(value: Any) -> Any:
    return value


def field_key(mapping: dict[str, Any], camel: str) -> str | None:
    """The key under which `mapping` holds `camel` (`taskRoleArn` or `TaskRoleArn`)."""
    if camel in mapping:
        return camel
    pascal = camel[:1].upper() + camel[1:]
    if pascal in mapping:
        return pascal
    return None


def field(mapping: Any, camel: str) -> Any:
    if not isinstance(mapping, dict):
        return None
    key = field_key(mapping, camel)
    return mapping[key] if key is not None else None


def field_span(mapping: Any, camel: str) -> Span | None:
    if not isinstance(mapping, dict):
        return span_of(mapping)
    key = field_key(mapping, camel)
    return span_near(mapping, key) if key is not None else span_of(mapping)


def is_task_definition(document: Any) -> bool:
    """Describe output (`{"taskDefinition": …}`) or register input (a `family` with
    `containerDefinitions`)."""
    if not isinstance(document, dict):
        return False
    inner = document.get("taskDefinition")
    if isinstance(inner, dict):
        return True
    return "family" in document and "containerDefinitions" in document


def read_task_definition(
    text: str, path: str, *, needs: tuple[Need, ...] = (), document: Any = None
) -> Workspace:
    """One task definition file → a Workspace with one `Task` (id = family)."""
    sources = SourceText()
    sources.add(path, text)
    out = Collector(path)
    if document is None:
        try:
            document = load_json(text, path)
        except InputError as exc:
            return Workspace(diagnostics=(exc.diagnostic,), sources=sources)
    task = task_from_document(document, out)
    if task is not None and needs:
        task = _with_needs(task, needs)
    return Workspace(
        tasks=(task,) if task is not None else (),
        diagnostics=tuple(out.diagnostics),
        sources=sources,
    )


def _with_needs(task: Task, needs: tuple[Need, ...]) -> Task:
    from dataclasses import replace

    return replace(task, needs=task.needs + needs)


def task_from_document(document: Any, out: Collector) -> Task | None:
    """Unwrap describe output if needed and read the definition."""
    if isinstance(document, dict) and isinstance(document.get("taskDefinition"), dict):
        document = document["taskDefinition"]
    if not isinstance(document, dict):
        out.add(BAD_SHAPE, "a task definition must be a JSON object", span_of(document))
        return None
    return task_from_definition(document, out)


def task_from_definition(
    definition: dict[str, Any],
    out: Collector,
    *,
    task_id: str | None = None,
    resolve: Resolver = _identity,
) -> Task | None:
    family_raw = resolve(field(definition, "family"))
    family = str(family_raw) if isinstance(family_raw, str) else None
    if family is None:
        if task_id is None:
            out.add(
                BAD_SHAPE,
                "task definition has no `family`",
                span_of(definition),
                hint="`family` names the task definition and is required by RegisterTaskDefinition",
            )
            return None
        family = task_id
    volumes = host_volumes(field(definition, "volumes"), out, resolve)
    raw_containers = _list(definition, "containerDefinitions", out)
    containers = tuple(
        container
        for index, raw in enumerate(raw_containers)
        if (
            container := container_from(
                raw, volumes, out, resolve, where=span_at(raw_containers, index)
            )
        )
        is not None
    )
    compat_key = (
        "requiresCompatibilities"
        if field(definition, "requiresCompatibilities") is not None
        else "compatibilities"
    )
    return Task(
        id=task_id or family,
        family=family,
        task_role=ref_of(definition, "taskRoleArn", resolve),
        execution_role=ref_of(definition, "executionRoleArn", resolve),
        network_mode=_lower(resolve(field(definition, "networkMode"))),
        compatibilities=launch_types(field(definition, compat_key), out, resolve),
        pid_mode=_lower(resolve(field(definition, "pidMode"))),
        ipc_mode=_lower(resolve(field(definition, "ipcMode"))),
        containers=containers,
        span=span_of(definition),
    )


def _lower(value: Any) -> str | None:
    return str(value).lower() if isinstance(value, str) else None


def _list(mapping: dict[str, Any], camel: str, out: Collector) -> list[Any]:
    value = field(mapping, camel)
    if value is None:
        return []
    if not isinstance(value, list):
        out.add(BAD_SHAPE, f"`{camel}` must be a list", field_span(mapping, camel))
        return []
    return value


def ref_of(mapping: Any, camel: str, resolve: Resolver = _identity) -> Ref | None:
    """A role (or other) reference with the span of its value; UNKNOWN when unresolvable."""
    raw = field(mapping, camel)
    if raw is None:
        return None
    value = resolve(raw)
    if value is None or value == "":
        return None
    return Ref(
        value=str(value) if isinstance(value, str) else UNKNOWN,
        span=field_span(mapping, camel),
    )


def launch_types(raw: Any, out: Collector, resolve: Resolver = _identity) -> tuple[LaunchType, ...]:
    found: list[LaunchType] = []
    for entry in items(raw):
        value = resolve(entry)
        if isinstance(value, str) and value.upper() in LaunchType.__members__:
            launch = LaunchType(value.upper())
            if launch not in found:
                found.append(launch)
        elif value != UNKNOWN:
            out.note(
                NOT_MODELLED,
                f"launch type `{short(value)}` is not modelled; treated as unknown",
                span_of(entry) or span_of(raw),
            )
    return tuple(found)


def host_volumes(
    raw: Any, out: Collector, resolve: Resolver = _identity
) -> dict[str, tuple[str, Span | None]]:
    """Volume name → host source path, for bind-mount volumes only (`host.sourcePath`)."""
    found: dict[str, tuple[str, Span | None]] = {}
    for volume in items(raw):
        if not isinstance(volume, dict):
            out.add(BAD_SHAPE, "a volume must be an object", span_of(volume))
            continue
        name = resolve(field(volume, "name"))
        host = field(volume, "host")
        source = resolve(field(host, "sourcePath")) if isinstance(host, dict) else None
        if isinstance(name, str) and isinstance(source, str) and source:
            found[str(name)] = (str(source), field_span(host, "sourcePath"))
    return found


def container_from(
    raw: Any,
    volumes: dict[str, tuple[str, Span | None]],
    out: Collector,
    resolve: Resolver = _identity,
    where: Span | None = None,
) -> Container | None:
    if not isinstance(raw, dict):
        out.add(BAD_SHAPE, "a container definition must be an object", span_of(raw) or where)
        return None
    name = resolve(field(raw, "name"))
    if not isinstance(name, str):
        out.add(BAD_SHAPE, "a container definition has no `name`", span_of(raw))
        return None
    image = resolve(field(raw, "image"))
    privileged_raw = resolve(field(raw, "privileged"))
    privileged = as_bool(privileged_raw)
    if privileged is None and privileged_raw is not None:
        # Unresolvable: assume the worse case and say so.
        out.note(
            BAD_SHAPE if privileged_raw != UNKNOWN else "PE063",
            f"`privileged` of container `{short(name)}` is not a boolean; assumed true",
            field_span(raw, "privileged"),
        )
        privileged = True
    mounts: list[HostMount] = []
    for point in items(field(raw, "mountPoints")):
        if not isinstance(point, dict):
            continue
        volume_name = resolve(field(point, "sourceVolume"))
        if isinstance(volume_name, str) and volume_name in volumes:
            source, _ = volumes[volume_name]
            target = resolve(field(point, "containerPath"))
            mounts.append(
                HostMount(
                    source_path=source,
                    container_path=str(target) if isinstance(target, str) else None,
                    span=span_of(point),
                )
            )
    secrets: list[Ref] = []
    for secret in items(field(raw, "secrets")):
        ref = ref_of(secret, "valueFrom", resolve)
        if ref is not None:
            secrets.append(ref)
    credentials = field(raw, "repositoryCredentials")
    if isinstance(credentials, dict):
        ref = ref_of(credentials, "credentialsParameter", resolve)
        if ref is not None:
            secrets.append(ref)
    logging = field(raw, "logConfiguration")
    if isinstance(logging, dict):
        for option in items(field(logging, "secretOptions")):
            ref = ref_of(option, "valueFrom", resolve)
            if ref is not None:
                secrets.append(ref)
    environment: list[tuple[str, str]] = []
    for pair in items(field(raw, "environment")):
        key = resolve(field(pair, "name"))
        value = resolve(field(pair, "value"))
        if isinstance(key, str):
            environment.append(
                (str(key), str(value) if isinstance(value, str | int | float) else UNKNOWN)
            )
    files: list[Ref] = []
    for entry in items(field(raw, "environmentFiles")):
        ref = ref_of(entry, "value", resolve)
        if ref is not None:
            files.append(ref)
    return Container(
        name=str(name),
        image=str(image) if isinstance(image, str) else None,
        privileged=bool(privileged),
        mounts=tuple(mounts),
        secrets=tuple(secrets),
        environment=tuple(environment),
        environment_files=tuple(files),
        span=span_of(raw),
    )


# -- needs files -------------------------------------------------------------------------

NEEDS_SUFFIXES = (".needs.json", ".needs.yaml", ".needs.yml")


def is_needs_file(path: str) -> bool:
    return path.lower().endswith(NEEDS_SUFFIXES)


def read_needs(text: str, path: str) -> tuple[tuple[Need, ...], Collector]:
    """A needs file: a list of actions, or of `{action, resources}` objects (JSON or YAML)."""
    out = Collector(path)
    try:
        if path.lower().endswith(".json"):
            document = load_json(text, path)
        else:
            documents = load_yaml_documents(text, path)
            document = documents[0] if documents else None
    except InputError as exc:
        out.diagnostics.append(exc.diagnostic)
        return (), out
    return needs_from_list(document, out, Span(path, 1, 1)), out
