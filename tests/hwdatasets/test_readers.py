"""File-per-sample readers (iam, csv, folder) on small files the tests write, and their bad inputs."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from hwdatasets import ReaderError, read
from hwdatasets.readers import list_items


def _samples(stream):
    return {s.id: s for s in stream}


# --- csv -------------------------------------------------------------------------------------------


@pytest.fixture
def csv_dataset(tmp_path, write_image, make_ink):
    write_image(tmp_path / "imgs/a.png", make_ink(120, 40, 0))
    write_image(tmp_path / "imgs/b.jpg", make_ink(90, 30, 1))
    rgba = np.zeros((64, 256, 4), np.uint8)
    rgba[..., 3] = 255 - make_ink(256, 64, 2)  # ink as alpha on a transparent canvas, like DHSD
    write_image(tmp_path / "imgs/c.png", Image.fromarray(rgba, "RGBA"))
    (tmp_path / "data.csv").write_text(
        "file_name,text,writer_id\n"
        "imgs/a.png,  Stra\u00dfe ,w1\n"
        "imgs/b.jpg,\"a, b\",w2\n"
        "imgs/c.png,cafe\u0301,w1\n"
        "\n"
        "imgs/a.png,   ,w3\n"  # empty text
        "imgs/gone.png,lost,w3\n"  # missing image
        "imgs/a.png,short\n",  # malformed row
        encoding="utf-8",
    )
    return tmp_path / "data.csv"


def test_csv_reads_normalises_and_counts_skips(csv_dataset):
    stream = read("csv", csv_dataset)
    got = _samples(stream)
    assert sorted(got) == ["imgs/a.png", "imgs/b.jpg", "imgs/c.png"]
    assert [got[k].text for k in sorted(got)] == ["Straße", "a, b", "café"]
    assert [got[k].writer for k in sorted(got)] == ["w1", "w2", "w1"]
    for s in got.values():
        assert s.image.dtype == np.uint8 and s.image.shape[0] == 32 and s.image.min() < 64 and s.image.max() == 255
    counts = stream.skipped.counts
    assert counts == {"empty text": 1, "missing image": 1, "malformed row": 1}
    assert any("gone.png" in e for e in stream.skipped.examples["missing image"])
    assert "data.csv line 8" in stream.skipped.examples["malformed row"][0]
    assert stream.skipped.total == 3 and "missing image: 1" in stream.skipped.summary()


def test_csv_other_column_names_and_no_writer(tmp_path, write_image, make_ink):
    write_image(tmp_path / "x.png", make_ink())
    (tmp_path / "t.csv").write_text("\ufeffimg;label\nx.png;hello\n".replace(";", ","), encoding="utf-8")
    stream = read("csv", tmp_path / "t.csv", image_column="img", text_column="label", writer_column="writer")
    [s] = list(stream)
    assert (s.text, s.writer, s.id) == ("hello", "unknown", "x.png")


def test_csv_missing_column_names_file_and_header(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("path,text,writer_id\nx.png,hi,1\n", encoding="utf-8")
    with pytest.raises(ReaderError) as e:
        read("csv", path)
    msg = str(e.value)
    assert str(path) in msg and "'file_name'" in msg and "['path', 'text', 'writer_id']" in msg


def test_csv_empty_missing_and_non_utf8(tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(ReaderError, match="empty CSV"):
        read("csv", tmp_path / "empty.csv")
    with pytest.raises(ReaderError, match="not found"):
        read("csv", tmp_path / "nope.csv")
    (tmp_path / "latin.csv").write_bytes("file_name,text,writer_id\nx.png,M\u00fcnchen,1\n".encode("latin-1"))
    with pytest.raises(ReaderError, match=r"latin.csv, line 2: not valid UTF-8"):
        read("csv", tmp_path / "latin.csv")


def test_unknown_format():
    with pytest.raises(ReaderError, match="unknown format 'tsv'"):
        read("tsv", ".")


def test_truncated_and_garbage_images_are_counted_as_unreadable(tmp_path, write_image, make_ink):
    good = write_image(tmp_path / "good.png", make_ink(300, 80))
    data = good.read_bytes()
    (tmp_path / "trunc.png").write_bytes(data[: len(data) // 2])
    (tmp_path / "garbage.png").write_bytes(b"not an image at all")
    (tmp_path / "labels.tsv").write_text("good.png\tok\ntrunc.png\tcut\ngarbage.png\tjunk\n", encoding="utf-8")
    stream = read("folder", tmp_path)
    assert [s.id for s in stream] == ["good.png"]
    assert stream.skipped.counts == {"unreadable image": 2}
    examples = stream.skipped.examples["unreadable image"]
    assert any("labels.tsv line 2" in e and "truncated" in e for e in examples)
    assert any("labels.tsv line 3" in e and "garbage.png" in e for e in examples)


# --- folder ----------------------------------------------------------------------------------------


def test_folder_labels_tsv(tmp_path, write_image, make_ink):
    write_image(tmp_path / "sub/one.png", make_ink(50, 20).astype(bool))  # mode 1
    write_image(tmp_path / "two.jpg", np.stack([make_ink(80, 32)] * 3, axis=-1))  # RGB JPEG
    (tmp_path / "labels.tsv").write_text(
        "sub/one.png\t  one \tanna\n\ntwo.jpg\ttwo\nbroken line without tab\nthree.png\t\tbob\n", encoding="utf-8"
    )
    stream = read("folder", tmp_path, height=16)
    got = _samples(stream)
    assert sorted(got) == ["sub/one.png", "two.jpg"]
    assert (got["sub/one.png"].text, got["sub/one.png"].writer) == ("one", "anna")
    assert (got["two.jpg"].text, got["two.jpg"].writer) == ("two", "unknown")
    assert all(s.image.shape[0] == 16 for s in got.values())
    assert stream.skipped.counts == {"malformed row": 1, "empty text": 1}
    # the labels file itself can be given, too
    assert len(list(read("folder", tmp_path / "labels.tsv"))) == 2


def test_folder_without_labels(tmp_path):
    with pytest.raises(ReaderError, match="no labels.tsv"):
        read("folder", tmp_path)


def test_height_none_keeps_original_size(tmp_path, write_image, make_ink):
    write_image(tmp_path / "a.png", make_ink(70, 30))
    (tmp_path / "labels.tsv").write_text("a.png\tx\n", encoding="utf-8")
    [s] = read("folder", tmp_path, height=None, trim=False)
    assert s.image.shape == (30, 70)


# --- iam -------------------------------------------------------------------------------------------


@pytest.fixture
def iam_dataset(tmp_path, write_image, make_ink):
    root = tmp_path / "iam"
    for wid in ("a01-000u-00-00", "a01-000u-00-01", "a01-000u-00-02", "b02-010-01-00"):
        parts = wid.split("-")
        if wid != "a01-000u-00-02":  # this one's image is missing
            write_image(root / "words" / parts[0] / f"{parts[0]}-{parts[1]}" / f"{wid}.png", make_ink(60, 30))
    (root / "words.txt").write_text(
        "#--- words.txt ---\n"
        "# format: a01-000u-00-00 ok 154 1 408 768 27 51 AT A\n"
        "a01-000u-00-00 ok 154 408 768 27 51 AT A\n"
        "a01-000u-00-01 err 154 507 766 213 48 NN MOVE\n"
        "a01-000u-00-02 ok 154 796 764 70 50 TO to\n"
        "b02-010-01-00 ok 180 300 400 50 50 NN stop\n"
        "garbage line\n",
        encoding="utf-8",
    )
    (root / "forms.txt").write_text("# forms\na01-000u 000 2 prt 7 5 52 36\n", encoding="utf-8")
    return root


def test_iam_reads_words_with_writers_and_counts(iam_dataset):
    stream = read("iam", iam_dataset)
    got = _samples(stream)
    assert sorted(got) == ["a01-000u-00-00", "a01-000u-00-01", "b02-010-01-00"]
    assert got["a01-000u-00-00"].text == "A" and got["a01-000u-00-01"].text == "MOVE"
    assert got["a01-000u-00-00"].writer == "000"  # from forms.txt
    assert got["b02-010-01-00"].writer == "b02-010"  # not in forms.txt: the form id stands in
    assert stream.skipped.counts == {"malformed row": 1, "missing image": 1}


def test_iam_skip_err(iam_dataset):
    items, skips = list_items("iam", iam_dataset / "words.txt", skip_err=True)
    assert [it.id for it in items] == ["a01-000u-00-00", "a01-000u-00-02", "b02-010-01-00"]
    assert skips.counts["segmentation err"] == 1


def test_iam_without_words_txt(tmp_path):
    with pytest.raises(ReaderError, match="no words.txt"):
        read("iam", tmp_path)
