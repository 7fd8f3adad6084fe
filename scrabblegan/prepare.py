"""`scrabblegan prepare`: read a labelled handwriting source into shard folders (optionally split)."""
from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from tqdm import tqdm

import hwdatasets
from hwdatasets.readers import SkipLog, list_items, load_sample
from hwdatasets.atomic import write_json_atomic
from hwdatasets.shards import MANIFEST, read_manifest
from hwdatasets.splits import SPLITS, load_split_file, parse_fractions, split_writers

LICENSES = {
    "dhsd": ("CC BY 4.0", "DHSD (Deutscher Handschriften-Datensatz) by N. Riaz, S. Saifullah, S. Agne, A. Dengel, S. Ahmed (DFKI/RPTU), CC BY 4.0"),
    "poilus": ("CC BY 4.0", "CREMMA-AN-TestamentDePoilus by A. Chagué, T. Clérice, A. Mazoue, E. Van Kote (HTR-United), CC BY 4.0"),
}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "prepare",
        help="read labelled handwriting (iam, csv, alto, page, folder) into HDF5 shards",
        description="Read a labelled handwriting source, normalise every image to gray ink on white at a fixed "
        "height, and write HDF5 shard folders. With --split, OUT gets writer-disjoint train/, val/ and test/. "
        "An interrupted run resumes when started again with the same arguments.",
    )
    p.add_argument("format", choices=hwdatasets.FORMATS, help="input format")
    p.add_argument("input", type=Path, help="CSV / words.txt / labels.tsv file, or a folder of ALTO/PAGE XML or images")
    p.add_argument("--out", type=Path, required=True, help="output shard folder")
    p.add_argument("--height", type=positive_int, default=32, help="image height in pixels (default 32)")
    p.add_argument("--no-trim", dest="trim", action="store_false", help="keep empty paper margins")
    p.add_argument("--invert", choices=("auto", "never", "always"), default="auto", help="light-on-dark handling")
    split = p.add_mutually_exclusive_group()
    split.add_argument("--split", metavar="VAL,TEST", help="writer fractions for val and test, e.g. 0.1,0.1")
    split.add_argument("--split-file", type=Path, help="JSON writer lists {\"val\": [..], \"test\": [..]} instead of --split")
    p.add_argument("--seed", type=int, default=0, help="seed of the writer split (default 0)")
    p.add_argument("--shard-size", type=positive_int, default=5000, help="samples per shard file (default 5000)")
    p.add_argument("--skip-err", action="store_true", help="iam: keep only rows whose segmentation flag is ok")
    p.add_argument("--image-column", default="file_name", help="csv: image path column (default file_name)")
    p.add_argument("--text-column", default="text", help="csv: text column (default text)")
    p.add_argument("--writer-column", default="writer_id", help="csv: writer column (default writer_id)")
    p.add_argument("--writer-rule", default=hwdatasets.readers.xml_lines.DEFAULT_WRITER_RULE,
                   help="alto/page: regex on the page file stem whose first group is the writer id "
                   "(default: the stem up to its last '-')")
    p.add_argument("--license", default=None, help="licence of the source data, stored in every shard")
    p.add_argument("--attribution", default=None, help="credit line of the source data, stored in every shard")
    p.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(func=run)


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1 (a bad value is a usage error, exit code 2, not a traceback)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _reader_options(args: argparse.Namespace) -> dict:
    if args.format == "iam":
        return {"skip_err": args.skip_err}
    if args.format == "csv":
        return {"image_column": args.image_column, "text_column": args.text_column, "writer_column": args.writer_column}
    if args.format in ("alto", "page"):
        return {"writer_rule": args.writer_rule}
    return {}


def _guess_license(path: Path) -> tuple[str, str]:
    text = str(path.resolve()).lower()
    for key, value in LICENSES.items():
        if key in text:
            return value
    return ("unknown", "")


