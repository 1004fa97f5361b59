#!/usr/bin/env python3
"""MAP-Elites search for the fastest batch configuration per kind of data (resumable).

A thin wrapper over :func:`satya_adapt.tuning.optimizer.main`; ``satya-adapt optimize`` takes the same
flags. See ``python benchmarks/map_elites_optimizer.py --help`` and ``archives/README.md``.

    python3 benchmarks/map_elites_optimizer.py --generations 2 --test-size 5000 --save-every 1 \\
        --verbose 2 --no-msgspec --seed 42 --archive benchmarks/map_elites_archive.json \\
        --results benchmarks/map_elites_results.json
"""

from __future__ import annotations

import sys

from satya_adapt.tuning.optimizer import main

if __name__ == "__main__":
    sys.exit(main(prog="benchmarks/map_elites_optimizer.py"))
