"""The work of ``generate``: which (word, style) images, in which fixed order, for which worker.

Order. The unique valid words of the lexicon, in file order, are cut into windows of
:data:`WINDOW` words. Within a window the work items are ordered by style, then text length, then
word position; item ``k`` (counting over the whole job) belongs to worker ``k % workers``. The
order depends only on the lexicon and the number of styles, never on the batch size, so a
worker's ``done`` count (how many of its items are in finished shards) says exactly where a rerun
continues. A batch never mixes styles or lengths (see :mod:`scrabblegan.inference`).

Memory. The lexicon is read twice, lazily: :func:`scan_lexicon` validates it (errors before any
image is made), counts it, hashes it, and finds duplicates from 8-byte word hashes (8 bytes per
word; only words whose hash repeats are compared as strings); :func:`plan_batches` then streams
the words again one window at a time.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hwdatasets import Alphabet, LexiconReport, iter_lexicon

WINDOW = 4096  # unique words per window; part of the work order, so part of the job's fingerprint


def _hash64(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "little")


@dataclass
class Lexicon:
    """A validated word list: how to stream its unique valid words again, and what was left out."""

    path: Path
    alphabet: Alphabet
    on_unknown: str
    on_too_long: str
    max_length: int | None
    words: int = 0  # unique valid words
    duplicates: int = 0  # valid entries dropped as repeats of an earlier line
    sha256: str = ""
    report: LexiconReport = field(default_factory=LexiconReport)
    _repeated: set[int] = field(default_factory=set)  # hashes seen more than once

    def __iter__(self) -> Iterator[str]:
        """The unique valid words, in file order (first occurrence kept)."""
        seen: set[str] = set()
        for word in iter_lexicon(self.path, self.alphabet, self.on_unknown, LexiconReport(),
                                 self.max_length, self.on_too_long):
            if self._repeated and _hash64(word) in self._repeated:
                if word in seen:
                    continue
                seen.add(word)
            yield word


def scan_lexicon(path: str | Path, alphabet: Alphabet, on_unknown: str = "error", on_too_long: str = "error",
                 max_length: int | None = None) -> Lexicon:
    """Validate and count a word list in one streaming pass.

    Raises :class:`hwdatasets.LexiconError` naming the line numbers of unknown-character (or
    too long) words unless they are to be skipped.
    """
    lex = Lexicon(Path(path), alphabet, on_unknown, on_too_long, max_length)
    chunks: list[np.ndarray] = []
    buf: list[int] = []
    for word in iter_lexicon(lex.path, alphabet, on_unknown, lex.report, max_length, on_too_long):
        buf.append(_hash64(word))
        if len(buf) >= 1 << 16:
            chunks.append(np.array(buf, np.uint64))
            buf = []
    chunks.append(np.array(buf, np.uint64))
    hashes = np.concatenate(chunks)
    uniq, counts = np.unique(hashes, return_counts=True)
    lex._repeated = set(uniq[counts > 1].tolist())
    digest = hashlib.sha256()
    with open(lex.path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    lex.sha256 = digest.hexdigest()
    lex.words = len(hashes)
    if lex._repeated:  # exact count: hash collisions between different words are not duplicates
        lex.words = sum(1 for _ in lex)
    lex.duplicates = len(hashes) - lex.words
    return lex


def worker_share(start: int, count: int, rank: int, world: int) -> int:
    """How many of the items ``start .. start + count - 1`` belong to ``rank`` (item k: k % world)."""
    first = start + (rank - start) % world  # first item >= start of this rank
    return 0 if first >= start + count else (start + count - 1 - first) // world + 1


@dataclass
class Batch:
    """Up to ``batch_size`` words of one length in one style: ``(word index, word)`` pairs."""

    style: int
    words: list[tuple[int, str]]


def plan_batches(lexicon: Lexicon, styles: int, batch_size: int, rank: int = 0, world: int = 1,
                 skip: int = 0) -> Iterator[Batch]:
    """This worker's batches in the fixed order, leaving out its first ``skip`` items (done before).

    Each style's table is needed once per window; batches of one style come together.
    """
    item = 0  # global index of the next item
    words_seen = 0
    window: list[str] = []
    words = iter(lexicon)
    while True:
        window.clear()
        for word in words:
            window.append(word)
            if len(window) == WINDOW:
                break
        if not window:
            return
        by_length: dict[int, list[tuple[int, str]]] = {}
        for i, word in enumerate(window):
            by_length.setdefault(len(word), []).append((words_seen + i, word))
        words_seen += len(window)
        for style in range(styles):
            share = worker_share(item, len(window), rank, world)
            if skip >= share:  # the whole style block of this window is done (or not ours)
                skip -= share
                item += len(window)
                continue
            for length in sorted(by_length):
                group = by_length[length]
                mine = [w for j, w in enumerate(group) if (item + j) % world == rank]
                item += len(group)
                if skip >= len(mine):
                    skip -= len(mine)
                    continue
                mine, skip = mine[skip:], 0
                for b in range(0, len(mine), batch_size):
                    yield Batch(style, mine[b : b + batch_size])
