"""docs/configuration.md holds every setting: its generated reference is up to date."""

from __future__ import annotations

from pathlib import Path

from bastion.settings import Settings
from bastion.settings.docs import BEGIN, END, reference, rows, write

PAGE = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def test_every_setting_is_on_the_configuration_page() -> None:
    page = PAGE.read_text(encoding="utf-8")
    missing = [r.key for r in rows(Settings) if f"| `{r.key}` |" not in page]
    assert not missing, (
        f"docs/configuration.md lacks {missing}; run: python -m bastion.settings.docs --write "
        "docs/configuration.md"
    )


def test_the_generator_replaces_only_its_own_block(tmp_path: Path) -> None:
    page = tmp_path / "configuration.md"
    page.write_text(f"# Title\n\nhand-written\n\n{BEGIN}\nOLD-BLOCK\n{END}\n\n## After\n")
    write(page)
    write(page)  # idempotent
    text = page.read_text()
    assert text.startswith("# Title\n\nhand-written\n\n") and text.endswith("\n\n## After\n")
    assert "OLD-BLOCK" not in text and text.count(BEGIN) == 1 and reference() in text
    assert "| `review.policies[].escalate_to.to` | str | required |" in text
    assert "`BASTION_SERVER__DRAIN_DELAY_S`" in text
