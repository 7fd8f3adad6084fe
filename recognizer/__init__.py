"""Handwriting recognizer: alphabet codec, conv trunk, CRNN, CTC helpers, decoders, metrics, training.

The conv trunk is shared by the ScrabbleGAN weak recognizer (:class:`ConvRecognizer`) and the
downstream :class:`CRNN` (trunk + BiLSTM); one codec serves both.
"""
from recognizer.codec import Codec, UnknownCharacterError
from recognizer.ctc import ctc_feasible, ctc_loss
from recognizer.model import CRNN, CRNNConfig
from recognizer.trunk import ConvRecognizer, ConvTrunk

__all__ = ["CRNN", "CRNNConfig", "Codec", "ConvRecognizer", "ConvTrunk", "UnknownCharacterError", "ctc_feasible",
           "ctc_loss"]
