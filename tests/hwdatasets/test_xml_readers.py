"""ALTO (v2, v3, v4) and PAGE (2013, 2019) line readers on small files the tests write."""
from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
import pytest

from hwdatasets import ReaderError, read
from hwdatasets.readers import list_items, writer_from_stem

ALTO_NS = {
    "v2": "http://www.loc.gov/standards/alto/ns-v2#",
    "v3": "http://www.loc.gov/standards/alto/ns-v3#",
    "v4": "http://www.loc.gov/standards/alto/ns-v4#",
}
PAGE_NS = {
    "2013": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2013-07-15",
    "2019": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15",
}
PAGE_W, PAGE_H, PAPER = 200, 100, 50  # a flat mid-dark page makes crops easy to check pixel by pixel
TRIANGLE = [(10, 10), (60, 10), (10, 40)]


def alto_xml(ns: str, lines: list[dict], filename: str | None = None) -> str:
    """lines: dicts with id, words, optional polygon [(x, y)...], optional box (hpos, vpos, w, h),
    optional word_polygon (a Shape on the first String only)."""
    out = []
    for ln in lines:
        box = ln.get("box", (0, 0, 0, 0))
        attrs = f'ID="{ln["id"]}" HPOS="{box[0]}" VPOS="{box[1]}" WIDTH="{box[2]}" HEIGHT="{box[3]}"'
        shape = ""
        if ln.get("polygon"):
            pts = " ".join(f"{x} {y}" for x, y in ln["polygon"])
            shape = f'<Shape><Polygon POINTS="{pts}"/></Shape>'
        strings = []
        for k, w in enumerate(ln["words"]):
            wshape = ""
            if k == 0 and ln.get("word_polygon"):
                wshape = '<Shape><Polygon POINTS="{}"/></Shape>'.format(" ".join(f"{x} {y}" for x, y in ln["word_polygon"]))
            strings.append(f"<String CONTENT={quoteattr(w)}>{wshape}</String>")
        out.append(f"<TextLine {attrs}>{shape}{'<SP/>'.join(strings)}</TextLine>")
    source = f"<sourceImageInformation><fileName>{filename}</fileName></sourceImageInformation>" if filename else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<alto xmlns="{ns}"><Description><MeasurementUnit>pixel'
        f"</MeasurementUnit>{source}</Description><Layout><Page WIDTH=\"{PAGE_W}\" HEIGHT=\"{PAGE_H}\">"
        f'<PrintSpace><TextBlock ID="b1">{"".join(out)}</TextBlock></PrintSpace></Page></Layout></alto>'
    )


def page_xml(ns: str, lines: list[dict], filename: str = "page.png") -> str:
    """lines: dicts with id, optional polygon, optional text, optional words (Word-level TextEquiv)."""
    out = []
    for ln in lines:
        coords = f'<Coords points="{" ".join(f"{x},{y}" for x, y in ln["polygon"])}"/>' if ln.get("polygon") else ""
        words = "".join(
            f'<Word id="{ln["id"]}w{k}"><TextEquiv><Unicode>{w}</Unicode></TextEquiv></Word>'
            for k, w in enumerate(ln.get("words", []))
        )
        text = f"<TextEquiv><Unicode>{ln['text']}</Unicode></TextEquiv>" if "text" in ln else ""
        out.append(f'<TextLine id="{ln["id"]}">{coords}{words}{text}</TextLine>')
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<PcGts xmlns="{ns}"><Metadata><Creator>t</Creator></Metadata>'
        f'<Page imageFilename="{filename}" imageWidth="{PAGE_W}" imageHeight="{PAGE_H}">'
        f'<TextRegion id="r1"><Coords points="0,0 {PAGE_W},0 {PAGE_W},{PAGE_H} 0,{PAGE_H}"/>{"".join(out)}'
        "</TextRegion></Page></PcGts>"
    )


@pytest.fixture
def flat_page(write_image):
    def make(path: Path) -> Path:
        return write_image(path, np.full((PAGE_H, PAGE_W), PAPER, np.uint8))

    return make


def _raw(item) -> np.ndarray:
    with item.load() as im:
        return np.asarray(im)


