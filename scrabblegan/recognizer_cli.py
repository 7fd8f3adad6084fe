"""``scrabblegan recognizer train|evaluate|transcribe``: the downstream CTC recognizer (CRNN).

    scrabblegan recognizer train --train real/ --train synth/:0.5 --val val/ --out RUN [--augment light]
    scrabblegan recognizer evaluate --model RUN/best.pt --data test/ [--decoder greedy|beam|lexicon]
    scrabblegan recognizer transcribe --model RUN/best.pt word1.png word2.png
    torchrun --nproc_per_node 2 -m scrabblegan.recognizer_cli train ...   (DistributedDataParallel)
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

import augment
from hwdatasets import Shards
from hwdatasets.atomic import atomic_file
from recognizer.checkpoint import load_checkpoint
from recognizer.decoders import DECODERS
from recognizer.distributed import resolve_device, shutdown_distributed
from recognizer.evaluate import (RecognizerError, load_image, load_lexicon_trie, load_recognizer, predict, scores,
                                 transcribe)
from recognizer.train import NonFiniteLossError, TrainConfig, train

from .prepare import positive_int

log = logging.getLogger(__name__)

# (flag, TrainConfig field, type, help). Defaults are "not given", so a resumed run keeps its
# saved settings unless a flag overrides them.
_FLAGS = [
    ("--steps", "steps", positive_int, "total optimizer updates (default 20000)"),
    ("--batch-size", "batch_size", positive_int, "images per batch and process (default 32)"),
    ("--lr", "lr", float, "Adam learning rate, cosine-decayed to a tenth (default 1e-3)"),
    ("--augment", "augment", str, "augmentation: none, light, heavy or a JSON config file (default none)"),
    ("--seed", "seed", int, "seed of every RNG, the data mix and the augmentation (default 0)"),
    ("--val-every", "val_every", positive_int, "validate and checkpoint every N steps (default 500)"),
    ("--val-limit", "val_limit", int, "validate on a fixed random subset of N samples (default 0: all)"),
    ("--patience", "patience", int, "stop after N validations without a better CER (default 10; 0: never)"),
    ("--log-every", "log_every", positive_int, "report training metrics every N steps (default 20)"),
    ("--device", "device", str, "auto, cpu or cuda (default auto)"),
    ("--threads", "threads", int, "torch CPU threads (default 0: torch's choice; 1 is often faster on a busy CPU)"),
]
_MODEL_FLAGS = [
    ("--base", "base", positive_int, "conv trunk channel base (default 32)"),
    ("--hidden", "hidden", positive_int, "LSTM hidden size per direction (default 128)"),
    ("--layers", "layers", positive_int, "BiLSTM layers (default 2)"),
    ("--dropout", "dropout", float, "dropout (default 0.2)"),
]


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``recognizer`` with its sub-commands ``train``, ``evaluate`` and ``transcribe``."""
    group = subparsers.add_parser("recognizer", help="train, evaluate and run the downstream CTC recognizer (CRNN)",
                                  description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = group.add_subparsers(dest="recognizer_command", required=True, metavar="SUBCOMMAND")
    add_train_parser(sub)

    p = sub.add_parser("evaluate", help="CER/WER of a recognizer on a shard folder, as JSON")
    p.add_argument("--model", required=True, type=Path, help="recognizer checkpoint (RUN/best.pt)")
    p.add_argument("--data", required=True, type=Path, nargs="+", help="shard folder(s) to evaluate on")
    _decoder_args(p)
    p.add_argument("--errors", type=Path, help="write every misrecognised sample here (JSONL: id, reference, prediction)")
    p.add_argument("--batch-size", type=positive_int, default=32, help="images per forward pass (default 32)")
    p.set_defaults(func=run_evaluate)

    p = sub.add_parser("transcribe", help="print the text of image files, one line per image: PATH<TAB>TEXT")
    p.add_argument("--model", required=True, type=Path, help="recognizer checkpoint (RUN/best.pt)")
    p.add_argument("images", type=Path, nargs="+", help="word or line images (any format Pillow reads)")
    _decoder_args(p)
    p.set_defaults(func=run_transcribe)


def _decoder_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--decoder", choices=DECODERS, default="greedy", help="CTC decoder (default greedy)")
    p.add_argument("--lexicon", type=Path, help="word list (UTF-8, one entry per line) for --decoder lexicon")
    p.add_argument("--device", default="cpu", help="auto, cpu or cuda (default cpu)")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default 0: torch's choice)")


def add_train_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    from recognizer import train as train_module

    p = sub.add_parser("train", help="train the CRNN on shard folders mixed by weight", description=train_module.__doc__,
                       formatter_class=argparse.RawDescriptionHelpFormatter, argument_default=argparse.SUPPRESS)
    p.add_argument("--train", dest="train", action="append", metavar="DIR[:WEIGHT]",
                   help="training shard folder, optionally with a mixing weight (repeatable; default weight 1)")
    p.add_argument("--val", dest="val", action="append", metavar="DIR", help="validation shard folder (repeatable)")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from last.pt")
    p.add_argument("--dry-run", action="store_true", help="print the resolved configuration and exit")
    p.add_argument("--no-progress", action="store_false", dest="progress", help="no tqdm bar")
    for flag, name, kind, help_ in _FLAGS + _MODEL_FLAGS:
        p.add_argument(flag, dest=name, type=kind, help=help_)
    p.set_defaults(func=run_train)
    return p


def resolve_config(args: argparse.Namespace) -> TrainConfig:
    """Defaults < the checkpoint's config (with --resume) < flags; model flags only for a new run."""
    given = vars(args)
    last = Path(args.out) / "last.pt"
    resuming = given.get("resume") and last.exists()
    if last.exists() and not given.get("resume"):
        raise RecognizerError(f"{args.out} already holds a run ({last}); pass --resume to continue it or choose "
                              "another --out")
    cfg = TrainConfig.from_dict(load_checkpoint(last)["config"]) if resuming else TrainConfig()
    cfg.out = args.out
    for field in ("train", "val", "progress", *(f for _, f, _, _ in _FLAGS)):
        if field in given:
            setattr(cfg, field, given[field])
    for _, field, _, _ in _MODEL_FLAGS:
        if field in given:
            if resuming and given[field] != getattr(cfg.model, field):
                raise RecognizerError(f"--{field} {given[field]} differs from the run's {getattr(cfg.model, field)}; "
                                 "the model of a resumed run cannot change")
            setattr(cfg.model, field, given[field])
    augment.build(cfg.augment)  # fail now, not after loading the data
    return cfg


def run_train(args: argparse.Namespace) -> int:
    cfg = resolve_config(args)
    if getattr(args, "dry_run", False):
        sys.stdout.write(json.dumps(cfg.to_dict(), indent=2, ensure_ascii=False) + "\n")
        return 0
    if not cfg.train or not cfg.val:
        print("error: give at least one --train DIR[:WEIGHT] and a --val DIR", file=sys.stderr)
        return 2
    try:
        train(cfg, resume=getattr(args, "resume", False))
    except NonFiniteLossError:
        return 1
    finally:
        shutdown_distributed()
    return 0


def _load(args: argparse.Namespace):
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    model, codec, _ = load_recognizer(args.model, device)
    lexicon = None
    if args.decoder == "lexicon":
        if args.lexicon is None:
            raise RecognizerError("--decoder lexicon needs --lexicon FILE (one word or phrase per line)")
        lexicon = load_lexicon_trie(args.lexicon, codec)
    elif args.lexicon is not None:
        log.warning("--lexicon is only used by --decoder lexicon; ignoring it")
    return model, codec, lexicon, device


def run_evaluate(args: argparse.Namespace) -> int:
    model, codec, lexicon, device = _load(args)
    data = Shards(args.data)
    ids, refs, preds = predict(model, data, codec, None, args.batch_size, args.decoder, lexicon, device)
    result = {**scores(refs, preds), "count": len(refs), "decoder": args.decoder,
              "model": str(args.model), "data": [str(d) for d in args.data]}
    if args.errors:
        with atomic_file(args.errors, "w", encoding="utf-8") as f:
            for i, r, p in zip(ids, refs, preds):
                if r != p:
                    f.write(json.dumps({"id": i, "reference": r, "prediction": p}, ensure_ascii=False) + "\n")
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return 0


def run_transcribe(args: argparse.Namespace) -> int:
    model, codec, lexicon, device = _load(args)
    images = [load_image(p) for p in args.images]
    for path, text in zip(args.images, transcribe(model, codec, images, args.decoder, lexicon, device)):
        sys.stdout.write(f"{path}\t{text}\n")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m scrabblegan.recognizer_cli train ...`` (for torchrun): the ``recognizer`` sub-commands."""
    from scrabblegan.cli import main as cli_main

    return cli_main(["recognizer", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
