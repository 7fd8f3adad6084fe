"""Dataset readers. ``read(format, path, **options)`` gives a :class:`SampleStream`."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ..normalize import Normalizer
from .base import RawItem, SampleStream, SkipLog, load_sample
from .tables import ReaderError, list_csv, list_folder, list_iam
from .xml_lines import list_alto, list_page, writer_from_stem

LISTERS: dict[str, Callable[..., list[RawItem]]] = {
    "iam": list_iam,
    "csv": list_csv,
    "alto": list_alto,
    "page": list_page,
    "folder": list_folder,
}
FORMATS = tuple(LISTERS)


def list_items(format: str, path: str | Path, skips: SkipLog | None = None, **options) -> tuple[list[RawItem], SkipLog]:
    """The raw (not yet loaded) items of a source, and what listing them skipped."""
    if format not in LISTERS:
        raise ReaderError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}.")
    skips = skips if skips is not None else SkipLog()
    return LISTERS[format](Path(path), skips, **options), skips


def read(format: str, path: str | Path, height: int | None = 32, trim: bool = True, invert: str = "auto", **options) -> SampleStream:
    """Samples of ``path`` read as ``format`` (one of :data:`FORMATS`), normalised.

    ``height``/``trim``/``invert`` configure :class:`~hwdatasets.normalize.Normalizer`; other
    options go to the format's reader (e.g. ``skip_err=True`` for iam, ``writer_column`` for csv,
    ``writer_rule`` for alto/page). Iterate the stream, then read ``stream.skipped``.
    """
    items, skips = list_items(format, path, **options)
    return SampleStream(items, skips, Normalizer(height, trim, invert), source=f"{format}:{path}")


__all__ = [
    "FORMATS", "RawItem", "ReaderError", "SampleStream", "SkipLog",
    "list_items", "load_sample", "read", "writer_from_stem",
]
