"""Handwriting recognizer: alphabet codec, convolutional trunk, CTC helpers.

The conv trunk is shared by the ScrabbleGAN weak recognizer and the full CRNN (later).
"""
from recognizer.codec import Codec, UnknownCharacterError
from recognizer.ctc import ctc_loss, ctc_feasible
from recognizer.trunk import ConvRecognizer, ConvTrunk

__all__ = ["Codec", "UnknownCharacterError", "ConvRecognizer", "ConvTrunk", "ctc_loss", "ctc_feasible"]
