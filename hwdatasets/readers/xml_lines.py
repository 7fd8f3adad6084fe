"""Line readers for page-level XML exports (eScriptorium, Transkribus): ALTO and PAGE."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..normalize import to_gray
from .base import RawItem, SkipLog
from .tables import ReaderError

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".jp2", ".bmp", ".webp")
DEFAULT_WRITER_RULE = r"^(.*)-[^-]*$"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(elem: ET.Element, name: str) -> Iterator[ET.Element]:
    return (c for c in elem if _local(c.tag) == name)


def _descendants(elem: ET.Element, name: str) -> Iterator[ET.Element]:
    return (c for c in elem.iter() if _local(c.tag) == name)


def writer_from_stem(stem: str, rule: str = DEFAULT_WRITER_RULE) -> str:
    """Writer id of a page: the first group of ``rule`` matched on the file stem, else the stem.

    The default rule keeps the stem up to its last ``-`` (``will_0003-1`` -> ``will_0003``).
    """
    m = re.match(rule, stem)
    return m.group(1) if m and m.groups() else stem


@lru_cache(maxsize=2)
def _page_gray(path: Path) -> np.ndarray:
    """Page images are decoded once for all their lines (lines of a page come one after another)."""
    with Image.open(path) as im:
        return to_gray(im)


def crop_line(page: Path, polygon: list[tuple[float, float]] | None, box: tuple[int, int, int, int]) -> Image.Image:
    """Crop a line from a page: to ``polygon`` (outside set to paper white) or else to ``box``.

    box: (left, top, width, height) in page pixels.
    """
    gray = _page_gray(page)
    H, W = gray.shape
    if polygon:
        xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
        left, top = max(int(min(xs)), 0), max(int(min(ys)), 0)
        right, bottom = min(int(np.ceil(max(xs))) + 1, W), min(int(np.ceil(max(ys))) + 1, H)
    else:
        left, top = max(box[0], 0), max(box[1], 0)
        right, bottom = min(box[0] + box[2], W), min(box[1] + box[3], H)
    if right <= left or bottom <= top:
        raise ValueError(f"line region {left},{top}-{right},{bottom} lies outside the {W}x{H} page")
    crop = gray[top:bottom, left:right]
    if polygon:
        mask = Image.new("L", (right - left, bottom - top), 0)
        ImageDraw.Draw(mask).polygon([(x - left, y - top) for x, y in polygon], fill=255, outline=255)
        crop = np.where(np.asarray(mask) > 0, crop, 255).astype(np.uint8)
    return Image.fromarray(crop)


def _find_image(xml: Path, named: str | None) -> Path | None:
    candidates = []
    if named:
        candidates += [xml.parent / named, xml.parent / Path(named.replace("\\", "/")).name]
    candidates += [xml.with_suffix(s) for s in IMAGE_SUFFIXES]
    candidates += [xml.with_suffix(s.upper()) for s in IMAGE_SUFFIXES]
    return next((c for c in candidates if c.is_file()), None)


def _xml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise ReaderError(f"{path}: no such file or folder.")
    files = sorted(p for p in path.rglob("*") if p.suffix.lower() == ".xml" and p.is_file())
    if not files:
        raise ReaderError(f"{path}: no .xml files found.")
    return files


def _points(s: str, comma_pairs: bool) -> list[tuple[float, float]]:
    """ALTO: ``"x1 y1 x2 y2 ..."`` (some exports use commas); PAGE: ``"x1,y1 x2,y2 ..."``."""
    nums = [float(v) for v in re.split(r"[\s,]+", s.strip()) if v]
    if len(nums) < 6 or len(nums) % 2:
        raise ValueError(f"polygon needs at least 3 x,y points, got {s[:40]!r}")
    return list(zip(nums[0::2], nums[1::2]))


def _loader(page: Path, polygon, box) -> Callable[[], Image.Image]:
    return lambda: crop_line(page, polygon, box)


def _parse(xml: Path, skips: SkipLog) -> ET.Element | None:
    try:
        return ET.parse(xml).getroot()
    except ET.ParseError as e:
        skips.add("broken XML", f"{xml}: {e}")
    except OSError as e:
        skips.add("unreadable XML", f"{xml}: {e}")
    return None


def list_alto(path: str | Path, skips: SkipLog, writer_rule: str = DEFAULT_WRITER_RULE) -> list[RawItem]:
    """ALTO v2/v3/v4 files (a file or a folder searched recursively) with page images beside them.

    One sample per TextLine: text = its String CONTENT values joined with spaces; image = the
    line's Shape/Polygon, or its HPOS/VPOS/WIDTH/HEIGHT box. Writer = ``writer_rule`` on the stem.
    """
    items: list[RawItem] = []
    for xml in _xml_files(Path(path)):
        root = _parse(xml, skips)
        if root is None:
            continue
        if _local(root.tag) != "alto":
            skips.add("not ALTO", str(xml))
            continue
        named = next((e.text for e in _descendants(root, "fileName") if e.text), None)
        page = _find_image(xml, named and named.strip())
        writer = writer_from_stem(xml.stem, writer_rule)
        for n, line in enumerate(_descendants(root, "TextLine")):
            lid = line.get("ID") or f"line{n}"
            where = f"{xml.name} TextLine {lid}"
            if page is None:
                skips.add("missing image", f"{where}: no page image {named or xml.stem + '.*'} beside {xml}")
                continue
            text = " ".join(s.get("CONTENT", "") for s in _descendants(line, "String"))
            try:
                shape = next(_children(line, "Shape"), None)  # the line's own, not a String's Shape
                poly_elem = next((p for p in _children(shape, "Polygon") if p.get("POINTS")), None) if shape is not None else None
                polygon = _points(poly_elem.get("POINTS"), comma_pairs=False) if poly_elem is not None else None
                box = tuple(int(round(float(line.get(k, "0")))) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
            except ValueError as e:
                skips.add("bad geometry", f"{where}: {e}")
                continue
            if polygon is None and (box[2] <= 0 or box[3] <= 0):
                skips.add("bad geometry", f"{where}: no polygon and no HPOS/VPOS/WIDTH/HEIGHT box")
                continue
            items.append(RawItem(f"{xml.stem}/{lid}", text, writer, _loader(page, polygon, box), where))
    return items


def _page_text(line: ET.Element) -> str:
    """A TextLine's own TextEquiv/Unicode (lowest index first), else its Words' texts joined."""
    equivs = sorted(_children(line, "TextEquiv"), key=lambda e: int(e.get("index", "0") or 0))
    for eq in equivs:
        uni = next(_children(eq, "Unicode"), None)
        if uni is not None and uni.text:
            return uni.text
    words = []
    for word in _children(line, "Word"):
        eq = next(_children(word, "TextEquiv"), None)
        uni = next(_children(eq, "Unicode"), None) if eq is not None else None
        if uni is not None and uni.text:
            words.append(uni.text.strip())
    return " ".join(words)


def list_page(path: str | Path, skips: SkipLog, writer_rule: str = DEFAULT_WRITER_RULE) -> list[RawItem]:
    """PAGE XML (2013 and 2019 schemas): TextLine Coords polygon + TextEquiv/Unicode."""
    items: list[RawItem] = []
    for xml in _xml_files(Path(path)):
        root = _parse(xml, skips)
        if root is None:
            continue
        page_elem = next(_descendants(root, "Page"), None)
        if _local(root.tag) != "PcGts" or page_elem is None:
            skips.add("not PAGE", str(xml))
            continue
        named = page_elem.get("imageFilename")
        page = _find_image(xml, named)
        writer = writer_from_stem(xml.stem, writer_rule)
        for n, line in enumerate(_descendants(root, "TextLine")):
            lid = line.get("id") or f"line{n}"
            where = f"{xml.name} TextLine {lid}"
            if page is None:
                skips.add("missing image", f"{where}: no page image {named or xml.stem + '.*'} beside {xml}")
                continue
            coords = next(_children(line, "Coords"), None)
            try:
                if coords is None:
                    raise ValueError("no Coords")
                if coords.get("points"):
                    polygon = _points(coords.get("points"), comma_pairs=True)
                else:  # PAGE 2009/2010 style <Point x= y=/>
                    polygon = [(float(p.get("x")), float(p.get("y"))) for p in _children(coords, "Point")]
                    if len(polygon) < 3:
                        raise ValueError("fewer than 3 points")
            except (ValueError, TypeError) as e:
                skips.add("bad geometry", f"{where}: {e}")
                continue
            items.append(RawItem(f"{xml.stem}/{lid}", _page_text(line), writer, _loader(page, polygon, (0, 0, 0, 0)), where))
    return items
