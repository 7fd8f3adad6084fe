"""End to end: `scrabblegan recognizer train` -> `evaluate` -> `transcribe`, resume, bad inputs."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image
from tinydata import glyph_image

from scrabblegan.cli import main

TINY = ["--base", "4", "--hidden", "8", "--layers", "1", "--batch-size", "4", "--no-progress", "--threads", "1"]


@pytest.fixture
def trained(tiny_data, tmp_path):
    train, synth, val = tiny_data
    run = tmp_path / "run"
    assert main(["recognizer", "train", "--train", str(train), "--train", f"{synth}:0.5", "--val", str(val),
                 "--out", str(run), "--steps", "2", "--val-every", "1", "--augment", "light", *TINY]) == 0
    return run


def test_train_evaluate_transcribe(trained, tiny_data, tmp_path, capsys):
    run, val = trained, tiny_data[2]
    assert {"config.json", "last.pt", "best.pt", "metrics.jsonl"} <= {p.name for p in run.iterdir()}
    config = json.loads((run / "config.json").read_text())
    assert config["train"][1].endswith(":0.5") and config["augment"] == "light" and config["model"]["base"] == 4
    state = torch.load(run / "last.pt", weights_only=True)
    assert state["kind"] == "recognizer" and state["step"] == 2 and state["alphabet"] == "-1abcd"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert any("Val/cer" in r for r in rows) and any("Loss/ctc" in r for r in rows)
    capsys.readouterr()

    lexicon = tmp_path / "words.txt"
    lexicon.write_text("ab\ncab\nbad\nxyz\n", encoding="utf-8")  # xyz: outside the alphabet, skipped
    for decoder in ("greedy", "beam", "lexicon"):
        errors = tmp_path / f"errors-{decoder}.jsonl"
        assert main(["recognizer", "evaluate", "--model", str(run / "best.pt"), "--data", str(val), "--decoder",
                     decoder, "--lexicon", str(lexicon), "--errors", str(errors)]) == 0
        result = json.loads(capsys.readouterr().out)
        assert result["decoder"] == decoder and result["count"] == 5 and 0 <= result["cer"] and result["wer"] <= 1
        wrong = [json.loads(line) for line in errors.read_text().splitlines()]
        assert all(set(w) == {"id", "reference", "prediction"} and w["reference"] != w["prediction"] for w in wrong)
        assert (len(wrong) == 0) == (result["wer"] == 0)

    paths = []
    for k, text in enumerate(("abcd", "dcbadcba")):
        paths.append(tmp_path / f"w{k}.png")
        Image.fromarray(np.pad(glyph_image(text), ((4, 4), (10, 10)), constant_values=255)).convert("RGB").save(paths[-1])
    assert main(["recognizer", "transcribe", "--model", str(run / "last.pt"), *map(str, paths)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(p) for p in paths]


def test_resume_continues_and_refuses_to_overwrite(trained, tiny_data, capsys):
    train, _, val = tiny_data
    args = ["recognizer", "train", "--train", str(train), "--val", str(val), "--out", str(trained), *TINY]
    assert main([*args, "--steps", "3"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*args[:-len(TINY)], "--resume", "--steps", "3", "--no-progress"]) == 0
    state = torch.load(trained / "last.pt", weights_only=True)
    assert state["step"] == 3 and state["config"]["model"]["base"] == 4 and state["data"][0]["batches"] == 3
    assert main([*args[:-len(TINY)], "--resume", "--base", "8"]) == 2
    assert "cannot change" in capsys.readouterr().err


def test_bad_inputs_give_clear_errors(trained, tmp_path, capsys):
    model = str(trained / "best.pt")
    tall = tmp_path / "tall.png"
    Image.new("L", (10, 40), 255).save(tall)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    for path, message in ((tall, "higher than wide"), (broken, "cannot read the image")):
        assert main(["recognizer", "transcribe", "--model", model, str(path)]) == 2
        assert message in capsys.readouterr().err
    assert main(["recognizer", "evaluate", "--model", model, "--data", str(tmp_path), "--decoder", "lexicon"]) == 2
    assert "needs --lexicon" in capsys.readouterr().err
    assert main(["recognizer", "evaluate", "--model", str(tmp_path / "none.pt"), "--data", str(tmp_path)]) == 2
    assert "no such recognizer checkpoint" in capsys.readouterr().err
    assert main(["recognizer", "train", "--train", "x:-1", "--val", "v", "--out", str(tmp_path / "r")]) == 2
    assert "positive" in capsys.readouterr().err
    assert main(["recognizer", "train", "--train", "x", "--val", "v", "--out", str(tmp_path / "r"),
                 "--augment", "wild"]) == 2
    assert "unknown augmentation" in capsys.readouterr().err
