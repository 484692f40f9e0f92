"""The workspace behind the golden files: one file per concern, spans into real text.

Built from IAM JSON text (positions kept by the reader) so the golden outputs show real
file:line:col locations; the topology parts are added when the `.pel` loader and the
resolver are available in the same tree.
"""

from __future__ import annotations

import json

from policyeval.errors import Diagnostic, Severity, SourceText, Span
from policyeval.model.expect import Suppression
from policyeval.model.policy import Policy
from policyeval.model.topology import EcrRepository, Role
from policyeval.model.workspace import Workspace
from policyeval.readers.iam_json import load_policy_text

ACCOUNT = "111122223333"


def _doc(path: str, name: str, statements: list[dict[str, object]], sources: SourceText) -> Policy:
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2) + "\n"
    sources.add(path, text)
    found, problems = load_policy_text(text, path, name)
    assert found is not None, problems
    return found


def sample_workspace() -> Workspace:
    sources = SourceText()
    deployer = _doc(
        "policies/deployer.json",
        "deployer",
        [
            {"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
            {"Sid": "Run", "Effect": "Allow", "Action": ["ecs:RunTask"], "Resource": "*"},
        ],
        sources,
    )
    reader = _doc(
        "policies/reader.json",
        "reader",
        [
            {
                "Sid": "Secrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": "*",
            },
            {"Sid": "Everything[else]", "Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        ],
        sources,
    )
    guarded = _doc(
        "policies/guarded.json",
        "guarded",
        [
            {"Effect": "Allow", "Action": "*", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
        ],
        sources,
    )
    repo_policy = _doc(
        "policies/repo.json",
        "repo",
        [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}],
        sources,
    )
    return Workspace(
        account=ACCOUNT,
        roles=(
            Role(name="deployer", inline=(deployer,), span=Span("policies/deployer.json", 1, 1)),
            Role(name="reader", inline=(reader,), span=Span("policies/reader.json", 1, 1)),
            Role(name="guarded", inline=(guarded,), span=Span("policies/guarded.json", 1, 1)),
        ),
        repositories=(
            EcrRepository(
                id="shop", name="shop", policy=repo_policy, span=Span("policies/repo.json", 1, 1)
            ),
        ),
        suppressions=(
            Suppression("PE104", "reviewed: legacy reader", "reader", Span("shop.pel", 3, 5)),
            Suppression("PE201", "nothing matches this one", "web", Span("shop.pel", 9, 5)),
        ),
        diagnostics=(
            Diagnostic(
                "PE041",
                Severity.ERROR,
                "`Statement` must be an object or a list",
                Span("policies/broken.json", 2, 16),
            ),
        ),
        sources=sources,
    )
