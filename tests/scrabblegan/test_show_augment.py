"""`scrabblegan show --augment`: a montage of each sample with augmented variants."""
from __future__ import annotations

import numpy as np
from PIL import Image

from hwdatasets import Sample, ShardWriter
from scrabblegan.cli import main


def test_show_augment_montage(tmp_path, capsys):
    with ShardWriter(tmp_path / "shards", shard_size=10) as w:
        for i in range(4):
            img = np.full((32, 60), 255, np.uint8)
            img[8:24, 10 + i : 40 + i] = 0
            w.add(Sample(img, f"w{i}", "a", f"s{i}"))
    out = tmp_path / "m.png"
    assert main(["show", str(tmp_path / "shards"), "--augment", "heavy", "--variants", "2", "--count", "3",
                 "--out", str(out)]) == 0
    assert Image.open(out).width > 0
    assert main(["show", str(tmp_path / "shards"), "--augment", "nope", "--out", str(out)]) == 2
    assert "unknown augmentation" in capsys.readouterr().err
