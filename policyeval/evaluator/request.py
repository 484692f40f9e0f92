"""An IAM request: who asks to do what on which resource, in which context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from policyeval.compiler.arn import account_of


@dataclass(frozen=True, slots=True)
class Request:
    """One request to decide.

    `context` maps condition keys (stored lower-cased: they match case-insensitively) to
    their values; a key that is absent is *missing*. Keys in `unknown_keys` have a value the
    caller does not know; with `context_complete=False` every absent key is unknown instead
    of missing. Unknown keys make the answer CONDITIONAL when they decide it.
    `resource_account` defaults to the account in the resource ARN, else the principal's.
    """

    principal: str
    action: str
    resource: str
    context: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    resource_account: str | None = None
    unknown_keys: frozenset[str] = frozenset()
    context_complete: bool = True
    #: Derived once here, for every policy set the request is asked of: the action
    #: lower-cased (actions match case-insensitively) and the account that owns the
    #: resource (`resource_account`, else the resource ARN's; None when neither says).
    action_key: str = field(init=False, repr=False, compare=False)
    owner: str | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Condition key names are case-insensitive (IAM User Guide, "Condition element"):
        # keys are lower-cased once here, so one request can be decided against many policy
        # sets without normalising it again. A lone string becomes a one-value tuple.
        normal = {
            key.lower(): ((values,) if isinstance(values, str) else tuple(values))
            for key, values in self.context.items()
        }
        object.__setattr__(self, "context", normal)
        object.__setattr__(self, "unknown_keys", frozenset(k.lower() for k in self.unknown_keys))
        object.__setattr__(self, "action_key", self.action.lower())
        object.__setattr__(self, "owner", self.resource_account or account_of(self.resource))


_new = object.__new__
_set_principal = Request.__dict__["principal"].__set__
_set_action = Request.__dict__["action"].__set__
_set_resource = Request.__dict__["resource"].__set__
_set_context = Request.__dict__["context"].__set__
_set_resource_account = Request.__dict__["resource_account"].__set__
_set_unknown_keys = Request.__dict__["unknown_keys"].__set__
_set_context_complete = Request.__dict__["context_complete"].__set__
_set_action_key = Request.__dict__["action_key"].__set__
_set_owner = Request.__dict__["owner"].__set__
_NO_KEYS: frozenset[str] = frozenset()


def normalized_request(
    principal: str,
    action: str,
    resource: str,
    context: dict[str, tuple[str, ...]],
    resource_account: str | None,
) -> Request:
    """A `Request` with a complete context whose keys are already lower-cased and whose
    values are already tuples (what `__post_init__` would make), built without redoing
    that: the batch mode makes one per case and has normalised the context itself."""
    request = _new(Request)
    _set_principal(request, principal)
    _set_action(request, action)
    _set_resource(request, resource)
    _set_context(request, context)
    _set_resource_account(request, resource_account)
    _set_unknown_keys(request, _NO_KEYS)
    _set_context_complete(request, True)
    _set_action_key(request, action.lower())
    _set_owner(request, resource_account or account_of(resource))
    return request
