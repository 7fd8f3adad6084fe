"""``scrabblegan train``: the ScrabbleGAN training loop, resumable, single process or under torchrun.

    scrabblegan train --data SHARDS --out RUN [--preset small] [--steps N] [--resume]
    torchrun --nproc_per_node 2 -m scrabblegan.train --data SHARDS --out RUN

RUN gets ``config.json`` (resolved configuration), ``checkpoints/last.pt`` (always the newest),
``metrics.jsonl`` and TensorBoard events (``tb/``), and sample grids (``samples/step-N.png``).
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

import torch
from PIL import Image
from tqdm import tqdm

from hwdatasets.alphabet import Alphabet, load_lexicon
from recognizer.checkpoint import StopRequest, capture_rng, load_checkpoint, restore_rng, save_checkpoint
from recognizer.codec import Codec
from recognizer.distributed import any_rank, gather_objects, init_distributed, seed_everything, shutdown_distributed
from recognizer.report import Reporter
from scrabblegan.config import RunConfig
from scrabblegan.data import ResumableSampler, load_batch
from scrabblegan.samples import sample_grid
from scrabblegan.trainer import GANTrainer, NonFiniteLossError

log = logging.getLogger(__name__)


def usable_texts(texts: Sequence[str], alphabet: Alphabet, max_len: int) -> list[int]:
    """Indices of texts that are non-empty, at most ``max_len`` long, and inside ``alphabet``."""
    return [i for i, t in enumerate(texts) if t and len(t) <= max_len and not alphabet.missing(t)]


def build_lexicon(cfg: RunConfig, alphabet: Alphabet, train_texts: Sequence[str]) -> list[str]:
    """Words to generate: ``--lexicon`` filtered to the alphabet and length, else the training texts."""
    t = cfg.train
    if t.lexicon:
        words, report = load_lexicon(t.lexicon, alphabet, on_unknown="skip", max_length=t.max_text_len, on_too_long="skip")
        if report.unknown or report.too_long:
            log.warning("lexicon %s: skipped %d word(s) with characters outside the alphabet and %d longer than %d",
                        t.lexicon, report.unknown, report.too_long, t.max_text_len)
    else:
        words = sorted(set(train_texts))
    if not words:
        raise ValueError("the lexicon is empty after filtering to the alphabet and --max-text-len")
    return words


def _save(path: Path, trainer: GANTrainer, samplers: dict, cfg: RunConfig, codec: Codec, collective: bool = True,
          partial: bool = False) -> None:
    rngs = gather_objects(capture_rng(), trainer.dist) if collective else [capture_rng()]
    if trainer.dist.is_main:
        save_checkpoint(path, {**trainer.state_dict(), "rng": rngs,
                               "data": {k: s.state_dict() for k, s in samplers.items()},
                               "config": cfg.to_dict(), "alphabet": codec.alphabet.to_string(), "partial": partial})


def train(cfg: RunConfig, resume: bool = False, dataset=None, unlabeled=None) -> GANTrainer:
    """Train (or, with ``resume``, continue) the run in ``cfg.train.out`` up to ``cfg.train.steps`` iterations.

    ``dataset``/``unlabeled`` default to the shard folders ``cfg.train.data``/``cfg.train.unlabeled``;
    any dataset of ``hwdatasets.Sample`` with ``.alphabet`` and ``.texts()`` works. Returns the trainer.
    Raises :class:`NonFiniteLossError` on a NaN/inf loss, leaving the last checkpoint untouched.
    """
    from hwdatasets.shards import Shards

    t = cfg.train
    dist = init_distributed(t.device)
    run = Path(t.out)
    last = run / "checkpoints" / "last.pt"
    state = None
    if last.exists() and not resume:
        raise FileExistsError(f"{run} already holds a run ({last}); pass --resume to continue it or choose another --out")
    if resume and last.exists():
        state = load_checkpoint(last)
        saved = RunConfig.from_dict(state["config"])
        if saved.model != cfg.model:
            log.info("resuming with the checkpoint's model configuration (preset %s)", saved.model.preset)
        cfg.model = saved.model
    elif resume:
        log.info("%s has no checkpoint yet: starting a new run", run)

    dataset = dataset if dataset is not None else Shards(t.data)
    if unlabeled is None and t.unlabeled:
        unlabeled = Shards(t.unlabeled)
    alphabet = Alphabet.from_string(state["alphabet"]) if state else dataset.alphabet
    codec = Codec(alphabet)
    texts = dataset.texts()
    pool = usable_texts(texts, alphabet, t.max_text_len)
    if len(pool) < len(texts):
        log.warning("%d of %d training samples skipped (empty text, longer than %d, or outside the alphabet)",
                    len(texts) - len(pool), len(texts), t.max_text_len)
    lexicon = build_lexicon(cfg, alphabet, [texts[i] for i in pool])

    seed_everything(t.seed)  # the same initial weights on every rank (DDP also broadcasts rank 0's)
    trainer = GANTrainer(cfg, codec, lexicon, dist)
    seed_everything(t.seed, dist.rank)  # from here on, each rank its own random stream
    samplers = {"real": ResumableSampler(pool, t.batch_size, t.seed, dist.rank, dist.world)}
    if unlabeled is not None:
        samplers["unlabeled"] = ResumableSampler(range(len(unlabeled)), t.batch_size, t.seed + 1, dist.rank, dist.world)
    # Fixed styles and texts for the sample grids, independent of the training RNG streams.
    g = torch.Generator().manual_seed(t.seed)
    grid_z = torch.randn(t.sample_styles, cfg.model.z_dim, generator=g).to(dist.device)
    grid_texts = [w for w in t.sample_texts if not alphabet.missing(w)] or \
        [lexicon[i] for i in torch.randperm(len(lexicon), generator=g)[:6].tolist()]

    if state is not None:
        trainer.load_state_dict(state)
        for k, s in samplers.items():
            if k in state["data"]:
                s.load_state_dict(state["data"][k])
        rngs = state["rng"]
        if len(rngs) == dist.world:
            restore_rng(rngs[dist.rank])
        else:
            log.warning("checkpoint has RNG states of %d process(es), this run has %d: reseeding", len(rngs), dist.world)
            seed_everything(t.seed + 7919 * trainer.step, dist.rank)
        if state.get("partial"):
            log.warning("the checkpoint was written after a failure inside step %d; that step is redone", trainer.step + 1)
        log.info("resumed %s at step %d", run, trainer.step)
    if dist.is_main:
        (run / "samples").mkdir(parents=True, exist_ok=True)
        (run / "config.json").write_text(cfg.to_json() + "\n", encoding="utf-8")

    reporter = Reporter(run, enabled=dist.is_main)
    bar = tqdm(total=t.steps, initial=trainer.step, disable=not (dist.is_main and t.progress), dynamic_ncols=True)
    sums: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    tick, tick_step = time.perf_counter(), trainer.step
    in_update = False
    try:
        with StopRequest() as stop:
            while trainer.step < t.steps:
                real = load_batch(dataset, samplers["real"].next()).to(dist.device, t.channels_last)
                unl = None
                if unlabeled is not None:
                    unl = load_batch(unlabeled, samplers["unlabeled"].next(), labelled=False).to(dist.device, t.channels_last)

                in_update = True
                metrics = trainer.d_step(real, unl)        # phase 1: discriminator
                metrics |= trainer.r_step(real)            # phase 2: recognizer on real images
                if trainer.g_due():
                    metrics |= trainer.g_step()            # phase 3: generator (+ EMA)
                trainer.step += 1
                in_update = False

                for k, v in metrics.items():
                    sums[k] += v
                    counts[k] += 1
                bar.update(1)
                step = trainer.step
                if step % t.log_every == 0 or step == t.steps:
                    elapsed = time.perf_counter() - tick
                    means = {k: sums[k] / counts[k] for k in sums}
                    means["Speed/iters_per_s"] = (step - tick_step) / elapsed
                    means["Speed/images_per_s"] = means["Speed/iters_per_s"] * t.batch_size * dist.world
                    means |= {"LR/G": t.lr_g, "LR/D": t.lr_d, "LR/R": t.lr_r}
                    reporter.scalars(step, means)
                    bar.set_postfix({k.split("/", 1)[1]: f"{means[k]:.3f}" for k in
                                     ("Loss/D/real", "Loss/D/fake", "Loss/R/ctc_real", "Loss/G/adv", "Loss/G/ctc") if k in means})
                    sums.clear(), counts.clear()
                    tick, tick_step = time.perf_counter(), step
                if dist.is_main and (step % t.sample_every == 0 or step == t.steps):
                    grid = sample_grid(trainer.G_ema, codec, grid_z, grid_texts)
                    Image.fromarray(grid).save(run / "samples" / f"step-{step:08d}.png")
                    reporter.image(step, "Samples/G_ema", grid)
                stopping = any_rank(stop.signal is not None, dist)
                if step % t.save_every == 0 or step == t.steps or stopping:
                    _save(last, trainer, samplers, cfg, codec)
                    if t.keep_every and step % t.keep_every == 0 and dist.is_main:
                        _save(run / "checkpoints" / f"step-{step:08d}.pt", trainer, samplers, cfg, codec, collective=False)
                if stopping:
                    tqdm.write(f"stopped by signal at step {step}; checkpoint {last}; continue with --resume")
                    break
    except NonFiniteLossError as e:
        log.error("%s. Training stopped; the last good checkpoint %s is left as it was.", e, last)
        raise
    except Exception:
        log.exception("training failed at step %d; saving a checkpoint to %s", trainer.step, last)
        _save(last, trainer, samplers, cfg, codec, collective=False, partial=in_update)
        raise
    finally:
        bar.close()
        reporter.close()
    return trainer


# -- command line ---------------------------------------------------------------------------
# (flag, TrainConfig field, type/action, help); every flag defaults to "not given" so that a
# resumed run keeps its saved settings unless a flag overrides them.
_TRAIN_FLAGS = [
    ("--data", "data", "append", "shard folder of labelled real images (repeatable)"),
    ("--unlabeled", "unlabeled", "append", "shard folder of unlabelled real images, used by D only (repeatable)"),
    ("--lexicon", "lexicon", str, "word list for generated texts (default: the training texts)"),
    ("--steps", "steps", int, "total training iterations"),
    ("--batch-size", "batch_size", int, "images per batch and process (paper: 8)"),
    ("--d-per-g", "d_per_g", int, "D and R updates per G update"),
    ("--lr-g", "lr_g", float, "generator learning rate"),
    ("--lr-d", "lr_d", float, "discriminator learning rate"),
    ("--lr-r", "lr_r", float, "recognizer learning rate"),
    ("--alpha", "grad_alpha", float, "CTC gradient std relative to the adversarial one"),
    ("--ema-decay", "ema_decay", float, "EMA decay of G's weights"),
    ("--max-text-len", "max_text_len", int, "skip texts longer than this"),
    ("--save-every", "save_every", int, "checkpoint every N steps"),
    ("--keep-every", "keep_every", int, "also keep checkpoints/step-N.pt every N steps (0: never)"),
    ("--sample-every", "sample_every", int, "sample grid every N steps"),
    ("--log-every", "log_every", int, "metrics every N steps"),
    ("--seed", "seed", int, "seed of every RNG (each rank adds its rank)"),
    ("--device", "device", str, "auto, cpu or cuda"),
    ("--amp", "amp", str, "mixed precision on CUDA: none or bf16"),
]


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``train`` subcommand."""
    p = subparsers.add_parser("train", help="train ScrabbleGAN on shard folders", description=__doc__,
                              formatter_class=argparse.RawDescriptionHelpFormatter, argument_default=argparse.SUPPRESS)
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--preset", help="architecture preset: paper, small or tiny (default small)")
    p.add_argument("--config", help="JSON file with a RunConfig (model/train sections); flags override it")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from checkpoints/last.pt")
    p.add_argument("--dry-run", action="store_true", help="print the resolved configuration and exit")
    p.add_argument("--no-channels-last", action="store_false", dest="channels_last",
                   help="keep the default contiguous (NCHW) memory format instead of channels-last")
    p.add_argument("--no-progress", action="store_false", dest="progress", help="no tqdm bar")
    for flag, field, kind, help_ in _TRAIN_FLAGS:
        if kind == "append":
            p.add_argument(flag, dest=field, action="append", metavar="DIR", help=help_)
        else:
            p.add_argument(flag, dest=field, type=kind, help=help_)
    p.set_defaults(func=run)
    return p


