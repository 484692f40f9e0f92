"""Load a `.pel` file into a `Workspace`: parse, read imports, resolve every name.

Name resolution runs after parsing (cedar's two passes): a reference to a role, policy,
instance profile, capacity, task, service account or node group that the file does not
define is a coded Diagnostic at the reference. ARNs are accepted as they are: they may name
things defined elsewhere in the account.

Imports are paths relative to the importing file. They must stay inside the project folder
(the top file's folder, or `root`), also through symlinks, unless `allow_outside=True`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from policyeval.errors import Diagnostic, Severity, SourceText, Span, sorted_diagnostics
from policyeval.model.expect import Expectation
from policyeval.model.policy import Effect, Policy, Statement
from policyeval.model.topology import (
    EcrRepository,
    Function,
    PolicyAttachment,
    Ref,
    Role,
    Task,
)
from policyeval.model.workspace import Workspace
from policyeval.readers.positions import CODE_TOO_LARGE, MAX_INPUT_CHARS
from policyeval.syntax.parser import MAX_PEL_BYTES, TOO_LARGE, PelDocument, parse_pel

UNDEFINED_POLICY = "PE020"
UNDEFINED_ROLE = "PE021"
UNDEFINED_PROFILE = "PE022"
UNDEFINED_CAPACITY = "PE023"
UNDEFINED_TASK = "PE024"
UNDEFINED_SERVICE_ACCOUNT = "PE025"
UNDEFINED_NODE_GROUP = "PE026"
IMPORT_NOT_FOUND = "PE027"
IMPORT_OUTSIDE = "PE028"
DUPLICATE_NAME = "PE029"
UNREADABLE = "PE030"
UNDEFINED_WORKLOAD = "PE031"
#: An imported file over the size limit: the readers' limit code (PE090–PE099 range).
IMPORT_TOO_LARGE = CODE_TOO_LARGE
#: Largest file a `.pel` file may import by default (the readers' input limit).
MAX_IMPORT_BYTES = MAX_INPUT_CHARS

#: The SCP AWS Organizations attaches everywhere by default ("FullAWSAccess", AWS
#: Organizations User Guide, "Service control policies"); usable without defining it.
FULL_AWS_ACCESS = Policy(
    "FullAWSAccess",
    (Statement(Effect.ALLOW, action=("*",), resource=("*",)),),
)


def load_pel(
    path: str | Path,
    *,
    root: str | Path | None = None,
    allow_outside: bool = False,
    max_bytes: int = MAX_PEL_BYTES,
    max_import_bytes: int = MAX_IMPORT_BYTES,
) -> Workspace:
    """Read, parse and resolve one `.pel` file; problems are in `Workspace.diagnostics`.

    `max_bytes` caps the `.pel` file (PE005), `max_import_bytes` each file it imports (PE092).
    """
    shown = str(path)
    file = Path(path)
    try:
        raw = _read_capped(file, max_bytes)
    except OSError as exc:
        reason = exc.strerror or "cannot be read"
        message = f"cannot read `{shown}`: {reason.lower()}"
        diagnostic = Diagnostic(UNREADABLE, Severity.ERROR, message, Span(shown, 1, 1))
        return Workspace(diagnostics=(diagnostic,))
    if len(raw) > max_bytes:
        message = f"file is larger than the limit of {max_bytes} bytes"
        hint = "`.pel` files are hand-written text; pass `max_bytes=` to read a larger one"
        diagnostic = Diagnostic(TOO_LARGE, Severity.ERROR, message, Span(shown, 1, 1), help=hint)
        return Workspace(diagnostics=(diagnostic,))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        message = f"`{shown}` is not UTF-8 text (byte {exc.start})"
        diagnostic = Diagnostic(UNREADABLE, Severity.ERROR, message, Span(shown, 1, 1))
        return Workspace(diagnostics=(diagnostic,))
    base = Path(root) if root is not None else file.resolve().parent
    return load_pel_text(
        text,
        shown,
        root=base,
        base_dir=file.parent,
        allow_outside=allow_outside,
        max_import_bytes=max_import_bytes,
    )


def _read_capped(file: Path, limit: int) -> bytes:
    """At most `limit + 1` bytes: enough to tell the file is too large without reading it all
    (a FIFO or `/dev/zero` named as input never ends)."""
    with file.open("rb") as handle:
        return handle.read(limit + 1)


def load_pel_text(
    text: str,
    path: str,
    *,
    root: str | Path | None = None,
    base_dir: str | Path | None = None,
    allow_outside: bool = False,
    max_import_bytes: int = MAX_IMPORT_BYTES,
) -> Workspace:
    """Like `load_pel` for text already in memory; imports resolve against `base_dir`.

    The cyclic collector is paused meanwhile (`policyeval/_gc.py`): a big file builds tens
    of thousands of nodes that all stay alive, and each collection would walk them all.
    """
    from policyeval._gc import collector_paused

    with collector_paused():
        return _load_pel_text(text, path, root, base_dir, allow_outside, max_import_bytes)


def _load_pel_text(
    text: str,
    path: str,
    root: str | Path | None,
    base_dir: str | Path | None,
    allow_outside: bool,
    max_import_bytes: int,
) -> Workspace:
    document, diagnostics = parse_pel(text, path)
    sources = SourceText()
    sources.add(path, text)
    folder = Path(base_dir) if base_dir is not None else Path(path).parent
    project = Path(root) if root is not None else folder
    resolver = _Resolver(document, folder, project, allow_outside, sources, max_import_bytes)
    workspace = resolver.build()
    everything = sorted_diagnostics([*diagnostics, *resolver.diagnostics])
    return replace(workspace, diagnostics=tuple(everything), sources=sources)


class _Resolver:
    def __init__(
        self,
        document: PelDocument,
        folder: Path,
        root: Path,
        allow_outside: bool,
        sources: SourceText,
        max_import_bytes: int = MAX_IMPORT_BYTES,
    ) -> None:
        self.max_import_bytes = max_import_bytes
        self.doc = document
        self.folder = folder
        self.root = root.resolve()
        self.allow_outside = allow_outside
        self.sources = sources
        self.diagnostics: list[Diagnostic] = []
        self.policies: dict[str, Policy] = {}
        self.consumed: list[Ref] = []  # files read on behalf of this document

    def error(self, code: str, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code, Severity.ERROR, message, span, help=hint))

    # imports ----------------------------------------------------------------------------------

    def import_path(self, given: str, span: Span | None) -> Path | None:
        """The file an import names, or None (with a Diagnostic) when it may not be read."""
        candidate = self.folder / given
        try:
            resolved = candidate.resolve(strict=True)
        except (OSError, RuntimeError, ValueError):  # ValueError: a NUL in the path
            self.error(
                IMPORT_NOT_FOUND,
                f"imported file `{given}` does not exist",
                span,
                hint=f"paths are relative to the importing file's folder `{self.folder}`",
            )
            return None
        if not self.allow_outside and not resolved.is_relative_to(self.root):
            self.error(
                IMPORT_OUTSIDE,
                f"import `{given}` leaves the project folder",
                span,
                hint="imports stay inside the folder of the top `.pel` file (symlinks "
                "included); pass `allow_outside=True` to read it anyway",
            )
            return None
        if not resolved.is_file():
            self.error(IMPORT_NOT_FOUND, f"imported path `{given}` is not a file", span)
            return None
        return resolved

    def load_policy(self, name: str, given: str, span: Span | None) -> Policy | None:
        from policyeval.readers.iam_json import load_policy_text

        resolved = self.import_path(given, span)
        if resolved is None:
            return None
        self.consumed.append(Ref(str(resolved), span=span))
        shown = str(self.folder / given)
        text = self.read_import(resolved, given, span, "imported file")
        if text is None:
            return None
        self.sources.add(shown, text)
        policy, problems = load_policy_text(text, shown, name)
        self.diagnostics.extend(problems)
        if policy is None and not problems:
            self.error(UNREADABLE, f"`{given}` holds no policy document", span)
        return replace(policy, name=name) if policy is not None else None

    def read_import(self, resolved: Path, given: str, span: Span | None, what: str) -> str | None:
        """The text of an imported file, within the size limit (PE092), or None."""
        limit = self.max_import_bytes
        try:
            raw = _read_capped(resolved, limit)
            if len(raw) > limit:
                self.error(
                    IMPORT_TOO_LARGE,
                    f"{what} `{given}` is larger than the limit of {limit} bytes",
                    span,
                    hint="raise the limit on purpose (`--max-file-size`) if this is expected",
                )
                return None
            return raw.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            self.error(UNREADABLE, f"cannot read {what} `{given}`", span)
            return None

    # names --------------------------------------------------------------------------------

    def define(self, policy: Policy) -> None:
        if policy.name in self.policies:
            self.error(
                DUPLICATE_NAME,
                f"policy `{policy.name}` is defined twice",
                policy.span,
                hint="policy names are unique in a file; rename one of them",
            )
            return
        self.policies[policy.name] = policy

    def policy(self, ref: Ref) -> Policy | None:
        found = self.policies.get(ref.value)
        if found is None:
            self.unknown(UNDEFINED_POLICY, "policy", ref.value, ref.span, list(self.policies))
        return found

    def unknown(self, code: str, what: str, name: str, span: Span | None, known: list[str]) -> None:
        import difflib

        close = difflib.get_close_matches(name, known, n=1)
        help_text = f"did you mean `{close[0]}`?" if close else f"define {what} `{name}` first"
        self.error(code, f"undefined {what} `{name}`", span, hint=help_text)

    def check_ref(
        self, ref: Ref | None, names: set[str], code: str, what: str, *, arn_ok: bool = True
    ) -> None:
        if ref is None or not ref.value:
            return
        if arn_ok and ref.value.startswith("arn:"):
            return
        if ref.value not in names:
            self.unknown(code, what, ref.value, ref.span, sorted(names))

    def attachment(self, attachment: PolicyAttachment) -> None:
        if attachment.aws_managed or attachment.ref.startswith("arn:"):
            return
        if attachment.ref not in self.policies:
            span = attachment.span
            self.unknown(UNDEFINED_POLICY, "policy", attachment.ref, span, sorted(self.policies))

    # the whole document -------------------------------------------------------------------

    def build(self) -> Workspace:
        doc = self.doc
        for policy in doc.policies:
            self.define(policy)
        imported: list[Policy] = []
        for item in doc.policy_imports:
            loaded = self.load_policy(item.name, item.path, item.span)
            if loaded is not None:
                loaded = replace(loaded, span=loaded.span or item.span)
                self.define(loaded)
                imported.append(loaded)
            elif item.name not in self.policies:
                # keep the name defined so that its users are not reported again
                self.policies[item.name] = Policy(item.name, (), span=item.span)
        file_imports: list[Ref] = []
        for file_import in doc.imports:
            resolved = self.import_path(file_import.path, file_import.span)
            if resolved is not None:
                file_imports.append(Ref(str(resolved), span=file_import.span))

        roles = tuple(self.role(decl.role, decl.trust_ref, decl.inline_refs) for decl in doc.roles)
        role_names = {r.name for r in roles}
        self.unique([(r.name, r.span) for r in roles], "role")
        profiles = {p.name for p in doc.instance_profiles}
        self.unique([(p.name, p.span) for p in doc.instance_profiles], "instance profile")
        for profile in doc.instance_profiles:
            self.check_ref(profile.role, role_names, UNDEFINED_ROLE, "role")

        org = []
        for attachment in doc.org_policies:
            if attachment.policy not in self.policies:
                if attachment.policy == FULL_AWS_ACCESS.name:
                    self.policies[attachment.policy] = FULL_AWS_ACCESS
                    imported.append(FULL_AWS_ACCESS)
                else:
                    ref = Ref(attachment.policy, span=attachment.span)
                    self.policy(ref)
            org.append(attachment)

        capacities: dict[str, set[str]] = {}
        for cluster in doc.ecs_clusters:
            names = {c.name for c in cluster.capacities}
            capacities[cluster.name] = names
            self.unique([(c.name, c.span) for c in cluster.capacities], "capacity")
            for capacity in cluster.capacities:
                self.check_ref(
                    capacity.instance_profile, profiles, UNDEFINED_PROFILE, "instance profile"
                )
                self.check_ref(capacity.host_role, role_names, UNDEFINED_ROLE, "role")
        self.unique([(c.name, c.span) for c in doc.ecs_clusters], "cluster")
        tasks = tuple(self.task(t, role_names, capacities) for t in doc.tasks)
        self.unique([(t.id, t.span) for t in tasks], "task")
        task_names = {t.id for t in tasks}
        for service in doc.services:
            self.check_ref(service.task, task_names, UNDEFINED_TASK, "task", arn_ok=False)
            if service.capacity is not None:
                names = capacities.get(service.cluster or "", set())
                if service.capacity not in names:
                    self.unknown(
                        UNDEFINED_CAPACITY,
                        "capacity",
                        service.capacity,
                        service.span,
                        sorted(names),
                    )

        group_names = {(g.cluster, g.name) for g in doc.node_groups}
        for group in doc.node_groups:
            self.check_ref(group.role, role_names, UNDEFINED_ROLE, "role")
            self.check_ref(group.instance_profile, profiles, UNDEFINED_PROFILE, "instance profile")
        accounts = {(a.cluster, a.namespace, a.name) for a in doc.service_accounts}
        for account in doc.service_accounts:
            self.check_ref(account.irsa_role, role_names, UNDEFINED_ROLE, "role")
            self.check_ref(account.pod_identity_role, role_names, UNDEFINED_ROLE, "role")
        for pod in doc.pods:
            if (
                pod.service_account
                and (pod.cluster, pod.namespace, pod.service_account) not in accounts
            ):
                known = sorted(
                    n for c, ns, n in accounts if c == pod.cluster and ns == pod.namespace
                )
                self.unknown(
                    UNDEFINED_SERVICE_ACCOUNT,
                    f"service account in namespace `{pod.namespace}`",
                    pod.service_account,
                    pod.span,
                    known,
                )
            if pod.node_group and (pod.cluster, pod.node_group) not in group_names:
                known = sorted(n for c, n in group_names if c == pod.cluster)
                self.unknown(UNDEFINED_NODE_GROUP, "node group", pod.node_group, pod.span, known)

        functions = tuple(
            self.function(d.function, d.policy_ref, role_names) for d in doc.functions
        )
        repositories = tuple(self.repository(d.repository, d.policy_ref) for d in doc.repositories)
        self.expectations(doc.expectations, tasks, capacities, functions, doc)

        standalone = tuple(doc.policies) + tuple(imported)
        return Workspace(
            account=doc.account,
            policies=standalone,
            roles=roles,
            instance_profiles=tuple(doc.instance_profiles),
            ecs_clusters=tuple(doc.ecs_clusters),
            tasks=tasks,
            services=tuple(doc.services),
            eks_clusters=tuple(doc.eks_clusters),
            node_groups=tuple(doc.node_groups),
            service_accounts=tuple(doc.service_accounts),
            pods=tuple(doc.pods),
            functions=functions,
            repositories=repositories,
            org_policies=tuple(org),
            expectations=tuple(doc.expectations),
            suppressions=tuple(doc.suppressions),
            imports=(*file_imports, *self.consumed),
        )

    def unique(self, named: list[tuple[str, Span | None]], what: str) -> None:
        seen: set[str] = set()
        for name, span in named:
            if name in seen:
                self.error(DUPLICATE_NAME, f"{what} `{name}` is defined twice", span)
            seen.add(name)

    def role(self, role: Role, trust_ref: Ref | None, inline_refs: tuple[Ref, ...]) -> Role:
        trust = role.trust
        if trust_ref is not None:
            found = self.policy(trust_ref)
            trust = found if found is not None else None
        inline = list(role.inline)
        for ref in inline_refs:
            found = self.policy(ref)
            if found is not None:
                inline.append(found)
        for attachment in role.managed:
            self.attachment(attachment)
        if role.boundary is not None:
            self.attachment(role.boundary)
        if trust_ref is None and not inline_refs:
            return role  # nothing to fill in (a copy would only validate it again)
        return replace(role, trust=trust, inline=tuple(inline))

    def task(self, task: Task, roles: set[str], capacities: dict[str, set[str]]) -> Task:
        self.check_ref(task.task_role, roles, UNDEFINED_ROLE, "role")
        self.check_ref(task.execution_role, roles, UNDEFINED_ROLE, "role")
        if task.capacity is not None:
            names = capacities.get(task.cluster or "", set())
            if task.capacity not in names:
                self.unknown(
                    UNDEFINED_CAPACITY, "capacity", task.capacity, task.span, sorted(names)
                )
        if task.definition is not None:
            resolved = self.import_path(task.definition.value, task.definition.span)
            if resolved is None:
                return replace(task, definition=None)
            given = task.definition.value
            task = replace(task, definition=Ref(str(resolved), span=task.definition.span))
            return self.with_definition(task, resolved, given)
        return task

    def with_definition(self, task: Task, resolved: Path, given: str) -> Task:
        """Fill what the `.pel` task leaves unsaid from its imported task definition; what the
        `.pel` file says explicitly wins."""
        from policyeval.readers.taskdef import read_task_definition

        shown = str(self.folder / given)
        text = self.read_import(resolved, given, task.span, "task definition")
        if text is None:
            return task
        read = read_task_definition(text, shown)
        self.sources.add(shown, text)
        self.diagnostics.extend(read.diagnostics)
        if not read.tasks:
            return task
        found = read.tasks[0]
        return replace(
            task,
            task_role=task.task_role or found.task_role,
            execution_role=task.execution_role or found.execution_role,
            network_mode=task.network_mode or found.network_mode,
            launch_type=task.launch_type or found.launch_type,
            compatibilities=task.compatibilities or found.compatibilities,
            pid_mode=task.pid_mode or found.pid_mode,
            ipc_mode=task.ipc_mode or found.ipc_mode,
            containers=task.containers or found.containers,
            needs=task.needs + found.needs,
        )

    def function(self, function: Function, ref: Ref | None, roles: set[str]) -> Function:
        self.check_ref(function.execution_role, roles, UNDEFINED_ROLE, "role")
        if ref is None:
            return function
        found = self.policy(ref)
        return replace(function, resource_policy=found) if found is not None else function

    def repository(self, repository: EcrRepository, ref: Ref | None) -> EcrRepository:
        if ref is None:
            return repository
        found = self.policy(ref)
        return replace(repository, policy=found) if found is not None else repository

    def expectations(
        self,
        expectations: list[Expectation],
        tasks: tuple[Task, ...],
        capacities: dict[str, set[str]],
        functions: tuple[Function, ...],
        doc: PelDocument,
    ) -> None:
        known: dict[str, set[str]] = {
            "task": {t.id for t in tasks},
            "function": {f.id for f in functions},
            "pod": {p.id for p in doc.pods} | {p.name for p in doc.pods},
            "agent": {c for names in capacities.values() for c in names},
            "container": {c.name for t in tasks for c in t.containers}
            | {f"{t.id}/{c.name}" for t in tasks for c in t.containers},
        }
        for expectation in expectations:
            names = known.get(expectation.subject_kind)
            name = expectation.subject_name
            if names is not None and name is not None and name not in names:
                self.unknown(
                    UNDEFINED_WORKLOAD,
                    expectation.subject_kind,
                    name,
                    expectation.span,
                    sorted(names),
                )
