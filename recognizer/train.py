"""The recognizer's training loop: CRNN + CTC on shard folders mixed by weight, resumable, DDP-ready.

    scrabblegan recognizer train --train real/:1 --train synth/:0.5 --val val/ --out RUN
    torchrun --nproc_per_node 2 -m scrabblegan.recognizer_cli train ...   (DistributedDataParallel)

RUN gets ``config.json`` (the resolved configuration), ``last.pt`` (resumable, written every
``val_every`` steps, at the end, on SIGINT/SIGTERM and on errors), ``best.pt`` (the checkpoint with
the lowest validation CER so far), ``metrics.jsonl`` and TensorBoard events (``tb/``).
Training stops after ``steps`` updates, or earlier when the validation CER has not improved for
``patience`` validations in a row.

Checkpoint layout (plain types and tensors; read with ``weights_only=True``)::

    format_version, kind="recognizer", step, model, model_config, optimizer, alphabet (codec:
    label i + 1 is character i, 0 is the blank), config (TrainConfig), data and rng (one entry
    per rank: sampler state, RNG states), status (best_cer, best_step, bad_evals), partial
"""
from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch.nn.parallel import DistributedDataParallel as DDP
from tqdm import tqdm

import augment
from hwdatasets import Alphabet, Shards
from hwdatasets.atomic import write_json_atomic
from recognizer.checkpoint import StopRequest, capture_rng, load_checkpoint, restore_rng, save_checkpoint
from recognizer.codec import Codec
from recognizer.ctc import ctc_loss
from recognizer.data import MixedBatches, RecognizerError, open_sources
from recognizer.distributed import DistInfo, any_rank, gather_objects, init_distributed, seed_everything
from recognizer.evaluate import KIND, predict, scores
from recognizer.model import CRNN, CRNNConfig
from recognizer.report import Reporter

log = logging.getLogger(__name__)


@dataclass
class TrainConfig:
    """Everything a recognizer run needs; written to ``RUN/config.json`` and into checkpoints.

    Args:
        train: training shard folders as ``DIR`` or ``DIR:WEIGHT`` (mixed by weight per batch).
        val: validation shard folder(s) (best checkpoint and early stopping on their CER).
        out: the run folder.
        steps: total optimizer updates.
        batch_size: images per batch and process.
        lr: Adam learning rate; decays to ``lr / 10`` on a cosine over ``steps``.
        grad_clip: gradient norm clipping (0: off).
        augment: augmentation preset (none, light, heavy) or a JSON config file.
        seed: seed of every RNG, the data mix and the augmentation (each rank adds its rank).
        val_every: validate (and write ``last.pt``) every N steps.
        val_limit: validate on at most N samples (0: all; a fixed, seeded subset).
        patience: stop after this many validations without a better CER (0: never stop early).
        log_every: report training metrics every N steps.
        device: auto, cpu or cuda.
        threads: torch CPU threads (0: torch's default). On a busy machine 1 can be much faster.
        progress: show a tqdm bar.
        model: the CRNN sizes.
    """

    train: list = field(default_factory=list)
    val: list = field(default_factory=list)
    out: str = "runs/recognizer"
    steps: int = 20_000
    batch_size: int = 32
    lr: float = 1e-3
    grad_clip: float = 5.0
    augment: str = "none"
    seed: int = 0
    val_every: int = 500
    val_limit: int = 0
    patience: int = 10
    log_every: int = 20
    device: str = "auto"
    threads: int = 0
    progress: bool = True
    model: CRNNConfig = field(default_factory=CRNNConfig)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        d = dict(d)
        unknown = set(d) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown recognizer setting(s): {sorted(unknown)}")
        return cls(**{**d, "model": CRNNConfig(**d.get("model", {}))})


class NonFiniteLossError(RuntimeError):
    """The CTC loss became NaN or infinite; training stops and the last checkpoint is kept."""


