"""Decoders on hand-made probability matrices whose right answers are known."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from recognizer.codec import Codec
from recognizer.decoders import LexiconTrie, beam_search, decode_batch, greedy, lexicon_search

CODEC = Codec("-1abct")  # labels: 0 blank, 1 '-', 2 '1', 3 'a', 4 'b', 5 'c', 6 't'


def matrix(*rows: dict[str, float]) -> np.ndarray:
    """log-probabilities [T, K] from per-frame {char: prob}; '_' is the blank; the rest is spread evenly."""
    out = []
    for row in rows:
        p = np.zeros(CODEC.num_classes)
        for ch, v in row.items():
            p[0 if ch == "_" else CODEC.encode(ch)[0]] = v
        rest = 1.0 - p.sum()
        p[p == 0] = rest / max((p == 0).sum(), 1)
        out.append(np.log(np.maximum(p, 1e-12)))
    return np.array(out)


def test_greedy_merges_repeats_and_drops_blanks():
    lp = matrix({"a": .9}, {"a": .9}, {"_": .9}, {"a": .9}, {"b": .9}, {"_": .9})
    assert greedy(lp, CODEC) == "aab"


def test_beam_finds_the_text_greedy_misses():
    # Best path is "__" (0.36) but "a" has total probability .4*.6 + .6*.4 + .4*.4 = 0.64.
    lp = matrix({"_": .6, "a": .4}, {"_": .6, "a": .4})
    assert greedy(lp, CODEC) == ""
    assert beam_search(lp, CODEC, beam=4) == "a"


def test_beam_needs_a_blank_between_repeats():
    lp = matrix({"a": .5, "_": .5}, {"a": .5, "_": .5}, {"a": .5, "_": .5})
    # P("a") = 6/8 paths... "aa" needs a-_-a only: 1/8; "a" wins
    assert beam_search(lp, CODEC, beam=8) == "a"
    lp = matrix({"a": .98}, {"_": .98}, {"a": .98})
    assert beam_search(lp, CODEC) == "aa"


def test_lexicon_corrects_to_a_word():
    # Frame by frame "cot" is likeliest ("o" unknown, so "ctt"/"cbt"); lexicon has "cat"
    lp = matrix({"c": .9}, {"b": .5, "a": .3}, {"t": .9})
    assert greedy(lp, CODEC) == "cbt"
    trie = LexiconTrie(["cat", "tab"])
    assert lexicon_search(lp, CODEC, trie) == "cat"


def test_lexicon_allows_digits_and_punctuation_between_words_only():
    trie = LexiconTrie(["ab", "c"])
    lp = matrix({"a": .9}, {"b": .9}, {"-": .9}, {"c": .9}, {"1": .9})
    assert lexicon_search(lp, CODEC, trie) == "ab-c1"
    # "a" alone is not a word, so the '-' may not follow it: the decoder completes "ab" instead
    lp = matrix({"a": .9}, {"-": .6, "b": .3}, {"_": .9})
    assert greedy(lp, CODEC) == "a-" and lexicon_search(lp, CODEC, trie) == "ab"


def test_lexicon_rule_splits_entries_into_letter_runs():
    trie = LexiconTrie(["Karl-Marx-Str.", "Am Markt 12"])
    assert LexiconTrie.words_of("Karl-Marx-Str.") == ["Karl", "Marx", "Str"]
    assert "Marx" in trie and "Markt" in trie and "Mar" not in trie and trie.size == 5
    with pytest.raises(ValueError, match="no word"):
        LexiconTrie(["123", "--"])


def test_decode_batch_cuts_each_sample_to_its_frames():
    a = matrix({"a": .9}, {"_": .9}, {"b": .9})
    b = matrix({"c": .9}, {"b": .9}, {"b": .9})
    lp = torch.from_numpy(np.stack([a, b], axis=1)).float()  # [T, N, K]
    for decoder in ("greedy", "beam"):
        assert decode_batch(lp, [3, 1], CODEC, decoder) == ["ab", "c"]
    assert decode_batch(lp, [3, 3], CODEC, "lexicon", LexiconTrie(["ab", "cb"])) == ["ab", "cb"]
    with pytest.raises(ValueError, match="unknown decoder"):
        decode_batch(lp, [3, 3], CODEC, "viterbi")
    with pytest.raises(ValueError, match="needs a word list"):
        decode_batch(lp, [3, 3], CODEC, "lexicon")
