"""The README is the user's reference: it must keep up with the schema and the Makefile."""

from __future__ import annotations

import re
from pathlib import Path

from gan_style.config import all_keys

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_every_config_key_is_documented() -> None:
    documented = set(re.findall(r"^\| `([a-z_.0-9]+)` \|", README, flags=re.M))
    assert set(all_keys()) - documented == set()


def test_every_make_target_is_documented() -> None:
    makefile = (REPO / "Makefile").read_text()
    targets = re.findall(r"^([a-z]+):.*## ", makefile, flags=re.M)
    assert targets and [t for t in targets if f"make {t}" not in README] == []


def test_quick_start() -> None:
    assert "make demo" in README and "make test" in README
