"""Run the rules over a workspace and collect an `AuditResult`.

`AuditContext` is what every rule receives: the workspace plus cached answers from the
later stages (the evaluator for one request, the resolver for what each workload reaches
and can do, the action catalog). Rules never match policies themselves: every "is this
allowed" question goes through the evaluator, so Denies, boundaries, SCPs and conditions
count exactly as AWS counts them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from policyeval.audit.registry import Finding, Rule, all_rules
from policyeval.errors import Diagnostic, Severity, Span, sorted_diagnostics
from policyeval.model.expect import Need, Suppression
from policyeval.model.policy import Policy
from policyeval.model.topology import ManagedPolicy, Role
from policyeval.model.workspace import Workspace

if TYPE_CHECKING:
    from policyeval.compiler.compiled import PolicySet
    from policyeval.evaluator.decision import Decision
    from policyeval.resolver.compiling import PolicyCompiler
    from policyeval.resolver.effective import EffectiveReport, WorkloadPermissions

#: The account used in probe ARNs when the workspace does not name one.
DEFAULT_ACCOUNT = "123456789012"

#: Rules report only what their severity says; `--fail-on` compares against this order.
SEVERITY_NAMES = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True, slots=True)
class AuditOptions:
    """What a run is asked to consider beyond the workspace itself.

    `needs` adds declared needs per workload id (from a needs file or recorded usage);
    `select` / `ignore` filter rules by code prefix (`PE2`, `PE201`); `only_paths` keeps
    findings located in those files (the pre-commit gate).
    """

    needs: tuple[tuple[str, tuple[Need, ...]], ...] = ()
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    only_paths: tuple[str, ...] | None = None
    baseline: tuple[Suppression, ...] = ()


@dataclass(frozen=True, slots=True)
class Suppressed:
    """A finding that an explicit suppression accepted, kept visible in every report."""

    finding: Finding
    suppression: Suppression


@dataclass(frozen=True, slots=True)
class AuditResult:
    """Everything one audit found; JSON-serialisable through `report/to_json.py`."""

    findings: tuple[Finding, ...]
    diagnostics: tuple[Diagnostic, ...]
    suppressed: tuple[Suppressed, ...] = ()
    workloads: tuple[WorkloadSummary, ...] = ()
    rules_run: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    workspace: Workspace | None = field(default=None, compare=False, repr=False)

    def exit_code(self, fail_on: Severity | str = Severity.HIGH) -> int:
        """0 clean, 1 a finding at or above `fail_on`, 2 an input error (which wins)."""
        threshold = Severity(fail_on) if isinstance(fail_on, str) else fail_on
        if any(d.severity is Severity.ERROR for d in self.diagnostics):
            return 2
        if any(f.severity.rank >= threshold.rank for f in self.findings):
            return 1
        return 0

    def counts(self) -> dict[str, int]:
        """Findings per severity, every severity present (zero when none)."""
        out = dict.fromkeys(SEVERITY_NAMES, 0)
        for f in self.findings:
            out[f.severity.value] = out.get(f.severity.value, 0) + 1
        return out


@dataclass(frozen=True, slots=True)
class SourceSummary:
    """One credential source of a workload, as the table and JSON show it."""

    kind: str
    role: str | None
    reachable: bool | str  # True, False or "unknown"
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class WorkloadSummary:
    """A workload with its own credential and the host credentials it may reach."""

    id: str
    kind: str
    name: str
    span: Span | None
    sources: tuple[SourceSummary, ...] = ()


@dataclass(frozen=True, slots=True)
class Grant:
    """One concrete action a role may do on a resource pattern, per the evaluator."""

    action: str
    resource: str
    conditional: bool = False
    keys: tuple[str, ...] = ()
    statements: tuple[Span, ...] = ()


def _expand(catalog: Any, pattern: str) -> list[str]:
    """Concrete actions of a pattern; the pattern itself when it has no wildcard and the
    catalog does not know it (so a typo is still asked about), nothing for unknown
    wildcards."""
    if catalog is None:
        return [] if ("*" in pattern or "?" in pattern) else [pattern]
    expansion = catalog.expand(pattern)
    actions = [a.action for a in expansion.actions]
    if not actions and "*" not in pattern and "?" not in pattern:
        return [pattern]
    return actions


def concrete(pattern: str) -> str:
    """A resource that the ARN pattern matches: wildcards filled with plain text."""
    return pattern.replace("*", "policyeval").replace("?", "x")


# -- the context rules see ---------------------------------------------------------------


class AuditContext:
    """The workspace and cached answers from the evaluator, resolver and catalog."""

    def __init__(self, workspace: Workspace, options: AuditOptions | None = None) -> None:
        self.workspace = workspace
        self.options = options or AuditOptions()
        # Per-role caches are keyed by the role object, never by its name: two policy files
        # named `policy.json` in different folders, or two roles of one name in different
        # inputs, are different principals with different grants.
        self._sets: dict[int, PolicySet] = {}
        self._compiled: dict[tuple[int, int], Any] = {}
        self._decisions: dict[tuple[int, int, str, str], Decision] = {}
        self._grants: dict[int, tuple[Grant, ...]] = {}
        # INVARIANT: each entry keeps its role alive, so its id() is not reused meanwhile.
        self._attached: dict[int, tuple[Role, tuple[tuple[Policy, Span | None], ...]]] = {}
        self._patterns: dict[int, tuple[Role, tuple[bool, frozenset[str], tuple[str, ...]]]] = {}
        # One tuple per distinct list of wildcard patterns (roles share managed policies),
        # so that `mentions` can remember its answers by the tuple's id().
        # INVARIANT: the tuples stay here, alive, as long as the context.
        self._pattern_lists: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._mentioned: dict[tuple[int, str], bool] = {}
        self._probes: dict[str, str] = {}
        # INVARIANT: roles and policy sets used as cache keys by id() stay here, alive, as
        # long as the context, so no id() is reused meanwhile (rules make temporary ones).
        self._alive: dict[int, object] = {}
        self.notes: list[str] = []

    @property
    def account(self) -> str:
        return self.workspace.account or DEFAULT_ACCOUNT

    # -- roles and their policies ---------------------------------------------------------

    def role_arn(self, role: Role) -> str:
        return role.arn or f"arn:aws:iam::{self.account}:role/{role.name}"

    def attached(self, role: Role) -> list[tuple[Policy, Span | None]]:
        """The identity policies of a role: inline, then managed (attachment span kept).
        Built once per role (the rules ask for it many times); a fresh list each call."""
        cached = self._attached.get(id(role))
        if cached is None or cached[0] is not role:
            out: list[tuple[Policy, Span | None]] = [(p, p.span) for p in role.inline]
            for attachment in role.managed:
                policy = self.resolve_policy(attachment.ref, attachment.aws_managed)
                if policy is not None:
                    out.append((policy, attachment.span))
            cached = (role, tuple(out))
            self._attached[id(role)] = cached
        return list(cached[1])

    def resolve_policy(self, ref: str, aws_managed: bool = False) -> Policy | None:
        """A policy document by name or ARN; AWS managed policies from the packaged copies."""
        found = self.workspace.find_policy(ref)
        if isinstance(found, ManagedPolicy):
            return found.document
        if found is not None:
            return found
        if aws_managed or ":iam::aws:policy/" in ref:
            return aws_managed_policy(ref)
        return None

    def policy_set(self, role: Role) -> PolicySet:
        """The gates that apply to a role's own requests (identity, boundary, SCPs, RCPs),
        assembled by the resolver; missing attachments become notes."""
        key = self._key(role)
        cached = self._sets.get(key)
        if cached is not None:
            return cached
        from policyeval.resolver.policy_sets import policy_set_for

        built, notes = policy_set_for(self.workspace, role)
        self.notes.extend(notes)
        self._sets[key] = built
        return built

    def _key(self, thing: object) -> int:
        """A cache key for an object, kept alive with the context (see `_alive`)."""
        key = id(thing)
        if key not in self._alive:
            self._alive[key] = thing
        return key

    def decide(
        self,
        role: Role,
        action: str,
        resource: str,
        *,
        context: dict[str, tuple[str, ...]] | None = None,
        policy_set: PolicySet | None = None,
    ) -> Decision:
        """Ask the evaluator whether `role` may do `action` on `resource`.

        Context that is not given is unknown (not missing): a grant that depends on it
        comes back CONDITIONAL with the deciding keys, never as a guess.
        """
        key = (
            self._key(role),
            0 if policy_set is None else self._key(policy_set),
            action,
            resource,
        )
        if context is None:
            cached = self._decisions.get(key)
            if cached is not None:
                return cached
        from policyeval.evaluator.request import Request

        compiled = self._compile(role, policy_set or self.policy_set(role))
        request = Request(
            principal=self.role_arn(role),
            action=action,
            resource=resource,
            context=context or {},
            context_complete=False,
        )
        decision = _evaluate(compiled, request)
        if context is None:
            self._decisions[key] = decision
        return decision

    def _compile(self, role: Role, policy_set: PolicySet) -> Any:
        key = (self._key(role), self._key(policy_set))
        found = self._compiled.get(key)
        if found is None:
            found = self._compiled[key] = self._compiler.policy_set(policy_set)
        return found

    @cached_property
    def _compiler(self) -> PolicyCompiler:
        """Compiles each distinct policy once for the whole run (shared managed policies)."""
        from policyeval.resolver.compiling import PolicyCompiler

        return PolicyCompiler()

    def allow_patterns(self, role: Role) -> tuple[bool, frozenset[str], tuple[str, ...]]:
        """The Action patterns of the role's Allow statements, for cheap pre-filters:
        (some Allow uses NotAction, exact actions lower-cased, wildcard patterns)."""
        cached = self._patterns.get(id(role))
        if cached is None or cached[0] is not role:
            not_action = False
            exact: set[str] = set()
            wild: dict[str, None] = {}
            for policy, _ in self.attached(role):
                for st in policy.statements:
                    if st.effect.value != "Allow":
                        continue
                    if st.not_action is not None:
                        not_action = True
                    for pattern in st.action or ():
                        if "*" in pattern or "?" in pattern:
                            wild[pattern] = None
                        else:
                            exact.add(pattern.lower())
            patterns = tuple(wild)
            patterns = self._pattern_lists.setdefault(patterns, patterns)
            cached = (role, (not_action, frozenset(exact), patterns))
            self._patterns[id(role)] = cached
        return cached[1]

    def probe(self, action: str) -> str:
        """A resource ARN of the action's kind that no specific pattern names.

        A grant matches it only when it covers every resource of that kind (`*`,
        `arn:aws:s3:::*/*`, `arn:aws:iam::*:role/*` …), which is what "on `*`" rules ask.
        """
        found = self._probes.get(action)
        if found is None:
            found = self._probes[action] = probe_arn(action, self.account)
        return found

    def mentions(self, role: Role, action: str) -> bool:
        """Cheap pre-filter: does any Allow statement's pattern (or a NotAction) cover it?

        Only decides whether to ask the evaluator; the answer itself is always the evaluator's.
        """
        not_action, exact, wild = self.allow_patterns(role)
        if not_action or action.lower() in exact:
            return True
        if not wild:
            return False
        key = (id(wild), action)
        found = self._mentioned.get(key)
        if found is None:
            found = self._mentioned[key] = any(action_matches(p, action) for p in wild)
        return found

    def allowed(self, role: Role, action: str, resource: str | None = None) -> Decision:
        """`decide` on the probe resource of the action unless one is given."""
        return self.decide(role, action, resource if resource is not None else self.probe(action))

    @cached_property
    def principals(self) -> list[tuple[Role, bool]]:
        """Every role, then each standalone policy attached to no role as a pseudo-role.

        The flag is True for pseudo-roles, so a policy file checked on its own (a
        pre-commit run on one JSON file) is audited as if a role held it.
        """
        out: list[tuple[Role, bool]] = [(r, False) for r in self.workspace.roles]
        used: set[str] = set()
        for role in self.workspace.roles:
            used.update(a.ref for a in role.managed)
            if role.boundary is not None:
                used.add(role.boundary.ref)
        used.update(o.policy for o in self.workspace.org_policies)
        for policy in self.workspace.policies:
            if policy.name not in used:
                out.append((Role(name=policy.name, inline=(policy,), span=policy.span), True))
        return out

    def subject_label(self, role: Role, pseudo: bool) -> str:
        return f"policy `{role.name}`" if pseudo else f"role `{role.name}`"

    def grants(self, role: Role) -> tuple[Grant, ...]:
        """What a role can do: each concrete action of its Allow statements, on each of
        their resource patterns, as the evaluator decides it (Denies, boundary and SCPs
        applied; conditions leave it conditional). Needs the action catalog."""
        cached = self._grants.get(self._key(role))
        if cached is not None:
            return cached
        catalog = self.catalog
        found: dict[tuple[str, str], Grant] = {}
        for policy, _ in self.attached(role):
            for st in policy.statements:
                if st.effect.value != "Allow":
                    continue
                if st.action is not None:
                    candidates = [a for p in st.action for a in _expand(catalog, p)]
                else:
                    candidates = _expand(catalog, "*")
                patterns = st.resource if st.resource is not None else ("*",)
                for action in candidates:
                    for pattern in patterns:
                        key = (action.lower(), pattern)
                        if key in found:
                            continue
                        resource = self.probe(action) if pattern == "*" else concrete(pattern)
                        decision = self.decide(role, action, resource)
                        if decision.outcome.value not in ("allowed", "conditional"):
                            continue
                        found[key] = Grant(
                            action=action,
                            resource=pattern,
                            conditional=decision.outcome.value == "conditional",
                            keys=tuple(decision.deciding_keys),
                            statements=tuple(
                                m.span for m in decision.matched if m.span is not None
                            ),
                        )
        result = tuple(found.values())
        self._grants[self._key(role)] = result
        return result

    # -- roles in use -------------------------------------------------------------------

    @cached_property
    def role_users(self) -> dict[str, list[tuple[str, str, Span | None]]]:
        """Role name → (workload id, how it is used, span of the reference)."""
        ws = self.workspace
        users: dict[str, list[tuple[str, str, Span | None]]] = {}

        def add(ref: Any, workload: str, how: str) -> None:
            role = self.find_role(ref)
            if role is not None:
                users.setdefault(role.name, []).append((workload, how, ref.span))

        for task in ws.tasks:
            if task.task_role is not None:
                add(task.task_role, task.id, "task-role")
            if task.execution_role is not None:
                add(task.execution_role, task.id, "execution-role")
        for fn in ws.functions:
            if fn.execution_role is not None:
                add(fn.execution_role, fn.id, "lambda-execution-role")
        for sa in ws.service_accounts:
            for ref, how in ((sa.irsa_role, "irsa"), (sa.pod_identity_role, "pod-identity")):
                if ref is not None:
                    add(ref, f"{sa.namespace}/{sa.name}", how)
        return users

    def needs_of(self, workload: str) -> tuple[Need, ...]:
        extra: tuple[Need, ...] = ()
        for wid, needs in self.options.needs:
            if wid == workload:
                extra += needs
        return extra

    # -- later stages, imported lazily -------------------------------------------------

    @cached_property
    def effective(self) -> EffectiveReport:
        """The resolver's effective permissions of every workload."""
        from policyeval.resolver.effective import effective_permissions

        return effective_permissions(self.workspace)

    def effective_of(self, workloads: Sequence[Any]) -> tuple[WorkloadPermissions, ...]:
        """Effective permissions of some of `self.workloads` only, each the same as its
        entry in `effective`: roles no chosen workload reaches are never evaluated."""
        if not workloads:
            return ()
        from policyeval.resolver.effective import permissions_of

        return permissions_of(self.workspace, workloads)

    @cached_property
    def catalog(self) -> Any:
        """The action catalog module, or None when it is not available."""
        try:
            from policyeval import catalog
        except ImportError:  # pragma: no cover - only while the catalog is being built
            return None
        return catalog

    @cached_property
    def workloads(self) -> tuple[Any, ...]:
        """The resolver's workloads, each with the credential sources it can reach (taken
        from the effective-permissions report, so credentials are resolved once)."""
        if "effective" in self.__dict__:  # already computed: reuse its resolution
            found = tuple(w.workload for w in self.effective.workloads if w.workload is not None)
            if len(found) == len(self.effective.workloads):
                return found
        # Credentials only: effective permissions of every workload cost far more, and
        # only the workloads with declared needs get them (`effective_of`).
        return resolve_workloads(self.workspace)

    def workload_needs(self, workload: Any) -> tuple[Need, ...]:
        """Declared needs of a workload: `.pel` needs of the task / containers / pod /
        function, plus needs given for its id from a needs file or recorded usage."""
        wid = str(workload.id)
        return self._needs_index.get(wid, ()) + self.needs_of(wid)

    @cached_property
    def _needs_index(self) -> dict[str, tuple[Need, ...]]:
        """Workload id → `.pel` / task-definition needs (task, its containers, pods, functions)."""
        index: dict[str, tuple[Need, ...]] = {}
        for task in self.workspace.tasks:
            index[task.id] = task.needs + tuple(n for c in task.containers for n in c.needs)
            for c in task.containers:
                index[f"{task.id}/{c.name}"] = task.needs + c.needs
        for pod in self.workspace.pods:
            index[pod.id] = index.get(pod.id, ()) + pod.needs
        for fn in self.workspace.functions:
            index[fn.id] = index.get(fn.id, ()) + fn.needs
        return index

    @cached_property
    def _role_index(self) -> dict[str, Role]:
        index: dict[str, Role] = {}
        for role in reversed(self.workspace.roles):  # the first definition wins
            index[role.name] = role
            if role.arn:
                index[role.arn] = role
        return index

    def find_role(self, ref: Any) -> Role | None:
        """`Workspace.find_role` through an index (audits of big account dumps)."""
        key = ref.value if hasattr(ref, "value") else ref
        if not key:
            return None
        found = self._role_index.get(key)
        if found is None and key.startswith("arn:"):
            found = self._role_index.get(key.split(":", 5)[-1].rsplit("/", 1)[-1])
        return found


