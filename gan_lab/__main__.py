"""`python -m gan_lab ...` behaves exactly like the `gan-lab` command."""

import sys

from gan_lab.cli import main

if __name__ == "__main__":
    sys.exit(main())
