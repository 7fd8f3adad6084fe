"""Fixtures of the recognizer tests (helpers in tinydata.py)."""
from __future__ import annotations

import pytest
from tinydata import WORDS, write_shards


@pytest.fixture
def tiny_data(tmp_path):
    """``(train, synth, val)`` shard folders."""
    write_shards(tmp_path / "train", WORDS, 2, "real")
    write_shards(tmp_path / "synth", WORDS[::-1], 1, "synth")
    write_shards(tmp_path / "val", WORDS[:5], 1, "val")
    return tmp_path / "train", tmp_path / "synth", tmp_path / "val"