def _compile_policies(policy_set: PolicySet) -> Any:
    from policyeval.compiler.compiled import compile_policies

    return compile_policies(policy_set)


def _evaluate(compiled: Any, request: Any) -> Decision:
    from policyeval.evaluator.engine import evaluate

    return evaluate(compiled, request)


def resolve_workloads(workspace: Workspace) -> tuple[Any, ...]:
    """The resolver's workloads with their credential sources."""
    from policyeval.resolver import credentials  # type: ignore[attr-defined,unused-ignore]

    found: tuple[Any, ...] = credentials.resolve_credentials(workspace)  # type: ignore[attr-defined,unused-ignore]
    return found


def aws_managed_policy(name: str) -> Policy | None:
    """An AWS managed policy document shipped with the package, by name or ARN."""
    try:
        from policyeval import managed  # type: ignore[attr-defined,unused-ignore]
    except ImportError:  # pragma: no cover - only while the data module is being built
        return None
    found = managed.managed_policy(name)
    return None if found is None else found.document  # type: ignore[no-any-return,unused-ignore]


# -- probe resources ------------------------------------------------------------------

_PROBE = "policyeval-probe"

#: Resource ARN shapes per service for the probes; `{a}` is the account.
_PROBE_ARNS: dict[str, str] = {
    "iam": "arn:aws:iam::{a}:role/" + _PROBE,
    "s3": f"arn:aws:s3:::{_PROBE}-bucket/{_PROBE}-key",
    "secretsmanager": "arn:aws:secretsmanager:us-east-1:{a}:secret:" + _PROBE + "-AbCdEf",
    "kms": "arn:aws:kms:us-east-1:{a}:key/00000000-0000-4000-8000-000000000000",
    "ssm": "arn:aws:ssm:us-east-1:{a}:parameter/" + _PROBE,
    "ec2": "arn:aws:ec2:us-east-1:{a}:snapshot/snap-0000000000" + "probe",
    "lambda": "arn:aws:lambda:us-east-1:{a}:function:" + _PROBE,
    "ecs": "arn:aws:ecs:us-east-1:{a}:task/" + _PROBE + "/00000000000000000000000000000000",
    "ecr": "arn:aws:ecr:us-east-1:{a}:repository/" + _PROBE,
    "sts": "arn:aws:iam::{a}:role/" + _PROBE,
    "dynamodb": "arn:aws:dynamodb:us-east-1:{a}:table/" + _PROBE,
    "sqs": "arn:aws:sqs:us-east-1:{a}:" + _PROBE,
    "sns": "arn:aws:sns:us-east-1:{a}:" + _PROBE,
    "logs": "arn:aws:logs:us-east-1:{a}:log-group:" + _PROBE + ":*",
}

