"""Real servers for the resilience suite: a private PostgreSQL cluster and gunicorn.

The fault tests stop PostgreSQL with ``pg_ctl stop -m immediate``, so they never touch the shared
server on 5432: ``PrivatePostgres`` initdb's a throw-away cluster in a temporary folder on its own
port (as the ``postgres`` user when we are root, which PostgreSQL refuses to run as), with the
default durability settings (fsync and synchronous_commit on) so a crash test means something.
``Gunicorn`` serves the app against any DATABASE_URL on 127.0.0.1. Both are context managers and
leave nothing running. Used by tests/resilience and benchmarks/load.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PG_BIN_CANDIDATES = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def pg_bin(name: str) -> str:
    for folder in PG_BIN_CANDIDATES:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed")
    return found


def postgres_available() -> bool:
    try:
        pg_bin("initdb")
        pg_bin("pg_ctl")
    except RuntimeError:
        return False
    return True


def free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError("no free port")


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


class PrivatePostgres:
    """A PostgreSQL cluster of our own: ``start()``, ``crash()`` (stop -m immediate), ``stop()``."""

    def __init__(self, port: int | None = None):
        self.port = free_port(port or 55432)
        self.base = Path(tempfile.mkdtemp(prefix="qc-pg-"))
        self.data = self.base / "data"
        self.log = self.base / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        subprocess.run(
            _as_postgres(
                [pg_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )

    def url(self, dbname: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def _pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            _as_postgres([pg_bin("pg_ctl"), "-D", str(self.data), *args]),
            check=check,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 -c max_connections=200"
        self._pg_ctl("-l", str(self.log), "-w", "-t", "60", "-o", options, "start")

    def crash(self) -> None:
        """Stop at once, as a power cut would: no checkpoint, crash recovery on the next start."""
        self._pg_ctl("-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        self._pg_ctl("-m", "fast", "-w", "stop", check=False)

    def psql(self, sql: str, dbname: str = "postgres") -> str:
        return subprocess.run(
            ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", dbname, "-Atqc", sql],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> PrivatePostgres:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment for manage.py and gunicorn: test profile (DEBUG off), eager tasks unless a broker
    is named, quiet logs."""
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "CELERY_BROKER_URL"}}
    env.update(
        {
            "APP_ENV": "test",
            "DEBUG": "false",
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "LOG_LEVEL": "WARNING",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra)
    return env


def manage(database_url: str, *args: str, **extra_env: str) -> str:
    done = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=app_env(database_url, **extra_env),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def seed(database_url: str, **options) -> dict:
    """Migrate and seed through tests/resilience/seed.py in its own process; returns its JSON."""
    manage(database_url, "migrate", "--noinput")
    args = []
    for key, value in options.items():
        flag = f"--{key.replace('_', '-')}"
        if value is True:
            args.append(flag)
        elif value is not False:
            args += [flag, str(value)]
    done = subprocess.run(
        [PYTHON, "-m", "tests.resilience.seed", *args],
        cwd=ROOT,
        env=app_env(database_url),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode:
        raise RuntimeError(f"seeding failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class _Background:
    """A server process of ours with its own log, in its own session, stopped on exit."""

    grace = 15  # seconds to finish after SIGTERM

    def _spawn(self) -> None:
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            self.cmd,
            cwd=ROOT,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=self.grace)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
        if getattr(self, "_log", None):
            self._log.close()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
        self.log_path.unlink(missing_ok=True)


class Gunicorn(_Background):
    """``gunicorn config.wsgi`` on 127.0.0.1 (sync workers with threads), stopped on exit."""

    def __init__(
        self,
        database_url: str,
        *,
        workers: int = 2,
        threads: int = 4,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        **env,
    ):
        self.port = free_port(port)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = Path(tempfile.mkstemp(prefix="qc-gunicorn-", suffix=".log")[1])
        self.cmd = [
            str(Path(PYTHON).parent / "gunicorn"),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--timeout",
            "600",  # a slow request on a busy machine is measured, not killed
            "--graceful-timeout",
            "5",
            "--keep-alive",
            "30",  # longer than any client's pause, so no request races a closing connection
            "--no-control-socket",  # several servers may run at once
            *extra_args,
        ]
        self.env = app_env(database_url, **env)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self._spawn()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log()}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=5) as answer,  # noqa: S310
            ):
                if answer.status == 200:
                    return
            time.sleep(0.3)
        raise RuntimeError(f"gunicorn did not answer within 60 s:\n{self.log()}")

    def worker_pids(self) -> list[int]:
        import psutil

        return [child.pid for child in psutil.Process(self.process.pid).children()]


