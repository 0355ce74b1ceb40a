"""DP4: backup rotation. ``manage.py prune_backups`` keeps the newest backup of each of the last
N days, ISO weeks and months, by the time each backup recorded in its checksum file, and removes
the others together with their checksum files; anything that is not our backup stays."""

import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import CommandError, call_command

from config.backup import find_backups, prune

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # a Saturday


def make_backup(folder, taken_at: datetime | None, name: str | None = None):
    name = name or f"coding-{taken_at:%Y-%m-%dT%H%M}.dump"
    (folder / name).write_bytes(b"-----BEGIN PGP MESSAGE----- not really")
    manifest = {"vendor": "postgresql", "tables": {"interviews_project": {"rows": 1, "checksum": "0"}}}
    if taken_at is not None:
        manifest["taken_at"] = taken_at.isoformat()
    (folder / f"{name}.checksums.json").write_text(json.dumps(manifest))
    return name


def nightly(folder, days: int):
    """A backup at 02:00 UTC each night for ``days`` nights up to NOW."""
    return {
        make_backup(
            folder,
            datetime.combine(NOW.date() - timedelta(days=n), datetime.min.time(), UTC) + timedelta(hours=2),
        )
        for n in range(days)
    }


def dumps_in(folder) -> set[str]:
    return {p.name for p in folder.iterdir() if p.name.endswith(".dump")}


def dump_of(day: date) -> str:
    return f"coding-{day:%Y-%m-%d}T0200.dump"


# Kept with 7 daily, 4 weekly, 6 monthly on Saturday 2026-11-28, from nightly backups:
# the last 7 days; the newest of the ISO weeks starting 16, 9 and 2 November (the week of
# 23 November is in the daily ones); the newest of October back to June (November's is today's).
EXPECTED_KEPT = {
    dump_of(day)
    for day in [date(2026, 11, d) for d in range(22, 29)]
    + [date(2026, 11, 15), date(2026, 11, 8)]
    + [date(2026, 10, 31), date(2026, 9, 30), date(2026, 8, 31), date(2026, 7, 31), date(2026, 6, 30)]
}


def test_rotation_keeps_exactly_the_scheduled_backups_and_removes_their_checksum_files(tmp_path):
    every = nightly(tmp_path, 400)
    decisions = prune(tmp_path, keep_daily=7, keep_weekly=4, keep_monthly=6, now=NOW)
    assert dumps_in(tmp_path) == EXPECTED_KEPT
    removed = {b.path.name for b, why in decisions if why == "removed"}
    assert removed == every - EXPECTED_KEPT and len(removed) == 400 - 14
    manifests = {p.name.removesuffix(".checksums.json") for p in tmp_path.glob("*.checksums.json")}
    assert manifests == EXPECTED_KEPT
    reasons = {b.path.name: why for b, why in decisions}
    assert reasons[dump_of(date(2026, 10, 31))] == "kept: monthly 2026-10"
    assert reasons[dump_of(date(2026, 11, 15))] == "kept: weekly 2026-11-09"
    assert "daily 2026-11-28" in reasons[dump_of(date(2026, 11, 28))]


def test_a_second_run_removes_nothing_more(tmp_path):
    nightly(tmp_path, 100)
    prune(tmp_path, keep_daily=7, keep_weekly=4, keep_monthly=6, now=NOW)
    before = set(p.name for p in tmp_path.iterdir())
    decisions = prune(tmp_path, keep_daily=7, keep_weekly=4, keep_monthly=6, now=NOW)
    assert [why for _, why in decisions if why == "removed"] == []
    assert set(p.name for p in tmp_path.iterdir()) == before


def test_of_two_backups_on_one_day_the_later_is_the_days_backup(tmp_path):
    morning = make_backup(tmp_path, NOW - timedelta(hours=10))
    noon = make_backup(tmp_path, NOW - timedelta(minutes=5))
    prune(tmp_path, keep_daily=7, keep_weekly=0, keep_monthly=0, now=NOW)
    assert dumps_in(tmp_path) == {noon} and morning not in dumps_in(tmp_path)