#: Actions whose resource is not the default of their service.
_PROBE_BY_ACTION: dict[str, str] = {
    "iam:createaccesskey": "arn:aws:iam::{a}:user/" + _PROBE,
    "iam:createloginprofile": "arn:aws:iam::{a}:user/" + _PROBE,
    "iam:updateloginprofile": "arn:aws:iam::{a}:user/" + _PROBE,
    "iam:attachuserpolicy": "arn:aws:iam::{a}:user/" + _PROBE,
    "iam:putuserpolicy": "arn:aws:iam::{a}:user/" + _PROBE,
    "iam:addusertogroup": "arn:aws:iam::{a}:group/" + _PROBE,
    "iam:attachgrouppolicy": "arn:aws:iam::{a}:group/" + _PROBE,
    "iam:putgrouppolicy": "arn:aws:iam::{a}:group/" + _PROBE,
    "iam:createpolicyversion": "arn:aws:iam::{a}:policy/" + _PROBE,
    "iam:setdefaultpolicyversion": "arn:aws:iam::{a}:policy/" + _PROBE,
    "s3:putbucketpolicy": f"arn:aws:s3:::{_PROBE}-bucket",
    "s3:listbucket": f"arn:aws:s3:::{_PROBE}-bucket",
    "ec2:runinstances": "arn:aws:ec2:us-east-1:{a}:instance/*",
    "ecs:runtask": "arn:aws:ecs:us-east-1:{a}:task-definition/" + _PROBE + ":1",
    "ecs:starttask": "arn:aws:ecs:us-east-1:{a}:task-definition/" + _PROBE + ":1",
    "ecs:createservice": "arn:aws:ecs:us-east-1:{a}:service/" + _PROBE + "/" + _PROBE,
    "ecs:updateservice": "arn:aws:ecs:us-east-1:{a}:service/" + _PROBE + "/" + _PROBE,
    "ecs:registertaskdefinition": "*",
    "ssm:sendcommand": "arn:aws:ec2:us-east-1:{a}:instance/i-0000000000probe",
    "ssm:startsession": "arn:aws:ec2:us-east-1:{a}:instance/i-0000000000probe",
    "cloudformation:createstack": "arn:aws:cloudformation:us-east-1:{a}:stack/" + _PROBE + "/*",
}


