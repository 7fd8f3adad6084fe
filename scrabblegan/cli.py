"""The `scrabblegan` command line: one sub-command per module, each registering its own parser."""
from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence

from hwdatasets import LexiconError, ReaderError, ShardError, SplitError

from augment import AugmentConfigError
from recognizer.data import RecognizerError

from . import __version__, generate, prepare, recognizer_cli, sample, show, train
from .styles import StyleBankError

COMMANDS = (prepare, show, train, generate, sample, recognizer_cli)
USER_ERRORS = (LexiconError, ReaderError, ShardError, SplitError, FileNotFoundError, generate.GenerateError,
               StyleBankError, RecognizerError, AugmentConfigError)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scrabblegan",
        description="Synthetic handwriting: prepare real handwriting into shards, train a ScrabbleGAN, generate "
        "any lexicon in many styles, look at data.",
    )
    parser.add_argument("--version", action="version", version=f"scrabblegan {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMANDS:
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except USER_ERRORS as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to continue where it stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
