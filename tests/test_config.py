"""Constants the runtime, the tuning and the command line share (``satya_adapt.config``)."""

from __future__ import annotations

from typing import Any

from satya_adapt import Validator, _validator
from satya_adapt import config as C


def test_read_ahead_bytes_has_one_home_in_the_core() -> None:
    # Defined in crates/core/src/detect.rs, exposed by the binding, re-exported here (the same
    # object, not a second definition that could drift).
    assert _validator.READ_AHEAD_BYTES == 64 * 1024
    assert C.READ_AHEAD_BYTES is _validator.READ_AHEAD_BYTES


class SizedReader:
    """A binary stream that records the sizes it is asked for."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.sizes: list[Any] = []

    def read(self, size: int = -1) -> bytes:
        self.sizes.append(size)
        n = len(self.data) if size is None or size < 0 else size
        chunk, self.data = self.data[:n], self.data[n:]
        return chunk


def test_a_stream_is_read_ahead_by_read_ahead_bytes() -> None:
    v = Validator({"type": "object", "properties": {"a": {"type": "integer"}}})
    reader = SizedReader(b'{"a": 1}\n{"a": "x"}\n')
    r = v.validate_ndjson(reader, batch_size=1, micro_batch_size=1, threads=1)
    assert r.valid == [True, False]
    assert reader.sizes[0] == 65536


def test_effective_is_the_clamped_configuration_without_the_direct_paths_micro_batch() -> None:
    """``effective`` is written out (live verification asks it of every candidate and piece of a
    cell); its answers are those of ``clamp``, with ``micro_batch_size`` 0 on one thread."""
    import random

    rng = random.Random(5)
    edges = [1, 2, 3, 47, 48, 1023, 1024, 1025, 4096, 1 << 20]
    for _ in range(20_000):
        b = rng.choice(edges + [rng.randrange(1, 1 << 21)])
        m = rng.choice(edges + [rng.randrange(1, 1 << 21), b])
        t = rng.choice([1, 2, 3, 8, rng.randrange(1, 300)])
        n = rng.choice([None, 0, 1, 2, 400, 2000, rng.randrange(0, 100_000)])
        cores = rng.choice([1, 2, 4, rng.randrange(1, 64)])
        c = C.clamp(C.BatchConfig(b, m, t), n, cores)
        expected = (c.batch_size, c.micro_batch_size if c.threads > 1 else 0, c.threads)
        assert C.effective((b, m, t), n, cores) == expected, (b, m, t, n, cores)
        assert C.effective(C.BatchConfig(b, m, t, "x"), n, cores) == expected
