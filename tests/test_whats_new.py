"""The what's-new page (models and accelerators by release date) and the data changelog page."""

from __future__ import annotations

import inferbook
from inferbook.generators.page_contexts import CHANGELOG, PageContexts, data_changelog


def test_whats_new_lists_recent_releases_newest_first():
    kb = inferbook.load()
    page = PageContexts(kb).whats_new()
    released = [row["released"] for _, rows in page["months"] for row in rows]
    assert released == sorted(released, reverse=True) and page["count"] == len(released)
    assert all(r >= page["since"] for r in released)
    ids = {row["link"]["id"] for _, rows in page["months"] for row in rows}
    assert {"qwen3.5-27b", "glm-5", "rubin"} <= ids  # releases of 2026
    assert "llama-2-7b-chat" not in ids  # 2023


def test_the_changelog_page_holds_every_data_version(tmp_path):
    sections = data_changelog(CHANGELOG)
    headings = [h for h, _ in sections]
    kb = inferbook.load()
    assert headings and headings[0].startswith(f"Data {kb.data_version}")
    assert all(h.startswith("Data ") and body for h, body in sections)
    assert data_changelog(tmp_path / "missing.md") == []
    page = PageContexts(kb).changelog()
    assert page["sections"][0]["heading"] == headings[0] and "<li>" in page["sections"][0]["body"]
