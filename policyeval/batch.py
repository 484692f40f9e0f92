"""The batch format of `policyeval eval --cases`: one JSON case in, one JSON answer out.

The format is the one the independent simulator's harness reads too (README of
`tests/cases`): request fields, and policies by gate as objects or JSON strings. A case that
cannot be evaluated answers `"decision": null` with an `"error"`; the run goes on.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import Any, cast

import orjson

from policyeval.compiler.compiled import CompiledPolicy, CompiledPolicySet, PolicySet
from policyeval.errors import Diagnostic
from policyeval.evaluator.decision import Decision, Gate, Outcome, StatementRef
from policyeval.evaluator.engine import evaluate
from policyeval.evaluator.request import Request, normalized_request
from policyeval.model.policy import Effect, Policy, Statement
from policyeval.model.trusted import trusted
from policyeval.readers.iam_json import policy_from_document

#: AWS attaches RCPFullAWSAccess at every level once RCPs are enabled (AWS Organizations
#: User Guide, "RCP syntax"): RCP levels can only remove access.
RCP_FULL_ACCESS: Policy = trusted(Policy)(
    name="RCPFullAWSAccess",
    statements=(trusted(Statement)(effect=Effect.ALLOW, action=("*",), resource=("*",)),),
)


class CaseError(ValueError):
    """A case that cannot be evaluated; the message goes into the answer's `error`."""


def _policy(raw: Any, name: str) -> Policy:
    if isinstance(raw, str):
        try:
            raw = loads(raw)
        except ValueError as exc:
            raise CaseError(f"policy `{name}` is not valid JSON: {exc}") from None
    policy, diagnostics = policy_from_document(raw, name, f"<case:{name}>")
    if policy is None:
        raise CaseError(f"policy `{name}`: " + "; ".join(_short(d) for d in diagnostics))
    return policy


class _CompiledCache:
    """Compiled policies by (gate, name, document text), least recently used evicted.

    Cases in a batch usually share their roles' policies; validating and compiling each
    distinct document once is most of the batch mode's speed.
    """

    def __init__(self, size: int = 2048) -> None:
        self.size = size
        self.items: OrderedDict[tuple[Gate, str, str | bytes], CompiledPolicy] = OrderedDict()

    def get(self, raw: Any, name: str, gate: Gate) -> CompiledPolicy:
        text = raw if isinstance(raw, str) else _fingerprint(raw, name)
        key = (gate, name, text)
        found = self.items.get(key)
        if found is not None:
            self.items.move_to_end(key)
            return found
        # Lazily: a statement is completed once it names an asked action.
        compiled = CompiledPolicy(_policy(raw, name), gate, lazy=True)
        self.items[key] = compiled
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return compiled


def _fingerprint(raw: Any, name: str) -> str | bytes:
    """A key for parsed JSON content: its canonical serialisation (keys sorted)."""
    try:
        return orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)
    except (TypeError, orjson.JSONEncodeError):  # integers beyond 64 bits, deep nesting
        try:
            return repr(raw)
        except RecursionError:
            raise CaseError(f"policy `{name}` is nested too deeply") from None


