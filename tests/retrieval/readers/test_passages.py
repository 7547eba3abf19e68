"""The passages the trained reader reads, and the training groups built from them."""

from __future__ import annotations

import itertools
import random

from retrieval.readers.passages import Passage, passages, window
from retrieval.training.groups import Gold, group_for
from retrieval.types import Hit

TEXT = (
    "The bridge opened in 1932. It carries six lanes of traffic. Its main span is 503 metres "
    "long. Painters work on it every day of the year. The bridge was designed by John Bradfield. "
    "Tolls pay for its upkeep."
)


def _hit(text: str = TEXT, doc_id: str = "bridge", start: int = 0, score: float = 1.0) -> Hit:
    return Hit(key=f"{doc_id}:{start}", doc_id=doc_id, text=text, score=score, start=start,
               end=start + len(text))  # fmt: skip


def test_the_window_around_the_sentence_with_the_question_words_comes_first() -> None:
    chosen = passages("Who designed the bridge?", [_hit()], limit=2, window_chars=120)
    assert "designed by John Bradfield" in chosen[0].text
    assert len(chosen) == 2 and all(len(p.text) <= 120 for p in chosen)


def test_windows_of_one_document_never_overlap_even_across_overlapping_chunks() -> None:
    first, second = _hit(TEXT[:120]), _hit(TEXT[60:], start=60)
    chosen = passages("How long is the main span of the bridge?", [first, second], limit=6,
                      window_chars=100)  # fmt: skip
    spans = sorted((p.hit.start + p.start, p.hit.start + p.end) for p in chosen)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_a_window_grows_by_whole_sentences_up_to_its_size() -> None:
    s = TEXT.index("Its main span")
    e = TEXT.index(" Painters")
    a, b = window(TEXT, s, e, 90)
    assert a <= s and e <= b and b - a <= 90
    assert TEXT[a:b].endswith(".") and (a == 0 or TEXT[a - 1] == " ")


def _passage(text: str, doc_id: str = "d", start: int = 0) -> Passage:
    return Passage(_hit(text, doc_id, start), 0, len(text), 0.5)


def test_a_group_labels_the_passage_holding_the_gold_and_leaves_out_other_mentions() -> None:
    rng = random.Random(0)
    right = _passage("The bridge opened in 1932.", "bridge")
    other = _passage("In 1932 the games were held in Los Angeles.", "games")
    wrong = _passage("Painters work on it every day.", "bridge", start=500)
    gold = Gold("bridge", 21, 25, "1932")
    group = group_for("When did the bridge open?", [other, wrong, right], gold, size=3, rng=rng)
    assert group is not None and len(group.answers) == 1
    [(c, a, b)] = group.answers
    assert group.contexts[c][a:b] == "1932"
    assert other.text not in group.contexts  # states "1932" but is not the gold: neither


def test_a_generated_question_is_answered_by_any_passage_on_its_topic() -> None:
    rng = random.Random(0)
    restated = _passage("Bradfield designed the bridge, which opened in 1932.", "history")
    unrelated = _passage("In 1932 the games were held in Los Angeles.", "games")
    gold = Gold("bridge", -1, -1, "1932")
    group = group_for("When did the bridge open?", [restated, unrelated], gold, size=3, rng=rng)
    assert group is not None
    answered = {group.contexts[c] for c, _, _ in group.answers}
    assert answered == {restated.text}


def test_a_missed_gold_is_read_from_its_own_passage_and_no_gold_means_no_answer() -> None:
    rng = random.Random(0)
    wrong = _passage("Painters work on it every day.", "bridge", start=500)
    gold = Gold("bridge", 21, 25, "1932")
    group = group_for("When did it open?", [wrong], gold, size=3, rng=rng,
                      fallback="The bridge opened in 1932.")  # fmt: skip
    assert group is not None and len(group.contexts) == 2
    refused = group_for("When did it open?", [wrong], None, size=3, rng=rng)
    assert refused is not None and refused.answers == ()
    assert group_for("When did it open?", [wrong], gold, size=3, rng=rng) is None
