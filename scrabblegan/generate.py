"""`scrabblegan generate`: every word of a lexicon in N handwriting styles, into HDF5 shards or PNGs.

    scrabblegan generate --lexicon words.txt --styles 50 --out synth/ --checkpoint RUN/checkpoints/last.pt

Properties (each has a test in ``tests/scrabblegan/test_generate.py``):

- Deterministic: an image depends only on its (word, style vector) and the device, never on the
  batch size, the split into workers or a resume (:mod:`scrabblegan.inference`).
- Streaming: the lexicon is read lazily in windows (:mod:`scrabblegan.workplan`); memory does not
  grow with its length.
- Resumable: killed at any point, the same command continues after the last finished shard.
- Parallel: under ``torchrun --nproc_per_node N`` the ranks split the work (item k goes to rank
  k % N), write ``partIofN-`` shards, and rank 0 writes the one manifest after a barrier. On a
  cluster without torchrun, start ``--num-workers N --worker-index I`` for I = 0..N-1 with the same
  arguments; the last worker to finish writes the manifest (or rerun any of them once all are
  done: a rerun of a finished worker only checks and gathers).
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import torch
from tqdm import tqdm

import hwdatasets
from hwdatasets import Sample, ShardWriter
from hwdatasets.atomic import write_json_atomic
from hwdatasets.shards import read_manifest, sha256_file
from recognizer.codec import Codec
from scrabblegan import __version__
from scrabblegan.checkpoint import generator_from_state, load_checkpoint
from scrabblegan.config import HEIGHT, RunConfig
from recognizer.distributed import init_distributed, resolve_device, shutdown_distributed
from scrabblegan.generator import Generator
from scrabblegan.inference import StyledGenerator, to_uint8_batch
from scrabblegan.outputs import PngWriter, finalize, finished_marker, part_prefix
from scrabblegan.styles import StyleBank, StyleBankError, draw_bank
from scrabblegan.workplan import WINDOW, plan_batches, scan_lexicon, worker_share

log = logging.getLogger(__name__)
BANK_FILE = "styles.pt"
CONFIG_FILE = "config.json"


class GenerateError(ValueError):
    """Arguments or inputs ``generate``/``sample`` cannot work with; the message says what to do."""


def default_checkpoint() -> Path | None:
    """The generator model bundled with the package; ``None`` until a release model ships."""
    return None


def resolve_checkpoint(path: str | Path | None) -> Path:
    """``--checkpoint`` or the bundled model, with a clear error when there is neither."""
    path = Path(path) if path else default_checkpoint()
    if path is None:
        raise GenerateError("a checkpoint is needed: this version ships no bundled model yet. Train one with "
                            "`scrabblegan train` and pass --checkpoint RUN/checkpoints/last.pt.")
    if not path.is_file():
        raise GenerateError(f"{path}: checkpoint not found.")
    return path


def load_generator(path: Path) -> tuple[Generator, Codec, RunConfig, int]:
    """G with the EMA weights (eval mode), codec, config and step of a training checkpoint or a
    release model (anything with ``G_ema``, ``config`` and ``alphabet``), read with weights_only."""
    try:
        state = load_checkpoint(path)
        G, codec, cfg = generator_from_state(state)
    except (KeyError, RuntimeError, ValueError, EOFError) as e:
        raise GenerateError(f"{path}: not a usable ScrabbleGAN checkpoint ({type(e).__name__}: {e}).") from None
    return G, codec, cfg, int(state.get("step", 0))


def resolve_bank(args: argparse.Namespace, z_dim: int) -> StyleBank:
    """The style bank of this run: drawn from --seed/--truncation, or read from --style-bank."""
    if args.style_bank is None:
        if args.styles is None:
            raise GenerateError("give --styles N (how many handwriting styles) or --style-bank FILE")
        return draw_bank(args.styles, z_dim, 0 if args.seed is None else args.seed, args.truncation)
    if args.seed is not None or args.truncation is not None:
        raise GenerateError("--seed and --truncation choose a new style bank; they cannot change the one from --style-bank")
    bank = StyleBank.load(args.style_bank, z_dim)
    if args.styles is not None:
        if args.styles > len(bank):
            raise GenerateError(f"--styles {args.styles} but {args.style_bank} holds only {len(bank)} styles")
        bank = StyleBank(bank.z[: args.styles], bank.seed, bank.truncation)
    return bank


def _training_credit(cfg: RunConfig) -> tuple[str, str]:
    """Licence and credit of the data the checkpoint was trained on, from its shard manifests if readable."""
    licenses, credits = set(), set()
    for folder in cfg.train.data:
        try:
            m = read_manifest(folder)
        except hwdatasets.ShardError:
            continue
        licenses.add(m.get("license") or "unknown")
        if m.get("attribution"):
            credits.add(m["attribution"])
    if not licenses:
        return "unknown (synthetic; see the checkpoint's training data)", ""
    return ("synthetic, from a model trained on data licensed " + ", ".join(sorted(licenses)),
            "; ".join(sorted(credits)))


def run(args: argparse.Namespace) -> int:
    t0 = time.perf_counter()
    if args.batch_size < 1 or args.shard_size < 1 or args.num_workers < 1:
        raise GenerateError("--batch-size, --shard-size and --num-workers must be at least 1")
    dist = init_distributed(args.device) if "WORLD_SIZE" in os.environ else None
    rank, world = (dist.rank, dist.world) if dist else (args.worker_index, args.num_workers)
    if not 0 <= rank < world:
        raise GenerateError(f"--worker-index must be in 0 .. {world - 1}")
    device = dist.device if dist else _device(args.device)
    if dist and dist.enabled and device.type == "cpu":  # share the cores instead of oversubscribing them
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // int(os.environ.get("LOCAL_WORLD_SIZE", dist.world))))
    ckpt = resolve_checkpoint(args.checkpoint)
    G, codec, cfg, step = load_generator(ckpt)
    lexicon = scan_lexicon(args.lexicon, codec.alphabet, args.on_unknown, args.on_too_long, args.max_length)
    bank = resolve_bank(args, G.z_dim)
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    bank_path = out / BANK_FILE
    if bank_path.exists() and StyleBank.load(bank_path).sha256() != bank.sha256():
        raise StyleBankError(f"{bank_path} holds other styles than this run; choose another --out or delete it.")
    if not bank_path.exists():
        bank.save(bank_path)
    ckpt_sha = sha256_file(ckpt)
    job = dict(lexicon_sha256=lexicon.sha256, checkpoint_sha256=ckpt_sha, style_bank_sha256=bank.sha256(),
               styles=len(bank), on_unknown=args.on_unknown, on_too_long=args.on_too_long, max_length=args.max_length,
               shard_size=args.shard_size, format=args.format, device=device.type, window=WINDOW, workers=world)
    provenance = dict(tool="scrabblegan generate", version=__version__, checkpoint=str(ckpt.resolve()),
                      checkpoint_sha256=ckpt_sha, checkpoint_step=step, preset=cfg.model.preset, seed=bank.seed,
                      truncation=bank.truncation, styles=len(bank), style_bank_sha256=bank.sha256(), device=device.type)
    license, attribution = _training_credit(cfg)
    attrs = dict(source=f"scrabblegan generate:{ckpt.name}", license=license, attribution=attribution, provenance=provenance)
    total = lexicon.words * len(bank)
    config = dict(args={k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items() if k != "func"},
                  lexicon=str(args.lexicon.resolve()), valid_words=lexicon.words, samples=total, job=job,
                  provenance=provenance, style_bank=str(bank_path))
    marker = finished_marker(out, args.format)
    if marker.exists():
        return _already_done(out, config, marker)
    write_json_atomic(out / CONFIG_FILE, config)

    fingerprint = {**job, "worker_index": rank}
    prefix = part_prefix(rank, world)
    if args.format == "hdf5":
        writer = ShardWriter(out, args.shard_size, HEIGHT, fingerprint=fingerprint, name_prefix=prefix,
                             write_manifest=False, **attrs)
    else:
        writer = PngWriter(out, args.shard_size, fingerprint, prefix)
    mine = worker_share(0, total, rank, world)
    done = writer.count
    made = _generate(writer, lexicon, bank, StyledGenerator(G, device, args.channels_last), codec, args, rank, world, done, mine)
    writer.close()
    if dist and dist.enabled:
        torch.distributed.barrier()
    extra = dict(fingerprint=job, lexicon=config["lexicon"], valid_words=lexicon.words, styles=len(bank),
                 skipped=dict(unknown=lexicon.report.unknown, too_long=lexicon.report.too_long,
                              duplicates=lexicon.duplicates, blank_lines=lexicon.report.blank_lines))
    manifest = None
    if rank == 0 or not dist:
        expected = [(part_prefix(r, world), worker_share(0, total, r, world), {**job, "worker_index": r}) for r in range(world)]
        manifest = finalize(out, args.format, expected, HEIGHT, attrs, extra)
    if dist:
        shutdown_distributed()
    _summary(out, args, lexicon, len(bank), made, mine, manifest, time.perf_counter() - t0, rank, world)
    return 0


def _device(name: str) -> torch.device:
    """``--device`` resolved (auto: CUDA when available), a clear error when CUDA is asked for but absent."""
    try:
        return resolve_device(name)
    except RuntimeError as e:
        raise GenerateError(str(e)) from None


def _generate(writer, lexicon, bank: StyleBank, net: StyledGenerator, codec: Codec, args, rank: int, world: int,
              done: int, mine: int) -> int:
    """Make this worker's images from item ``done`` on and hand them to ``writer``; return how many."""
    bar = tqdm(total=mine, initial=done, unit="img", desc=f"generate {args.out.name}" + (f" [{rank}/{world}]" if world > 1 else ""),
               disable=not args.progress, dynamic_ncols=True, smoothing=0.05)
    table_style, table = None, None
    made = 0
    for batch in plan_batches(lexicon, len(bank), args.batch_size, rank, world, skip=done):
        if batch.style != table_style:
            table_style, table = batch.style, net.style_table(bank.z[batch.style])
        labels, _ = codec.encode_padded([w for _, w in batch.words])  # one length: no padding
        images = to_uint8_batch(net(table, labels))  # [n, 32, 16 L]
        for (index, word), image in zip(batch.words, images):
            done += 1
            writer.add(Sample(image, word, f"style-{batch.style}", f"w{index:08d}-s{batch.style:04d}", batch.style),
                       state={"done": done})
        made += len(batch.words)
        bar.update(len(batch.words))
    bar.close()
    return made


