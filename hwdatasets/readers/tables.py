"""Readers for one-file-per-sample datasets: CSV tables, folder + labels.tsv, IAM words."""
from __future__ import annotations

import csv
from pathlib import Path

from .base import RawItem, SkipLog, open_image


class ReaderError(ValueError):
    """An input that cannot be read at all; the message says which file and what to do."""


def _read_text(path: Path) -> str:
    if not path.is_file():
        raise ReaderError(f"{path}: file not found.")
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        line = path.read_bytes()[: e.start].count(b"\n") + 1
        raise ReaderError(f"{path}, line {line}: not valid UTF-8. Save the file as UTF-8.") from None


def list_csv(
    path: str | Path,
    skips: SkipLog,
    image_column: str = "file_name",
    text_column: str = "text",
    writer_column: str | None = "writer_id",
) -> list[RawItem]:
    """A CSV with a header; image paths are relative to the CSV's folder.

    Without a writer column (``writer_column=None`` or absent from the header) every sample gets
    writer ``"unknown"``.
    """
    path = Path(path)
    rows = csv.reader(_read_text(path).splitlines())
    header = next(rows, None)
    if header is None:
        raise ReaderError(f"{path}: empty CSV (expected a header naming the image, text and writer columns).")
    header = [h.strip() for h in header]
    for col in (image_column, text_column):
        if col not in header:
            raise ReaderError(
                f"{path}, line 1: no column {col!r} in the header {header}. "
                "Name the columns with --image-column / --text-column / --writer-column."
            )
    i_img, i_txt = header.index(image_column), header.index(text_column)
    i_wr = header.index(writer_column) if writer_column and writer_column in header else None
    items = []
    for lineno, row in enumerate(rows, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) < len(header):
            skips.add("malformed row", f"{path.name} line {lineno}: {len(row)} fields, header has {len(header)}")
            continue
        rel = row[i_img].strip()
        items.append(
            RawItem(
                id=rel,
                text=row[i_txt],
                writer=row[i_wr].strip() if i_wr is not None else "unknown",
                load=open_image(path.parent / rel),
                where=f"{path.name} line {lineno}",
            )
        )
    return items


def list_folder(path: str | Path, skips: SkipLog, labels: str = "labels.tsv") -> list[RawItem]:
    """A folder of images plus ``labels.tsv``: ``relative/path<TAB>text[<TAB>writer]`` per line.

    ``path`` is the folder or the labels file itself; lines without a writer get ``"unknown"``.
    """
    path = Path(path)
    tsv = path if path.is_file() else path / labels
    if not tsv.is_file():
        raise ReaderError(f"{path}: no {labels} found (expected lines `relative/path<TAB>text[<TAB>writer]`).")
    items = []
    for lineno, line in enumerate(_read_text(tsv).splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            skips.add("malformed row", f"{tsv.name} line {lineno}: expected path<TAB>text[<TAB>writer]")
            continue
        rel = fields[0].strip()
        writer = fields[2].strip() if len(fields) > 2 and fields[2].strip() else "unknown"
        items.append(RawItem(rel, fields[1], writer, open_image(tsv.parent / rel), f"{tsv.name} line {lineno}"))
    return items


def _iam_writers(forms_txt: Path) -> dict[str, str]:
    """form id -> writer id from IAM's forms.txt (``a01-000u 000 2 prt 7 5 52 36 ...``)."""
    writers = {}
    for line in _read_text(forms_txt).splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split()
        if len(fields) >= 2:
            writers[fields[0]] = fields[1]
    return writers


def list_iam(path: str | Path, skips: SkipLog, skip_err: bool = False, images: str | Path | None = None) -> list[RawItem]:
    """An IAM-style words folder: ``words.txt`` plus ``<images>/<a01>/<a01-000u>/<id>.png``.

    ``path``: words.txt or the folder holding it. ``images``: the image root (default: a
    ``words/`` folder beside words.txt if there is one, else words.txt's folder). Writer ids come
    from a ``forms.txt`` beside words.txt when present, otherwise the form id (``a01-000u``)
    stands in for the writer. ``skip_err`` keeps only rows whose segmentation flag is ``ok``.
    """
    path = Path(path)
    words_txt = path if path.is_file() else path / "words.txt"
    if not words_txt.is_file():
        raise ReaderError(f"{path}: no words.txt found (give the IAM words.txt or the folder holding it).")
    root = Path(images) if images else (words_txt.parent / "words" if (words_txt.parent / "words").is_dir() else words_txt.parent)
    forms = words_txt.parent / "forms.txt"
    writers = _iam_writers(forms) if forms.is_file() else {}
    items = []
    for lineno, line in enumerate(_read_text(words_txt).splitlines(), start=1):
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split(" ")
        if len(fields) < 9 or fields[1] not in ("ok", "err") or fields[0].count("-") < 2:
            skips.add("malformed row", f"{words_txt.name} line {lineno}: {line[:60]!r}")
            continue
        if skip_err and fields[1] == "err":
            skips.add("segmentation err", f"{words_txt.name} line {lineno}: {fields[0]}")
            continue
        wid = fields[0]
        parts = wid.split("-")
        form = f"{parts[0]}-{parts[1]}"
        image = root / parts[0] / form / f"{wid}.png"
        text = " ".join(fields[8:])  # the transcription is the last field (IAM's never holds spaces)
        items.append(RawItem(wid, text, writers.get(form, form), open_image(image), f"{words_txt.name} line {lineno}"))
    return items