def write_split(items, out: Path, args, fingerprint: dict, normalizer, skips: SkipLog, attrs: dict) -> dict:
    """Write one shard folder from raw items, resuming a previous unfinished run; return its manifest."""
    if (out / MANIFEST).exists():
        manifest = read_manifest(out)
        if manifest.get("fingerprint") == fingerprint:  # finished by an earlier run with the same arguments
            skips.merge(SkipLog.from_dict(manifest.get("skipped")))
            return manifest
        raise hwdatasets.ShardError(f"{out} already holds shards made with other arguments; choose another --out or delete it.")
    writer = hwdatasets.ShardWriter(out, args.shard_size, args.height, fingerprint=fingerprint, **attrs)
    state = writer.resume_state or {"consumed": 0, "skipped": None}
    split_skips = SkipLog.from_dict(state["skipped"])
    start = state["consumed"]
    bar = tqdm(total=len(items), initial=start, desc=f"prepare {out.name}", unit="img", disable=not args.progress)
    for i in range(start, len(items)):
        sample = load_sample(items[i], normalizer, split_skips)
        bar.update(1)
        if sample is not None:
            writer.add(sample, state={"consumed": i + 1, "skipped": split_skips.to_dict()})
    bar.close()
    skips.merge(split_skips)
    return writer.close(extra={"fingerprint": fingerprint, "skipped": split_skips.to_dict()})


def run(args: argparse.Namespace) -> int:
    license, attribution = _guess_license(args.input)
    attrs = dict(
        source=f"{args.format}:{args.input.resolve()}",
        license=args.license or license,
        attribution=args.attribution if args.attribution is not None else attribution,
        provenance={"tool": "scrabblegan prepare", "version": hwdatasets.__version__},
    )
    items, skips = list_items(args.format, args.input, **_reader_options(args))
    normalizer = hwdatasets.Normalizer(args.height, args.trim, args.invert)
    fingerprint = {k: str(v) for k, v in sorted(vars(args).items()) if k not in ("func", "progress", "out")}
    fingerprint["input"] = str(args.input.resolve())
    if not (args.split or args.split_file):
        manifests = {"all": write_split(items, args.out, args, fingerprint, normalizer, skips, attrs)}
    else:
        writers = [it.writer for it in items]
        if args.split_file:
            sides = load_split_file(args.split_file, writers)
        else:
            val, test = parse_fractions(args.split)
            sides = split_writers(writers, val, test, args.seed)
        args.out.mkdir(parents=True, exist_ok=True)
        splits_path = args.out / "splits.json"
        if splits_path.exists() and json.loads(splits_path.read_text(encoding="utf-8")) != sides:
            raise hwdatasets.ShardError(f"{splits_path} holds other writer lists; choose another --out or delete it.")
        write_json_atomic(splits_path, sides)
        side_of = {w: side for side in SPLITS for w in sides[side]}
        left_out = Counter(it.writer for it in items if it.writer not in side_of)
        for w, n in left_out.items():
            skips.add("writer in no split", f"{w} ({n} samples)")
        manifests = {}
        for side in SPLITS:
            side_items = [it for it in items if side_of.get(it.writer) == side]
            manifests[side] = write_split(side_items, args.out / side, args, {**fingerprint, "side": side}, normalizer, skips, attrs)
    _summary(manifests, skips)
    return 0


def _summary(manifests: dict, skips: SkipLog) -> None:
    total = sum(m["count"] for m in manifests.values())
    alphabet = hwdatasets.Alphabet("".join(m["alphabet"] for m in manifests.values()))
    lines = [f"written: {total} samples"]
    for side, m in manifests.items():
        lines.append(f"  {side}: {m['count']} samples, {m['writers']} writers, {len(m['shards'])} shard(s)")
    lines.append(f"alphabet: {len(alphabet)} characters {alphabet.to_string()!r}")
    lines.append(skips.summary())
    tqdm.write("\n".join(lines))
