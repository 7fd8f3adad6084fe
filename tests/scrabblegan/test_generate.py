"""`scrabblegan generate` and `sample` on a tiny, freshly initialised checkpoint (CPU)."""
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from hwdatasets import Shards
from recognizer.codec import Codec
from scrabblegan.checkpoint import save_checkpoint
from scrabblegan.cli import main
from scrabblegan.config import ModelConfig, RunConfig
from scrabblegan.generator import Generator
from scrabblegan.inference import StyledGenerator
from scrabblegan.styles import StyleBank, truncated_normal
from scrabblegan.workplan import worker_share

REPO = Path(__file__).resolve().parents[2]
ALPHABET = "abcdefghijklmnopqrstuvwxyz"


def make_checkpoint(path: Path, preset: str = "tiny", seed: int = 0) -> Path:
    """Freshly initialised G (BN statistics spread so images vary) in the training checkpoint format."""
    torch.manual_seed(seed)
    codec = Codec(ALPHABET)
    cfg = RunConfig(model=ModelConfig.from_preset(preset))
    G = Generator(codec.num_classes, cfg.model)
    for m in G.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(0, 0.5)
            m.running_var.uniform_(0.05, 0.2)
    save_checkpoint(path, {"step": 0, "G_ema": G.state_dict(), "config": cfg.to_dict(), "alphabet": ALPHABET})
    return path


