"""Where ``generate`` writes: HDF5 shards or PNG parts, per worker, and the final gathering step.

Every worker (the only one of a single-process run, or rank i of a parallel run) writes its own
parts with a name prefix (``""`` alone, ``part1of4-`` in parallel) and a ``<prefix>.progress.json``
that records its finished parts and a fingerprint of the job. Nothing is listed in a manifest
until :func:`finalize` finds every worker's progress complete; it then writes

- ``hdf5``: ``manifest.json`` over all workers' shards (rank order), as ``prepare`` does;
- ``png``:  ``labels.tsv`` (``path<TAB>text<TAB>writer``) over all parts, which the ``folder``
  reader of ``scrabblegan prepare`` accepts,

and removes the progress files. Both are written atomically, so a folder with a manifest (or
labels.tsv) is a finished one.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from PIL import Image

from hwdatasets import Sample, ShardError
from hwdatasets.atomic import write_json_atomic
from hwdatasets.shards import MANIFEST, PROGRESS, build_manifest, sha256_file

LABELS = "labels.tsv"


def part_prefix(rank: int, world: int) -> str:
    """File name prefix of one worker's parts: ``""`` for a single process, ``part{i}of{n}-`` else."""
    return "" if world == 1 else f"part{rank}of{world}-"


def finished_marker(out: Path, fmt: str) -> Path:
    """The file whose presence means the job in ``out`` is complete."""
    return out / (MANIFEST if fmt == "hdf5" else LABELS)


class PngWriter:
    """The :class:`hwdatasets.ShardWriter` interface for a folder of PNG files.

    Part ``i`` is a folder ``images/<prefix>part-0000i/`` of PNGs plus ``<prefix>labels-0000i.tsv``
    with its rows; a part is written to temporary names and renamed, then recorded in the progress
    file, so a rerun redoes at most the unfinished part. Arguments as for ShardWriter.
    """

    def __init__(self, out_dir: str | Path, shard_size: int, fingerprint: dict[str, Any], name_prefix: str = ""):
        self.out_dir, self.shard_size, self.name_prefix = Path(out_dir), shard_size, name_prefix
        self.fingerprint = json.loads(json.dumps(fingerprint))
        (self.out_dir / "images").mkdir(parents=True, exist_ok=True)
        self._progress_path = self.out_dir / f"{name_prefix}{PROGRESS}"
        self._buffer: list[Sample] = []
        self.shards: list[dict[str, Any]] = []
        self.resume_state: Any = None
        self._state: Any = None
        if self._progress_path.exists():
            progress = json.loads(self._progress_path.read_text(encoding="utf-8"))
            if progress.get("fingerprint") != self.fingerprint:
                raise ShardError(f"{self.out_dir} holds an unfinished job started with other arguments; "
                                 "rerun with the same arguments to finish it, or choose another output folder.")
            self.shards, self.resume_state = progress["shards"], progress.get("state")
            self._state = self.resume_state
        known = {e["file"] for e in self.shards}
        for stray in self.out_dir.glob(f"{name_prefix}labels-*.tsv"):  # parts written after the last progress save
            if stray.name not in known:
                stray.unlink()
                shutil.rmtree(self._image_dir(stray.stem.rsplit("-", 1)[1]), ignore_errors=True)
        for tmp in (self.out_dir / "images").glob(f".{name_prefix}part-*"):
            shutil.rmtree(tmp, ignore_errors=True)
        self._save_progress()

    def _image_dir(self, number: str) -> Path:
        return self.out_dir / "images" / f"{self.name_prefix}part-{number}"

    def _save_progress(self) -> None:
        write_json_atomic(self._progress_path, {"fingerprint": self.fingerprint, "shards": self.shards, "state": self._state})

    @property
    def count(self) -> int:
        return sum(e["count"] for e in self.shards) + len(self._buffer)

    def add(self, sample: Sample, state: Any = None) -> None:
        self._buffer.append(sample)
        self._state = state
        if len(self._buffer) >= self.shard_size:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        number = f"{len(self.shards):05d}"
        final = self._image_dir(number)
        tmp = final.with_name(f".{final.name}.tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        rows = []
        for s in self._buffer:
            Image.fromarray(s.image).save(tmp / f"{s.id}.png")
            rows.append(f"images/{final.name}/{s.id}.png\t{s.text}\t{s.writer}\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        tsv = self.out_dir / f"{self.name_prefix}labels-{number}.tsv"
        tsv_tmp = tsv.with_name(f".{tsv.name}.tmp")
        with open(tsv_tmp, "w", encoding="utf-8") as f:
            f.writelines(rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tsv_tmp, tsv)
        self.shards.append({"file": tsv.name, "count": len(self._buffer), "sha256": sha256_file(tsv)})
        self._buffer = []
        self._save_progress()

    def close(self) -> None:
        self._flush()


def read_progress(out: Path, prefix: str) -> dict[str, Any] | None:
    path = out / f"{prefix}{PROGRESS}"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def finalize(out: Path, fmt: str, expected: list[tuple[str, int, dict]], height: int, attrs: dict[str, Any],
             extra: dict[str, Any]) -> dict[str, Any] | None:
    """Write the manifest (hdf5) or labels.tsv (png) over all workers' parts when all are complete.

    expected: per worker ``(prefix, item count, fingerprint)``. Returns the manifest (for png: a
    summary of the same shape) or ``None`` when some worker has not finished yet.
    """
    parts: list[dict[str, Any]] = []
    for prefix, count, fingerprint in expected:
        progress = read_progress(out, prefix)
        if progress is None or progress.get("fingerprint") != json.loads(json.dumps(fingerprint)):
            return None
        if sum(e["count"] for e in progress["shards"]) != count:
            return None
        parts.extend(progress["shards"])
    if fmt == "hdf5":
        manifest = build_manifest(parts, height, attrs, extra)
        write_json_atomic(out / MANIFEST, manifest)
    else:
        tmp = out / f".{LABELS}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            for e in parts:
                f.write((out / e["file"]).read_text(encoding="utf-8"))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, out / LABELS)
        for e in parts:
            (out / e["file"]).unlink(missing_ok=True)
        manifest = {"count": sum(e["count"] for e in parts), "parts": len(parts), **attrs, **extra}
    for prefix, _, _ in expected:
        (out / f"{prefix}{PROGRESS}").unlink(missing_ok=True)
    return manifest
