import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from hwdatasets.alphabet import Alphabet
from recognizer.codec import Codec, UnknownCharacterError

ALPHA = Alphabet("abcßü -")


def test_blank_is_zero_and_labels_follow_alphabet_order():
    codec = Codec(ALPHA)
    assert codec.blank == 0
    assert codec.num_classes == len(ALPHA) + 1
    assert codec.encode(ALPHA.to_string()) == list(range(1, len(ALPHA) + 1))


@given(st.text(alphabet=ALPHA.to_string(), max_size=30))
def test_encode_decode_round_trip(text):
    codec = Codec(ALPHA)
    assert codec.decode(codec.encode(text)) == text


def test_unknown_character_names_it():
    with pytest.raises(UnknownCharacterError, match="'xy'"):
        Codec(ALPHA).encode("axby")


def test_encode_batch_and_padded():
    codec = Codec("abc")
    flat, lengths = codec.encode_batch(["ab", "", "cca"])
    assert flat.tolist() == [1, 2, 3, 3, 1] and lengths.tolist() == [2, 0, 3]
    padded, lengths = codec.encode_padded(["ab", "c"])
    assert padded.tolist() == [[1, 2], [3, 0]] and lengths.tolist() == [2, 1]
    with pytest.raises(ValueError):
        codec.encode_padded(["abc"], length=2)


def test_decode_path_collapses_repeats_and_drops_blanks():
    codec = Codec("abc")
    assert codec.decode_path([0, 1, 1, 0, 1, 2, 2, 0, 0, 3]) == "aabc"
    assert codec.decode_path([]) == ""


def test_decode_greedy_respects_lengths():
    codec = Codec("ab")
    paths = torch.tensor([[1, 0, 2, 2], [2, 2, 0, 1]]).T  # [T, N]
    log_probs = torch.nn.functional.one_hot(paths, 3).float().log()  # [T, N, C]
    assert codec.decode_greedy(log_probs) == ["ab", "ba"]
    assert codec.decode_greedy(log_probs, torch.tensor([2, 2])) == ["a", "b"]
