"""End-to-end generation speed: lexicon file -> HDF5 shards on disk, per preset, batch size, word length.

    python scripts/bench_generate.py [--presets small paper] [--seconds 15] [--threads 2]

For each preset (randomly initialised networks in the training checkpoint format: speed does not
depend on the weights), batch size 1 and 64, and words of 6 and 10 characters, runs
``scrabblegan generate`` in this process (``--styles 1``, shard size 5000, progress bar off) on a
lexicon of distinct random words sized to take about ``--seconds``, and reports images/s over the
whole command (lexicon scan, style bank, generation, uint8 conversion, gzip'd shards, manifest).
Writes scripts/results/bench_generate.json, with the machine's load average before and after:
other processes on the machine (e.g. a training run) slow every figure.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from recognizer.codec import Codec  # noqa: E402
from scrabblegan.checkpoint import save_checkpoint  # noqa: E402
from scrabblegan.cli import main  # noqa: E402
from scrabblegan.config import ModelConfig, RunConfig  # noqa: E402
from scrabblegan.generator import Generator  # noqa: E402

LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöüÄÖÜß"
ALPHABET = LETTERS + ".-' 0123456789"  # 74 characters, about DHSD's
REFERENCE = {"note": "public ScrabbleGAN code, paper configuration, 10-character words, this kind of machine (issue 5)",
             "images_per_s_batch1": 14, "images_per_s_batch64": 22}


def make_checkpoint(path: Path, preset: str) -> None:
    torch.manual_seed(0)
    codec = Codec(ALPHABET)
    cfg = RunConfig(model=ModelConfig.from_preset(preset))
    G = Generator(codec.num_classes, cfg.model)
    save_checkpoint(path, {"step": 0, "G_ema": G.state_dict(), "config": cfg.to_dict(), "alphabet": ALPHABET})


def write_lexicon(path: Path, n: int, length: int, seed: int) -> None:
    rng = random.Random(seed)
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(LETTERS) for _ in range(length)))
    path.write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")


def timed_run(ckpt: Path, tmp: Path, n: int, length: int, batch: int, tag: str) -> float:
    lex, out = tmp / f"{tag}.txt", tmp / tag
    write_lexicon(lex, n, length, seed=n + length)
    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        rc = main(["generate", "--lexicon", str(lex), "--styles", "1", "--out", str(out), "--checkpoint", str(ckpt),
                   "--batch-size", str(batch), "--device", "cpu", "--no-progress"])
    seconds = time.perf_counter() - t0
    if rc != 0:
        raise RuntimeError(f"generate failed for {tag}")
    return n / seconds


def main_bench() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--presets", nargs="+", default=["small", "paper"])
    ap.add_argument("--seconds", type=float, default=15.0, help="target duration of each measured run")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "results" / "bench_generate.json")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    results: dict = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for preset in args.presets:
            ckpt = tmp / f"{preset}.pt"
            make_checkpoint(ckpt, preset)
            results[preset] = {}
            for batch in (1, 64):
                for length in (6, 10):
                    tag = f"{preset}-b{batch}-l{length}"
                    probe = timed_run(ckpt, tmp, 16 if batch == 1 else 64, length, batch, tag + "-probe")  # also warms up
                    n = max(64, int(probe * args.seconds))
                    rate = timed_run(ckpt, tmp, n, length, batch, tag)
                    results[preset][f"batch{batch}_len{length}"] = {"images": n, "images_per_s": round(rate, 1)}
                    print(f"{tag}: {rate:.1f} images/s ({n} images)", flush=True)
    report = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "threads": args.threads,
                    "torch": torch.__version__, "python": platform.python_version(),
                    "loadavg_before": [round(x, 2) for x in load_before],
                    "loadavg_after": [round(x, 2) for x in os.getloadavg()]},
        "setup": "end to end in one process: lexicon file -> HDF5 shards (gzip) + manifest, --styles 1, fp32 CPU, "
                 "randomly initialised networks (speed does not depend on the weights); batch sizes below 16 run "
                 "16 rows per call for batch-independent bytes (scrabblegan/inference.py)",
        "reference": REFERENCE,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main_bench()
