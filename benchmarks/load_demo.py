"""``manage.py load_demo`` on a fresh database: wall-clock and CPU time of the build and of a second run.

The second run finds the demo and changes nothing, so it measures start-up and the existence check.
Prints the demo's counts too. Uses a throw-away SQLite file unless DATABASE_URL is set (see common.py).
"""

import io
import time

from common import setup_django

setup_django("load_demo")

from django.core.management import call_command  # noqa: E402

from coding.demo import DEMO_PROJECT_NAME, demo_counts  # noqa: E402
from interviews.models import Project  # noqa: E402


def timed() -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call_command("load_demo", stdout=io.StringIO())
    return time.perf_counter() - wall, time.process_time() - cpu


for label in ("first run (builds the demo)", "second run (nothing to do)"):
    wall, cpu = timed()
    print(f"load_demo, {label:<32} wall {wall:6.2f} s   cpu {cpu:6.2f} s")
counts = demo_counts(Project.objects.get(name=DEMO_PROJECT_NAME))
print(
    f"participants {counts['participants']}, interviews {counts['interviews']}, words {counts['words']}, "
    f"codes {counts['codes']} (+{counts['folders']} groups), codings {counts['codings']}, "
    f"memos {counts['memos']}"
)
