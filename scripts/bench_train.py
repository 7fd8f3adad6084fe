"""Training and generation speed of ScrabbleGAN per preset, optimised vs. a plain baseline, one run.

    python scripts/bench_train.py [--presets paper small] [--iters 4] [--threads 2]

Times, at batch 8 with 10-character words (32 x 160 images):
  * the D + R iteration (D step + R-on-real step) and the G step separately, then the seconds per
    iteration averaged over a G/D ratio k: ((k * (D + R)) + G) / k, for k = 1, 2 (our default), 4
    (the ScrabbleGAN reference code's);
  * G images/s (EMA generator, eval, no grad) at batch 1 and 64.
Variants, side by side in the same process:
  * baseline:   the arithmetic of a straightforward implementation: D called on real and fake
                separately, a G step with three backward passes (image-gradients of the adversarial
                and CTC losses, then the weighted sum back through D, R and G), plain Adam, and the
                filter bank normalised by materialising W / sigma;
  * optimized:  what ``scrabblegan train`` does: one D pass on real + fake, one backward through G,
                fused Adam, the filter bank's sigma applied to its output;
  * optimized+channels_last.
Writes scripts/results/bench_train.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import types
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hwdatasets.alphabet import Alphabet  # noqa: E402
from recognizer.codec import Codec  # noqa: E402
from recognizer.ctc import ctc_loss  # noqa: E402
from recognizer.trunk import ConvRecognizer  # noqa: E402
from scrabblegan import losses  # noqa: E402
from scrabblegan.config import ModelConfig, RunConfig, TrainConfig  # noqa: E402
from scrabblegan.data import Batch  # noqa: E402
from recognizer.distributed import DistInfo  # noqa: E402
from scrabblegan.generator import FilterBank  # noqa: E402
from scrabblegan.trainer import GANTrainer  # noqa: E402

WORDS = ["Hauptstraß", "Bahnhofweg", "Lindenalle", "Ölmühlenwe", "Marktplatz", "Kirchgasse", "Schulstraß",
         "Am Wiesen-"]
ALPHABET = Alphabet.from_texts(WORDS + ["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZäöüÄÖÜß.-' 0123456789"])


def naive_bank_forward(self: FilterBank, labels: torch.Tensor, z0: torch.Tensor) -> torch.Tensor:
    """The filter bank with spectral norm applied as W / sigma over the whole matrix (baseline)."""
    n, length = labels.shape
    w = self.weight / self.sigma() if self.use_sn else self.weight
    per_symbol = (z0 @ w.view(self.z_chunk, -1)).view(n, self.num_symbols, self.out_features)
    h = per_symbol.gather(1, labels.unsqueeze(-1).expand(n, length, self.out_features)) + self.bias
    return h * (labels != 0).unsqueeze(-1).to(h.dtype)


class BaselineTrainer(GANTrainer):
    """Same networks and losses, straightforward arithmetic (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        t = self.cfg.train
        betas = (float(t.betas[0]), float(t.betas[1]))
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=t.lr_g, betas=betas)
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=t.lr_d, betas=betas)
        self.opt_R = torch.optim.Adam(self.R.parameters(), lr=t.lr_r, betas=betas)

    def d_step(self, real, unlabeled=None):
        with torch.no_grad():
            z, labels, texts = self.fake_batch(len(real.texts))
            fake, fake_w = self.generate(z, labels, texts)
        loss_real, loss_fake = losses.d_hinge(self.D(real.images, real.widths), self.D(fake, fake_w))
        self.opt_D.zero_grad(set_to_none=True)
        (loss_real + loss_fake).backward()
        self.opt_D.step()
        return {}

    def g_step(self):
        z, labels, texts = self.fake_batch(self.cfg.train.batch_size)
        fake, widths = self.generate(z, labels, texts)
        self.R.eval()
        adv = losses.g_hinge(self.D(fake, widths))
        targets, lengths = self.codec.encode_batch(texts)
        ctc, _ = ctc_loss(self.R(fake), targets, lengths, ConvRecognizer.output_length(widths))
        self.R.train()
        (grad_adv,) = torch.autograd.grad(adv, fake, retain_graph=True)  # backward 1 (through D)
        (grad_ctc,) = torch.autograd.grad(ctc, fake, retain_graph=True)  # backward 2 (through R)
        scale = losses.balance_scale(grad_adv, grad_ctc, self.cfg.train.grad_alpha)
        self.opt_G.zero_grad(set_to_none=True)
        (adv + scale * ctc).backward()  # backward 3 (through D, R and G, with their weight gradients)
        self.opt_G.step()
        self.D.zero_grad(set_to_none=True), self.R.zero_grad(set_to_none=True)
        return {}


