"""Chunks follow the document's structure and always fit the embedding window."""

from __future__ import annotations

import itertools

import pytest

from ingest.chunker import Chunker, count_tiktokens
from ingest.document import Block, Document
from retrieval.embedding.embedder import Embedder
from retrieval.types import DocMeta


@pytest.fixture(scope="module")
def chunker(embedder: Embedder) -> Chunker:
    return Chunker(200, 32, embedder.max_tokens, embedder.count_tokens)


def _doc(text: str, blocks: list[Block] | None = None) -> Document:
    return Document(DocMeta(doc_id="d", title="T"), text, blocks or [])


def _assert_fits(chunks, doc: Document, embedder: Embedder) -> None:
    assert chunks
    counts = embedder.count_tokens([c.embedding_text() for c in chunks])
    for chunk, n in zip(chunks, counts, strict=True):
        assert n <= embedder.max_tokens, (n, chunk.text[:80])
        assert doc.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip()


def _covered(chunks, text: str) -> str:
    """Every non-space character of the text lies in some chunk."""
    covered = [False] * len(text)
    for c in chunks:
        for i in range(c.start, c.end):
            covered[i] = True
    return "".join(ch for ch, ok in zip(text, covered, strict=True) if not ok and not ch.isspace())


ODD_TEXTS = {
    "one 10,000-word paragraph": " ".join(
        f"word{i % 97}." if i % 13 == 0 else f"word{i % 89}" for i in range(10_000)
    ),
    "no punctuation at all": " ".join(["lorem ipsum dolor sit amet consectetur"] * 2000),
    "no spaces at all": "x" * 30_000,
    "chinese": "这是一个很长的中文句子没有标点符号" * 600,
    "japanese with enders": "東京は日本の首都です。" * 500,
    "arabic": "هذه جملة عربية طويلة جدا " * 800,
    "emoji": "🚀🔥 launch " * 3000,
    "one huge word then text": "a" * 5000 + " then a normal ending sentence.",
}


@pytest.mark.parametrize("name", list(ODD_TEXTS))
def test_every_chunk_of_odd_text_fits_the_model_window_and_nothing_is_lost(
    name: str, chunker: Chunker, embedder: Embedder
) -> None:
    doc = _doc(ODD_TEXTS[name])
    chunks = chunker.chunk(doc)
    _assert_fits(chunks, doc, embedder)
    assert _covered(chunks, doc.text) == ""


def test_code_blocks_are_cut_between_lines_and_fit(chunker: Chunker, embedder: Embedder) -> None:
    code = "\n".join(
        f"    result_{i} = compute(value_{i}, factor={i})  # step {i}" for i in range(400)
    )
    text = "Intro paragraph.\n\n" + code
    blocks = [Block("text", 0, 16), Block("code", 18, len(text))]
    doc = _doc(text, blocks)
    chunks = chunker.chunk(doc)
    _assert_fits(chunks, doc, embedder)
    for c in chunks[1:]:
        assert c.text.lstrip().startswith("result_"), "a code chunk starts at a line"


def test_chunks_never_cut_a_sentence_when_sentences_are_short(chunker: Chunker) -> None:
    sentences = [f"Sentence number {i} talks about topic {i % 7}." for i in range(300)]
    doc = _doc(" ".join(sentences))
    for chunk in chunker.chunk(doc):
        assert chunk.text.startswith("Sentence number") and chunk.text.endswith(".")
        assert count_tiktokens([chunk.text])[0] <= 200


def test_chunks_keep_heading_path_page_and_do_not_span_sections(chunker: Chunker) -> None:
    text = "Guide\n\nIntro text here.\n\nSetup\n\nInstall it. Configure it.\n\nPage two text."
    blocks = [
        Block("heading", 0, 5, level=1, page=1),
        Block("text", 7, 23, page=1),
        Block("heading", 25, 30, level=2, page=1),
        Block("text", 32, 57, page=1),
        Block("text", 59, 73, page=2),
    ]
    chunks = chunker.chunk(_doc(text, blocks))
    assert [(c.headings, c.page) for c in chunks] == [
        (("Guide",), 1),
        (("Guide", "Setup"), 1),
        (("Guide", "Setup"), 2),
    ]
    assert chunks[1].text == "Setup\n\nInstall it. Configure it."
    assert chunks[1].embedding_text().startswith("Guide > Setup\n")


def test_overlap_repeats_whole_sentences_from_the_previous_chunk(embedder: Embedder) -> None:
    chunker = Chunker(60, 20, embedder.max_tokens, embedder.count_tokens)
    sentences = [f"Fact {i} is that the value of item {i} equals {i * 3}." for i in range(40)]
    chunks = chunker.chunk(_doc(" ".join(sentences)))
    assert len(chunks) > 3
    for prev, nxt in itertools.pairwise(chunks):
        assert nxt.start < prev.end, "consecutive chunks overlap"
        assert nxt.text.startswith("Fact ")


def test_a_defined_term_starts_the_chunk_of_its_description(chunker: Chunker) -> None:
    pieces, blocks, pos = [], [], 0
    for i in range(12):  # an option list long enough to need several chunks
        for kind, text in (
            ("term", f"--option-{i} VALUE"),
            ("text", f"Sets option {i}. " + "It changes how the server behaves. " * 6),
        ):
            blocks.append(Block(kind, pos, pos + len(text)))
            pieces.append(text)
            pos += len(text) + 2
    doc = _doc("\n\n".join(pieces), blocks)
    chunks = chunker.chunk(doc)
    assert len(chunks) > 1
    for chunk in chunks:
        assert not chunk.text.rstrip().endswith("VALUE"), chunk.text[-80:]
    for i in range(12):
        assert any(f"--option-{i} VALUE\n\nSets option {i}." in c.text for c in chunks), i


def test_an_option_list_is_cut_a_few_entries_a_chunk_without_overlap(chunker: Chunker) -> None:
    pieces, blocks, pos = [], [], 0
    for i in range(12):  # short entries: a dozen would fit one 200-token chunk
        for kind, text in (("term", f"--flag-{i}"), ("text", f"Turns feature {i} on at start.")):
            blocks.append(Block(kind, pos, pos + len(text)))
            pieces.append(text)
            pos += len(text) + 2
    prose = "The server reads its flags once. " * 30  # prose alone is cut as before
    blocks.append(Block("text", pos, pos + len(prose)))
    doc = _doc("\n\n".join([*pieces, prose]), blocks)
    chunks = chunker.chunk(doc)
    listed = [c for c in chunks if "--flag-" in c.text]
    assert 2 <= len(listed) <= 6
    assert all(c.text.startswith("--flag-") for c in listed)  # each opens with its term
    assert sum(c.text.count("--flag-") for c in listed) == 12  # no entry repeated
