"""Benchmarks of the generated services (`python -m benchmarks`): figures, never assertions."""


class BenchmarkError(Exception):
    """The benchmark cannot go on; the message says why."""
