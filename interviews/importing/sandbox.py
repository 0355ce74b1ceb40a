"""Run a parser in a child process with CPU, memory and wall-time limits.

Decision (see ARCHITECTURE notes in interviews/import_services.py): the
container and binary formats (.docx, .odt, .rtf, .pdf) are parsed in a fresh
``python -m interviews.importing.sandbox`` process. Before importing any
parser the child lowers its own limits with ``resource.setrlimit``: address
space (``parse_memory_bytes``), CPU seconds, no file writes, and the parent
kills it after ``parse_seconds`` of wall time. The upload goes in on stdin and
the parsed document comes back as JSON on stdout: nothing touches the disk and
a parser that loops or balloons (hostile PDF, nested RTF) takes only the child
down, never the web process or the Celery worker. Plain-text formats are
linear-time over a size-capped input and are parsed in-process.

The child needs no Django settings: the parent passes the limits in argv.
"""

import json
import os
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

from . import limits as limits_module
from .document import ParsedDocument
from .limits import ImportRejected, Limits

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def parse_in_sandbox(ext: str, data: bytes) -> ParsedDocument:
    lim = limits_module.limits()
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(PROJECT_ROOT), "PYTHONHASHSEED": "0"}
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, our own interpreter and module
            [sys.executable, "-s", "-m", "interviews.importing.sandbox", ext, json.dumps(asdict(lim))],
            input=data,
            capture_output=True,
            timeout=lim.parse_seconds,
            cwd=PROJECT_ROOT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ImportRejected(
            f"Reading the file took longer than {lim.parse_seconds} seconds; it was stopped."
        ) from None
    try:
        answer = json.loads(done.stdout or b"{}")
    except ValueError:
        answer = {}
    if answer.get("ok"):
        return ParsedDocument.from_json(answer["document"])
    if answer.get("reason"):
        raise ImportRejected(answer["reason"])
    # Killed by a limit (SIGXCPU, MemoryError before it could answer) or crashed.
    raise ImportRejected("The file could not be read within the time and memory limits; it may be damaged.")


def _child(ext: str, limits_json: str) -> None:
    import resource

    lim = Limits(**json.loads(limits_json))
    resource.setrlimit(resource.RLIMIT_AS, (lim.parse_memory_bytes, lim.parse_memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (lim.parse_seconds, lim.parse_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    limits_module._override = lim
    data = sys.stdin.buffer.read()
    from .formats import PARSERS

    try:
        document = PARSERS[ext](data)
        out = {"ok": True, "document": document.to_json()}
    except ImportRejected as exc:
        out = {"ok": False, "reason": str(exc)}
    except MemoryError:
        out = {"ok": False, "reason": "The file needs more memory to read than the limit allows."}
    except RecursionError:
        out = {"ok": False, "reason": "The file is nested too deeply to read; it may be damaged."}
    except Exception:
        out = {"ok": False, "reason": "The file is damaged and cannot be read."}
    sys.stdout.write(json.dumps(out))


if __name__ == "__main__":
    _child(sys.argv[1], sys.argv[2])