def probe_arn(action: str, account: str) -> str:
    """See `AuditContext.probe`."""
    lowered = action.lower()
    shape = _PROBE_BY_ACTION.get(lowered)
    if shape is None:
        service = lowered.split(":", 1)[0]
        shape = _PROBE_ARNS.get(service, "*")
    return shape.replace("{a}", account)


# -- running -----------------------------------------------------------------------------


def selected_rules(options: AuditOptions) -> list[Rule]:
    """The registry filtered by `select` / `ignore` code prefixes."""
    out = []
    for r in all_rules():
        if options.select and not any(r.code.startswith(p) for p in options.select):
            continue
        if any(r.code.startswith(p) for p in options.ignore):
            continue
        out.append(r)
    return out


def run_audit(
    workspace: Workspace,
    options: AuditOptions | None = None,
    *,
    rules: Sequence[Rule] | None = None,
    progress: Callable[[str], None] | None = None,
) -> AuditResult:
    """Run every selected rule; a rule that fails becomes a diagnostic, never a crash."""
    from policyeval._gc import collector_paused

    with collector_paused():
        return _run_audit(workspace, options, rules=rules, progress=progress)


def _run_audit(
    workspace: Workspace,
    options: AuditOptions | None,
    *,
    rules: Sequence[Rule] | None,
    progress: Callable[[str], None] | None,
) -> AuditResult:
    from policyeval.audit.suppressions import apply_suppressions

    options = options or AuditOptions()
    context = AuditContext(workspace, options)
    chosen = list(rules) if rules is not None else selected_rules(options)
    findings: list[Finding] = []
    diagnostics: list[Diagnostic] = list(workspace.diagnostics)
    for r in chosen:
        if progress is not None:
            progress(r.code)
        try:
            findings.extend(_checked(r, r.run(context)))
        except ImportError as exc:  # a later stage is not installed in this tree
            context.notes.append(f"rule {r.code} skipped: {exc}")
        except Exception as exc:  # a broken rule must not stop the audit
            diagnostics.append(
                Diagnostic(
                    "PE099",
                    Severity.ERROR,
                    f"rule {r.code} could not run: {type(exc).__name__}: {exc}",
                    help="this is a bug in policyeval; please report it",
                )
            )
    findings = _dedupe(findings)
    if options.only_paths is not None:
        keep = set(options.only_paths)
        findings = [f for f in findings if f.span is None or f.span.path in keep]
    kept, suppressed, stale = apply_suppressions(
        findings, workspace.suppressions, options.baseline, active_codes={r.code for r in chosen}
    )
    kept.extend(stale)
    return AuditResult(
        findings=tuple(sorted(kept, key=Finding.sort_key)),
        diagnostics=tuple(sorted_diagnostics(diagnostics)),
        suppressed=tuple(suppressed),
        workloads=tuple(summarise_workloads(context)),
        rules_run=tuple(r.code for r in chosen),
        notes=tuple(dict.fromkeys(context.notes)),
        workspace=workspace,
    )


