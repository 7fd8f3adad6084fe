import sys

from scrabblegan.cli import main

sys.exit(main())
