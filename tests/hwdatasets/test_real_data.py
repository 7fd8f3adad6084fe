"""Readers on the real shared data: DHSD (CSV, RGBA word images) and poilus (ALTO v4 pages)."""
from __future__ import annotations

import csv
import unicodedata

import numpy as np
import pytest

from hwdatasets import read
from hwdatasets.readers import list_items


@pytest.fixture(scope="module")
def dhsd_csv(shared_data):
    path = shared_data / "dhsd" / "data.csv"
    if not path.is_file():
        pytest.fail(f"{path} missing from the shared data")
    return path


def test_dhsd_listing_has_every_sample_and_writer(dhsd_csv):
    items, skips = list_items("csv", dhsd_csv)
    assert len(items) == 4873 and not skips.counts
    assert len({it.writer for it in items}) == 30
    assert len({it.id for it in items}) == 4873


def test_dhsd_first_rows_load_as_trimmed_gray_words(dhsd_csv, tmp_path):
    with open(dhsd_csv, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))[:51]
    small = tmp_path / "first50.csv"
    with open(small, "w", newline="", encoding="utf-8") as f:  # same rows, image paths made absolute
        w = csv.writer(f)
        w.writerow(rows[0])
        for r in rows[1:]:
            w.writerow([str(dhsd_csv.parent / r[0]), *r[1:]])
    stream = read("csv", small)
    samples = list(stream)
    assert len(samples) == 50 and not stream.skipped.counts
    assert [s.text for s in samples] == [unicodedata.normalize("NFC", r[1].strip()) for r in rows[1:]]
    assert samples[0].text == "Königshain-Wiederau" and samples[0].writer == "1"
    for s in samples:
        assert s.image.dtype == np.uint8 and s.image.shape[0] == 32
        assert s.image.max() == 255 and s.image.min() < 160  # ink on white paper, not a transparent-black canvas
        assert np.median(s.image) > 200  # mostly paper
    widths = [s.image.shape[1] for s in samples]
    assert np.mean(widths) > 2 * 32  # trimmed words keep their (long) aspect ratio


def test_poilus_alto_lines_and_hands(shared_data):
    pages = shared_data / "poilus" / "pages"
    items, skips = list_items("alto", pages)
    assert len(items) == 1047 and not skips.counts
    assert len({it.writer for it in items}) == 49
    assert len({it.id for it in items}) == 1047
    stream = read("alto", pages)
    stream.items = items[:3]  # loading decodes the page scan: three lines of the first page are enough
    samples = list(stream)
    assert len(samples) == 3 and not stream.skipped.counts
    for s, it in zip(samples, items):
        assert s.text and s.text == s.text.strip() and unicodedata.is_normalized("NFC", s.text)
        assert s.image.shape[0] == 32 and s.image.shape[1] > 3 * 32  # lines are long
        assert np.median(s.image) > 150 and s.image.min() < 100
