"""`python -m bot`: starts the command line, which lives in cli/ because its demos compose bot with scheduler."""

import sys

from cli.bot_command import main

if __name__ == "__main__":
    sys.exit(main())