def test_with_the_clock_past_the_end_of_retention_all_but_the_newest_go(tmp_path):
    nightly(tmp_path, 60)
    later = NOW + timedelta(days=400)
    prune(tmp_path, keep_daily=7, keep_weekly=4, keep_monthly=6, now=later)
    assert dumps_in(tmp_path) == {dump_of(NOW.date())}
    assert {p.name for p in tmp_path.iterdir()} == {
        dump_of(NOW.date()),
        dump_of(NOW.date()) + ".checksums.json",
    }


def test_files_that_are_not_our_backups_are_never_touched(tmp_path):
    nightly(tmp_path, 30)
    strangers = {
        "notes.txt": b"keep me",
        "orphan.dump": b"no checksum file beside it",
        "lonely.dump.checksums.json": json.dumps({"vendor": "sqlite", "tables": {}}).encode(),
        "other.tar": b"someone else's",
        "other.tar.checksums.json": json.dumps({"sha256": "abc"}).encode(),
        "broken.dump": b"x",
        "broken.dump.checksums.json": b"{not json",
    }
    for name, content in strangers.items():
        (tmp_path / name).write_bytes(content)
    (tmp_path / "older").mkdir()
    inside = make_backup(tmp_path / "older", NOW - timedelta(days=900))
    undated = make_backup(tmp_path, None, name="undated.dump")
    decisions = prune(tmp_path, keep_daily=1, keep_weekly=0, keep_monthly=0, now=NOW + timedelta(days=900))
    for name, content in strangers.items():
        assert (tmp_path / name).read_bytes() == content, name
    assert (tmp_path / "older" / inside).exists()
    assert (tmp_path / undated).exists() and (tmp_path / f"{undated}.checksums.json").exists()
    assert dict((b.path.name, why) for b, why in decisions)[undated] == "kept: no recorded time"
    assert {b.path.name for b in find_backups(tmp_path)} == {undated, dump_of(NOW.date())}


def test_the_command_prints_what_it_removed_and_kept_and_a_dry_run_removes_nothing(tmp_path):
    nightly(tmp_path, 20)
    out = io.StringIO()
    args = ["--folder", str(tmp_path), "--keep-daily", "3", "--keep-weekly", "0", "--keep-monthly", "0"]
    call_command("prune_backups", *args, "--now", "2026-11-28T12:00:00Z", "--dry-run", stdout=out)
    assert "20 backup(s) found, 17 would remove, 3 kept" in out.getvalue()
    assert f"{dump_of(date(2026, 11, 20))} (2026-11-20T02:00:00+00:00): would remove" in out.getvalue()
    assert len(dumps_in(tmp_path)) == 20
    out = io.StringIO()
    call_command("prune_backups", *args, "--now", "2026-11-28T12:00:00Z", stdout=out)
    assert "20 backup(s) found, 17 removed, 3 kept" in out.getvalue()
    assert (
        f"{dump_of(date(2026, 11, 27))} (2026-11-27T02:00:00+00:00): kept: daily 2026-11-27" in out.getvalue()
    )
    assert dumps_in(tmp_path) == {dump_of(date(2026, 11, d)) for d in (26, 27, 28)}


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--keep-daily", "-1"], "--keep-daily"),
        (["--now", "yesterday"], "--now"),
        (["--folder", "/nonexistent/backups"], "--folder"),
    ],
)
def test_the_command_refuses_bad_options_naming_them(tmp_path, args, field):
    base = {"--folder": str(tmp_path)}
    for name, value in zip(args[::2], args[1::2], strict=True):
        base[name] = value
    flat = [x for pair in base.items() for x in pair]
    with pytest.raises(CommandError, match=field):
        call_command("prune_backups", *flat)
