"""Handwriting augmentations: composable, seedable ops on uint8 gray word images (ink dark on white).

    from augment import build
    aug = build("light")                 # or "heavy", "none", a JSON file, or {"ops": [...]}
    out = aug(image, seed)               # the same seed gives the same image
"""
from augment.ops import OPS, Op
from augment.pipeline import PRESETS, AugmentConfigError, Augmenter, build, make_op

__all__ = ["OPS", "PRESETS", "AugmentConfigError", "Augmenter", "Op", "build", "make_op"]
