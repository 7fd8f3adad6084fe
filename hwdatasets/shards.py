"""HDF5 shard folders: the storage format every step reads and writes.

A shard folder holds ``shard-00000.h5``, ``shard-00001.h5``, ... and ``manifest.json``, written last
and atomically. Each shard file holds:

- ``pixels``   uint8 [sum of H*W]: the images, row-major, one after another (gzip, chunked)
- ``offsets``  int64 [N]: where each image starts in ``pixels``
- ``widths``   int32 [N]: image widths (every image has the shard's ``height``)
- ``texts``, ``writers``, ``ids``: UTF-8 strings [N]
- ``styles``   int32 [N]: style index of synthetic samples, -1 for real ones

and attributes ``format``, ``version``, ``height``, ``count``, ``alphabet`` (the characters of this
shard's texts), ``source``, ``license``, ``attribution`` and ``provenance`` (JSON).

The manifest lists every shard with its count and sha256, plus ``count``, ``height``,
``alphabet`` (all shards), ``writers`` (number of distinct writers), ``source``, ``license``,
``attribution``, ``provenance`` and whatever the producer adds (``skipped`` counts, ...).

Resuming: a :class:`ShardWriter` keeps ``.progress.json`` beside the shards, rewritten atomically
after every shard. It records the finished shards and an opaque ``state`` the producer attaches to
each sample (e.g. how many input rows were consumed), so a rerun with the same ``fingerprint``
continues after the last finished shard and never loses or duplicates a sample.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import h5py
import numpy as np
from torch.utils.data import Dataset

from .alphabet import Alphabet
from .atomic import write_json_atomic
from .sample import Sample

FORMAT = "scrabblegan-shards"
VERSION = 1
MANIFEST = "manifest.json"
PROGRESS = ".progress.json"
_STR = h5py.string_dtype("utf-8")


class ShardError(RuntimeError):
    """A shard folder that is missing, incomplete, corrupt or not what the caller asked for."""


def sha256_file(path: str | Path, bufsize: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(bufsize):
            h.update(chunk)
    return h.hexdigest()


def shard_name(index: int) -> str:
    return f"shard-{index:05d}.h5"


def write_shard(path: Path, samples: Sequence[Sample], height: int, attrs: dict[str, Any]) -> str:
    """Write one complete shard file atomically (temporary name, fsync, rename); return its sha256."""
    for s in samples:
        if s.image.shape[0] != height:
            raise ValueError(f"sample {s.id!r}: image height {s.image.shape[0]} != shard height {height}")
    widths = np.array([s.image.shape[1] for s in samples], dtype=np.int32)
    sizes = widths.astype(np.int64) * height
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    pixels = np.concatenate([s.image.reshape(-1) for s in samples]) if samples else np.zeros(0, np.uint8)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with h5py.File(tmp, "w") as f:
            # 8 KiB chunks: a random read inflates about one image's worth of pixels, not 32 KiB
            # (random reads ~2x faster than with 32 KiB chunks, for 1% more bytes on DHSD).
            chunk = (min(max(len(pixels), 1), 1 << 13),)
            f.create_dataset("pixels", data=pixels, chunks=chunk, compression="gzip", compression_opts=4)
            f.create_dataset("offsets", data=offsets)
            f.create_dataset("widths", data=widths)
            f.create_dataset("texts", data=[s.text for s in samples], dtype=_STR)
            f.create_dataset("writers", data=[s.writer for s in samples], dtype=_STR)
            f.create_dataset("ids", data=[s.id for s in samples], dtype=_STR)
            f.create_dataset("styles", data=np.array([s.style for s in samples], dtype=np.int32))
            f.attrs.update(
                format=FORMAT,
                version=VERSION,
                height=height,
                count=len(samples),
                alphabet=Alphabet.from_texts(s.text for s in samples).to_string(),
                **{k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in attrs.items()},
            )
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        digest = sha256_file(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return digest


class ShardWriter:
    """Collects samples and writes them as shards of ``shard_size`` into ``out_dir``.

    out_dir:     the shard folder (created if needed).
    shard_size:  samples per shard file.
    height:      image height every sample must have.
    source:      where the data came from (e.g. ``"csv:/data/dhsd/data.csv"``).
    license, attribution: licence and credit line of the source data, copied into every shard.
    provenance:  dict (tool version, checkpoint hash, seed, ...) copied into shards and manifest.
    fingerprint: the producer's arguments; a rerun with the same fingerprint resumes, a different
                 one on an unfinished folder is an error rather than a mix of two jobs.
    name_prefix: shard file prefix for parallel writers (``"rank1-"`` gives ``rank1-shard-00000.h5``).
    write_manifest: False for a parallel worker whose shards another process gathers.

    Use as a context manager or call :meth:`close`; :attr:`resume_state` is the ``state`` given
    with the last sample of the last finished shard (``None`` on a fresh start).
    """

    def __init__(
        self,
        out_dir: str | Path,
        shard_size: int = 5000,
        height: int = 32,
        source: str = "",
        license: str = "",
        attribution: str = "",
        provenance: dict[str, Any] | None = None,
        fingerprint: dict[str, Any] | None = None,
        name_prefix: str = "",
        write_manifest: bool = True,
    ):
        if shard_size < 1:
            raise ValueError("shard_size must be at least 1")
        self.out_dir = Path(out_dir)
        self.shard_size = shard_size
        self.height = height
        self.attrs = dict(source=source, license=license, attribution=attribution, provenance=provenance or {})
        self.fingerprint = fingerprint or {}
        self.name_prefix = name_prefix
        self.write_manifest = write_manifest
        self._buffer: list[Sample] = []
        self._state: Any = None
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if (self.out_dir / MANIFEST).exists() and write_manifest:
            raise ShardError(
                f"{self.out_dir} already holds a finished shard folder ({MANIFEST} exists). "
                "Choose another output folder or delete this one."
            )
        self._progress_path = self.out_dir / f"{name_prefix}{PROGRESS}"
        self.shards: list[dict[str, Any]] = []
        self.resume_state: Any = None
        self.closed = False
        # Temporary files of a run killed mid-write (never renamed, so never part of the result).
        for pattern in (f".{name_prefix}shard-*.h5.tmp", f".{self._progress_path.name}.*.tmp", f".{MANIFEST}.*.tmp"):
            for stale in self.out_dir.glob(pattern):
                stale.unlink(missing_ok=True)
        if self._progress_path.exists():
            self._resume()
        else:
            self._save_progress()

    def _resume(self) -> None:
        progress = json.loads(self._progress_path.read_text(encoding="utf-8"))
        if progress.get("fingerprint") != json.loads(json.dumps(self.fingerprint)):
            raise ShardError(
                f"{self.out_dir} holds an unfinished job started with other arguments:\n"
                f"  then: {json.dumps(progress.get('fingerprint'), ensure_ascii=False)}\n"
                f"  now:  {json.dumps(self.fingerprint, ensure_ascii=False)}\n"
                "Rerun with the same arguments to finish it, or choose another output folder."
            )
        for entry in progress["shards"]:
            path = self.out_dir / entry["file"]
            if not path.exists() or sha256_file(path) != entry["sha256"]:
                raise ShardError(f"{path}: finished shard is missing or changed since it was written; delete {self.out_dir} and start again.")
        self.shards = progress["shards"]
        self.resume_state = progress.get("state")
        self._state = self.resume_state
        # Shards written after the last progress save (a crash between rename and save) are redone.
        known = {e["file"] for e in self.shards}
        for stray in self.out_dir.glob(f"{self.name_prefix}shard-*.h5"):
            if stray.name not in known:
                stray.unlink()

    def _save_progress(self) -> None:
        write_json_atomic(
            self._progress_path, {"fingerprint": self.fingerprint, "shards": self.shards, "state": self._state}
        )

    @property
    def count(self) -> int:
        """Samples added so far, including those of resumed shards."""
        return sum(e["count"] for e in self.shards) + len(self._buffer)

    def add(self, sample: Sample, state: Any = None) -> None:
        """Add one sample; ``state`` (JSON-able) is what a resumed run gets back as :attr:`resume_state`."""
        if self.closed:
            raise ShardError("ShardWriter is closed")
        if sample.image.shape[0] != self.height:
            raise ValueError(f"sample {sample.id!r}: image height {sample.image.shape[0]} != {self.height}")
        for name in ("text", "writer", "id"):
            if "\x00" in getattr(sample, name):
                raise ValueError(f"sample {sample.id!r}: its {name} contains a NUL character, which HDF5 strings cannot hold")
        self._buffer.append(sample)
        self._state = state
        if len(self._buffer) >= self.shard_size:
            self._flush()

    def _flush(self) -> None:
        if not self._buffer:
            return
        name = f"{self.name_prefix}{shard_name(len(self.shards))}"
        digest = write_shard(self.out_dir / name, self._buffer, self.height, self.attrs)
        alphabet = Alphabet.from_texts(s.text for s in self._buffer).to_string()
        writers = sorted({s.writer for s in self._buffer})
        self.shards.append(dict(file=name, count=len(self._buffer), sha256=digest, alphabet=alphabet, writer_ids=writers))
        self._buffer = []
        self._save_progress()

    def close(self, extra: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """Write the last shard and (unless ``write_manifest`` is False) the manifest; return it."""
        if self.closed:
            return None
        self._flush()
        self.closed = True
        if not self.write_manifest:
            return None
        manifest = build_manifest(self.shards, self.height, self.attrs, extra)
        write_json_atomic(self.out_dir / MANIFEST, manifest)
        self._progress_path.unlink(missing_ok=True)
        return manifest

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        # On an error the buffered samples are dropped: a rerun redoes them from resume_state.


def build_manifest(
    shards: list[dict[str, Any]], height: int, attrs: dict[str, Any], extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    alphabet = Alphabet("")
    writers: set[str] = set()
    for e in shards:
        alphabet = alphabet.union(Alphabet.from_string(e["alphabet"]))
        writers.update(e["writer_ids"])
    return dict(
        format=FORMAT,
        version=VERSION,
        count=sum(e["count"] for e in shards),
        height=height,
        alphabet=alphabet.to_string(),
        writers=len(writers),
        **attrs,
        **(extra or {}),
        shards=[{k: e[k] for k in ("file", "count", "sha256")} for e in shards],
    )


def read_manifest(folder: str | Path) -> dict[str, Any]:
    folder = Path(folder)
    path = folder / MANIFEST
    if not folder.is_dir():
        raise ShardError(f"{folder}: no such shard folder.")
    if not path.exists():
        hint = (
            " It holds an unfinished job: rerun the command that wrote it, with the same arguments, to finish it."
            if any(folder.glob(f"*{PROGRESS}"))
            else " Create one with `scrabblegan prepare`."
        )
        raise ShardError(f"{folder}: not a finished shard folder ({MANIFEST} missing).{hint}")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ShardError(f"{path}: broken manifest ({e}).") from None
    if manifest.get("format") != FORMAT:
        raise ShardError(f"{path}: not a {FORMAT} manifest.")
    return manifest


class _StringColumn:
    """A shard's string column held compactly: all UTF-8 bytes in one buffer plus offsets."""

    def __init__(self, values: np.ndarray):  # object array of bytes, as h5py reads a UTF-8 string dataset
        lengths = np.fromiter((len(v) for v in values), dtype=np.int64, count=len(values))
        self.ends = np.cumsum(lengths)
        self.starts = self.ends - lengths
        self.buffer = b"".join(values)

    def __getitem__(self, i: int) -> str:
        return self.buffer[self.starts[i] : self.ends[i]].decode("utf-8")

    def tolist(self) -> list[str]:
        return [self[i] for i in range(len(self.ends))]


