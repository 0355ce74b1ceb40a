"""A REAL Celery worker on a REAL Redis broker for a test (PostgreSQL only).

The worker is a separate process, so it must see what the test committed: tests that use it run
with ``django_db(transaction=True)`` and the worker gets ``DATABASE_URL`` pointing at the
PostgreSQL *test* database. On SQLite (an in-memory test database no other process can open) they
skip; the PostgreSQL pass runs them. Without Redis they skip, except under ``CI=true``, where that
is a failure.
"""

import contextlib
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from django.db import connection

from config.celery import app as celery_app
from tests.resilience.live import celery_worker_command

BROKER = "redis://127.0.0.1:6379/15"
ROOT = Path(__file__).resolve().parents[1]


def redis_client():
    import redis

    client = redis.Redis.from_url(BROKER, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if os.environ.get("CI") == "true":
            pytest.fail("Redis must be running on 127.0.0.1:6379 in CI")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379; start redis-server to run this test")
    return client


def redis_dump(client) -> str:
    """Every key and value in the broker's database, as text (to look for canaries)."""
    chunks = []
    for key in client.scan_iter():
        kind = client.type(key)
        if kind == b"string":
            chunks.append(client.get(key) or b"")
        elif kind == b"list":
            chunks.extend(client.lrange(key, 0, -1))
        elif kind == b"hash":
            chunks.extend(v for pair in client.hgetall(key).items() for v in pair)
        elif kind in (b"set", b"zset"):
            chunks.extend(client.zrange(key, 0, -1) if kind == b"zset" else client.smembers(key))
        chunks.append(key)
    return b"\n".join(chunks).decode("utf-8", "replace")


@contextlib.contextmanager
def real_worker(task, *, tmp_path, env: dict):
    """Start a worker on a queue of its own and route ``task.delay`` there for the block.

    ``env`` adds to the worker's environment (e.g. the folders the task writes to). Yields the
    Redis client and the worker's log file.
    """
    if connection.vendor != "postgresql":
        pytest.skip("a worker process cannot open the in-memory SQLite test database; runs on PostgreSQL")
    client = redis_client()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    db = connection.settings_dict
    worker_env = {
        **os.environ,
        "CELERY_BROKER_URL": BROKER,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "DB_CONN_MAX_AGE": "0",
        **env,
    }
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            celery_worker_command(queue=queue, pool="solo", loglevel="INFO"),
            cwd=ROOT,
            env=worker_env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    # Send the task to this queue over an explicit Redis connection: the app in this process was
    # configured eager at start-up, and its producer pool and routes may exist from earlier tests.
    saved_eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    connection_for_test = celery_app.connection_for_write(BROKER)
    original_delay = task.delay

    def delay(*args):
        return task.apply_async(args=list(args), queue=queue, connection=connection_for_test)

    task.delay = delay
    try:
        yield {"redis": client, "log": log}
    finally:
        task.delay = original_delay
        celery_app.conf.task_always_eager = saved_eager
        connection_for_test.release()
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        client.delete(queue)
