"""Offline tuning: what builds and maintains archives, never loaded by ``import satya_adapt``.

- :mod:`~satya_adapt.tuning.optimizer`: the entry point (``satya-adapt optimize``,
  ``benchmarks/map_elites_optimizer.py``): its one parser, the settings, a run.
- :mod:`~satya_adapt.tuning.gates`: the noise floor and which knobs move throughput.
- :mod:`~satya_adapt.tuning.search`: the MAP-Elites loop over the cells of a grid.
- :mod:`~satya_adapt.tuning.space`: the grid, the genes and how they vary.
- :mod:`~satya_adapt.tuning.measurer`: a workload's data ready to time, and the timing.
- :mod:`~satya_adapt.tuning.correction`: fresh timings of every cell; what each cell ships.
- :mod:`~satya_adapt.tuning.report`: the archive, the results document, the history entry.
- :mod:`~satya_adapt.tuning.state`: the resume state (typed msgspec structures).
- :mod:`~satya_adapt.tuning.maintenance`: refresh an archive on this machine, merge two.
- :mod:`~satya_adapt.tuning.measure`: interleaved timing rounds, medians, confidence intervals.
- :mod:`~satya_adapt.tuning.workloads`: deterministic generated records and their schemas.
- :mod:`~satya_adapt.tuning.reference`: msgspec, timed alongside as the reference.
- :mod:`~satya_adapt.tuning.plot`: an archive's heat map (needs matplotlib).
"""
