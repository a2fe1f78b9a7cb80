"""``python -m tinta`` (also what ``torchrun -m tinta`` runs)."""

import sys

from tinta.cli import main

sys.exit(main())
