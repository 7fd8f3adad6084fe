"""Legibility of a GAN run over training: the run's weak recognizer R (trained on real images
only) reads generated images of words the GAN never saw; its CER should fall as training goes on.

    python scripts/gan_legibility.py --run RUN --words-from VAL_SHARDS [TEST_SHARDS] --exclude TRAIN_SHARDS \
        --out scripts/results/gan_legibility.json [--checkpoints CKPT ...]

For every kept checkpoint (RUN/checkpoints/step-N.pt and last.pt, or the --checkpoints given) it
generates --count words
(texts of --words-from that are absent from --exclude's texts and inside the alphabet, one random
style each, fixed seed) with the EMA generator and decodes them greedily with R. R's CER on the
real images of --words-from is reported beside it, for scale.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import hwdatasets  # noqa: E402
from recognizer.metrics import cer  # noqa: E402
from scrabblegan.checkpoint import load_networks  # noqa: E402
from scrabblegan.config import CHAR_WIDTH  # noqa: E402
from scrabblegan.data import to_tensor  # noqa: E402
from scrabblegan.samples import generate  # noqa: E402


@torch.no_grad()
def read_images(R, codec, images: list) -> list[str]:
    """Greedy transcriptions of uint8 [H, W] images at 32 px high, 16 px per character, one at a
    time (no padding effects)."""
    return [codec.decode_greedy(R(to_tensor(img, CHAR_WIDTH * len(text))[None]))[0] for img, text in images]


def checkpoints(run: Path) -> list[Path]:
    kept = sorted(run.glob("checkpoints/step-*.pt"), key=lambda p: int(re.findall(r"\d+", p.stem)[0]))
    return kept + [run / "checkpoints" / "last.pt"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", type=Path, required=True)
    p.add_argument("--checkpoints", type=Path, nargs="+", help="these checkpoints instead of the run's kept ones")
    p.add_argument("--words-from", type=Path, nargs="+", required=True)
    p.add_argument("--exclude", type=Path, nargs="+", required=True)
    p.add_argument("--count", type=int, default=500)
    p.add_argument("--real-count", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args()
    torch.manual_seed(args.seed)
    source = hwdatasets.Shards(args.words_from)
    seen = set(hwdatasets.Shards(args.exclude).texts())
    rows = []
    for ckpt in args.checkpoints or checkpoints(args.run):
        G, R, codec, cfg, step = load_networks(ckpt)
        alphabet = codec.alphabet
        unseen = sorted({t for t in source.texts() if t not in seen and not alphabet.missing(t)
                         and len(t) <= cfg.train.max_text_len})
        words = random.Random(args.seed).sample(unseen, min(args.count, len(unseen)))
        gen = torch.Generator().manual_seed(args.seed)
        z = torch.randn(len(words), cfg.model.z_dim, generator=gen)
        t0 = time.perf_counter()
        images = [img for i in range(0, len(words), 64) for img in generate(G, codec, z[i:i + 64], words[i:i + 64])]
        gen_s = time.perf_counter() - t0
        fake_cer = cer(words, read_images(R, codec, list(zip(images, words))))
        picks = random.Random(args.seed).sample(range(len(source)), min(args.real_count, len(source)))
        real = [s for s in (source[i] for i in picks) if not alphabet.missing(s.text)]
        real_cer = cer([s.text for s in real], read_images(R, codec, [(s.image, s.text) for s in real]))
        rows.append({"checkpoint": ckpt.name, "step": step, "generated_words": len(words), "cer_generated_unseen": round(fake_cer, 4),
                     "real_images": len(real), "cer_real": round(real_cer, 4), "generate_seconds": round(gen_s, 2)})
        print(json.dumps(rows[-1]), flush=True)
    result = {"run": str(args.run), "command": " ".join(sys.argv), "words_from": [str(p) for p in args.words_from],
              "exclude": [str(p) for p in args.exclude], "curve": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