def loads(text: str) -> Any:
    """Parse JSON quickly; what orjson refuses but the standard library reads (integers
    beyond 64 bits) still parses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


_CACHE = _CompiledCache()

#: Whole compiled policy sets by the policies of a case, so that a role's per-action plans
#: are shared by every case that uses the role.
_SETS: OrderedDict[str | bytes, CompiledPolicySet] = OrderedDict()
_SETS_SIZE = 512
_POLICY_FIELDS = (
    "identityPolicies",
    "permissionBoundaries",
    "sessionPolicy",
    "resourcePolicy",
    "scps",
    "rcps",
)


def _short(diagnostic: Diagnostic) -> str:
    return f"{diagnostic.code} {diagnostic.message}"


def _levels(raw: Any, kind: str) -> tuple[tuple[Policy, ...], ...]:
    if raw is None or raw == []:
        return ()
    if not isinstance(raw, list):
        raise CaseError(f"`{kind}` must be a list of policies or a list of levels")
    nested = all(isinstance(item, list) for item in raw)
    levels = raw if nested else [raw]
    return tuple(
        tuple(_policy(p, f"{kind}[{depth}][{index}]") for index, p in enumerate(level))
        for depth, level in enumerate(levels)
    )


def _context(raw: Any) -> dict[str, tuple[str, ...]]:
    """The context as `Request` keeps it: keys lower-cased (they match case-insensitively),
    every value a tuple of strings."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise CaseError("`context` must be an object")
    # The common case in one comprehension: every value a string and no two keys that
    # differ only in case (either makes the sizes differ; the loop below handles both).
    out: dict[str, tuple[str, ...]] = {
        key.lower(): (value,) for key, value in raw.items() if type(value) is str
    }
    if len(out) == len(raw):
        return out
    out = {}
    for key, value in raw.items():
        if type(value) is str:  # the common case, as the loop below would turn it
            out[key.lower()] = (value,)
            continue
        items = value if isinstance(value, list) else [value]
        texts: list[str] = []
        for item in items:
            if isinstance(item, bool):
                texts.append("true" if item else "false")
            elif isinstance(item, (str, int, float)):
                texts.append(str(item))
            else:
                raise CaseError(f"context value of `{key}` must be a string, number or boolean")
        out[key.lower()] = tuple(texts)
    return out


def case_request(case: dict[str, Any]) -> tuple[PolicySet, Request]:
    """Turn one case into the policy set and the request it describes."""
    for field in ("principal", "action", "resource"):
        if not isinstance(case.get(field), str):
            raise CaseError(f"`{field}` must be a string")
    identity = case.get("identityPolicies") or []
    if not isinstance(identity, list):
        raise CaseError("`identityPolicies` must be a list")
    boundaries = case.get("permissionBoundaries") or []
    if not isinstance(boundaries, list):
        raise CaseError("`permissionBoundaries` must be a list")
    if len(boundaries) > 1:
        raise CaseError("an IAM principal has at most one permissions boundary")
    rcps = _levels(case.get("rcps"), "rcps")
    policies = PolicySet(
        identity=tuple(_policy(p, f"identity[{i}]") for i, p in enumerate(identity)),
        boundary=_policy(boundaries[0], "boundary") if boundaries else None,
        session=_policy(case["sessionPolicy"], "session") if case.get("sessionPolicy") else None,
        resource=_policy(case["resourcePolicy"], "resource")
        if case.get("resourcePolicy")
        else None,
        scps=_levels(case.get("scps"), "scps"),
        rcps=tuple((*level, RCP_FULL_ACCESS) for level in rcps),
    )
    account = case.get("resourceAccount")
    if account is not None and not isinstance(account, str):
        raise CaseError("`resourceAccount` must be a string")
    request = Request(
        principal=case["principal"],
        action=case["action"],
        resource=case["resource"],
        context=_context(case.get("context")),
        resource_account=account,
    )
    return policies, request


def _level_items(raw: Any, kind: str) -> list[list[Any]]:
    if raw is None or raw == []:
        return []
    if not isinstance(raw, list):
        raise CaseError(f"`{kind}` must be a list of policies or a list of levels")
    return raw if all(isinstance(item, list) for item in raw) else [raw]


_FULL_ACCESS_RCP = CompiledPolicy(RCP_FULL_ACCESS, Gate.RCP)


def compile_case(case: dict[str, Any]) -> tuple[CompiledPolicySet, Request]:
    """Like `case_request`, but with every policy compiled through the shared caches."""
    request = _request_only(case)
    key = _fingerprint(tuple(case.get(field) for field in _POLICY_FIELDS), "case")
    found = _SETS.get(key)
    if found is not None:
        _SETS.move_to_end(key)
        return found, request
    compiled = _compile_set(case)
    _SETS[key] = compiled
    if len(_SETS) > _SETS_SIZE:
        _SETS.popitem(last=False)
    return compiled, request


