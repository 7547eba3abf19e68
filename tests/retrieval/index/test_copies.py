"""One passage is shown once among an answer's sources, its other homes listed as "also in"."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.pipeline import IngestPipeline
from retrieval.engine import QAEngine
from retrieval.index.copies import collapse, content_hash, same_passage
from retrieval.types import Hit

PASSAGE = (
    "To rotate the API key, open the admin console, choose Keys, press Rotate and paste the "
    "new key into the deploy settings within 24 hours, before the old key stops working."
)


def _hit(key: str, text: str, doc_id: str = "") -> Hit:
    return Hit(key=key, doc_id=doc_id or key, text=text, score=1.0, title=key)


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (PASSAGE, PASSAGE.upper().replace(",", ""), True),  # case and punctuation
        (PASSAGE, "  ".join(PASSAGE.split()), True),  # spacing
        (PASSAGE, "Intro words first. " + PASSAGE + " And more after it.", True),  # inside
        (PASSAGE, PASSAGE.replace("console,", "console (Settings),"), True),  # a near copy
        (PASSAGE, "The cafeteria opens at eight and closes at three on Fridays.", False),
        ("Yes.", "Yes, we do.", False),  # short texts only match exactly
    ],
)
def test_copies_are_recognised_and_different_passages_are_not(a: str, b: str, same: bool):
    assert same_passage(a, b) is same


def test_content_hash_ignores_markup_residue_and_case():
    assert content_hash("**Rotate** the `key`") == content_hash("rotate the key")
    assert content_hash("rotate the key") != content_hash("rotate the keys")


def test_collapse_keeps_the_best_ranked_copy_and_points_the_others_to_it():
    hits = [_hit("md", PASSAGE), _hit("other", "Lunch is at noon."), _hit("html", PASSAGE)]
    kept, copies, keeper = collapse(hits)
    assert [h.key for h in kept] == ["md", "other"]
    assert [h.key for h in copies["md"]] == ["html"]
    assert keeper == {"html": "md"}


PAGES = {
    "keys": ("Rotating keys", PASSAGE),
    "leave": ("Leave", "Every employee gets 27 vacation days per calendar year, plus public "
              "holidays of the office they work from. Unused days expire in March."),
    "deploy": ("Deploys", "Deploys go out every Tuesday at 14:00 through the release pipeline; "
               "a hotfix needs approval from the on-call engineer."),
}  # fmt: skip


def _copies_folder(folder: Path) -> Path:
    """Each page as Markdown and as rendered HTML, plus a one-page edition holding them all."""
    folder.mkdir()
    every = ""
    for name, (title, body) in PAGES.items():
        (folder / f"{name}.md").write_text(f"# {title}\n\n{body}\n", encoding="utf-8")
        html = f"<html><head><title>{title}</title></head><body><nav>Home</nav><h1>{title}</h1>"
        (folder / f"{name}.html").write_text(f"{html}<p>{body}</p></body></html>", "utf-8")
        every += f"<h2>{title}</h2><p>{body}</p>"
    all_in_one = f"<html><head><title>All pages</title></head><body><h1>All</h1>{every}</body>"
    (folder / "all.html").write_text(all_in_one + "</html>", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "question",
    ["How do I rotate the API key?", "How many vacation days do I get?", "When do deploys go out?"],
)
def test_no_answer_lists_a_passage_twice_when_a_folder_holds_md_and_html_copies(
    tmp_path: Path, pipeline: IngestPipeline, engine: QAEngine, question: str
):
    report = pipeline.run([_copies_folder(tmp_path / "docs")])
    assert report.repeats == 6  # each of 3 passages: its first home counts not, the 2 others do
    assert "6 chunks repeat passages of other documents" in report.summary()
    answer = engine.ask(question, k=6)
    texts = [s["text"] for s in answer.sources]
    assert all(not same_passage(a, b) for i, a in enumerate(texts) for b in texts[i + 1 :]), texts
    first = answer.sources[0]
    homes = sorted(Path(p).name for p in [first["path"], *(a["path"] for a in first["also_in"])])
    assert len(homes) == 3 and "all.html" in homes, homes  # page.md, page.html, all.html
    assert len({c["answer"] for c in answer.candidates}) == len(answer.candidates)


def test_qa_ask_lists_the_other_homes_of_the_passage_once(
    tmp_path: Path, pipeline: IngestPipeline, cli_env: dict[str, str]
):
    from click.testing import CliRunner

    from bot.cli import cli

    pipeline.run([_copies_folder(tmp_path / "docs")])
    result = CliRunner().invoke(cli, ["ask", "How many vacation days do I get?"], env=cli_env)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("[1] "))
    assert lines[first + 1].strip().startswith("also in:"), result.output
    homes = {Path(p.strip()).name for p in lines[first + 1].split(":", 1)[1].split(", ")}
    shown = Path(lines[first].split(" · ")[-1]).name
    assert homes | {shown} == {"leave.md", "leave.html", "all.html"}, result.output
