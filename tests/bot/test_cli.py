"""The `qa` command line against the real embedded Redis and the packaged model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from retrieval.index.chunks import ChunkIndex

SAMPLE = Path(__file__).resolve().parents[2] / "ingest" / "sample"


def _qa(cli_env: dict[str, str], *args: str):
    return CliRunner().invoke(cli, list(args), env=cli_env, catch_exceptions=False)


def test_ingest_sample_then_ask_answers_with_its_source(cli_env: dict[str, str]) -> None:
    result = _qa(cli_env, "ingest", str(SAMPLE), "--tag", "demo")
    assert result.exit_code == 0, result.output
    assert "6 new, 0 updated, 0 unchanged, 0 failed" in result.output
    result = _qa(cli_env, "ask", "--json", "how do I rotate the API key?")
    answer = json.loads(result.output)
    assert "Rotate key" in answer["answer"]
    assert answer["sources"][0]["title"] == "Security handbook"
    src = answer["sources"][0]
    assert src["text"][src["start"] : src["end"]] == answer["answer"]


def test_ask_with_a_filter_that_matches_nothing_explains_why(cli_env: dict[str, str]) -> None:
    _qa(cli_env, "ingest", str(SAMPLE))
    result = _qa(
        cli_env, "ask", "--json", "--filter", "source=nowhere", "how do I rotate the API key?"
    )
    answer = json.loads(result.output)
    assert answer["answer"] is None
    assert answer["reason"] == "no_documents_match_filter"


def test_ask_before_any_ingest_says_to_ingest_first(cli_env: dict[str, str]) -> None:
    result = CliRunner().invoke(cli, ["ask", "anything?"], env=cli_env)
    assert result.exit_code == 1
    assert "qa ingest" in result.output


def test_ask_rejects_an_empty_question_and_a_bad_k(cli_env: dict[str, str]) -> None:
    _qa(cli_env, "ingest", str(SAMPLE))
    assert "empty" in CliRunner().invoke(cli, ["ask", "  "], env=cli_env).output
    result = CliRunner().invoke(cli, ["ask", "--k", "99", "what?"], env=cli_env)
    assert result.exit_code == 1 and "between 1 and 50" in result.output


def test_ask_with_bytes_that_are_not_utf8_says_so_without_a_traceback(
    cli_env: dict[str, str],
) -> None:
    _qa(cli_env, "ingest", str(SAMPLE))
    question = b"caf\xe9 opening hours?".decode("utf-8", "surrogateescape")  # as argv arrives
    result = CliRunner().invoke(cli, ["ask", question], env=cli_env)
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "not valid text: byte 0xe9 at character 4 is not UTF-8" in result.output
    bad_filter = CliRunner().invoke(cli, ["ask", "--filter", "tag=\udcff", "why?"], env=cli_env)
    assert bad_filter.exit_code == 2 and "--filter is not valid text" in bad_filter.output


def test_ingest_reports_unreadable_files_and_exits_nonzero(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "ok.txt").write_text("Readable text about owls.")
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf at all")
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path)], env=cli_env)
    assert result.exit_code == 1
    assert "1 new" in result.output and "1 failed" in result.output
    assert "bad.pdf" in result.output


def test_docs_delete_and_index_info_drop(cli_env: dict[str, str]) -> None:
    _qa(cli_env, "ingest", str(SAMPLE))
    listing = json.loads(_qa(cli_env, "docs", "--json").output)
    assert len(listing) == 6
    doc = next(d for d in listing if d["title"] == "On-call guide")
    assert "deleted" in _qa(cli_env, "delete", doc["doc_id"]).output
    assert "deleted" in _qa(cli_env, "delete", str(SAMPLE / "deploy.txt")).output
    info = json.loads(_qa(cli_env, "index", "info").output)
    assert info["documents"] == 4 and info["dimension"] == 384
    missing = CliRunner().invoke(cli, ["delete", "no-such-doc"], env=cli_env)
    assert missing.exit_code == 1 and "no such document" in missing.output
    assert "dropped" in _qa(cli_env, "index", "drop", "--yes").output
    assert "qa ingest" in CliRunner().invoke(cli, ["index", "info"], env=cli_env).output


def test_docs_lists_where_title_tags_date_and_chunks_and_counts_tags(
    cli_env: dict[str, str],
) -> None:
    _qa(cli_env, "ingest", str(SAMPLE), "--tag", "demo")
    lines = _qa(cli_env, "docs").output.splitlines()
    security = next(line for line in lines if line.startswith("security.md  "))
    assert "Security handbook" in security and "demo" in security and "chunks" in security
    assert str(SAMPLE) not in "\n".join(lines), "paths are shown inside the folder ingested"
    listing = json.loads(_qa(cli_env, "docs", "--json").output)
    doc = next(d for d in listing if d["shown"] == "security.md")
    assert doc["path"] == str(SAMPLE / "security.md") and "demo" in doc["tags"]
    assert json.loads(_qa(cli_env, "docs", "--tags", "--json").output)["demo"] == len(listing)
    assert f"{len(listing):6d}  demo" in _qa(cli_env, "docs", "--tags").output


def test_delete_accepts_the_source_that_ask_printed(cli_env: dict[str, str]) -> None:
    _qa(cli_env, "ingest", str(SAMPLE))
    printed = _qa(cli_env, "ask", "how do I rotate the API key?").output
    first = next(line for line in printed.splitlines() if line.startswith("[1] "))
    shown = first.split(" · ")[-1].strip()
    assert shown == "security.md", first
    result = _qa(cli_env, "delete", shown)
    assert result.exit_code == 0 and "deleted security.md" in result.output
    assert all(
        d["shown"] != "security.md" for d in json.loads(_qa(cli_env, "docs", "--json").output)
    )


def test_every_format_in_a_mapped_folder_links_to_its_url_never_to_a_file_link(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    docs = tmp_path / "site"
    docs.mkdir()
    (docs / "kiln.html").write_text(
        '<html><head><title>Kiln</title><link rel="canonical" href="file:///build/kiln.html">'
        "</head><body><main><p>The kiln fires at 1200 degrees for nine hours.</p></main>"
        "</body></html>"
    )
    (docs / "glaze.md").write_text("# Glaze\n\nThe glaze is mixed with 40 grams of silica.")
    env = {**cli_env, "QA_SOURCE_URLS": f"{docs}/=https://wiki.example.com/pottery/"}
    assert _qa(env, "ingest", str(docs)).exit_code == 0
    for question, page in (("how hot does the kiln fire?", "kiln.html"),
                           ("how much silica goes in the glaze?", "glaze.md")):  # fmt: skip
        answer = json.loads(_qa(env, "ask", "--json", "--min-confidence", "0", question).output)
        assert answer["sources"][0]["url"] == f"https://wiki.example.com/pottery/{page}"
        assert answer["sources"][0]["path"] == page


def test_a_windows_1252_file_is_ingested_answers_and_the_encoding_is_reported(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    text = "The café’s espresso machine is descaled every Friday with 50 € of citric acid."
    path = tmp_path / "cafe.txt"
    path.write_bytes(text.encode("cp1252"))
    result = CliRunner().invoke(cli, ["ingest", str(tmp_path)], env=cli_env)
    assert result.exit_code == 0, result.output
    assert f"read {path.resolve()} as cp1252" in result.output
    answer = json.loads(
        _qa(cli_env, "ask", "--json", "when is the espresso machine descaled?").output
    )
    assert answer["answer"] and "Friday" in answer["sources"][0]["text"]
    assert "café’s" in answer["sources"][0]["text"]


def test_ingest_killed_midway_is_repaired_by_the_next_run(
    cli_env: dict[str, str], tmp_path: Path, index: ChunkIndex
) -> None:
    for i in range(60):
        body = "\n\n".join(
            f"Document {i} paragraph {p} about subject {i * p}." * 9 for p in range(12)
        )
        (tmp_path / f"doc{i:02d}.txt").write_text(body)
    full_env = {**os.environ, **cli_env}
    cmd = [sys.executable, "-m", "bot.cli", "ingest", str(tmp_path)]
    proc = subprocess.Popen(cmd, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if index.exists() and index.count_chunks() > 0:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    for path in list(tmp_path.glob("doc0*.txt")):  # some files change before the re-run
        path.write_text(path.read_text() + "\n\nAn added closing paragraph.")
    rerun = subprocess.run(cmd, env=full_env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    docs = list(index.documents())
    assert len(docs) == 60
    for doc in docs:
        keys = index.chunk_keys(doc.doc_id)
        assert len(keys) == doc.chunks and all(f":{doc.generation}:" in k for k in keys)
    assert index.count_chunks() == sum(d.chunks for d in docs)


def test_source_names_only_the_documents_that_name_none_of_their_own(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "own.md").write_text("---\ntitle: Own\nsource: handbook\n---\nOwls hoot at night.")
    (tmp_path / "plain.txt").write_text("Larks sing in the morning.")
    records = [{"id": "faq-1", "text": "Bats sleep by day.", "source": "faq"},
               {"id": "faq-2", "text": "Moles dig tunnels."}]  # fmt: skip
    (tmp_path / "mixed.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    assert _qa(cli_env, "ingest", str(tmp_path), "--source", "team").exit_code == 0
    sources = {d["doc_id"]: d["source"] for d in json.loads(_qa(cli_env, "docs", "--json").output)}
    assert sorted(sources.values()) == ["faq", "handbook", "team", "team"]
    assert sources["faq-1"] == "faq" and sources["faq-2"] == "team"

    (tmp_path / "plain.txt").write_text("Larks sing at dawn.")  # changed: ingested again
    assert _qa(cli_env, "ingest", str(tmp_path / "plain.txt")).exit_code == 0
    sources = {d["title"]: d["source"] for d in json.loads(_qa(cli_env, "docs", "--json").output)}
    assert sources["Own"] == "handbook" and sources["plain"] == "plain.txt"  # no flag: file name


HEAVY = ("torch", "transformers", "sentence_transformers", "optimum", "spacy", "sklearn",
         "flask", "slack_bolt", "huggingface_hub.file_download")  # fmt: skip
IMPORTED = """
import atexit, sys
atexit.register(lambda: print(sorted(m for m in {heavy} if m in sys.modules), file=sys.stderr))
from bot.cli import main
sys.argv = ["qa", "ask", "--local", "how do I rotate the API key?"]
main()
"""


def test_ask_answers_without_importing_the_heavy_libraries(cli_env: dict[str, str]) -> None:
    """The cold start of `qa ask` (issue 25): ONNX models, no torch, no web frameworks."""
    _qa(cli_env, "ingest", str(SAMPLE))
    env = {**os.environ, **cli_env, "QA_READER": "auto"}  # auto looks for every reader
    done = subprocess.run([sys.executable, "-c", IMPORTED.format(heavy=HEAVY)], env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0 and "Rotate key" in done.stdout, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "[]"
