"""The worker's CPU cap in LD1 (benchmarks/load.py) is a real cgroup limit, as docker-compose's
``cpus:`` is, and is said to be missing where no cgroup is writable."""

import subprocess
import time

import pytest

from .live import CpuCap


def test_a_capped_command_runs_inside_its_cgroup_and_is_held_to_its_share_of_a_core():
    cap = CpuCap.create(0.1)
    if cap is None:
        pytest.skip("no writable cgroup (not root): LD1 reports its worker as not capped")
    try:
        spin = "import time\nt = time.monotonic()\nwhile time.monotonic() - t < 1: pass\nimport resource\n"
        spin += "print(resource.getrusage(resource.RUSAGE_SELF).ru_utime)"
        started = time.monotonic()
        done = subprocess.run(
            cap.wrap(["sh", "-c", f"cat /proc/self/cgroup; python3 -c '{spin}'"]),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        elapsed = time.monotonic() - started
        *cgroups, cpu = done.stdout.split()
        assert any(line.endswith(cap.path.name) for line in cgroups), done.stdout
        # One second of wall time spinning, at a tenth of a core: about 0.1 s of CPU.
        assert float(cpu) < 0.5, (cpu, elapsed)
    finally:
        cap.remove()
    assert not cap.path.exists()
