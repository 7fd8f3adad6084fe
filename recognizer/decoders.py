"""CTC decoders: greedy (best path), prefix beam search, and beam search constrained to a word list.

All work on one sample's log-probabilities ``[T, K]`` (blank = 0, see :class:`recognizer.codec.Codec`);
:func:`decode_batch` applies one to a batch in CTC layout ``[T, N, K]``.

Lexicon rule (:class:`LexiconTrie`, ``decoder="lexicon"``): the word list's entries are split into
*words*, the maximal runs of letters (Unicode categories L and M), so ``"Karl-Marx-Str."`` gives
``Karl``, ``Marx`` and ``Str``. In a decoded text every run of letters must be one of these words;
any other character of the alphabet (digits, punctuation, spaces) may appear, but only between
words, i.e. not in the middle of an unfinished word. So ``"Hauptstr. 12a"`` needs ``Hauptstr`` and
``a`` in the list, while ``"12"`` and ``"-"`` are always allowed. When no hypothesis in the beam
ends with a complete word, the best unconstrained-ending hypothesis is returned.
"""
from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Sequence

import numpy as np
import torch

from recognizer.codec import Codec

NEG_INF = -math.inf
DECODERS = ("greedy", "beam", "lexicon")


def _logadd(a: float, b: float) -> float:
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    return max(a, b) + math.log1p(math.exp(-abs(a - b)))


def is_word_char(char: str) -> bool:
    """A letter (Unicode L*) or combining mark (M*): the characters a lexicon constrains."""
    return unicodedata.category(char)[0] in "LM"


class _Node:
    __slots__ = ("children", "terminal")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.terminal = False


class LexiconTrie:
    """A trie of the words (letter runs) of a word list; see the module docstring for the rule.

    Args:
        entries: word-list entries (words or phrases); each contributes its runs of letters.
    """

    def __init__(self, entries: Iterable[str]):
        self.root = _Node()
        self.size = 0
        for entry in entries:
            for word in self.words_of(entry):
                node = self.root
                for c in word:
                    node = node.children.setdefault(c, _Node())
                self.size += not node.terminal
                node.terminal = True
        if not self.size:
            raise ValueError("the lexicon holds no word (no entry has a letter)")

    @staticmethod
    def words_of(text: str) -> list[str]:
        """The maximal runs of letters of ``text``."""
        words, cur = [], []
        for c in text:
            if is_word_char(c):
                cur.append(c)
            elif cur:
                words.append("".join(cur))
                cur = []
        if cur:
            words.append("".join(cur))
        return words

    def __contains__(self, word: str) -> bool:
        node = self.root
        for c in word:
            node = node.children.get(c)
            if node is None:
                return False
        return node.terminal

    # Constraint protocol of _prefix_beam: a state is the trie node of the word being written,
    # or None between words; step() returns the next state or _REJECT.
    def step(self, state: _Node | None, char: str):
        if is_word_char(char):
            child = (state or self.root).children.get(char)
            return child if child is not None else _REJECT
        return None if state is None or state.terminal else _REJECT

    @staticmethod
    def final(state: _Node | None) -> bool:
        return state is None or state.terminal


_REJECT = object()


def greedy(log_probs: np.ndarray, codec: Codec) -> str:
    """Best path: the most likely class per frame, repeats merged, blanks dropped. ``log_probs [T, K]``."""
    return codec.decode_path(np.asarray(log_probs).argmax(axis=-1).tolist())


def beam_search(log_probs: np.ndarray, codec: Codec, beam: int = 16, prune: float = 1e-4) -> str:
    """CTC prefix beam search: the text with the highest total probability over its alignments
    (among those kept in a beam of ``beam`` prefixes). Classes below probability ``prune`` in a
    frame are not tried there (the blank always is). ``log_probs [T, K]``."""
    return _prefix_beam(np.asarray(log_probs), codec, beam, prune, None)


def lexicon_search(log_probs: np.ndarray, codec: Codec, lexicon: LexiconTrie, beam: int = 16,
                   prune: float = 1e-4) -> str:
    """Prefix beam search whose letters must spell words of ``lexicon`` (rule: module docstring)."""
    return _prefix_beam(np.asarray(log_probs), codec, beam, prune, lexicon)


def _prefix_beam(lp: np.ndarray, codec: Codec, beam: int, prune: float, constraint: LexiconTrie | None) -> str:
    if lp.ndim != 2 or lp.shape[1] != codec.num_classes:
        raise ValueError(f"log_probs must be [T, {codec.num_classes}], got {lp.shape}")
    blank, threshold = codec.blank, math.log(prune)
    chars = {i: codec.decode([i]) for i in range(1, codec.num_classes)}
    # prefix (tuple of labels) -> [log p ending in blank, log p ending in its last label, state]
    beams: dict[tuple, list] = {(): [0.0, NEG_INF, None]}
    for row in lp.tolist():
        candidates = [c for c in range(1, len(row)) if row[c] >= threshold]
        new: dict[tuple, list] = {}
        for prefix, (pb, pnb, state) in beams.items():
            total = _logadd(pb, pnb)
            entry = new.setdefault(prefix, [NEG_INF, NEG_INF, state])
            entry[0] = _logadd(entry[0], total + row[blank])
            last = prefix[-1] if prefix else None
            for c in candidates:
                p = row[c]
                if c == last:
                    entry[1] = _logadd(entry[1], pnb + p)  # "aa" without a blank stays "a"
                    score = pb + p  # "a-a" is a new "a"
                else:
                    score = total + p
                next_state = constraint.step(state, chars[c]) if constraint is not None else None
                if next_state is _REJECT:
                    continue
                ext = new.setdefault(prefix + (c,), [NEG_INF, NEG_INF, next_state])
                ext[1] = _logadd(ext[1], score)
        ranked = sorted(new.items(), key=lambda kv: _logadd(kv[1][0], kv[1][1]), reverse=True)
        beams = dict(ranked[:beam])
    ranked = sorted(beams.items(), key=lambda kv: _logadd(kv[1][0], kv[1][1]), reverse=True)
    if constraint is not None:
        complete = [kv for kv in ranked if constraint.final(kv[1][2])]
        ranked = complete or ranked
    return codec.decode(ranked[0][0])


def decode_batch(log_probs: torch.Tensor, frames: torch.Tensor | Sequence[int], codec: Codec, decoder: str = "greedy",
                 lexicon: LexiconTrie | None = None, beam: int = 16) -> list[str]:
    """Decode ``log_probs [T, N, K]``, sample ``n`` cut to ``frames[n]`` frames, with ``decoder``
    (``greedy``, ``beam`` or ``lexicon``; the last needs ``lexicon``)."""
    if decoder not in DECODERS:
        raise ValueError(f"unknown decoder {decoder!r}; choose one of {DECODERS}")
    if decoder == "lexicon" and lexicon is None:
        raise ValueError("the lexicon decoder needs a word list (--lexicon FILE)")
    if decoder == "greedy":
        return codec.decode_greedy(log_probs, torch.as_tensor(frames))
    lp = log_probs.detach().float().cpu().numpy()
    out = []
    for n, t in enumerate(torch.as_tensor(frames).tolist()):
        sample = lp[:t, n]  # [T_n, K]
        out.append(beam_search(sample, codec, beam) if decoder == "beam" else lexicon_search(sample, codec, lexicon, beam))
    return out