def resolve_config(args: argparse.Namespace) -> RunConfig:
    """Defaults < checkpoint config (with --resume) or --config file < preset < flags."""
    from scrabblegan.config import ModelConfig

    given = vars(args)
    last = Path(args.out) / "checkpoints" / "last.pt"
    if given.get("resume") and last.exists():
        cfg = RunConfig.from_dict(load_checkpoint(last)["config"])
        if "preset" in given and given["preset"] != cfg.model.preset:
            raise ValueError(f"--preset {given['preset']} differs from the run's preset {cfg.model.preset}")
    elif "config" in given:
        cfg = RunConfig.load(given["config"])
    else:
        cfg = RunConfig(model=ModelConfig.from_preset("small"))
    if "preset" in given and given["preset"] != cfg.model.preset:
        cfg.model = ModelConfig.from_preset(given["preset"])
    cfg.train.out = args.out
    for _, field, _, _ in _TRAIN_FLAGS:
        if field in given:
            setattr(cfg.train, field, given[field])
    for field in ("channels_last", "progress"):
        if field in given:
            setattr(cfg.train, field, given[field])
    cfg.model.validate()
    return cfg


def run(args: argparse.Namespace) -> int:
    """Entry point of ``scrabblegan train``; returns the process exit code."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = resolve_config(args)
    if getattr(args, "dry_run", False):
        sys.stdout.write(cfg.to_json() + "\n")
        return 0
    if not cfg.train.data:
        raise SystemExit("scrabblegan train: give at least one --data shard folder")
    try:
        train(cfg, resume=getattr(args, "resume", False))
    except NonFiniteLossError:
        return 1
    finally:
        shutdown_distributed()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scrabblegan.train ...`` (for torchrun), the same options as ``scrabblegan train``."""
    parser = argparse.ArgumentParser(prog="scrabblegan")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["train", *(sys.argv[1:] if argv is None else argv)])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