@pytest.mark.parametrize("version", sorted(ALTO_NS))
def test_alto_polygon_box_text_and_writer(version, tmp_path, flat_page):
    flat_page(tmp_path / "will_0003-1.png")
    lines = [
        {"id": "l1", "words": ["Je", "soussigné"], "polygon": TRIANGLE, "box": (10, 10, 51, 31)},
        {"id": "l2", "words": ["lègue"], "box": (20, 30, 40, 10)},  # no polygon: the box
    ]
    (tmp_path / "will_0003-1.xml").write_text(alto_xml(ALTO_NS[version], lines), encoding="utf-8")
    items, skips = list_items("alto", tmp_path)
    assert not skips.counts
    assert [(it.id, it.text, it.writer) for it in items] == [
        ("will_0003-1/l1", "Je soussigné", "will_0003"),
        ("will_0003-1/l2", "lègue", "will_0003"),
    ]
    tri, box = _raw(items[0]), _raw(items[1])
    assert tri.shape == (31, 51)  # the polygon's bounding box, both ends included
    assert tri[1, 1] == PAPER and tri[0, 0] == PAPER  # inside the triangle: page pixels
    assert tri[30, 50] == 255 and tri[25, 40] == 255  # outside the polygon: paper white
    assert box.shape == (10, 40) and (box == PAPER).all()


def test_alto_ignores_word_shapes_when_the_line_has_none(tmp_path, flat_page):
    flat_page(tmp_path / "p-1.png")
    lines = [{"id": "l1", "words": ["ab", "cd"], "box": (20, 30, 100, 20), "word_polygon": [(20, 30), (40, 30), (20, 50)]}]
    (tmp_path / "p-1.xml").write_text(alto_xml(ALTO_NS["v4"], lines), encoding="utf-8")
    items, _ = list_items("alto", tmp_path)
    img = _raw(items[0])
    assert img.shape == (20, 100) and (img == PAPER).all()  # the whole line box, not the first word


def test_alto_named_image_custom_writer_rule_and_normalised_samples(tmp_path, write_image, make_ink):
    write_image(tmp_path / "scans/IMG 7.jpg", make_ink(PAGE_W, PAGE_H, 3))
    lines = [{"id": "a", "words": ["  hello  "], "box": (0, 0, PAGE_W, PAGE_H)}, {"id": "b", "words": [], "box": (0, 0, 9, 9)}]
    xml = tmp_path / "hand42_page.xml"
    xml.write_text(alto_xml(ALTO_NS["v3"], lines, filename="scans/IMG 7.jpg"), encoding="utf-8")
    stream = read("alto", xml, writer_rule=r"^(hand\d+)_")
    [s] = list(stream)
    assert (s.id, s.text, s.writer) == ("hand42_page/a", "hello", "hand42")
    assert s.image.shape[0] == 32 and s.image.dtype == np.uint8 and s.image.min() < 64
    assert stream.skipped.counts == {"empty text": 1}


def test_writer_from_stem():
    assert writer_from_stem("TestamentsDePoilus_will_AD78_0003-1") == "TestamentsDePoilus_will_AD78_0003"
    assert writer_from_stem("nodash") == "nodash"
    assert writer_from_stem("a-b-c") == "a-b"


def test_alto_bad_inputs_are_counted(tmp_path, flat_page):
    flat_page(tmp_path / "good-0.png")
    ns = ALTO_NS["v4"]
    (tmp_path / "good-0.xml").write_text(
        alto_xml(ns, [
            {"id": "ok", "words": ["x"], "box": (0, 0, 10, 10)},
            {"id": "nobox", "words": ["y"]},
            {"id": "badpoly", "words": ["z"], "polygon": [(1, 2), (3, 4)]},
            {"id": "outside", "words": ["w"], "box": (500, 500, 10, 10)},
        ]),
        encoding="utf-8",
    )
    (tmp_path / "broken-0.xml").write_text("<alto><Layout><TextLine", encoding="utf-8")
    (tmp_path / "noimage-0.xml").write_text(alto_xml(ns, [{"id": "l", "words": ["q"], "box": (0, 0, 5, 5)}]), encoding="utf-8")
    (tmp_path / "other-0.xml").write_text(page_xml(PAGE_NS["2019"], []), encoding="utf-8")
    stream = read("alto", tmp_path, height=None, trim=False)
    assert [s.id for s in stream] == ["good-0/ok"]
    assert stream.skipped.counts == {
        "bad geometry": 2, "broken XML": 1, "missing image": 1, "not ALTO": 1, "unreadable image": 1
    }
    assert any("broken-0.xml" in e for e in stream.skipped.examples["broken XML"])
    assert any("noimage-0.xml" in e for e in stream.skipped.examples["missing image"])


