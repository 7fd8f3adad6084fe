"""Writer-disjoint splits: fractions, determinism, explicit writer lists."""
from __future__ import annotations

import json

import pytest

from hwdatasets import SplitError, load_split_file, parse_fractions, split_writers

WRITERS = [f"w{i:02d}" for i in range(30)]


def test_parse_fractions():
    assert parse_fractions("0.1,0.2") == (0.1, 0.2)
    assert parse_fractions("0,0.5") == (0.0, 0.5)
    for bad in ("0.1", "a,b", "0.5,0.5", "-0.1,0.1", "0.1,0.1,0.1"):
        with pytest.raises(SplitError):
            parse_fractions(bad)


def test_split_is_writer_disjoint_complete_and_sized():
    samples = [w for w in WRITERS for _ in range(3)]  # writers repeat, as samples do
    sides = split_writers(samples, 0.1, 0.2, seed=3)
    assert (len(sides["val"]), len(sides["test"]), len(sides["train"])) == (3, 6, 21)
    sets = [set(v) for v in sides.values()]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert set().union(*sets) == set(WRITERS)
    assert all(v == sorted(v) for v in sides.values())


def test_split_is_deterministic_per_seed_and_order_free():
    a = split_writers(WRITERS, 0.1, 0.1, seed=0)
    assert split_writers(list(reversed(WRITERS)), 0.1, 0.1, seed=0) == a
    assert any(split_writers(WRITERS, 0.1, 0.1, seed=s) != a for s in range(1, 5))


def test_small_fractions_get_a_writer_and_train_is_never_empty():
    assert [len(v) for v in split_writers(["a", "b", "c"], 0.01, 0.01).values()] == [1, 1, 1]
    assert split_writers(["a", "b"], 0.0, 0.3)["val"] == []
    with pytest.raises(SplitError, match="cannot split 2 writer"):
        split_writers(["a", "b"], 0.1, 0.1)


def test_split_file_without_train_puts_the_rest_in_train(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"val": ["w01"], "test": ["w02", 7]}), encoding="utf-8")
    sides = load_split_file(path, WRITERS + ["7"])
    assert sides["val"] == ["w01"] and sides["test"] == ["7", "w02"]
    assert set(sides["train"]) == set(WRITERS) - {"w01", "w02"}


def test_split_file_with_train_leaves_others_out(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"train": ["w00"], "val": ["w01"], "test": []}), encoding="utf-8")
    assert load_split_file(path, WRITERS) == {"train": ["w00"], "val": ["w01"], "test": []}


def test_split_file_with_a_writer_on_two_sides_is_an_error(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"val": ["w01", "w02"], "test": ["w02"]}), encoding="utf-8")
    with pytest.raises(SplitError, match="'w02' is listed in both val and test"):
        load_split_file(path, WRITERS)


@pytest.mark.parametrize("content", ["not json", "[1, 2]", '{"validation": []}'])
def test_bad_split_files(tmp_path, content):
    path = tmp_path / "s.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SplitError, match=str(path)):
        load_split_file(path, WRITERS)
    with pytest.raises(SplitError):
        load_split_file(tmp_path / "missing.json", WRITERS)
