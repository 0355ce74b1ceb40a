"""The worker's CPU settings in LD1 (benchmarks/load.py) are real cgroup limits, the ones
docker-compose.yml gives the worker container, and are said to be missing where no cgroup is
writable."""

import re
import subprocess
import sys
import time

import pytest
import yaml

from benchmarks import load

from .live import ROOT, CpuCap

# Spins until the wall-clock time given (now + 1 s unless given), then prints the CPU time it got.
SPIN = (
    "import resource, sys, time\n"
    "until = float(sys.argv[1]) if len(sys.argv) > 1 else time.time() + 1\n"
    "while time.time() < until: pass\n"
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_utime)"
)


def _created(**settings) -> CpuCap:
    cap = CpuCap.create(**settings)
    if cap is None:
        pytest.skip("no writable cgroup (not root): LD1 reports its worker as not capped")
    return cap


def test_a_capped_command_runs_inside_its_cgroup_and_is_held_to_its_share_of_a_core():
    cap = _created(cpus=0.1)
    try:
        done = subprocess.run(
            cap.wrap(["sh", "-c", f"cat /proc/self/cgroup; python3 -c '{SPIN}'"]),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        *cgroups, cpu = done.stdout.split()
        assert any(line.endswith(cap.path.name) for line in cgroups), done.stdout
        # One second of wall time spinning, at a tenth of a core: about 0.1 s of CPU.
        assert float(cpu) < 0.5, cpu
    finally:
        cap.remove()
    assert not cap.path.exists()


def test_a_low_weight_command_gets_the_cpu_only_when_a_normal_one_leaves_it():
    cap = _created(shares=2)
    try:
        # Both spin on the same core until the same moment; the weights are 2 and 1024.
        until = str(time.time() + 1.5)
        pinned = ["taskset", "-c", "0", sys.executable, "-c", SPIN]
        low = subprocess.Popen(cap.wrap([*pinned, until]), stdout=subprocess.PIPE, text=True)
        normal = subprocess.Popen([*pinned, until], stdout=subprocess.PIPE, text=True)
        low_cpu, normal_cpu = (float(p.communicate(timeout=60)[0]) for p in (low, normal))
        assert normal_cpu > 0.5, (low_cpu, normal_cpu)
        assert low_cpu < normal_cpu / 5, (low_cpu, normal_cpu)
        # Alone, the same command has the core to itself.
        alone = subprocess.run(cap.wrap(pinned), capture_output=True, text=True, check=True, timeout=60)
        assert float(alone.stdout) > 0.5, alone.stdout
    finally:
        cap.remove()


def test_the_load_benchmark_runs_the_worker_with_docker_composes_cpu_settings():
    worker = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]["worker"]
    defaults = load.build_parser().parse_args([])
    assert worker["cpu_shares"] == defaults.worker_shares
    compose_cpus = re.fullmatch(r"\$\{WORKER_CPUS:-([0-9.]+)\}", str(worker["cpus"]))
    assert compose_cpus, worker["cpus"]
    assert float(compose_cpus.group(1)) == defaults.worker_cpus
