"""Handwriting image augmentations (filled by a later issue; nothing here yet)."""