class _OpenShard:
    """An open shard file with its small columns in memory; only ``pixels`` stays on disk."""

    def __init__(self, f: h5py.File):
        self.file = f
        self.pixels = f["pixels"]
        self.offsets, self.widths, self.styles = f["offsets"][:], f["widths"][:], f["styles"][:]
        self.texts, self.writers, self.ids = (_StringColumn(f[k][:]) for k in ("texts", "writers", "ids"))


class Shards(Dataset):
    """Random access over one or many shard folders, as a ``torch.utils.data.Dataset``.

    paths:  a shard folder or a list of them; samples are numbered folder by folder.
    verify: check every shard's sha256 against its manifest first (a clear :class:`ShardError`
            names a missing or corrupt shard).

    HDF5 files are opened lazily, once per process, so the dataset can be handed to DataLoader
    workers. A shard's small columns (offsets, widths, texts, writers, ids, styles) are read once,
    on its first access; each sample then costs one read of its pixels.
    """

    def __init__(self, paths: str | Path | Iterable[str | Path], verify: bool = False):
        if isinstance(paths, (str, Path)):
            paths = [paths]
        self.folders = [Path(p) for p in paths]
        if not self.folders:
            raise ShardError("no shard folder given")
        self.manifests = [read_manifest(f) for f in self.folders]
        self.files: list[Path] = []
        counts: list[int] = []
        for folder, manifest in zip(self.folders, self.manifests):
            for entry in manifest["shards"]:
                path = folder / entry["file"]
                if not path.exists():
                    raise ShardError(f"{path}: shard listed in {folder / MANIFEST} is missing.")
                if verify and sha256_file(path) != entry["sha256"]:
                    raise ShardError(
                        f"{path}: sha256 does not match {folder / MANIFEST}; the shard is corrupt. "
                        "Recreate the folder with the command that wrote it."
                    )
                self.files.append(path)
                counts.append(entry["count"])
        self._starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64).tolist()
        heights = {m["height"] for m in self.manifests}
        if len(heights) != 1:
            raise ShardError(f"shard folders have different image heights {sorted(heights)}; prepare them with one --height.")
        self.height: int = heights.pop()
        self.alphabet = Alphabet("".join(m["alphabet"] for m in self.manifests))
        self._handles: dict[int, _OpenShard] = {}
        self._pid = os.getpid()

    def __len__(self) -> int:
        return self._starts[-1]

    def _locate(self, index: int) -> tuple[int, int]:
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(f"sample index {index} out of range for {len(self)} samples")
        shard = bisect.bisect_right(self._starts, index) - 1
        return shard, index - self._starts[shard]

    def _open(self, shard: int) -> _OpenShard:
        if os.getpid() != self._pid:  # a forked DataLoader worker: never share HDF5 handles
            self._handles, self._pid = {}, os.getpid()
        handle = self._handles.get(shard)
        if handle is None:
            path = self.files[shard]
            try:
                handle = _OpenShard(h5py.File(path, "r", rdcc_nbytes=4 << 20))
            except (OSError, KeyError, ValueError) as e:
                raise ShardError(f"{path}: cannot read shard ({e}). Check it with verify=True / `scrabblegan show --verify`.") from None
            self._handles[shard] = handle
        return handle

    def __getitem__(self, index: int) -> Sample:
        shard, local = self._locate(index)
        h = self._open(shard)
        width, start = int(h.widths[local]), int(h.offsets[local])
        try:
            image = h.pixels[start : start + self.height * width].reshape(self.height, width)
        except OSError as e:
            raise ShardError(f"{self.files[shard]}: cannot read sample {local} ({e}); the shard may be corrupt.") from None
        return Sample(image=image, text=h.texts[local], writer=h.writers[local], id=h.ids[local], style=int(h.styles[local]))

    def texts(self) -> list[str]:
        """All texts, in sample order, without reading images."""
        return [t for s in range(len(self.files)) for t in self._open(s).texts.tolist()]

    def writers(self) -> list[str]:
        """All writer ids, in sample order, without reading images."""
        return [w for s in range(len(self.files)) for w in self._open(s).writers.tolist()]

    def widths(self) -> np.ndarray:
        """All image widths, in sample order."""
        return np.concatenate([self._open(s).widths for s in range(len(self.files))]) if self.files else np.zeros(0, np.int32)

    def close(self) -> None:
        for h in self._handles.values():
            h.file.close()
        self._handles = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_handles"] = {}
        return state
