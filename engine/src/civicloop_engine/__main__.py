from __future__ import annotations

import sys

from civicloop_engine.cli import main

sys.exit(main(prog="python -m civicloop_engine"))