def celery_worker_command(
    *,
    queue: str | None = None,
    name: str | None = None,
    pool: str = "prefork",
    concurrency: int = 1,
    loglevel: str = "WARNING",
) -> list[str]:
    """The command line of a Celery worker for tests and benchmarks: one worker, so no gossip,
    mingle or heartbeat (a quicker start); ``queue`` and ``name`` when a test needs its own."""
    return [
        PYTHON,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        f"--pool={pool}",
        f"--concurrency={concurrency}",
        *(["-Q", queue] if queue else []),
        *(["-n", name] if name else []),
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        f"--loglevel={loglevel}",
    ]


class CpuCap:
    """A cgroup with docker-compose's CPU settings for a container, for the processes started in it:

    - ``cpus``: at most that many cores (compose ``cpus:``; cgroup v2 ``cpu.max``, v1
      ``cpu.cfs_quota_us``);
    - ``shares``: its weight against everything else when the CPU is contended (compose
      ``cpu_shares:``, 1024 being a normal process's; v2 ``cpu.weight``, converted as docker
      converts it, v1 ``cpu.shares``).

    ``create`` answers None where no cgroup is writable (not root)."""

    PERIOD = 100_000  # microseconds

    def __init__(self, path: Path):
        self.path = path

    @classmethod
    def create(cls, cpus: float | None = None, shares: int | None = None) -> CpuCap | None:
        quota = max(1000, int(cpus * cls.PERIOD)) if cpus else None
        name = f"qc-{os.getpid()}-{time.monotonic_ns()}"
        v2, v1 = Path("/sys/fs/cgroup"), Path("/sys/fs/cgroup/cpu")
        try:
            controllers = v2 / "cgroup.controllers"
            if controllers.exists() and "cpu" in controllers.read_text(errors="replace").split():
                (v2 / "cgroup.subtree_control").write_text("+cpu")
                (v2 / name).mkdir()
                (v2 / name / "cpu.max").write_text(f"{quota or 'max'} {cls.PERIOD}")
                if shares:
                    (v2 / name / "cpu.weight").write_text(str(1 + (shares - 2) * 9999 // 262142))
                return cls(v2 / name)
            if (v1 / "cpu.cfs_quota_us").exists():
                (v1 / name).mkdir()
                (v1 / name / "cpu.cfs_period_us").write_text(str(cls.PERIOD))
                (v1 / name / "cpu.cfs_quota_us").write_text(str(quota or -1))
                if shares:
                    (v1 / name / "cpu.shares").write_text(str(shares))
                return cls(v1 / name)
        except OSError:
            pass
        return None

    def wrap(self, cmd: list[str]) -> list[str]:
        """``cmd`` run inside the cgroup (the shell joins it, then becomes ``cmd``)."""
        return ["sh", "-c", 'echo $$ > "$0" && exec "$@"', str(self.path / "cgroup.procs"), *cmd]

    def remove(self) -> None:
        with contextlib.suppress(OSError):
            self.path.rmdir()


class CeleryWorker(_Background):
    """``celery -A config worker`` for ``database_url`` on the broker ``broker_url``, stopped on exit.

    ``cpus`` and ``shares``: run the worker in a cgroup with these CPU settings, as
    docker-compose.yml runs it (``CpuCap``). Where no cgroup is writable, the idle scheduling
    class stands in for a low ``shares`` (it gets the CPU only when nothing else wants it), and
    ``cpus`` is not applied: ``cap`` is then None.
    """

    grace = 30  # a task in hand finishes first

    def __init__(
        self,
        database_url: str,
        broker_url: str,
        *,
        concurrency: int = 1,
        cpus: float | None = None,
        shares: int | None = None,
        **env,
    ):
        self.log_path = Path(tempfile.mkstemp(prefix="qc-worker-", suffix=".log")[1])
        self.cmd = celery_worker_command(concurrency=concurrency)
        self.cap = CpuCap.create(cpus, shares) if cpus or shares else None
        if self.cap:
            self.cmd = self.cap.wrap(self.cmd)
        elif shares:
            self.cmd = ["chrt", "--idle", "0", *self.cmd]
        self.env = app_env(database_url, CELERY_BROKER_URL=broker_url, **env)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self._spawn()
        time.sleep(1)
        if self.process.poll() is not None:
            raise RuntimeError(f"the Celery worker exited:\n{self.log()}")

    def stop(self) -> None:
        super().stop()
        if self.cap:
            self.cap.remove()


def request(method: str, url: str, *, token: str | None = None, body=None, timeout: float = 10):
    """(status, headers, parsed JSON or text) for one request; never raises for HTTP errors."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Token {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=timeout) as answer:  # noqa: S310
            raw, status, head = answer.read(), answer.status, answer.headers
    except urllib.error.HTTPError as error:
        raw, status, head = error.read(), error.code, error.headers
    text = raw.decode("utf-8", "replace")
    try:
        return status, head, json.loads(text)
    except ValueError:
        return status, head, text
