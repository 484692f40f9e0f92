"""Find input files, read them safely, recognise their format, and load each one.

Every file is read on its own: a broken or unrecognised file becomes diagnostics and the
rest of the run goes on. Formats are recognised by content, not only by extension, because
repositories name files freely (`roles.json` may be an account dump or a policy).
"""

from __future__ import annotations

import os
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from policyeval.errors import Diagnostic, Severity, SourceText, Span, sorted_diagnostics
from policyeval.model.workspace import Workspace
from policyeval.readers._common import BAD_NEEDS, UNREADABLE, UNRECOGNISED
from policyeval.readers.positions import (
    CODE_TOO_LARGE,
    InputError,
    load_json,
    load_yaml_documents,
)

#: Largest file read by default, in bytes (account dumps of big estates are tens of MB).
MAX_FILE_BYTES = 64 * 1024 * 1024
#: Extensions considered when walking a folder; files named explicitly are always read.
WALKED_SUFFIXES = (".json", ".yaml", ".yml", ".pel", ".template")
#: Folders never walked into (besides hidden ones).
SKIPPED_DIRS = frozenset({"node_modules", ".venv", "venv", "__pycache__", ".terraform"})


def discover(paths: list[str]) -> list[tuple[str, bool, str]]:
    """`(file, named_explicitly, root)` for every input file, in a stable order."""
    found: dict[str, tuple[str, bool, str]] = {}
    for given in paths:
        if os.path.isdir(given):
            for folder, dirs, files in os.walk(given, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
                for name in sorted(files):
                    if name.lower().endswith(WALKED_SUFFIXES) and not name.startswith("."):
                        path = os.path.join(folder, name)
                        found.setdefault(path, (path, False, given))
        else:
            found[given] = (given, True, str(Path(given).parent))
    return sorted(found.values())


def load_paths(
    paths: list[str],
    *,
    max_bytes: int = MAX_FILE_BYTES,
    account: str | None = None,
    region: str | None = None,
    allow_outside: bool = False,
) -> Workspace:
    """Load every input under `paths` into one Workspace, diagnostics sorted by position.

    `max_bytes` caps every file read, imports of `.pel` files included (PE092, or PE005 for a
    `.pel` file); `allow_outside` lets `.pel` imports leave the project folder (PE028).
    """
    from policyeval._gc import collector_paused

    with collector_paused():
        return _load_paths(
            paths, max_bytes=max_bytes, account=account, region=region, allow_outside=allow_outside
        )


def _load_paths(
    paths: list[str],
    *,
    max_bytes: int,
    account: str | None,
    region: str | None,
    allow_outside: bool,
) -> Workspace:
    inputs = discover(paths)
    names = {p for p, _, _ in inputs}
    workspaces: list[Workspace] = []
    # `.pel` files first: the files they import belong to them and are not read again.
    inputs.sort(key=lambda item: not item[0].endswith(".pel"))
    imported: set[Path] = set()
    for path, explicit, root in inputs:
        if not explicit and Path(path).resolve() in imported:
            continue
        if _is_needs_file(path):
            if not any(_needs_path_for(t) == path for t in _task_candidates(path, names)):
                workspaces.append(
                    _only(
                        Diagnostic(
                            BAD_NEEDS,
                            Severity.MEDIUM,
                            "needs file has no task definition next to it",
                            Span(path, 1, 1),
                            help="name it after the task definition, e.g. `web.needs.json` "
                            "next to `web.json`",
                        )
                    )
                )
            continue
        loaded = load_file(
            path,
            explicit=explicit,
            root=root,
            max_bytes=max_bytes,
            account=account,
            region=region,
            allow_outside=allow_outside,
        )
        if path.endswith(".pel"):
            imported.update(_imported_files(loaded))
        workspaces.append(loaded)
    merged = merge_all(workspaces)
    return replace(merged, diagnostics=tuple(sorted_diagnostics(merged.diagnostics)))


def merge_all(workspaces: list[Workspace]) -> Workspace:
    """`Workspace.merge` over many inputs, concatenating each collection once."""
    if not workspaces:
        return Workspace()
    changes: dict[str, Any] = {}
    sources = SourceText()
    for f in fields(Workspace):
        if not f.init:
            continue
        if f.name == "account":
            changes["account"] = next((w.account for w in workspaces if w.account), None)
        elif f.name == "sources":
            for w in workspaces:
                sources.texts.update(w.sources.texts)
            changes["sources"] = sources
        else:
            changes[f.name] = tuple(item for w in workspaces for item in getattr(w, f.name))
    return replace(Workspace(), **changes)


def _only(diagnostic: Diagnostic) -> Workspace:
    return Workspace(diagnostics=(diagnostic,))


def read_text(path: str, max_bytes: int = MAX_FILE_BYTES) -> tuple[str | None, Diagnostic | None]:
    """A file's text, or the diagnostic that says why it cannot be had."""
    try:
        size = os.path.getsize(path)
        if size > max_bytes:
            return None, Diagnostic(
                CODE_TOO_LARGE,
                Severity.ERROR,
                f"file is larger than the limit of {max_bytes} bytes",
                Span(path, 1, 1),
                help="raise the limit on purpose (`--max-file-size`, `max_bytes=`) if this input "
                "is expected to be this big",
            )
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, Diagnostic(
            UNREADABLE, Severity.ERROR, "file is not UTF-8 text", Span(path, 1, 1)
        )
    except OSError as exc:
        reason = exc.strerror or "cannot be read"
        return None, Diagnostic(
            UNREADABLE, Severity.ERROR, f"cannot read file: {reason.lower()}", Span(path, 1, 1)
        )


def load_file(
    path: str,
    *,
    explicit: bool = True,
    root: str | None = None,
    max_bytes: int = MAX_FILE_BYTES,
    account: str | None = None,
    region: str | None = None,
    allow_outside: bool = False,
) -> Workspace:
    """One file → Workspace, its format recognised by content."""
    if path.lower().endswith(".pel"):
        return _load_pel(
            path, root or str(Path(path).parent), max_bytes=max_bytes, allow_outside=allow_outside
        )
    text, problem = read_text(path, max_bytes)
    if text is None:
        return _only(problem) if problem else Workspace()
    return load_text(text, path, explicit=explicit, account=account, region=region)


def load_text(
    text: str,
    path: str,
    *,
    explicit: bool = True,
    account: str | None = None,
    region: str | None = None,
) -> Workspace:
    """Recognise the format of `text` and read it with the matching reader."""
    from policyeval.readers import (
        account_dump,
        cloudformation,
        cloudtrail,
        kubernetes,
        pod_identity,
        taskdef,
        terraform,
    )

    sources = SourceText()
    sources.add(path, text)
    stripped = text.lstrip()
    try:
        if stripped.startswith(("{", "[")) or path.lower().endswith(".json"):
            document = load_json(text, path)
            documents = [document]
        else:
            documents = load_yaml_documents(text, path)
            document = documents[0] if documents else None
    except InputError as exc:
        return Workspace(diagnostics=(exc.diagnostic,), sources=sources)

    if taskdef.is_task_definition(document):
        needs: tuple[Any, ...] = ()
        extra: list[Diagnostic] = []
        needs_path = _existing_needs(path)
        if needs_path is not None:
            needs_text, problem = read_text(needs_path)
            if needs_text is None:
                extra.extend([problem] if problem else [])
            else:
                found, out = taskdef.read_needs(needs_text, needs_path)
                needs = found
                extra.extend(out.diagnostics)
                sources.add(needs_path, needs_text)
        loaded = taskdef.read_task_definition(text, path, needs=needs, document=document)
        return replace(loaded, diagnostics=loaded.diagnostics + tuple(extra))
    if account_dump.is_account_dump(document):
        return account_dump.read_account_dump(text, path, document=document)
    if terraform.is_terraform(document):
        return terraform.read_terraform(text, path, document=document)
    if cloudformation.is_cloudformation(document):
        return cloudformation.read_cloudformation(
            text, path, document=document, account=account, region=region
        )
    if cloudtrail.is_cloudtrail(document):
        return cloudtrail.read_cloudtrail_usage(text, path, document=document)[1]
    if pod_identity.is_association(document):
        return pod_identity.read_pod_identity(text, path, document=document)
    if any(kubernetes.is_kubernetes_document(d) for d in documents):
        return kubernetes.read_kubernetes(text, path, documents=documents)
    policy_workspace = _policy_file(document, text, path)
    if policy_workspace is not None:
        return policy_workspace
    severity = Severity.MEDIUM if explicit else Severity.INFO
    return Workspace(
        diagnostics=(
            Diagnostic(
                UNRECOGNISED,
                severity,
                "file format not recognised; skipped",
                Span(path, 1, 1),
                help="policyeval reads .pel, IAM policy JSON, ECS task definitions, "
                "CloudFormation, `terraform show -json`, Kubernetes manifests, account dumps, "
                "EKS pod identity associations and CloudTrail records",
            ),
        ),
        sources=sources,
    )


def _policy_file(document: Any, text: str, path: str) -> Workspace | None:
    try:
        from policyeval.readers import iam_json
    except ImportError:  # pragma: no cover - the IAM JSON reader ships with the package
        return None
    if not iam_json.looks_like_policy(document):
        return None
    sources = SourceText()
    sources.add(path, text)
    policy, diagnostics = iam_json.load_policy_file(path, text)
    return Workspace(
        policies=(policy,) if policy is not None else (),
        diagnostics=tuple(diagnostics),
        sources=sources,
    )


def _imported_files(workspace: Workspace) -> set[Path]:
    """Files a `.pel` workspace already read: its imports and task definitions."""
    refs = [*workspace.imports, *(t.definition for t in workspace.tasks if t.definition)]
    return {Path(ref.value).resolve() for ref in refs}


def _load_pel(path: str, root: str, *, max_bytes: int, allow_outside: bool) -> Workspace:
    from policyeval.pel import load_pel
    from policyeval.syntax.parser import MAX_PEL_BYTES

    return load_pel(
        path,
        root=root,
        allow_outside=allow_outside,
        max_bytes=min(max_bytes, MAX_PEL_BYTES),
        max_import_bytes=max_bytes,
    )


# -- needs files next to task definitions ------------------------------------------------


def _is_needs_file(path: str) -> bool:
    from policyeval.readers.taskdef import is_needs_file

    return is_needs_file(path)


def _needs_candidates(path: str) -> list[str]:
    stem = path
    for suffix in (".json", ".yaml", ".yml"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return [f"{stem}.needs.json", f"{stem}.needs.yaml", f"{stem}.needs.yml"]


def _existing_needs(path: str) -> str | None:
    return next((p for p in _needs_candidates(path) if os.path.isfile(p)), None)


def _needs_path_for(task_path: str) -> str | None:
    return _existing_needs(task_path)


def _task_candidates(needs_path: str, names: set[str]) -> list[str]:
    lower = needs_path.lower()
    for suffix in (".needs.json", ".needs.yaml", ".needs.yml"):
        if lower.endswith(suffix):
            stem = needs_path[: -len(suffix)]
            return [p for p in (f"{stem}.json", f"{stem}.yaml", f"{stem}.yml") if p in names]
    return []