def _checked(r: Rule, found: Iterable[Finding]) -> Iterable[Finding]:
    for f in found:
        if f.code != r.code:
            raise RuntimeError(f"rule {r.code} yielded a finding coded {f.code}")
        yield f


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str, str, str, str]] = set()
    out = []
    for f in findings:
        key = (f.code, f.workload or "", f.subject or "", f.key, str(f.span))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def summarise_workloads(context: AuditContext) -> list[WorkloadSummary]:
    """Per workload: its own credential and the host credentials, from the resolver."""
    try:
        workloads = context.workloads
    except ImportError:
        return []
    out = []
    for w in workloads:
        sources = tuple(
            SourceSummary(
                kind=str(c.source),
                role=c.role,
                reachable=c.reachable,
                reasons=(c.reason,) if c.reason else (),
            )
            for c in w.credentials
        )
        out.append(WorkloadSummary(str(w.id), str(w.kind), str(w.id), w.span, sources))
    return out


@functools.lru_cache(maxsize=65536)
def action_matches(pattern: str, action: str) -> bool:
    """IAM action matching (case-insensitive `*` / `?`), used only to pick what to ask
    the evaluator; the catalog's matcher when present."""
    try:
        from policyeval.catalog import wildcard_match
    except ImportError:  # pragma: no cover - only while the catalog is being built
        import fnmatch

        return fnmatch.fnmatchcase(action.lower(), pattern.lower().replace("[", "[[]"))
    return bool(wildcard_match(pattern, action))
