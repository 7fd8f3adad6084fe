"""CRNN forward/backward and masking; data: sources, mixing by weight, resume, collate."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from tinydata import glyph_image

from hwdatasets import Alphabet, Sample, Shards
from recognizer.codec import Codec
from recognizer.ctc import ctc_loss
from recognizer.data import MixedBatches, RecognizerError, collate, parse_source, usable
from recognizer.model import CRNN, CRNNConfig

TINY = CRNNConfig(base=4, hidden=8, layers=2, dropout=0.0)


def test_crnn_shapes_gradients_and_no_nan():
    codec = Codec("abcd")
    model = CRNN(codec.num_classes, TINY)
    batch = collate([Sample(glyph_image(t), t, "w", t) for t in ("ab", "dcba", "c")])
    log_probs, frames = model(batch.images, batch.widths)
    assert log_probs.shape == (batch.images.shape[-1] // 4, 3, codec.num_classes)
    assert frames.tolist() == (batch.widths // 4).tolist()
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(log_probs.shape[:2]))
    targets, lengths = codec.encode_batch(batch.texts)
    loss, dropped = ctc_loss(log_probs, targets, lengths, frames)
    loss.backward()
    assert dropped == 0 and torch.isfinite(loss)
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_padding_does_not_change_a_sample():
    model = CRNN(5, TINY).eval()
    short = collate([Sample(glyph_image("ab"), "ab", "w", "s")])
    mixed = collate([Sample(glyph_image("ab"), "ab", "w", "s"), Sample(glyph_image("abcdabcd"), "abcdabcd", "w", "l")])
    with torch.no_grad():
        alone, n = model(short.images, short.widths)
        padded, _ = model(mixed.images, mixed.widths)
    # Frames away from the right edge (outside the conv receptive field of the padding) agree.
    torch.testing.assert_close(padded[: int(n) - 3, 0], alone[: int(n) - 3, 0], atol=1e-4, rtol=1e-4)
    assert (mixed.images[0, :, :, short.images.shape[-1]:] == 1.0).all()  # padded with paper white


def test_crnn_rejects_wrong_height():
    with pytest.raises(ValueError, match="32"):
        CRNN(5, TINY)(torch.ones(1, 1, 40, 64))


def test_parse_source():
    assert parse_source("data/real") == ("data/real", 1.0)
    assert parse_source("data/synth:0.5") == ("data/synth", 0.5)
    assert parse_source("C:/x") == ("C:/x", 1.0)
    with pytest.raises(RecognizerError, match="positive"):
        parse_source("d:0")


def test_usable_skips_unknown_empty_and_too_narrow(tiny_data, caplog):
    ds = Shards(tiny_data[0])
    keep = usable(ds, Alphabet("abcd-"), "train")
    texts = ds.texts()
    assert all("1" not in texts[i] for i in keep) and len(keep) == len(texts) - 2
    assert "2 with characters outside the alphabet" in caplog.text


def test_mixing_by_weight_is_seeded_and_resumable(tiny_data):
    real, synth, _ = (Shards(p) for p in tiny_data)
    alphabet = real.alphabet.union(synth.alphabet)

    def make():
        return MixedBatches([(real, 3.0), (synth, 1.0)], alphabet, batch_size=8, seed=1)

    a, b = make(), make()
    counts = np.sum([a.counts(k) for k in range(200)], axis=0)
    assert 0.68 < counts[0] / counts.sum() < 0.82  # 3:1
    first = [a.next() for _ in range(3)]
    state = a.state_dict()
    nxt = a.next()
    assert [x.ids for x in first] == [b.next().ids for _ in range(3)]
    c = make()
    c.load_state_dict(state)
    assert c.next().ids == nxt.ids
    assert {i.split("-")[0] for x in first for i in x.ids} == {"real", "synth"}


def test_augmented_batches_reproducible(tiny_data):
    import augment

    real = Shards(tiny_data[0])

    def make(preset):
        return MixedBatches([(real, 1.0)], real.alphabet, 4, seed=2, augmenter=augment.build(preset))

    x, y, plain = make("heavy").next(), make("heavy").next(), make("none").next()
    torch.testing.assert_close(x.images, y.images)
    assert plain.ids == x.ids  # augmentation changes the pixels, never which samples are drawn
    assert plain.images.shape != x.images.shape or not torch.equal(plain.images, x.images)
