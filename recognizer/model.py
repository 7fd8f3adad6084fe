"""The downstream CRNN: the shared conv trunk, a bidirectional LSTM head, linear + log-softmax, CTC.

    images [N, 1, 32, W] in [-1, 1] (paper white +1, padded with white)
      -> ConvTrunk          [N, C, T]     T = W // 4
      -> BiLSTM (packed)    [T, N, 2H]    padded frames never reach a valid frame
      -> Linear + log_softmax [T, N, K]   K = alphabet + blank (CTC layout)

The LSTM runs on packed sequences of each image's own frame count (``widths // 4``), so the
white padding of a batch does not change a sample's output. (The conv trunk does see a few
padding columns at the right edge through its receptive field; padding is paper white, which is
what real margins look like.)
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from recognizer.trunk import HEIGHT, ConvTrunk


@dataclass
class CRNNConfig:
    """Sizes of the CRNN; saved in every recognizer checkpoint.

    Args:
        base: conv trunk channel base (trunk output channels ``8 * base``; CRNN's classic 64).
        hidden: LSTM hidden size per direction.
        layers: stacked BiLSTM layers.
        dropout: dropout before the LSTM, between LSTM layers and before the classifier.
        batchnorm: BatchNorm in the conv trunk.
    """

    base: int = 32
    hidden: int = 128
    layers: int = 2
    dropout: float = 0.2
    batchnorm: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


class CRNN(nn.Module):
    """Conv trunk + BiLSTM + linear CTC classifier over ``num_classes`` (alphabet + blank).

    Args:
        num_classes: output classes including the CTC blank (``Codec.num_classes``).
        config: the sizes (:class:`CRNNConfig`; defaults when omitted).
    """

    def __init__(self, num_classes: int, config: CRNNConfig | None = None):
        super().__init__()
        self.config = cfg = config or CRNNConfig()
        self.num_classes = num_classes
        self.trunk = ConvTrunk(cfg.base, batchnorm=cfg.batchnorm)
        self.dropout = nn.Dropout(cfg.dropout)
        self.rnn = nn.LSTM(self.trunk.out_channels, cfg.hidden, num_layers=cfg.layers, bidirectional=True,
                           dropout=cfg.dropout if cfg.layers > 1 else 0.0)
        self.classifier = nn.Linear(2 * cfg.hidden, num_classes)

    output_length = staticmethod(ConvTrunk.output_length)

    def forward(self, images: torch.Tensor, widths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``images [N, 1, 32, W]`` (white +1, ink -1) and their true ``widths [N]`` (default: all W).

        Returns ``(log_probs [T, N, K], frames [N])``: CTC-layout log-probabilities and the valid
        frame count of each sample (``widths // 4``, at least 1); frames past it are padding.
        """
        if images.ndim != 4 or images.shape[1] != 1 or images.shape[2] != HEIGHT:
            raise ValueError(f"CRNN expects images [N, 1, {HEIGHT}, W], got {tuple(images.shape)}")
        n, _, _, w = images.shape
        if widths is None:
            widths = torch.full((n,), w, dtype=torch.long)
        features = self.trunk(images)  # [N, C, T]
        t = features.shape[-1]
        frames = self.output_length(widths.cpu().long()).clamp(1, t)  # [N]
        seq = self.dropout(features.permute(2, 0, 1))  # [T, N, C]
        packed = pack_padded_sequence(seq, frames, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, total_length=t)  # [T, N, 2H], zeros past each length
        logits = self.classifier(self.dropout(out))  # [T, N, K]
        return logits.float().log_softmax(-1), frames
