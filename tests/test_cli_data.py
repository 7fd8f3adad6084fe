"""`scrabblegan prepare` and `scrabblegan show` end to end, on generated data and the real shared data."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from hwdatasets import Shards, read_manifest
from scrabblegan.cli import main

WORDS = ["Haus", "Straße", "café", "Weg", "Ölmühle", "zwei Wörter", "x", "Hallo-Welt"]


def make_folder_dataset(root: Path, n: int, writers: int = 4) -> list[str]:
    """``n`` small word images (RGBA, RGB, L, 1-bit in turn) and labels.tsv; returns the ids in order."""
    root.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    lines, ids = [], []
    for i in range(n):
        text = WORDS[i % len(WORDS)]
        width = 20 + 12 * len(text)
        img = Image.new("L", (width, 48), 255)
        draw = ImageDraw.Draw(img)
        for _ in range(3 + len(text)):
            x0, y0 = int(rng.integers(4, width - 8)), int(rng.integers(10, 38))
            draw.line((x0, y0, x0 + int(rng.integers(2, 8)), y0 + int(rng.integers(-6, 6))), fill=0, width=2)
        mode = ("RGBA", "RGB", "L", "1")[i % 4]
        if mode == "RGBA":
            arr = np.zeros((48, width, 4), np.uint8)
            arr[..., 3] = 255 - np.asarray(img)
            img = Image.fromarray(arr, "RGBA")
        else:
            img = img.convert(mode)
        name = f"w{i % writers}/img_{i:04d}.png"
        (root / name).parent.mkdir(exist_ok=True)
        img.save(root / name)
        lines.append(f"{name}\t{text}\twriter{i % writers}")
        ids.append(name)
    (root / "labels.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ids


@pytest.fixture
def folder_dataset(tmp_path):
    ids = make_folder_dataset(tmp_path / "words", 24)
    return tmp_path / "words", ids


def all_ids(ds: Shards) -> list[str]:
    return [ds[i].id for i in range(len(ds))]


def test_prepare_folder_then_show(folder_dataset, tmp_path, capsys):
    src, ids = folder_dataset
    out = tmp_path / "shards"
    assert main(["prepare", "folder", str(src), "--out", str(out), "--shard-size", "10", "--no-progress"]) == 0
    summary = capsys.readouterr().out
    assert "written: 24 samples" in summary and "skipped: none" in summary
    manifest = read_manifest(out)
    assert manifest["count"] == 24 and manifest["height"] == 32 and manifest["writers"] == 4
    assert [s["count"] for s in manifest["shards"]] == [10, 10, 4]
    assert manifest["source"] == f"folder:{src.resolve()}"
    assert set(manifest["alphabet"]) == set("".join(WORDS))
    ds = Shards(out, verify=True)
    assert all_ids(ds) == ids
    assert ds[1].text == "Straße" and ds[1].writer == "writer1" and ds[1].image.shape[0] == 32

    # rerunning the finished command is a no-op, not an error
    assert main(["prepare", "folder", str(src), "--out", str(out), "--shard-size", "10", "--no-progress"]) == 0
    capsys.readouterr()

    montage = tmp_path / "m" / "montage.png"
    assert main(["show", str(out), "--out", str(montage), "--count", "5", "--columns", "2", "--scale", "2"]) == 0
    with Image.open(montage) as im:
        # columns * (cell 360 + pad 8) + pad, rows * (32 * scale + label 20 + pad 8) + pad
        assert im.size == (2 * 368 + 8, 3 * (64 + 28) + 8)
        assert np.asarray(im.convert("L")).min() < 50  # ink and labels are drawn
    capsys.readouterr()

    assert main(["show", str(out), "--stats"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert {"count", "shards", "height", "writers", "samples_per_writer", "alphabet", "alphabet_size",
            "char_frequencies", "text_length", "width_percentiles", "sources", "licenses"} <= set(stats)
    assert stats["count"] == 24 and stats["writers"] == 4 and stats["height"] == 32 and stats["shards"] == 3
    assert stats["samples_per_writer"] == {f"writer{k}": 6 for k in range(4)}
    assert stats["char_frequencies"]["ß"] == 3 and set(stats["width_percentiles"]) == {"p5", "p25", "p50", "p75", "p95"}


def test_prepare_split_from_a_writer_file(folder_dataset, tmp_path, capsys):
    src, _ = folder_dataset
    (tmp_path / "s.json").write_text(json.dumps({"val": ["writer1"], "test": ["writer2"]}), encoding="utf-8")
    out = tmp_path / "split"
    assert main(["prepare", "folder", str(src), "--out", str(out), "--split-file", str(tmp_path / "s.json"), "--no-progress"]) == 0
    sides = json.loads((out / "splits.json").read_text(encoding="utf-8"))
    assert sides == {"train": ["writer0", "writer3"], "val": ["writer1"], "test": ["writer2"]}
    for side, writers in sides.items():
        assert sorted(set(Shards(out / side).writers())) == writers


def test_python_dash_m_help():
    proc = subprocess.run([sys.executable, "-m", "scrabblegan", "--help"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "prepare" in proc.stdout and "show" in proc.stdout



def test_subcommand_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["prepare", "--help"])
    assert e.value.code == 0 and "--shard-size" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv",
    [
        ["prepare", "csv", "{tmp}/nope.csv", "--out", "{tmp}/o"],
        ["prepare", "csv", "{tmp}/bad.csv", "--out", "{tmp}/o"],
        ["prepare", "alto", "{tmp}/empty", "--out", "{tmp}/o"],
        ["prepare", "folder", "{src}", "--out", "{tmp}/o", "--split", "0.6,0.6"],
        ["prepare", "folder", "{src}", "--out", "{tmp}/o", "--split", "0.1"],
        ["prepare", "folder", "{src}", "--out", "{tmp}/o", "--split-file", "{tmp}/nope.json"],
        ["show", "{tmp}/empty", "--stats"],
        ["show", "{tmp}/nowhere", "--stats"],
        ["show", "{tmp}/empty"],
    ],
)
def test_user_errors_are_one_line_with_exit_code_2(argv, folder_dataset, tmp_path, capsys):
    src, _ = folder_dataset
    (tmp_path / "empty").mkdir()
    (tmp_path / "bad.csv").write_text("path,label\nx.png,y\n", encoding="utf-8")
    argv = [a.format(tmp=tmp_path, src=src) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "Traceback" not in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [
        ["prepare", "folder", "{src}", "--out", "{tmp}/o", "--shard-size", "0"],
        ["prepare", "folder", "{src}", "--out", "{tmp}/o", "--height", "-3"],
        ["prepare", "folder", "{src}", "--out", "{tmp}/o", "--split", "0.1,0.1", "--split-file", "{tmp}/s.json"],
        ["prepare", "xml", "{src}", "--out", "{tmp}/o"],
        ["show", "{tmp}", "--out", "{tmp}/m.png", "--columns", "0"],
    ],
)
def test_bad_arguments_are_usage_errors(argv, folder_dataset, tmp_path, capsys):
    src, _ = folder_dataset
    with pytest.raises(SystemExit) as e:
        main([a.format(tmp=tmp_path, src=src) for a in argv])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "error: " in err.splitlines()[-1] and "Traceback" not in err


def test_prepare_into_a_folder_made_with_other_arguments(folder_dataset, tmp_path, capsys):
    src, _ = folder_dataset
    out = str(tmp_path / "o")
    assert main(["prepare", "folder", str(src), "--out", out, "--no-progress"]) == 0
    assert main(["prepare", "folder", str(src), "--out", out, "--height", "40", "--no-progress"]) == 2
    assert "other arguments" in capsys.readouterr().err


def test_killed_and_resumed_prepare_yields_the_full_set_once(tmp_path):
    n = 400
    ids = make_folder_dataset(tmp_path / "words", n, writers=5)
    out = tmp_path / "shards"
    argv = ["prepare", "folder", str(tmp_path / "words"), "--out", str(out), "--shard-size", "3", "--no-progress"]
    proc = subprocess.Popen([sys.executable, "-m", "scrabblegan", *argv], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while len(list(out.glob("shard-*.h5"))) < 5:
            assert proc.poll() is None, f"prepare ended before it could be killed: {proc.stderr.read().decode()}"
            assert time.monotonic() < deadline, "no shards appeared"
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists() and (out / ".progress.json").exists()
    done_before = len(list(out.glob("shard-*.h5")))
    assert 5 <= done_before < n // 3

    assert main(argv) == 0
    manifest = read_manifest(out)
    assert manifest["count"] == n
    ds = Shards(out, verify=True)
    got = all_ids(ds)
    assert len(got) == len(set(got)) == n
    assert got == ids
    assert not (out / ".progress.json").exists() and not list(out.glob(".*.tmp"))


# --- the real shared data ---------------------------------------------------------------------------


@pytest.mark.slow
def test_prepare_dhsd_with_writer_split(shared_data, tmp_path, capsys):
    out = tmp_path / "dhsd"
    argv = ["prepare", "csv", str(shared_data / "dhsd" / "data.csv"), "--out", str(out), "--split", "0.1,0.1", "--no-progress"]
    assert main(argv) == 0
    assert "written: 4873 samples" in capsys.readouterr().out
    sides = json.loads((out / "splits.json").read_text(encoding="utf-8"))
    assert [len(sides[s]) for s in ("train", "val", "test")] == [24, 3, 3]
    writers = {}
    total = 0
    for side in ("train", "val", "test"):
        m = read_manifest(out / side)
        assert m["height"] == 32 and m["license"] == "CC BY 4.0" and "DHSD" in m["attribution"]
        ds = Shards(out / side)
        writers[side] = set(ds.writers())
        assert writers[side] == set(sides[side]) and m["writers"] == len(sides[side])
        total += len(ds)
        assert ds[0].image.shape[0] == 32
        assert len(set(ds.widths().tolist())) > 20  # margins trimmed: untrimmed 256 x 64 canvases would all be 128 wide
    assert total == 4873
    assert len(set().union(*writers.values())) == 30
    assert not (writers["train"] & writers["val"]) and not (writers["train"] & writers["test"]) and not (writers["val"] & writers["test"])


@pytest.mark.slow
def test_prepare_poilus_alto(shared_data, tmp_path, capsys):
    out = tmp_path / "poilus"
    assert main(["prepare", "alto", str(shared_data / "poilus" / "pages"), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    m = read_manifest(out)
    assert m["count"] == 1047 and m["writers"] == 49 and m["height"] == 32
    ds = Shards(out, verify=True)
    assert len(set(ds.writers())) == 49 and all(t for t in ds.texts())