VARIANTS = ("baseline", "optimized", "optimized+channels_last")


def make(variant: str, preset: str) -> GANTrainer:
    torch.manual_seed(0)
    cfg = RunConfig(ModelConfig.from_preset(preset), TrainConfig(batch_size=8, channels_last=variant.endswith("channels_last")))
    cls = BaselineTrainer if variant == "baseline" else GANTrainer
    trainer = cls(cfg, Codec(ALPHABET), WORDS, DistInfo())
    if variant == "baseline":
        for m in trainer.G.modules():
            if isinstance(m, FilterBank):
                m.forward = types.MethodType(naive_bank_forward, m)
    return trainer


def time_training(preset: str, iters: int) -> dict:
    """Per variant: median seconds of the D + R iteration and of the G step.

    The variants take turns iteration by iteration, so a slow spell of a shared machine hits all alike.
    """
    trainers = {v: make(v, preset) for v in VARIANTS}
    reals = {}
    for v, tr in trainers.items():
        real = Batch(torch.rand(8, 1, 32, 160) * 2 - 1, torch.full((8,), 160), [WORDS[i % len(WORDS)] for i in range(8)])
        reals[v] = real.to(torch.device("cpu"), tr.cfg.train.channels_last)
    times = {v: ([], []) for v in VARIANTS}
    for i in range(iters + 1):  # the first round warms up allocators and oneDNN kernels
        for v, tr in trainers.items():
            t0 = time.perf_counter()
            tr.d_step(reals[v])
            tr.r_step(reals[v])
            t1 = time.perf_counter()
            tr.g_step()
            t2 = time.perf_counter()
            if i:
                times[v][0].append(t1 - t0), times[v][1].append(t2 - t1)
    out = {}
    for v, (dr, g) in times.items():
        d_r, g_s = statistics.median(dr), statistics.median(g)
        out[v] = {"d_plus_r_s": round(d_r, 4), "g_step_s": round(g_s, 4),
                  **{f"s_per_iter_ratio{k}": round((k * d_r + g_s) / k, 4) for k in (1, 2, 4)},
                  "raw_d_plus_r_s": [round(x, 4) for x in dr], "raw_g_step_s": [round(x, 4) for x in g]}
    return out


@torch.no_grad()
def time_generation(preset: str, channels_last: bool, batch: int, reps: int) -> float:
    tr = make("optimized+channels_last" if channels_last else "optimized", preset)
    G = tr.G_ema.eval()
    codec = tr.codec
    labels, _ = codec.encode_padded([WORDS[i % len(WORDS)] for i in range(batch)])
    z = torch.randn(batch, tr.cfg.model.z_dim)
    G(z, labels)
    t = time.perf_counter()
    for _ in range(reps):
        G(z, labels)
    return round(batch * reps / (time.perf_counter() - t), 2)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--presets", nargs="+", default=["paper", "small"])
    p.add_argument("--iters", type=int, default=6, help="timed iterations per variant (after one warm-up)")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "bench_train.json"))
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    result = {"machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                          "threads": torch.get_num_threads(), "torch": torch.__version__, "python": platform.python_version()},
              "setup": "batch 8, 10-character words (32 x 160), CPU, fp32; variants interleaved, median over timed iterations",
              "reference": {"note": "public ScrabbleGAN code, paper configuration, measured on this kind of machine (issue 3)",
                            "s_per_iter_ratio4": 5.8, "d_plus_r_s": 4.0, "g_iter_s": 11.0, "g_images_per_s_batch64": 22},
              "training": {}, "generation_images_per_s": {}}
    for preset in args.presets:
        result["training"][preset] = time_training(preset, args.iters)
        for variant, r in result["training"][preset].items():
            print(f"{preset:6s} {variant:24s} D+R {r['d_plus_r_s']:.3f} s  G {r['g_step_s']:.3f} s  "
                  f"s/iter k=1 {r['s_per_iter_ratio1']:.3f} k=2 {r['s_per_iter_ratio2']:.3f} k=4 {r['s_per_iter_ratio4']:.3f}",
                  flush=True)
        result["generation_images_per_s"][preset] = {}
        for cl in (False, True):
            name = "channels_last" if cl else "contiguous"
            ips = {f"batch{b}": time_generation(preset, cl, b, reps) for b, reps in ((1, 20), (64, 3))}
            result["generation_images_per_s"][preset][name] = ips
            print(f"{preset:6s} generation {name:14s} {ips}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