def _compile_set(case: dict[str, Any]) -> CompiledPolicySet:
    identity = case.get("identityPolicies") or []
    boundaries = case.get("permissionBoundaries") or []
    if not isinstance(identity, list):
        raise CaseError("`identityPolicies` must be a list")
    if not isinstance(boundaries, list):
        raise CaseError("`permissionBoundaries` must be a list")
    if len(boundaries) > 1:
        raise CaseError("an IAM principal has at most one permissions boundary")
    get = _CACHE.get
    session = case.get("sessionPolicy")
    resource = case.get("resourcePolicy")
    return CompiledPolicySet(
        identity=tuple(get(p, f"identity[{i}]", Gate.IDENTITY) for i, p in enumerate(identity)),
        boundary=get(boundaries[0], "boundary", Gate.BOUNDARY) if boundaries else None,
        session=get(session, "session", Gate.SESSION) if session else None,
        resource=get(resource, "resource", Gate.RESOURCE) if resource else None,
        scps=tuple(
            tuple(get(p, f"scps[{d}][{i}]", Gate.SCP) for i, p in enumerate(level))
            for d, level in enumerate(_level_items(case.get("scps"), "scps"))
        ),
        rcps=tuple(
            (*(get(p, f"rcps[{d}][{i}]", Gate.RCP) for i, p in enumerate(level)), _FULL_ACCESS_RCP)
            for d, level in enumerate(_level_items(case.get("rcps"), "rcps"))
        ),
    )


def _request_only(case: dict[str, Any]) -> Request:
    for field in ("principal", "action", "resource"):
        if not isinstance(case.get(field), str):
            raise CaseError(f"`{field}` must be a string")
    account = case.get("resourceAccount")
    if account is not None and not isinstance(account, str):
        raise CaseError("`resourceAccount` must be a string")
    return normalized_request(
        case["principal"], case["action"], case["resource"], _context(case.get("context")), account
    )


_NO_ID: Any = object()


def decision_json(decision: Decision, case_id: Any = _NO_ID) -> dict[str, Any]:
    """A decision as the batch format writes it (led by the case's `id` when one is given).
    Enum members are kept as they are (they are `str` subclasses, written as their values)
    rather than read through `.value`, which on Python 3.11 costs a descriptor call each."""
    outcome = decision.outcome
    answer: dict[str, Any] = {} if case_id is _NO_ID else {"id": case_id}
    answer.update(
        decision=_BATCH_WORD.get(outcome),
        outcome=outcome,
        decidedBy=decision.decided_by,
        reason=decision.reason,
        matched=[_ref_json(ref) for ref in decision.matched],
    )
    if decision.deciding_keys:
        answer["keys"] = list(decision.deciding_keys)
    return answer


def _ref_json(ref: StatementRef) -> dict[str, Any]:
    """A statement reference as answers write it, made once per reference (a compiled
    statement keeps its reference, and answers cite the same statements again and again).
    The dicts are shared between answers: nothing may change them."""
    found = _REF_JSON.get(id(ref))
    if found is not None and found[0] is ref:
        return found[1]
    gate, policy, index, sid, effect, span = ref
    out: dict[str, Any] = {
        "gate": gate,
        "policy": policy,
        "statement": sid if sid is not None else index,
        "effect": effect,
    }
    if span and span.line:
        out["line"] = span.line
        out["column"] = span.column
    if len(_REF_JSON) >= _REF_JSON_SIZE:
        _REF_JSON.clear()
    _REF_JSON[id(ref)] = (ref, out)  # the reference is kept: its id cannot be reused
    return out


_REF_JSON: dict[int, tuple[StatementRef, dict[str, Any]]] = {}
_REF_JSON_SIZE = 65536


_BATCH_WORD = {outcome: outcome.batch_word for outcome in Outcome}


def decide_case(case: Any) -> dict[str, Any]:
    """Answer one case; never raises for bad input."""
    return _decide(case, None)


def _decide(case: Any, segment: _Segment | None) -> dict[str, Any]:
    """Answer one case, whose role policies are `segment`'s when it is given (then `case`
    holds the other fields only)."""
    case_id = case.get("id") if isinstance(case, dict) else None
    try:
        if not isinstance(case, dict):
            raise CaseError("a case must be a JSON object")
        if segment is None:
            compiled, request = compile_case(case)
        else:
            compiled, request = _compile_with_segment(case, segment)
        decision = evaluate(compiled, request)
    except CaseError as exc:
        return {"id": case_id, "decision": None, "error": str(exc)}
    except (RecursionError, MemoryError):
        return {"id": case_id, "decision": None, "error": "case too large or too deeply nested"}
    return decision_json(decision, case_id)


