"""`python -m scheduler`: starts the scheduler's command line, which lives in cli/ with `python -m bot`'s."""

import sys

from cli.scheduler_command import main

if __name__ == "__main__":
    sys.exit(main())
