"""Find input files, read them safely, recognise their format, and load each one.

Every file is read on its own: a broken or unrecognised file becomes diagnostics and the
rest of the run goes on. Formats are recognised by content, not only by extension, because
repositories name files freely (`roles.json` may be an account dump or a policy).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields, replace
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
    jobs: int = 1,
) -> Workspace:
    """Load every input under `paths` into one Workspace, diagnostics sorted by position.

    `max_bytes` caps every file read, imports of `.pel` files included (PE092, or PE005 for a
    `.pel` file); `allow_outside` lets `.pel` imports leave the project folder (PE028).
    `jobs` 2 reads about half of a large input (by size) in a second process; the result is
    the same Workspace, in the same order (see `_parallel`).
    """
    from policyeval._gc import collector_paused

    with collector_paused():
        return _load_paths(
            paths,
            max_bytes=max_bytes,
            account=account,
            region=region,
            allow_outside=allow_outside,
            jobs=jobs,
        )


def _load_paths(
    paths: list[str],
    *,
    max_bytes: int,
    account: str | None,
    region: str | None,
    allow_outside: bool,
    jobs: int,
) -> Workspace:
    inputs = discover(paths)
    names = {p for p, _, _ in inputs}
    workspaces: list[Workspace] = []
    # `.pel` files first: the files they import belong to them and are not read again.
    inputs.sort(key=lambda item: not item[0].endswith(".pel"))
    imported: set[Path] = set()
    rest: list[tuple[str, bool, str]] = []
    for path, explicit, root in inputs:
        if not explicit and Path(path).resolve() in imported:
            continue
        if not path.endswith(".pel"):
            rest.append((path, explicit, root))
            continue
        loaded = load_file(
            path, explicit=explicit, root=root, max_bytes=max_bytes, allow_outside=allow_outside
        )
        imported.update(_imported_files(loaded))
        workspaces.append(loaded)
    # Every other file stands alone: read in any order, merged in input order.
    rest = [item for item in rest if item[1] or Path(item[0]).resolve() not in imported]
    options = _LoadOptions(names, max_bytes, account, region, allow_outside)
    workspaces.extend(_parallel(rest, options) if jobs > 1 else _load_many(rest, options))
    merged = merge_all(workspaces)
    return replace(merged, diagnostics=tuple(sorted_diagnostics(merged.diagnostics)))


@dataclass(frozen=True)
class _LoadOptions:
    names: set[str]
    max_bytes: int
    account: str | None
    region: str | None
    allow_outside: bool


def _load_many(inputs: list[tuple[str, bool, str]], options: _LoadOptions) -> list[Workspace]:
    return [_load_one(path, explicit, root, options) for path, explicit, root in inputs]


def _load_one(path: str, explicit: bool, root: str, options: _LoadOptions) -> Workspace:
    if _is_needs_file(path):
        if any(_needs_path_for(t) == path for t in _task_candidates(path, options.names)):
            return Workspace()  # read with its task definition
        return _only(
            Diagnostic(
                BAD_NEEDS,
                Severity.MEDIUM,
                "needs file has no task definition next to it",
                Span(path, 1, 1),
                help="name it after the task definition, e.g. `web.needs.json` next to `web.json`",
            )
        )
    return load_file(
        path,
        explicit=explicit,
        root=root,
        max_bytes=options.max_bytes,
        account=options.account,
        region=options.region,
        allow_outside=options.allow_outside,
    )


#: Below this many bytes of input a second process costs more than it saves.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024


def _parallel(inputs: list[tuple[str, bool, str]], options: _LoadOptions) -> list[Workspace]:
    """Read the files on two processes: a forked child takes about half of the bytes and
    sends its Workspaces back pickled (plain data: spans, texts and model nodes).

    Each file is read by exactly one process with the same function, and the results are put
    back in input order, so the merged Workspace is the one a single process builds. Where
    `fork` is missing, for small inputs, or when the child fails in any way, the files are
    simply read here.
    """
    sizes = [_size(path) for path, _, _ in inputs]
    if sum(sizes) < PARALLEL_MIN_BYTES:
        return _load_many(inputs, options)
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods():
        return _load_many(inputs, options)
    # Largest first, each to the lighter side: two halves of about the same weight.
    mine: list[int] = []
    theirs: list[int] = []
    weight = [0, 0]
    for index in sorted(range(len(inputs)), key=lambda i: -sizes[i]):
        side = 0 if weight[0] <= weight[1] else 1
        (mine if side == 0 else theirs).append(index)
        weight[side] += sizes[index]
    theirs.sort()
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(
        target=_child_load, args=(sender, [inputs[i] for i in theirs], options), daemon=True
    )
    child.start()
    sender.close()
    results: dict[int, Workspace] = {i: _load_one(*inputs[i], options) for i in sorted(mine)}
    try:
        received = receiver.recv()
    except (EOFError, OSError):
        received = None
    finally:
        receiver.close()
        child.join()
    if isinstance(received, list) and len(received) == len(theirs):
        results.update(zip(theirs, received, strict=True))
    else:  # the child died or failed: read its share here
        results.update((i, _load_one(*inputs[i], options)) for i in theirs)
    return [results[i] for i in range(len(inputs))]


def _child_load(sender: Any, inputs: list[tuple[str, bool, str]], options: _LoadOptions) -> None:
    try:
        sender.send(_load_many(inputs, options))
    except BaseException:  # any failure: the parent reads these files itself
        sender.send(None)
    finally:
        sender.close()


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


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
