"""Offline tuning: what builds and maintains archives, never loaded by ``import satya_adapt``.

- :mod:`~satya_adapt.tuning.optimizer`: the MAP-Elites search that writes an archive.
- :mod:`~satya_adapt.tuning.maintenance`: refresh an archive on this machine, merge two.
- :mod:`~satya_adapt.tuning.measure`: interleaved timing rounds, medians, confidence intervals.
- :mod:`~satya_adapt.tuning.workloads`: deterministic generated records and their schemas.
- :mod:`~satya_adapt.tuning.reference`: msgspec, timed alongside as the reference.
- :mod:`~satya_adapt.tuning.plot`: an archive's heat map (needs matplotlib).
"""