def test_xml_reader_without_xml(tmp_path):
    with pytest.raises(ReaderError, match="no .xml files"):
        read("alto", tmp_path)
    with pytest.raises(ReaderError, match="no such file"):
        read("page", tmp_path / "nope")


@pytest.mark.parametrize("version", sorted(PAGE_NS))
def test_page_polygon_text_and_fallbacks(version, tmp_path, flat_page):
    flat_page(tmp_path / "scan.png")
    lines = [
        {"id": "l1", "polygon": TRIANGLE, "text": " Cafe\u0301 "},
        {"id": "l2", "polygon": [(20, 30), (60, 30), (60, 40), (20, 40)], "words": ["un", "deux"]},
        {"id": "l3", "text": "no coords"},
        {"id": "l4", "polygon": [(0, 0), (5, 5), (0, 5)], "text": ""},
    ]
    (tmp_path / "book_12-3.xml").write_text(page_xml(PAGE_NS[version], lines, filename="scan.png"), encoding="utf-8")
    items, skips = list_items("page", tmp_path)
    assert [(it.id, it.text.strip(), it.writer) for it in items] == [
        ("book_12-3/l1", "Cafe\u0301", "book_12"),
        ("book_12-3/l2", "un deux", "book_12"),
        ("book_12-3/l4", "", "book_12"),
    ]
    assert skips.counts == {"bad geometry": 1}
    tri = _raw(items[0])
    assert tri.shape == (31, 51) and tri[1, 1] == PAPER and tri[30, 50] == 255
    rect = _raw(items[1])
    assert rect.shape == (11, 41) and (rect == PAPER).all()
    stream = read("page", tmp_path, height=None, trim=False, invert="never")
    got = list(stream)
    assert [s.text for s in got] == ["Caf\u00e9", "un deux"]  # NFC, stripped
    assert stream.skipped.counts == {"bad geometry": 1, "empty text": 1}


def test_page_text_equiv_lowest_index_wins_and_point_elements(tmp_path, flat_page):
    flat_page(tmp_path / "p-0.png")
    ns = PAGE_NS["2013"]
    xml = (
        f'<PcGts xmlns="{ns}"><Page imageFilename="p-0.png"><TextRegion id="r">'
        '<TextLine id="a"><Coords><Point x="1" y="1"/><Point x="20" y="1"/><Point x="20" y="9"/></Coords>'
        '<TextEquiv index="2"><Unicode>second</Unicode></TextEquiv>'
        '<TextEquiv index="1"><Unicode>first</Unicode></TextEquiv></TextLine>'
        "</TextRegion></Page></PcGts>"
    )
    (tmp_path / "p-0.xml").write_text(xml, encoding="utf-8")
    [item], _ = list_items("page", tmp_path)
    assert item.text == "first" and _raw(item).shape == (9, 20)


def test_page_bad_inputs_are_counted(tmp_path, flat_page):
    (tmp_path / "a-0.xml").write_text(page_xml(PAGE_NS["2019"], [{"id": "l", "polygon": TRIANGLE, "text": "t"}], "gone.png"), encoding="utf-8")
    (tmp_path / "b-0.xml").write_bytes(b"<PcGts><Page>\xff\xfe</Page")
    (tmp_path / "c-0.xml").write_text(alto_xml(ALTO_NS["v4"], []), encoding="utf-8")
    items, skips = list_items("page", tmp_path)
    assert items == []
    assert skips.counts == {"missing image": 1, "broken XML": 1, "not PAGE": 1}