def _compile_with_segment(
    case: dict[str, Any], segment: _Segment
) -> tuple[CompiledPolicySet, Request]:
    """`compile_case` for a case whose role policies come from a known segment: the set is
    keyed on the segment (its exact text) and the other policy fields' content."""
    request = _request_only(case)
    if _ROLE_FIELDS.isdisjoint(case):
        # The role's policies are all in the segment: its compiled set serves every case,
        # paired with the case's own resource policy when there is one.
        base = segment.compiled
        if base is None:
            base = segment.compiled = _compile_set(segment.members)
        raw = case.get("resourcePolicy")
        if not raw:
            return base, request
        return base.with_resource_policy(_CACHE.get(raw, "resource", Gate.RESOURCE)), request
    key = (segment.number, _fingerprint(tuple(case.get(f) for f in _POLICY_FIELDS), "case"))
    found = _SEGMENT_SETS.get(key)
    if found is not None:
        _SEGMENT_SETS.move_to_end(key)
        return found, request
    compiled = _compile_set({**case, **segment.members})
    _SEGMENT_SETS[key] = compiled
    if len(_SEGMENT_SETS) > _SETS_SIZE:
        _SEGMENT_SETS.popitem(last=False)
    return compiled, request


_SEGMENT_SETS: OrderedDict[tuple[int, str | bytes], CompiledPolicySet] = OrderedDict()


# -- role segments ------------------------------------------------------------------------
#
# The lines of a batch repeat their roles' policies (tens of statements, most of each line)
# while the request fields change. A *segment* is the exact text of a run of role-policy
# members (`"identityPolicies": [...], "scps": [...]`) seen before, parsed and checked
# once. A line holding that text is parsed without it: the text is replaced by a
# placeholder member, and the rest (request fields, resource policy) is parsed alone.
#
# Why this is exact: a segment's text is a complete sequence of object members (checked by
# parsing `{` + text + `}`). If the line with the placeholder parses and the placeholder is
# a member of the top-level object (its key occurs nowhere else in the line), then the
# line is that object with the placeholder member replaced by the segment's members: JSON
# is context-free, and the placeholder's value `[]` ends on its own, as the segment's last
# value does. A key in both parts, or anything unexpected, falls back to parsing the line.

_ROLE_FIELDS = frozenset(
    {"identityPolicies", "permissionBoundaries", "sessionPolicy", "scps", "rcps"}
)
_ANCHOR = '"identityPolicies"'
_PLACEHOLDER_KEY = "policyeval-batch-segment"
_PLACEHOLDER = f'"{_PLACEHOLDER_KEY}":[]'
_PROBE = 256  # characters of a segment that index it (shorter segments are not kept)
_SEGMENTS_SIZE = 256


class _Segment:
    __slots__ = ("compiled", "members", "number", "text")

    def __init__(self, number: int, text: str, members: dict[str, Any]) -> None:
        self.number = number
        self.text = text
        self.members = members
        #: The members' compiled set without a resource policy, made on first use.
        self.compiled: CompiledPolicySet | None = None


_SEGMENTS: dict[str, list[_Segment]] = {}
_PROBES_SEEN: set[str] = set()
_PROBES_SIZE = 4096
_SEGMENT_COUNT = [0]


def _parse_line(line: str) -> tuple[Any, _Segment | None]:
    """The case on one line, and the segment its role policies come from (None when the
    line was parsed whole). Raises what `loads` raises for a line that is not JSON."""
    pos = line.find(_ANCHOR)
    if pos < 0:
        return loads(line), None
    for segment in _SEGMENTS.get(line[pos : pos + _PROBE], ()):
        text = segment.text
        if line.startswith(text, pos):
            outer = _outer(line[:pos] + _PLACEHOLDER + line[pos + len(text) :], segment.members)
            if outer is not None:
                return outer, segment
            break
    case = loads(line)
    # Learn a segment the second time its opening is seen: lines whose policies never
    # repeat do not pay for checking one.
    probe = line[pos : pos + _PROBE]
    if probe in _PROBES_SEEN:
        if isinstance(case, dict):
            _learn(line, pos, case)
    else:
        if len(_PROBES_SEEN) >= _PROBES_SIZE:
            _PROBES_SEEN.clear()
        _PROBES_SEEN.add(probe)
    return case, None