def write_lexicon(path: Path, n: int, seed: int = 0, letters: str = "abcdefghij", extra: tuple = ()) -> Path:
    rng = random.Random(seed)
    words: dict[str, None] = {}
    while len(words) < n:
        words["".join(rng.choice(letters) for _ in range(rng.randint(1, 9)))] = None
    path.write_text("\n".join([*words, *extra]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory) -> Path:
    return make_checkpoint(tmp_path_factory.mktemp("ck") / "tiny.pt")


def generate(ckpt, lexicon, out, *extra) -> int:
    return main(["generate", "--lexicon", str(lexicon), "--out", str(out), "--checkpoint", str(ckpt),
                 "--no-progress", *map(str, extra)])


def contents(folder: Path) -> dict[tuple[str, int], bytes]:
    """(text, style) -> image bytes of a finished shard folder, asserting no pair occurs twice."""
    ds = Shards(folder, verify=True)
    out = {}
    for i in range(len(ds)):
        s = ds[i]
        assert (s.text, s.style) not in out, f"duplicate {(s.text, s.style)}"
        assert s.writer == f"style-{s.style}" and s.image.shape == (32, 16 * len(s.text))
        out[s.text, s.style] = s.image.tobytes()
    return out


def test_inference_matches_generator_and_ignores_batch_size(ckpt):
    from scrabblegan.generate import load_generator

    G, codec, _, _ = load_generator(ckpt)
    net = StyledGenerator(G)
    z = torch.randn(G.z_dim)
    labels, _ = codec.encode_padded(["abcdefg"] * 9 + ["gfedcba"] * 8)
    with torch.no_grad():
        ref = G(z[None].expand(len(labels), -1).contiguous(), labels)
    table = net.style_table(z)
    full = net(table, labels)
    torch.testing.assert_close(full, ref, atol=1e-3, rtol=0)  # < 0.13 gray levels
    for bs in (1, 2, 5, 16):
        parts = torch.cat([net(table, labels[i : i + bs]) for i in range(0, len(labels), bs)])
        assert torch.equal(parts, full), f"batch size {bs} changes the pixels"


def test_bytes_do_not_depend_on_batch_size(ckpt, tmp_path):
    lex = write_lexicon(tmp_path / "words.txt", 120)
    generate(ckpt, lex, tmp_path / "b64", "--styles", 3, "--seed", 5)
    generate(ckpt, lex, tmp_path / "b1", "--styles", 3, "--seed", 5, "--batch-size", 1, "--shard-size", 50)
    generate(ckpt, lex, tmp_path / "b7", "--styles", 3, "--seed", 5, "--batch-size", 7, "--shard-size", 77)
    a, b, c = (contents(tmp_path / d) for d in ("b64", "b1", "b7"))
    assert len(a) == 360 and a == b == c
    assert len({v for v in a.values()}) > 300  # styles and words really differ


def test_style_bank_truncation_and_reuse(ckpt, tmp_path):
    z = truncated_normal(50, 32, seed=3, truncation=0.5)
    assert z.abs().max() <= 0.5 and torch.equal(z, truncated_normal(50, 32, seed=3, truncation=0.5))
    lex = write_lexicon(tmp_path / "words.txt", 20)
    generate(ckpt, lex, tmp_path / "a", "--styles", 4, "--seed", 1, "--truncation", 0.7)
    bank = StyleBank.load(tmp_path / "a/styles.pt")
    assert len(bank) == 4 and bank.truncation == 0.7 and bank.z.abs().max() <= 0.7
    generate(ckpt, lex, tmp_path / "b", "--style-bank", tmp_path / "a/styles.pt", "--styles", 2)
    a, b = contents(tmp_path / "a"), contents(tmp_path / "b")
    assert b == {k: v for k, v in a.items() if k[1] < 2}
    manifest = json.loads((tmp_path / "a/manifest.json").read_text())
    assert manifest["provenance"]["truncation"] == 0.7 and len(manifest["provenance"]["checkpoint_sha256"]) == 64
    assert json.loads((tmp_path / "a/config.json").read_text())["samples"] == 80


def test_unknown_characters_name_their_lines(ckpt, tmp_path, capsys):
    lex = tmp_path / "words.txt"
    lex.write_text("abc\nStraße\nhello\nx-ray\n", encoding="utf-8")
    assert generate(ckpt, lex, tmp_path / "o", "--styles", 2) == 2
    err = capsys.readouterr().err
    assert "line 2: 'Straße'" in err and "line 4: 'x-ray'" in err and "--on-unknown skip" in err
    assert not (tmp_path / "o").exists() or not list((tmp_path / "o").glob("*.h5"))  # nothing generated
    assert generate(ckpt, lex, tmp_path / "o2", "--styles", 2, "--on-unknown", "skip", "--max-length", 4,
                    "--on-too-long", "skip") == 0
    assert set(contents(tmp_path / "o2")) == {("abc", 0), ("abc", 1)}


def test_two_workers_equal_one_process(ckpt, tmp_path, capsys):
    lex = write_lexicon(tmp_path / "words.txt", 90, extra=("abc", "abc"))  # a duplicate line is written once
    generate(ckpt, lex, tmp_path / "one", "--styles", 3)
    generate(ckpt, lex, tmp_path / "two", "--styles", 3, "--num-workers", 2, "--worker-index", 1, "--batch-size", 3)
    assert not (tmp_path / "two/manifest.json").exists() and "last worker" in capsys.readouterr().out
    generate(ckpt, lex, tmp_path / "two", "--styles", 3, "--num-workers", 2, "--worker-index", 0, "--batch-size", 5)
    one, two = contents(tmp_path / "one"), contents(tmp_path / "two")
    assert len(one) == 273 and one == two
    names = {p.name for p in (tmp_path / "two").glob("*.h5")}
    assert any(n.startswith("part0of2-") for n in names) and any(n.startswith("part1of2-") for n in names)
    assert not list((tmp_path / "two").glob("*progress*"))
    assert generate(ckpt, lex, tmp_path / "two", "--styles", 3, "--num-workers", 2, "--worker-index", 0) == 0
    assert "already complete" in capsys.readouterr().out


@pytest.mark.parametrize("start,count,world", [(0, 10, 3), (5, 7, 2), (4, 1, 4), (9, 0, 2)])
def test_worker_share(start, count, world):
    for rank in range(world):
        assert worker_share(start, count, rank, world) == sum(1 for k in range(start, start + count) if k % world == rank)


def test_resume_after_kill(ckpt, tmp_path):
    lex = write_lexicon(tmp_path / "words.txt", 400)
    out = tmp_path / "o"
    cmd = [sys.executable, "-m", "scrabblegan", "generate", "--lexicon", str(lex), "--out", str(out), "--checkpoint",
           str(ckpt), "--styles", 4, "--shard-size", 100, "--batch-size", 16, "--no-progress"]
    cmd = list(map(str, cmd))
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while len(list(out.glob("shard-*.h5"))) < 3 and proc.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "manifest.json").exists(), "finished before it could be killed; make the job larger"
    assert subprocess.run(cmd, cwd=REPO, capture_output=True).returncode == 0
    resumed = contents(out)
    assert len(resumed) == 1600
    generate(ckpt, lex, tmp_path / "straight", "--styles", 4)
    assert resumed == contents(tmp_path / "straight")


