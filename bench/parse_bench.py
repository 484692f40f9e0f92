"""Parse speed of `.pel`: 10,000 lines parsed and resolved, against IAM JSON of the same policies.

Run: `python -m bench.parse_bench` (or `python bench/parse_bench.py`) from the repository root.
Prints numbers; asserts nothing (timing lives in bench/, never in tests).
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

if not __package__:
    # `python bench/parse_bench.py` puts bench/ first on sys.path, so `policyeval` would be
    # whichever copy the virtualenv has installed; measure this checkout's instead.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policyeval.convert import policy_to_json
from policyeval.pel import load_pel_text
from policyeval.readers.iam_json import policy_from_document
from policyeval.syntax.grammar import build_parser_for_benchmark

TARGET_LINES = 10_000


def generate(lines: int = TARGET_LINES) -> str:
    """Policies and roles in the usual proportions, about `lines` lines."""
    out: list[str] = ["account 111122223333", ""]
    index = 0
    while len(out) < lines:
        out += [
            f"policy app-{index} {{",
            "  allow s3:GetObject, s3:ListBucket",
            f'    on "arn:aws:s3:::bucket-{index}", "arn:aws:s3:::bucket-{index}/*"',
            "    if Bool aws:SecureTransport = true",
            f'  deny s3:DeleteObject on "arn:aws:s3:::bucket-{index}/*"',
            "}",
            f"role app-{index} {{",
            "  trust service ecs-tasks.amazonaws.com",
            f"  attach app-{index}",
            "}",
        ]
        index += 1
    return "\n".join(out) + "\n"


def best_of(runs: int, action: object) -> float:
    assert callable(action)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    text = generate()
    line_count = text.count("\n")
    load_pel_text(text, "warm.pel")  # build the cached parser once
    workspace = load_pel_text(text, "bench.pel")
    assert not workspace.diagnostics, workspace.diagnostics[:3]
    pel_seconds = best_of(3, lambda: load_pel_text(text, "bench.pel"))
    print(
        f".pel parse+resolve: {line_count} lines, {len(workspace.policies)} policies, "
        f"{len(workspace.roles)} roles: {pel_seconds * 1000:.0f} ms"
    )

    documents = [json.dumps(policy_to_json(p)) for p in workspace.policies]

    def load_json() -> None:
        for index, document in enumerate(documents):
            policy_from_document(json.loads(document), f"p{index}")

    json_seconds = best_of(3, load_json)
    print(
        f"IAM JSON json.loads+model for the same {len(documents)} policies: "
        f"{json_seconds * 1000:.0f} ms"
    )

    start = time.perf_counter()
    build_parser_for_benchmark(cache=False)
    no_cache = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as folder:
        cache_file = str(Path(folder) / "pel.lark.cache")
        build_parser_for_benchmark(cache=cache_file)  # writes the cache
        start = time.perf_counter()
        build_parser_for_benchmark(cache=cache_file)
        cached = time.perf_counter() - start
    print(
        f"parser build: {no_cache * 1000:.1f} ms without cache, "
        f"{cached * 1000:.1f} ms from Lark's cache= file"
    )


if __name__ == "__main__":
    main()