class Trainer:
    """The model, optimizer and validation state of one run, and its checkpoint (de)serialisation.

    Args:
        cfg: the run's configuration.
        codec: the alphabet codec.
        dist: the process's place in a DDP group (or a single process).
    """

    def __init__(self, cfg: TrainConfig, codec: Codec, dist: DistInfo):
        self.cfg, self.codec, self.dist = cfg, codec, dist
        self.model = CRNN(codec.num_classes, cfg.model).to(dist.device)
        self.net = DDP(self.model, device_ids=[dist.device] if dist.device.type == "cuda" else None) \
            if dist.enabled else self.model
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.step = 0
        self.status = {"best_cer": math.inf, "best_step": 0, "bad_evals": 0}

    def lr_at(self, step: int) -> float:
        return self.cfg.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(step / max(self.cfg.steps, 1), 1.0))))

    def train_step(self, batch) -> dict[str, float]:
        """One update on ``batch`` (a :class:`recognizer.data.Batch` on the device)."""
        for group in self.opt.param_groups:
            group["lr"] = self.lr_at(self.step)
        self.net.train()
        log_probs, frames = self.net(batch.images, batch.widths)  # [T, N, K], [N]
        targets, lengths = self.codec.encode_batch(batch.texts)
        loss, dropped = ctc_loss(log_probs, targets, lengths, frames, blank=self.codec.blank)
        if not torch.isfinite(loss):
            raise NonFiniteLossError(f"CTC loss is {loss.item()} at step {self.step + 1}")
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip or math.inf)
        self.opt.step()
        self.step += 1
        return {"Loss/ctc": loss.item(), "Grad/norm": float(norm), "Data/dropped": dropped,
                "LR": self.opt.param_groups[0]["lr"]}

    def state_dict(self) -> dict:
        return {"kind": KIND, "step": self.step, "model": self.model.state_dict(),
                "model_config": self.cfg.model.to_dict(), "optimizer": self.opt.state_dict(),
                "alphabet": self.codec.alphabet.to_string(), "config": self.cfg.to_dict(), "status": dict(self.status)}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.step, self.status = int(state["step"]), dict(state["status"])


def _save(path: Path, trainer: Trainer, batches: MixedBatches, collective: bool = True, partial: bool = False) -> None:
    mine = {"rng": capture_rng(), "data": batches.state_dict()}
    ranks = gather_objects(mine, trainer.dist) if collective else [mine]
    if trainer.dist.is_main:
        save_checkpoint(path, {**trainer.state_dict(), "data": [r["data"] for r in ranks],
                               "rng": [r["rng"] for r in ranks], "partial": partial})


def validate(trainer: Trainer, val: Shards, indices: list[int]) -> dict[str, float]:
    """Greedy CER/WER of the current model on ``val[indices]``."""
    _, refs, preds = predict(trainer.model, val, trainer.codec, indices, trainer.cfg.batch_size, device=trainer.dist.device)
    return scores(refs, preds)


