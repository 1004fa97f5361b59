"""``python -m satya_adapt``: the ``satya-adapt`` command line."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
