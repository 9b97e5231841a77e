"""Memory profiles: periodic censuses appended to a file in Heapy's Stat format."""

from __future__ import annotations

import time

import pytest

import heapscope


class Grows:
    pass


KEEP: list = []


def test_profile_writes_samples_that_show_growth(tmp_path):
    path = tmp_path / "profile.hpy"
    with heapscope.profile(path, interval=0.05) as prof:
        for _ in range(6):
            KEEP.extend(Grows() for _ in range(200))
            time.sleep(0.03)
    try:
        samples = list(heapscope.load_all(path))
        assert prof.samples == len(samples) >= 2
        name = f"{__name__}.Grows"
        counts = [dict((n, c) for n, c, _ in st.rows).get(name, 0) for st in samples]
        assert counts[0] == 0 and counts[-1] == 1200
        assert counts == sorted(counts)
        assert all("heapscope.profile.profile" not in (n for n, _, _ in st.rows) for st in samples)
    finally:
        KEEP.clear()


def test_profile_file_loads_in_guppy3(tmp_path):
    guppy = pytest.importorskip("guppy")
    path = tmp_path / "p.hpy"
    with heapscope.profile(path, interval=10):
        pass
    with open(path) as f:
        first = guppy.hpy().load(f)
        assert first.count > 1000


def test_bad_interval():
    with pytest.raises(ValueError):
        heapscope.profile("x", interval=0)
