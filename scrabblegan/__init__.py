"""ScrabbleGAN: a generator of handwritten word images of any text, its training loop and CLI."""
__version__ = "0.1.0"