def test_png_format_is_readable_by_prepare_folder(ckpt, tmp_path):
    lex = write_lexicon(tmp_path / "words.txt", 15)
    generate(ckpt, lex, tmp_path / "png", "--styles", 2, "--format", "png", "--shard-size", 8)
    rows = (tmp_path / "png/labels.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 30 and not list((tmp_path / "png").glob("*progress*"))
    path, text, writer = rows[0].split("\t")
    assert Image.open(tmp_path / "png" / path).size == (16 * len(text), 32) and writer.startswith("style-")
    assert main(["prepare", "folder", str(tmp_path / "png"), "--out", str(tmp_path / "shards"), "--no-progress"]) == 0
    ds = Shards(tmp_path / "shards")
    assert len(ds) == 30 and sorted(ds.writers()) == sorted(r.split("\t")[2] for r in rows)


def test_missing_checkpoint_is_a_clear_error(tmp_path, capsys):
    lex = write_lexicon(tmp_path / "words.txt", 3)
    assert main(["generate", "--lexicon", str(lex), "--styles", "1", "--out", str(tmp_path / "o")]) == 2
    assert "a checkpoint is needed" in capsys.readouterr().err


def test_sample_grid_and_interpolation(ckpt, tmp_path):
    assert main(["sample", "--checkpoint", str(ckpt), "--text", "hello world", "--styles", "3",
                 "--out", str(tmp_path / "grid.png")]) == 2  # no space in this alphabet
    assert main(["sample", "--checkpoint", str(ckpt), "--text", "hello", "--styles", "3", "--out", str(tmp_path / "grid.png")]) == 0
    grid = np.array(Image.open(tmp_path / "grid.png"))
    assert grid.shape == (3 * 36 + 4, 16 * 5 + 8) and grid.dtype == np.uint8
    assert main(["sample", "--checkpoint", str(ckpt), "--text", "hello", "--styles", "4", "--interpolate", "0", "3",
                 "--steps", "5", "--out", str(tmp_path / "strip.png")]) == 0
    strip = np.array(Image.open(tmp_path / "strip.png"))
    assert strip.shape == (5 * 36 + 4, 88)
    # the ends of the strip are styles 0 and 3 of the grid's bank
    main(["sample", "--checkpoint", str(ckpt), "--text", "hello", "--styles", "4", "--out", str(tmp_path / "g4.png")])
    g4 = np.array(Image.open(tmp_path / "g4.png"))
    assert np.array_equal(strip[4:36], g4[4:36]) and np.array_equal(strip[4 + 4 * 36 : 36 + 4 * 36], g4[4 + 3 * 36 : 36 + 3 * 36])


PEAK_RSS = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


@pytest.mark.slow
def test_memory_is_flat_in_lexicon_size(ckpt, tmp_path):
    peaks = {}
    for n in (1000, 20000):
        lex = write_lexicon(tmp_path / f"w{n}.txt", n, letters=ALPHABET)
        cmd = [sys.executable, "-m", "scrabblegan", "generate", "--lexicon", lex, "--out", tmp_path / f"o{n}",
               "--checkpoint", ckpt, "--styles", 1, "--shard-size", 1000, "--no-progress"]
        res = subprocess.run([sys.executable, "-c", PEAK_RSS, *map(str, cmd)], cwd=REPO, capture_output=True, text=True, check=True)
        peaks[n] = int(res.stdout.split()[-1]) / 1024  # MiB
        assert json.loads((tmp_path / f"o{n}/manifest.json").read_text())["count"] == n
    # The bound: within 100 MB. Measured here: +31 to +59 MB for 20x the words depending on
    # machine load (words are streamed and dedup keeps 8-byte hashes; the rest is not yet pinned
    # down, see the issue note), so the test holds the bound, not a tighter one.
    assert peaks[20000] - peaks[1000] < 100, peaks
