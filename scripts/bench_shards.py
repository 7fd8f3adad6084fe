"""Random-access read throughput of HDF5 shards against decoding the original PNG files.

    python scripts/bench_shards.py [DATA] [--n 2000] [--repeats 5] [--seed 0]

DATA is the shared data folder (default: ../shared/data beside the repository); the benchmark
reads DHSD (dhsd/data.csv, 4,873 RGBA 256 x 64 PNG word images). In one run it:

  1. prepares the whole of DHSD into shards in a temporary folder (the Python API that
     ``scrabblegan prepare csv`` uses: gray, margins trimmed, height 32);
  2. picks ``--n`` samples in a random order (seeded), and times reading exactly those samples in
     exactly that order three ways, interleaved within each repeat:
       * shards:       ``Shards(folder)[i]`` (a fresh dataset per repeat, so opening is included);
       * png+normalise: the sample's original PNG decoded and normalised the same way
                        (``Normalizer(32)(Image.open(p))``: composite on white, trim, resize);
       * png decode:    ``np.asarray(Image.open(p))`` only, no normalisation (a lower bound);
  3. reports samples/s per way (median over repeats) and the ratio shards / png.

One untimed pass over every file first puts both the shards and the PNG files in the OS page
cache, so the comparison is decode work against decode work, not disk against disk.
Writes scripts/results/bench_shards.json.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import h5py
import numpy as np
import PIL
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hwdatasets import Normalizer, Shards, ShardWriter  # noqa: E402
from hwdatasets.readers import list_items, load_sample  # noqa: E402


def machine_info() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_at_start": [round(v, 2) for v in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "h5py": h5py.__version__,
        "hdf5": h5py.version.hdf5_version,
        "pillow": PIL.__version__,
        "platform": platform.platform(),
    }


def prepare(csv_path: Path, out: Path, shard_size: int) -> tuple[float, int]:
    items, skips = list_items("csv", csv_path)
    normalizer = Normalizer(height=32)
    t0 = time.perf_counter()
    with ShardWriter(out, shard_size=shard_size, height=32, source=f"csv:{csv_path}") as w:
        for item in items:
            sample = load_sample(item, normalizer, skips)
            if sample is not None:
                w.add(sample)
    return time.perf_counter() - t0, skips.total


def read_shards(folder: Path, order: list[int]) -> int:
    ds = Shards(folder)
    total = 0
    for i in order:
        total += ds[i].image.shape[1]
    ds.close()
    return total


def read_png_normalised(paths: list[Path], normalizer: Normalizer) -> int:
    total = 0
    for p in paths:
        with Image.open(p) as im:
            total += normalizer(im).shape[1]
    return total


def read_png_plain(paths: list[Path]) -> int:
    total = 0
    for p in paths:
        total += np.asarray(Image.open(p)).shape[1]
    return total


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("data", nargs="?", type=Path, default=REPO.parent / "shared" / "data",
                    help="shared data folder holding dhsd/ (default ../shared/data)")
    ap.add_argument("--n", type=int, default=2000, help="samples read per way and repeat (default 2000)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repeats (default 5)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random order (default 0)")
    ap.add_argument("--shard-size", type=int, default=5000, help="samples per shard file (default 5000, as prepare)")
    ap.add_argument("--out", type=Path, default=REPO / "scripts" / "results" / "bench_shards.json")
    args = ap.parse_args(argv)

    csv_path = args.data / "dhsd" / "data.csv"
    if not csv_path.is_file():
        ap.error(f"{csv_path} not found; give the shared data folder as DATA")
    info = machine_info()
    with tempfile.TemporaryDirectory(prefix="bench_shards_") as tmp:
        folder = Path(tmp) / "dhsd"
        prep_s, skipped = prepare(csv_path, folder, args.shard_size)
        ds = Shards(folder)
        ids = [ds[i].id for i in range(len(ds))]  # DHSD sample ids are the image paths relative to the CSV
        ds.close()
        order = random.Random(args.seed).sample(range(len(ids)), min(args.n, len(ids)))
        paths = [csv_path.parent / ids[i] for i in order]
        normalizer = Normalizer(height=32)

        for p in folder.iterdir():  # warm the page cache for both sides
            p.read_bytes()
        for p in csv_path.parent.joinpath("german_hw_data").rglob("*.png"):
            p.read_bytes()
        read_shards(folder, order[:200])
        read_png_normalised(paths[:200], normalizer)

        ways = {
            "shards": lambda: read_shards(folder, order),
            "png_normalised": lambda: read_png_normalised(paths, normalizer),
            "png_decode": lambda: read_png_plain(paths),
        }
        raw: dict[str, list[float]] = {k: [] for k in ways}
        checks: dict[str, int] = {}
        for _ in range(args.repeats):
            for name, fn in ways.items():
                t0 = time.perf_counter()
                checks[name] = fn()
                raw[name].append(len(order) / (time.perf_counter() - t0))
        assert checks["shards"] == checks["png_normalised"], "shards and PNG files disagree on the images' widths"

    med = {k: round(statistics.median(v), 1) for k, v in raw.items()}
    result = {
        "command": "python " + " ".join([str(Path(sys.argv[0]))] + (argv if argv is not None else sys.argv[1:])),
        "machine": info,
        "dataset": {"csv": str(csv_path), "samples": len(ids), "skipped": skipped, "height": 32,
                    "shard_size": args.shard_size, "prepare_s": round(prep_s, 2)},
        "n_samples_read": len(order),
        "repeats": args.repeats,
        "order": f"random permutation of {len(order)} of the {len(ids)} samples, seed {args.seed}, same for every way",
        "median_samples_per_s": med,
        "raw_samples_per_s": {k: [round(x, 1) for x in v] for k, v in raw.items()},
        "ratio_shards_vs_png_normalised": round(med["shards"] / med["png_normalised"], 2),
        "ratio_shards_vs_png_decode": round(med["shards"] / med["png_decode"], 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("median_samples_per_s", "ratio_shards_vs_png_normalised",
                                             "ratio_shards_vs_png_decode")}, indent=2))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
