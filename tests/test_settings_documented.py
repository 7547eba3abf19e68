"""Every setting a user can set is documented in the README's configuration table."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from retrieval.settings import Settings, env_name

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.parametrize("name", [f.name for f in fields(Settings)])
def test_every_setting_has_a_row_in_the_readme_configuration_table(name: str) -> None:
    section = README.read_text(encoding="utf-8").split("## Configuration", 1)[1]
    table = section.split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("|")]
    assert any(f"`{env_name(name)}`" in row for row in rows), f"document {env_name(name)}"