def _outer(reduced: str, members: dict[str, Any]) -> dict[str, Any] | None:
    """The line's other members when `reduced` holds the placeholder at the top level (and
    nowhere else: a line of the user's own that holds the key is parsed whole)."""
    if reduced.count(_PLACEHOLDER_KEY) != 1:
        return None
    try:
        outer = orjson.loads(reduced)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(outer, dict):
        return None
    placeholder = outer.pop(_PLACEHOLDER_KEY, None)
    if not isinstance(placeholder, list) or placeholder or not members.keys().isdisjoint(outer):
        return None
    return outer


def _learn(line: str, pos: int, case: dict[str, Any]) -> None:
    """Remember the run of role-policy members that starts at `pos` as a segment, when its
    text can be delimited and every check holds."""
    keys = list(case)
    if "identityPolicies" not in keys:
        return
    first = keys.index("identityPolicies")
    last = first
    while last + 1 < len(keys) and keys[last + 1] in _ROLE_FIELDS:
        last += 1
    run = keys[first : last + 1]
    if last + 1 < len(keys):
        following = line.find(orjson.dumps(keys[last + 1]).decode(), pos)
        if following < 0:
            return
        text = line[pos:following].rstrip()
        if not text.endswith(","):
            return
        text = text[:-1].rstrip()
    else:
        text = line[pos:].rstrip()
        if not text.endswith("}"):
            return
        text = text[:-1].rstrip()
    if len(text) < _PROBE:
        return
    members = {key: case[key] for key in run}
    try:
        if orjson.loads("{" + text + "}") != members:
            return
    except orjson.JSONDecodeError:
        return
    outer = _outer(line[:pos] + _PLACEHOLDER + line[pos + len(text) :], members)
    if outer is None or {**outer, **members} != case:
        return
    if sum(len(found) for found in _SEGMENTS.values()) >= _SEGMENTS_SIZE:
        _SEGMENTS.clear()
    _SEGMENT_COUNT[0] += 1
    _SEGMENTS.setdefault(text[:_PROBE], []).append(_Segment(_SEGMENT_COUNT[0], text, members))


def run_lines(lines: Iterable[str]) -> Iterator[str]:
    """JSON Lines in, JSON Lines out, in order; blank lines are skipped."""
    for answer in answer_lines(lines):
        yield answer[:-1].decode()


def answer_lines(
    lines: Iterable[str | bytes], first: int | Callable[[], int] = 1
) -> Iterator[bytes]:
    """`run_lines` for the CLI: lines as text or as UTF-8 bytes, answers as UTF-8 bytes, each
    ending in a newline. Lines are numbered from `first` in error answers; it may be a
    function, called at the first error only (counting the lines before a part of a file
    costs a pass over them)."""
    base = first if isinstance(first, int) else None

    def number(offset: int) -> int:
        nonlocal base
        if base is None:
            base = cast("Callable[[], int]", first)()
        return base + offset

    for offset, raw in enumerate(lines):
        if isinstance(raw, bytes):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield _line_error(number(offset), f"not UTF-8 text: {exc.reason}")
                continue
        else:
            line = raw
        if not line or line.isspace():
            continue
        try:
            case, segment = _parse_line(line)
        except (ValueError, RecursionError) as exc:
            yield _line_error(number(offset), f"invalid JSON: {exc}")
            continue
        yield _encode(_decide(case, segment))


def _line_error(number: int, problem: str) -> bytes:
    error = f"line {number}: {problem}"
    return _encode({"id": None, "line": number, "decision": None, "error": error})


def _encode(answer: dict[str, Any]) -> bytes:
    """One answer line. JSON text may hold a lone surrogate escape (`"\\ud800"`), which the
    standard library reads and orjson cannot write: such an answer is written escaped."""
    try:
        return orjson.dumps(answer, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return (json.dumps(answer, separators=(",", ":")) + "\n").encode()
