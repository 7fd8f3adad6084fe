"""Text convention, alphabets and the lexicon loader."""
from __future__ import annotations

import unicodedata

import pytest

from hwdatasets import Alphabet, LexiconError, LexiconReport, iter_lexicon, load_lexicon, normalize_text

DECOMPOSED_E = "e\u0301"  # e + combining acute: NFC makes it U+00E9


def test_normalize_text_nfc_strip_collapse():
    assert normalize_text(f"  caf{DECOMPOSED_E}\t \u00a0au\n lait  ") == "café au lait"
    assert normalize_text("\u3000\t\n") == ""
    assert unicodedata.is_normalized("NFC", normalize_text("A\u030angstr\u00f6m"))


def test_alphabet_sorted_deterministic_and_round_trips():
    a = Alphabet.from_texts(["bca", "ä a", "cab"])
    assert a.to_string() == " abcä"
    assert Alphabet.from_texts(["cab", "ä a", "bca"]) == a
    assert Alphabet.from_string(a.to_string()) == a and hash(Alphabet.from_string(" abcä")) == hash(a)
    assert len(a) == 5 and "ä" in a and "z" not in a and a.index("a") == 1
    assert a.missing("zabyz") == ["z", "y"]
    assert a.union(Alphabet("zy")).to_string() == " abcyzä"
    with pytest.raises(ValueError):
        Alphabet(["ab"])


def test_lexicon_bom_crlf_blank_lines_and_nfc(tmp_path):
    path = tmp_path / "words.txt"
    path.write_bytes("\ufeffcaf".encode() + DECOMPOSED_E.encode() + b"\r\n\r\n  Stra\xc3\x9fe  \r\n\n   \nend")
    words, report = load_lexicon(path)
    assert words == ["café", "Straße", "end"]
    assert all(unicodedata.is_normalized("NFC", w) for w in words)
    assert report.kept == 3 and report.blank_lines == 3


def test_lexicon_is_lazy(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("a\nb\n", encoding="utf-8")
    it = iter_lexicon(path)
    assert next(it) == "a"


def test_non_utf8_lexicon_names_file_and_line(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("ok\nalso ok\nM\u00fcnchen\n".encode("latin-1"))
    with pytest.raises(LexiconError) as e:
        load_lexicon(path)
    msg = str(e.value)
    assert str(path) in msg and "line 3" in msg and "UTF-8" in msg
    assert e.value.__cause__ is None and e.value.__suppress_context__  # a message, not a chained traceback


def test_missing_lexicon_is_a_lexicon_error(tmp_path):
    with pytest.raises(LexiconError, match="not found"):
        load_lexicon(tmp_path / "nope.txt")


def test_unknown_characters_listed_with_lines_words_and_chars(tmp_path):
    path = tmp_path / "words.txt"
    lines = ["abc", "", "ab#", "cab", "x1y"]
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(LexiconError) as e:
        load_lexicon(path, Alphabet("abcxy"))
    msg = str(e.value)
    assert str(path) in msg and "2 word(s)" in msg
    assert "line 3: 'ab#' has '#'" in msg
    assert "line 5: 'x1y' has '1'" in msg
    assert "'#1'" in msg  # all unknown characters, sorted
    assert "skip" in msg


def test_unknown_characters_first_20_shown_and_total_counted(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("\n".join(["ok"] + [f"w{i}!" for i in range(25)]), encoding="utf-8")
    with pytest.raises(LexiconError) as e:
        load_lexicon(path, Alphabet("okw0123456789"))
    msg = str(e.value)
    assert "25 word(s)" in msg
    assert "line 21: 'w19!'" in msg and "line 22" not in msg  # the 20th bad word is on line 21
    assert "... and 5 more" in msg


def test_error_mode_yields_nothing_after_the_first_unknown(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("ab\nz\nba\n", encoding="utf-8")
    got = []
    with pytest.raises(LexiconError):
        for w in iter_lexicon(path, Alphabet("ab")):
            got.append(w)
    assert got == ["ab"]


def test_skip_mode_reports_count(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("ab\nz\nba\nq?\n", encoding="utf-8")
    words, report = load_lexicon(path, Alphabet("ab"), on_unknown="skip")
    assert words == ["ab", "ba"]
    assert report.unknown == 2 and report.kept == 2 and report.unknown_chars == {"z", "q", "?"}
    assert [(n, w) for n, w, _ in report.unknown_examples] == [(2, "z"), (4, "q?")]


def test_too_long_words(tmp_path):
    path = tmp_path / "words.txt"
    path.write_text("ab\nabcdef\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"line 2: 'abcdef' \(6 characters\)"):
        load_lexicon(path, max_length=4)
    words, report = load_lexicon(path, max_length=4, on_too_long="skip")
    assert words == ["ab"] and report.too_long == 1


def test_bad_mode_is_rejected(tmp_path):
    path = tmp_path / "w.txt"
    path.write_text("a", encoding="utf-8")
    with pytest.raises(ValueError):
        list(iter_lexicon(path, on_unknown="ignore", report=LexiconReport()))
