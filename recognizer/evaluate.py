"""Running a trained recognizer: load a checkpoint, predict a dataset, score it, transcribe images.

A recognizer checkpoint (``RUN/best.pt`` or ``RUN/last.pt``, see :mod:`recognizer.train`) holds
the weights, the CRNN sizes and the codec's alphabet, so it is all :func:`load_recognizer` needs.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from hwdatasets.alphabet import Alphabet, load_lexicon
from hwdatasets.normalize import Normalizer
from recognizer.checkpoint import load_checkpoint
from recognizer.codec import Codec
from recognizer.data import MIN_WIDTH, RecognizerError, collate, pad_batch, to_tensor
from recognizer.decoders import LexiconTrie, decode_batch
from recognizer.metrics import cer, wer
from recognizer.model import CRNN, CRNNConfig
from recognizer.trunk import HEIGHT

log = logging.getLogger(__name__)
KIND = "recognizer"


def load_recognizer(path: str | Path, device: str | torch.device = "cpu") -> tuple[CRNN, Codec, dict]:
    """``(model in eval mode, codec, checkpoint state)`` of a recognizer checkpoint."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such recognizer checkpoint (RUN/best.pt of `scrabblegan recognizer train`)")
    state = load_checkpoint(path, map_location="cpu")
    if state.get("kind") != KIND:
        raise RecognizerError(f"{path} is not a recognizer checkpoint (a GAN checkpoint? kind={state.get('kind')!r})")
    codec = Codec(Alphabet.from_string(state["alphabet"]))
    model = CRNN(codec.num_classes, CRNNConfig(**state["model_config"]))
    model.load_state_dict(state["model"])
    return model.to(device).eval(), codec, state


def load_lexicon_trie(path: str | Path, codec: Codec) -> LexiconTrie:
    """The word list at ``path`` as a :class:`LexiconTrie`; entries the recognizer cannot write
    (characters outside its alphabet) are skipped with a counted warning."""
    words, report = load_lexicon(path, codec.alphabet, on_unknown="skip")
    if report.unknown:
        log.warning("lexicon %s: skipped %d of %d entries with characters outside the recognizer's alphabet (%r)",
                    path, report.unknown, report.unknown + report.kept, "".join(sorted(report.unknown_chars)))
    try:
        return LexiconTrie(words)
    except ValueError as e:
        raise RecognizerError(f"lexicon {path}: {e}") from None


@torch.no_grad()
def predict(model: CRNN, dataset, codec: Codec, indices: Sequence[int] | None = None, batch_size: int = 32,
            decoder: str = "greedy", lexicon: LexiconTrie | None = None, device: str | torch.device = "cpu"
            ) -> tuple[list[str], list[str], list[str]]:
    """Transcribe ``dataset[i]`` for ``i`` in ``indices`` (default: all), batching images of similar
    width together. Returns ``(ids, references, predictions)`` in the order of ``indices``."""
    indices = list(range(len(dataset))) if indices is None else list(indices)
    widths = dataset.widths()
    order = sorted(range(len(indices)), key=lambda k: int(widths[indices[k]]))
    preds: list[str] = [""] * len(indices)
    ids: list[str] = [""] * len(indices)
    refs: list[str] = [""] * len(indices)
    was_training = model.training
    model.eval()
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch = collate([dataset[indices[k]] for k in chunk]).to(device)
        log_probs, frames = model(batch.images, batch.widths)  # [T, N, K], [N]
        for k, p, i, r in zip(chunk, decode_batch(log_probs, frames, codec, decoder, lexicon), batch.ids, batch.texts):
            preds[k], ids[k], refs[k] = p, i, r
    model.train(was_training)
    return ids, refs, preds


def scores(references: Sequence[str], predictions: Sequence[str]) -> dict[str, float]:
    """CER and WER (case-sensitive), and their case-insensitive and punctuation-stripped variants."""
    return {
        "cer": cer(references, predictions), "wer": wer(references, predictions),
        "cer_ignore_case": cer(references, predictions, ignore_case=True),
        "wer_ignore_case": wer(references, predictions, ignore_case=True),
        "cer_no_punct": cer(references, predictions, strip_punct=True),
        "wer_no_punct": wer(references, predictions, strip_punct=True),
    }


def load_image(path: str | Path, normalizer: Normalizer | None = None) -> np.ndarray:
    """An image file as the recognizer's input: gray uint8, ink dark on white, 32 px high.

    Raises :class:`RecognizerError` for unreadable, empty and higher-than-wide images (a word
    or line image is wider than high; a tall one is most likely rotated or not text).
    """
    normalizer = normalizer or Normalizer(height=HEIGHT)
    try:
        with Image.open(path) as im:
            im.load()
            if im.width == 0 or im.height == 0:
                raise RecognizerError(f"{path}: empty image ({im.width} x {im.height})")
            if im.height > im.width:
                raise RecognizerError(f"{path}: the image is higher than wide ({im.width} x {im.height} px); the "
                                      "recognizer reads word or line images (rotate it, or crop it to the text)")
            return normalizer(im)
    except (UnidentifiedImageError, OSError) as e:
        raise RecognizerError(f"{path}: cannot read the image ({e})") from None


@torch.no_grad()
def transcribe(model: CRNN, codec: Codec, images: Sequence[np.ndarray], decoder: str = "greedy",
               lexicon: LexiconTrie | None = None, device: str | torch.device = "cpu") -> list[str]:
    """Texts of uint8 ``[32, W]`` images (see :func:`load_image`), one call per image."""
    out = []
    model.eval()
    for image in images:
        batch, widths = pad_batch([to_tensor(image)], min_width=MIN_WIDTH)  # [1, 1, 32, W]
        log_probs, frames = model(batch.to(device), widths)
        out += decode_batch(log_probs, frames, codec, decoder, lexicon)
    return out
