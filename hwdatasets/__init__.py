"""Handwriting datasets: readers, normalisation, alphabet and lexicon, splits, HDF5 shards."""
from .alphabet import Alphabet, LexiconError, LexiconReport, iter_lexicon, load_lexicon, normalize_text
from .normalize import Normalizer
from .readers import FORMATS, ReaderError, SampleStream, SkipLog, read
from .sample import Sample
from .shards import ShardError, Shards, ShardWriter, read_manifest
from .splits import SplitError, load_split_file, parse_fractions, split_writers

__version__ = "0.1.0"

__all__ = [
    "Alphabet", "FORMATS", "LexiconError", "LexiconReport", "Normalizer", "ReaderError", "Sample",
    "SampleStream", "ShardError", "ShardWriter", "Shards", "SkipLog", "SplitError", "iter_lexicon",
    "load_lexicon", "load_split_file", "normalize_text", "parse_fractions", "read", "read_manifest",
    "split_writers",
]
