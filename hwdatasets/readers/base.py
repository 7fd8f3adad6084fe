"""What all readers share: lazy raw items, the skip log, and the normalising stream."""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from PIL import Image, UnidentifiedImageError

from ..alphabet import normalize_text
from ..normalize import Normalizer
from ..sample import Sample


@dataclass
class RawItem:
    """One annotated sample before its image is read: cheap to list, loaded on demand.

    id, text, writer: as in :class:`~hwdatasets.Sample` (text not yet normalised).
    load: returns the PIL image; raises OSError/FileNotFoundError/UnidentifiedImageError if it can't.
    where: where the annotation came from, for messages ("data.csv line 12").
    """

    id: str
    text: str
    writer: str
    load: Callable[[], Image.Image]
    where: str = ""


@dataclass
class SkipLog:
    """Counts of skipped inputs by reason, with the first few examples of each."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    max_examples: int = 5

    def add(self, reason: str, detail: str) -> None:
        self.counts[reason] += 1
        shown = self.examples.setdefault(reason, [])
        if len(shown) < self.max_examples:
            shown.append(detail)

    def merge(self, other: "SkipLog") -> None:
        for reason, n in other.counts.items():
            self.counts[reason] += n
            shown = self.examples.setdefault(reason, [])
            shown.extend(other.examples.get(reason, [])[: self.max_examples - len(shown)])

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def to_dict(self) -> dict:
        return {"counts": dict(self.counts), "examples": self.examples}

    @classmethod
    def from_dict(cls, d: dict | None) -> "SkipLog":
        log = cls()
        if d:
            log.counts.update(d.get("counts", {}))
            log.examples = {k: list(v) for k, v in d.get("examples", {}).items()}
        return log

    def summary(self) -> str:
        if not self.counts:
            return "skipped: none"
        lines = [f"skipped: {self.total}"]
        for reason, n in sorted(self.counts.items()):
            lines.append(f"  {reason}: {n}   e.g. {'; '.join(self.examples.get(reason, [])[:3])}")
        return "\n".join(lines)


def load_sample(item: RawItem, normalizer: Normalizer, skips: SkipLog, allow_empty_text: bool = False) -> Sample | None:
    """Normalise one raw item into a :class:`Sample`, or count why it was skipped and return None."""
    text = normalize_text(item.text)
    where = item.where or item.id
    if not text and not allow_empty_text:
        skips.add("empty text", where)
        return None
    try:
        with item.load() as image:
            image.load()
            gray = normalizer(image)
    except FileNotFoundError as e:
        skips.add("missing image", f"{where}: {e.filename or e}")
        return None
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as e:
        skips.add("unreadable image", f"{where}: {e}")
        return None
    return Sample(image=gray, text=text, writer=item.writer, id=item.id)


class SampleStream:
    """Samples of one source, normalised; iterate it, then read :attr:`skipped`.

    items:  the raw items (already listed; listing is cheap and reports list-time skips).
    skips:  skips found while listing (broken XML, malformed rows); loading adds to it.
    """

    def __init__(self, items: Sequence[RawItem], skips: SkipLog, normalizer: Normalizer, source: str):
        self.items = items
        self.skipped = skips
        self.normalizer = normalizer
        self.source = source

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Sample]:
        for item in self.items:
            sample = load_sample(item, self.normalizer, self.skipped)
            if sample is not None:
                yield sample


def open_image(path) -> Callable[[], Image.Image]:
    """A loader for an image file (used by the file-per-sample readers)."""
    return lambda: Image.open(path)