def train(cfg: TrainConfig, resume: bool = False) -> dict:
    """Train (or, with ``resume``, continue) the run in ``cfg.out``; returns the final status
    (``best_cer``, ``best_step``, ``bad_evals``, ``step``, ``stopped``)."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    dist = init_distributed(cfg.device)
    run = Path(cfg.out)
    last, best = run / "last.pt", run / "best.pt"
    if last.exists() and not resume:
        raise FileExistsError(f"{run} already holds a run ({last}); pass --resume to continue it or choose another --out")
    state = load_checkpoint(last) if resume and last.exists() else None
    if resume and state is None:
        log.info("%s has no checkpoint yet: starting a new run", run)
    if not cfg.train or not cfg.val:
        raise RecognizerError("give at least one --train shard folder and a --val shard folder")

    datasets, weights, names = open_sources(cfg.train)
    alphabet = Alphabet.from_string(state["alphabet"]) if state else Alphabet("".join(d.alphabet.to_string() for d in datasets))
    codec = Codec(alphabet)
    val = Shards(cfg.val)
    unknown = sum(bool(alphabet.missing(t)) for t in val.texts())
    if unknown:
        log.warning("%d of %d validation texts hold characters the training data lacks; they count as errors",
                    unknown, len(val))
    g = torch.Generator().manual_seed(cfg.seed)
    val_indices = sorted(torch.randperm(len(val), generator=g)[: cfg.val_limit].tolist()) if cfg.val_limit else None

    seed_everything(cfg.seed)  # the same initial weights on every rank
    trainer = Trainer(cfg, codec, dist)
    seed_everything(cfg.seed, dist.rank)
    batches = MixedBatches(list(zip(datasets, weights)), alphabet, cfg.batch_size, cfg.seed, augment.build(cfg.augment),
                           dist.rank, dist.world, names)
    if state is not None:
        trainer.load_state_dict(state)
        if len(state["rng"]) == dist.world:
            restore_rng(state["rng"][dist.rank])
            batches.load_state_dict(state["data"][dist.rank])
        else:
            log.warning("checkpoint holds the state of %d process(es), this run has %d: reseeding and restarting "
                        "the data order", len(state["rng"]), dist.world)
            seed_everything(cfg.seed + 7919 * trainer.step, dist.rank)
            batches.batches = trainer.step
        log.info("resumed %s at step %d (best CER %.4f at step %d)", run, trainer.step,
                 trainer.status["best_cer"], trainer.status["best_step"])
    if dist.is_main:
        write_json_atomic(run / "config.json", cfg.to_dict())

    reporter = Reporter(run, enabled=dist.is_main)
    bar = tqdm(total=cfg.steps, initial=trainer.step, disable=not (dist.is_main and cfg.progress), dynamic_ncols=True)
    sums: dict[str, float] = {}
    tick, tick_step, in_update, stopped = time.perf_counter(), trainer.step, False, "steps"
    try:
        with StopRequest() as stop:
            while trainer.step < cfg.steps:
                batch = batches.next().to(dist.device)
                in_update = True
                metrics = trainer.train_step(batch)
                in_update = False
                for k, v in metrics.items():
                    sums[k] = sums.get(k, 0.0) + v
                bar.update(1)
                step = trainer.step
                if step % cfg.log_every == 0 or step == cfg.steps:
                    n, elapsed = step - tick_step, time.perf_counter() - tick
                    means = {k: v / n for k, v in sums.items()} | {"Data/dropped": sums.get("Data/dropped", 0.0)}
                    means["Speed/images_per_s"] = n * cfg.batch_size * dist.world / elapsed
                    reporter.scalars(step, means)
                    bar.set_postfix(loss=f"{means['Loss/ctc']:.3f}", best_cer=f"{trainer.status['best_cer']:.4f}")
                    sums, tick, tick_step = {}, time.perf_counter(), step
                early = False
                if step % cfg.val_every == 0 or step == cfg.steps:
                    improved = False
                    if dist.is_main:
                        result = validate(trainer, val, val_indices)
                        reporter.scalars(step, {f"Val/{k}": v for k, v in result.items()})
                        improved = result["cer"] < trainer.status["best_cer"]
                        if improved:
                            trainer.status.update(best_cer=result["cer"], best_step=step, bad_evals=0)
                        else:
                            trainer.status["bad_evals"] += 1
                        early = bool(cfg.patience) and trainer.status["bad_evals"] >= cfg.patience
                        tqdm.write(f"step {step}: val CER {result['cer']:.4f} WER {result['wer']:.4f}"
                                   f" (best {trainer.status['best_cer']:.4f} at step {trainer.status['best_step']})")
                    early = any_rank(early, dist)
                    _save(last, trainer, batches)
                    if any_rank(improved, dist):
                        _save(best, trainer, batches)
                stopping = any_rank(stop.signal is not None, dist)
                if stopping and step % cfg.val_every:
                    _save(last, trainer, batches)
                if early or stopping:
                    stopped = "patience" if early else "signal"
                    tqdm.write(f"stopped ({stopped}) at step {step}; checkpoint {last}"
                               + ("; continue with --resume" if stopping else ""))
                    break
    except NonFiniteLossError as e:
        log.error("%s. Training stopped; the last good checkpoint %s is left as it was.", e, last)
        raise
    except Exception:
        log.exception("training failed at step %d; saving a checkpoint to %s", trainer.step, last)
        _save(last, trainer, batches, collective=False, partial=in_update)
        raise
    finally:
        bar.close()
        reporter.close()
    result = {**trainer.status, "step": trainer.step, "stopped": stopped}
    if dist.is_main:
        log.info("done: %s", json.dumps(result))
    return result
