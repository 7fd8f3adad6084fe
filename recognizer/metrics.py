"""Character and word error rates, corpus level: total edit distance / total reference length."""
from __future__ import annotations

import string
import unicodedata
from collections.abc import Sequence

from rapidfuzz.distance import Levenshtein

_PUNCT = set(string.punctuation) | {"’", "‘", "“", "”", "„", "«", "»", "–", "—", "…"}


def _clean(text: str, ignore_case: bool, strip_punct: bool) -> str:
    if ignore_case:
        text = text.lower()  # not casefold(): that turns ß into ss and changes lengths
    if strip_punct:
        text = "".join(c for c in text if c not in _PUNCT and not unicodedata.category(c).startswith("P"))
        text = " ".join(text.split())
    return text


def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance between two strings or two sequences of hashables (e.g. word lists)."""
    return Levenshtein.distance(a, b)


def cer(references: Sequence[str], predictions: Sequence[str], ignore_case: bool = False, strip_punct: bool = False) -> float:
    """Character error rate: sum of character edit distances / number of reference characters.

    Case-sensitive by default; ``ignore_case`` casefolds, ``strip_punct`` drops punctuation.
    A corpus whose references are all empty has rate 0.0 if the predictions are empty too,
    else 1.0 (there is no reference length to divide by).
    """
    return _rate(references, predictions, ignore_case, strip_punct, words=False)


def wer(references: Sequence[str], predictions: Sequence[str], ignore_case: bool = False, strip_punct: bool = False) -> float:
    """Word error rate: sum of word-level edit distances / number of reference words (split on spaces)."""
    return _rate(references, predictions, ignore_case, strip_punct, words=True)


def _rate(references, predictions, ignore_case, strip_punct, words) -> float:
    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
    errors = total = 0
    for ref, hyp in zip(references, predictions):
        ref, hyp = _clean(ref, ignore_case, strip_punct), _clean(hyp, ignore_case, strip_punct)
        r, h = (ref.split(), hyp.split()) if words else (ref, hyp)
        errors += edit_distance(r, h)
        total += len(r)
    if total == 0:
        return float(errors > 0)
    return errors / total
