"""Alphabets built from data, and the lexicon loader every command that takes a word list uses."""
from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path


def normalize_text(text: str) -> str:
    """Unicode NFC, surrounding whitespace stripped, inner runs of whitespace (tabs, no-break
    spaces, newlines) made one plain space: the text convention everywhere."""
    return " ".join(unicodedata.normalize("NFC", text).split())


class Alphabet:
    """A sorted, duplicate-free set of characters (sorted by code point, so deterministic).

    It is saved in every shard and manifest as a plain string, e.g. ``" -.ABC...ßäöü"``.
    """

    def __init__(self, chars: Iterable[str]):
        chars = list(chars)
        for c in chars:
            if len(c) != 1:
                raise ValueError(f"alphabet entries must be single characters, got {c!r}")
        self.chars: tuple[str, ...] = tuple(sorted(set(chars)))
        self._index = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> "Alphabet":
        chars: set[str] = set()
        for t in texts:
            chars.update(t)
        return cls(chars)

    @classmethod
    def from_string(cls, s: str) -> "Alphabet":
        return cls(s)

    def to_string(self) -> str:
        return "".join(self.chars)

    def index(self, char: str) -> int:
        return self._index[char]

    def missing(self, text: str) -> list[str]:
        """Characters of ``text`` that are not in this alphabet, in order of first appearance."""
        out: list[str] = []
        for c in text:
            if c not in self._index and c not in out:
                out.append(c)
        return out

    def union(self, other: "Alphabet") -> "Alphabet":
        return Alphabet(self.chars + other.chars)

    def __contains__(self, char: str) -> bool:
        return char in self._index

    def __len__(self) -> int:
        return len(self.chars)

    def __iter__(self) -> Iterator[str]:
        return iter(self.chars)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Alphabet) and self.chars == other.chars

    def __hash__(self) -> int:
        return hash(self.chars)

    def __repr__(self) -> str:
        return f"Alphabet({self.to_string()!r})"


class LexiconError(ValueError):
    """A word list that cannot be used as it is; the message says where and what to do."""


@dataclass
class LexiconReport:
    """What a lexicon pass saw: valid words kept, and entries skipped by reason."""

    kept: int = 0
    blank_lines: int = 0
    unknown: int = 0
    unknown_examples: list[tuple[int, str, list[str]]] = field(default_factory=list)  # (line, word, chars)
    unknown_chars: set[str] = field(default_factory=set)
    too_long: int = 0


def _describe_unknown(path: Path, report: LexiconReport, limit: int = 20) -> str:
    lines = [
        f"{path}: {report.unknown} word(s) use characters outside the alphabet "
        f"(unknown characters: {''.join(sorted(report.unknown_chars))!r})."
    ]
    for lineno, word, chars in report.unknown_examples[:limit]:
        lines.append(f"  line {lineno}: {word!r} has {''.join(chars)!r}")
    if report.unknown > limit:
        lines.append(f"  ... and {report.unknown - limit} more")
    lines.append("Remove or fix these words, or skip them (--on-unknown skip).")
    return "\n".join(lines)


def iter_lexicon(
    path: str | Path,
    alphabet: Alphabet | None = None,
    on_unknown: str = "error",
    report: LexiconReport | None = None,
    max_length: int | None = None,
    on_too_long: str = "error",
) -> Iterator[str]:
    """Stream the words of a UTF-8 word list, one entry per non-blank line, lazily.

    Accepts UTF-8 with or without BOM, LF or CRLF; entries are NFC-normalised and stripped.
    With ``alphabet``, entries with characters outside it raise :class:`LexiconError`
    (``on_unknown="error"``, raised at the end of the pass so the message lists all of them,
    first 20 shown) or are skipped and counted in ``report`` (``on_unknown="skip"``).
    ``max_length``/``on_too_long`` do the same for entries longer than ``max_length`` characters.
    """
    if on_unknown not in ("error", "skip") or on_too_long not in ("error", "skip"):
        raise ValueError("on_unknown and on_too_long must be 'error' or 'skip'")
    path = Path(path)
    report = report if report is not None else LexiconReport()
    too_long_examples: list[tuple[int, str]] = []
    if not path.is_file():
        raise LexiconError(f"{path}: lexicon file not found (give a UTF-8 text file, one word per line).")
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise LexiconError(
                    f"{path}, line {lineno}: not valid UTF-8 (byte {raw[e.start]:#04x} at column {e.start + 1}). "
                    "Save the word list as UTF-8, e.g. `iconv -f latin1 -t utf-8 in.txt > out.txt`."
                ) from None
            if lineno == 1:
                line = line.removeprefix("\ufeff")
            word = normalize_text(line)
            if not word:
                report.blank_lines += 1
                continue
            if alphabet is not None:
                missing = alphabet.missing(word)
                if missing:
                    report.unknown += 1
                    report.unknown_chars.update(missing)
                    if len(report.unknown_examples) < 20:
                        report.unknown_examples.append((lineno, word, missing))
                    continue
            if max_length is not None and len(word) > max_length:
                report.too_long += 1
                if len(too_long_examples) < 20:
                    too_long_examples.append((lineno, word))
                continue
            if (report.unknown and on_unknown == "error") or (report.too_long and on_too_long == "error"):
                continue  # keep scanning to report every bad entry, but yield nothing more
            report.kept += 1
            yield word
    if report.unknown and on_unknown == "error":
        raise LexiconError(_describe_unknown(path, report))
    if report.too_long and on_too_long == "error":
        shown = "\n".join(f"  line {n}: {w!r} ({len(w)} characters)" for n, w in too_long_examples)
        more = f"\n  ... and {report.too_long - 20} more" if report.too_long > 20 else ""
        raise LexiconError(
            f"{path}: {report.too_long} word(s) are longer than the maximum of {max_length} characters:\n"
            f"{shown}{more}\nShorten them, raise --max-length, or skip them (--on-too-long skip)."
        )


def load_lexicon(
    path: str | Path,
    alphabet: Alphabet | None = None,
    on_unknown: str = "error",
    max_length: int | None = None,
    on_too_long: str = "error",
) -> tuple[list[str], LexiconReport]:
    """Read a whole word list into memory (see :func:`iter_lexicon`); returns (words, report)."""
    report = LexiconReport()
    words = list(iter_lexicon(path, alphabet, on_unknown, report, max_length, on_too_long))
    return words, report