def _already_done(out: Path, config: dict, marker: Path) -> int:
    previous = json.loads((out / CONFIG_FILE).read_text(encoding="utf-8")) if (out / CONFIG_FILE).exists() else {}
    if previous.get("job") != json.loads(json.dumps(config["job"])):
        raise GenerateError(f"{out} already holds a finished generation made with other arguments; "
                            "choose another --out or delete it.")
    print(f"{out}: already complete ({marker.name} exists); nothing to do.")
    return 0


def _summary(out: Path, args, lexicon, styles: int, made: int, mine: int, manifest, seconds: float, rank: int, world: int) -> None:
    r = lexicon.report
    lines = [f"generated {made} images in {seconds:.1f} s ({made / max(seconds, 1e-9):.1f} images/s)"
             + (f" as worker {rank} of {world} ({mine} items)" if world > 1 else "")]
    lines.append(f"lexicon: {lexicon.words} words x {styles} styles = {lexicon.words * styles} samples; skipped: "
                 f"{r.unknown} with unknown characters, {r.too_long} too long, {lexicon.duplicates} duplicates, "
                 f"{r.blank_lines} blank lines")
    if manifest is not None:
        what = "manifest.json" if args.format == "hdf5" else "labels.tsv"
        lines.append(f"complete: {manifest['count']} samples in {out} ({what}); style bank {out / BANK_FILE}")
    elif world > 1:
        lines.append(f"worker {rank} finished; the last worker to finish writes the manifest "
                     "(or rerun any worker with the same arguments once all have finished)")
    print("\n".join(lines))


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "generate", help="write every word of a lexicon in N handwriting styles into HDF5 shards (or PNGs)",
        description="Write every valid word of --lexicon in each of --styles N styles with a trained generator. "
        "Deterministic (images do not depend on batch size, workers or resumes), streaming, resumable (run the "
        "same command again), parallel (torchrun, or --num-workers/--worker-index).")
    p.add_argument("--lexicon", type=Path, required=True, help="UTF-8 word list, one word (or phrase) per line")
    p.add_argument("--styles", type=int, help="number of styles (writers); with --style-bank: the first N of it")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--checkpoint", type=Path, help="training checkpoint or release model (default: the bundled model)")
    p.add_argument("--seed", type=int, help="seed of the style bank (default 0)")
    p.add_argument("--truncation", type=float, help="redraw style entries with |z| > T (quality vs. diversity)")
    p.add_argument("--style-bank", type=Path, help="reuse the styles.pt of an earlier run instead of drawing new ones")
    p.add_argument("--batch-size", type=int, default=64, help="images per generator call (default 64); no effect on the images")
    p.add_argument("--shard-size", type=int, default=5000, help="samples per shard (or PNG part) (default 5000)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default auto: CUDA if available")
    p.add_argument("--format", default="hdf5", choices=("hdf5", "png"), help="hdf5 shards, or PNG files + labels.tsv")
    p.add_argument("--on-unknown", default="error", choices=("error", "skip"), help="words with characters the model lacks")
    p.add_argument("--max-length", type=int, help="longest word in characters (default: no limit)")
    p.add_argument("--on-too-long", default="error", choices=("error", "skip"), help="words longer than --max-length")
    p.add_argument("--num-workers", type=int, default=1, help="number of parallel workers without torchrun (default 1)")
    p.add_argument("--worker-index", type=int, default=0, help="this worker's index, 0 .. num-workers - 1")
    p.add_argument("--no-channels-last", dest="channels_last", action="store_false", help="contiguous convolutions")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(func=run)
