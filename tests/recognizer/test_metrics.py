import pytest

from recognizer.metrics import cer, edit_distance, wer


def test_edit_distance_worked_examples():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3
    assert edit_distance(["a", "b"], ["a", "c", "b"]) == 1


def test_cer_is_corpus_level_not_mean_of_lines():
    # 1 error in 10 chars + 1 error in 2 chars = 2 / 12, not mean(0.1, 0.5)
    assert cer(["abcdefghij", "ab"], ["abcdefghiX", "aX"]) == pytest.approx(2 / 12)


def test_cer_empty_prediction_and_empty_reference():
    assert cer(["abc"], [""]) == 1.0
    assert cer(["abc", ""], ["abc", "xy"]) == pytest.approx(2 / 3)
    assert cer([""], [""]) == 0.0
    assert cer([""], ["x"]) == 1.0


def test_wer_counts_words():
    assert wer(["the cat sat"], ["the bat sat"]) == pytest.approx(1 / 3)
    assert wer(["the cat sat"], ["the cat"]) == pytest.approx(1 / 3)


def test_case_and_punctuation_variants():
    assert cer(["Straße."], ["straße"]) == pytest.approx(2 / 7)
    assert cer(["Straße."], ["straße"], ignore_case=True) == pytest.approx(1 / 7)
    assert cer(["Straße."], ["straße"], ignore_case=True, strip_punct=True) == 0.0
    assert wer(["Groß Köris,"], ["groß Köris"], ignore_case=True, strip_punct=True) == 0.0


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError):
        cer(["a"], [])
