"""Writes for transcript import and anonymisation.

How an upload becomes an interview, and where the original text is:

1. ``start_import`` (in the request): checks counts and sizes, opens a
   ``.zip`` with the zip limits, and writes each file's bytes to a private
   staging file ``<guid>.upload`` (mode 0600, in ``IMPORT_STAGING_DIR``). The
   database gets an ``ImportFile`` row with metadata only. The Celery task is
   queued on commit with the batch id.
2. ``process_import_file`` (in the task, one transaction per file): reads and
   deletes the ``.upload`` file, parses it (sandboxed for container formats),
   finds speaker turns and identifiers, and writes ``<guid>.json`` (text,
   turns, findings). A broken file gets status ``failed`` and a reason; the
   other files go on.
3. ``confirm_import`` (the researcher, after review): applies the accepted
   redactions, stores *only the redacted text* through
   ``services.create_interview(anonymised_by=...)`` with a ``RedactionLog``
   (never the original), and deletes the staging file when the transaction
   commits. The mapping original → placeholder is returned once and not kept.
4. ``discard_import`` and ``sweep_abandoned_imports`` delete staging files of
   imports that end otherwise.

So the original text is never in the database, the logs or a task argument;
it lives in one private file for at most ``IMPORT_STAGING_HOURS``.
"""

import hashlib
import hmac
import json
import logging
import os
import re
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from config.celery import queue_after_commit, queue_now

from . import services
from .anonymise import (
    Finding,
    TermIndex,
    assign_placeholders,
    detect,
    redaction_edits,
    term_digest,
    term_tokens,
    used_numbers,
)
from .importing import ImportRejected, parse_upload
from .importing.limits import SUPPORTED, extension_of, limits, read_zip_safely
from .importing.turns import find_turns, is_known, propose_roles
from .models import (
    AllowedWord,
    ImportBatch,
    ImportBatchStatus,
    ImportFile,
    ImportFileStatus,
    Interview,
    Participant,
    Project,
    RedactionLog,
    SensitiveTerm,
    SpeakerRole,
    text_sha256,
)
from .text import apply_edits, clean_edits, remap_range

logger = logging.getLogger(__name__)

OPEN_STATUSES = (ImportFileStatus.QUEUED, ImportFileStatus.PARSING, ImportFileStatus.READY)
_PLACEHOLDER = re.compile(r"^\[[A-Z][A-Z0-9_-]{0,37}\]$")
_CATEGORY = re.compile(r"^[A-Z][A-Z_]{0,29}$")


# ---------------------------------------------------------------- staging files


def staging_dir() -> Path:
    path = Path(settings.IMPORT_STAGING_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _staging_path(import_file: ImportFile, kind: str) -> Path:
    return staging_dir() / f"{import_file.guid}.{kind}"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _delete_staging(guid) -> None:
    for kind in ("upload", "json"):
        (staging_dir() / f"{guid}.{kind}").unlink(missing_ok=True)


def load_staged(import_file: ImportFile) -> dict:
    try:
        return json.loads(_staging_path(import_file, "json").read_text("utf-8"))
    except FileNotFoundError:
        raise ValidationError({"file": "The extracted text of this file is gone (expired or discarded)."})


# ---------------------------------------------------------------- terms and allow-list


def _term_key(project: Project) -> bytes:
    # Keyed per project so the same name has different digests in two projects.
    return hmac.new(
        settings.SECRET_KEY.encode(), f"sensitive-term:{project.guid}".encode(), "sha256"
    ).digest()


def term_index(project: Project) -> TermIndex:
    index = TermIndex(key=_term_key(project))
    for t in project.sensitive_terms.all():
        index.add(
            digest=t.digest,
            first_digest=t.first_digest,
            word_count=t.word_count,
            category=t.category,
            placeholder=t.placeholder,
        )
    return index


@transaction.atomic
def add_sensitive_term(*, project: Project, term: str, category: str, placeholder: str = "", by=None):
    tokens = term_tokens(term or "")
    if not tokens:
        raise ValidationError({"term": "Give the word or words to replace."})
    if len(tokens) > 8:
        raise ValidationError({"term": "A term has at most 8 words."})
    category = (category or "").strip().upper().replace(" ", "_")
    if not _CATEGORY.match(category):
        raise ValidationError({"category": "Use a category in capitals, e.g. NAME, VILLAGE or CAMP."})
    placeholder = (placeholder or "").strip() or None
    if placeholder is None:
        taken = used_numbers(project.sensitive_terms.values_list("placeholder", flat=True))
        placeholder = f"[{category}-{taken.get(category, 0) + 1}]"
    if not _PLACEHOLDER.match(placeholder):
        raise ValidationError(
            {"placeholder": "Write the placeholder in capitals in brackets, e.g. [NAME-1]."}
        )
    key = _term_key(project)
    digest = term_digest(key, tokens)
    if SensitiveTerm.objects.filter(project=project, digest=digest).exists():
        raise ValidationError({"term": "This term is already on the list."})
    return SensitiveTerm.objects.create(
        project=project,
        digest=digest,
        first_digest=term_digest(key, tokens[:1]),
        word_count=len(tokens),
        category=category,
        placeholder=placeholder,
        created_by=by,
    )


@transaction.atomic
def delete_sensitive_term(*, term: SensitiveTerm) -> None:
    term.delete()


@transaction.atomic
def add_allowed_word(*, project: Project, word: str, by=None) -> AllowedWord:
    word = (word or "").strip().casefold()
    if not word or len(word) > 80 or len(word.split()) != 1:
        raise ValidationError({"word": "Give one word (no spaces)."})
    if AllowedWord.objects.filter(project=project, word=word).exists():
        raise ValidationError({"word": "This word is already allowed."})
    return AllowedWord.objects.create(project=project, word=word, created_by=by)


@transaction.atomic
def delete_allowed_word(*, allowed: AllowedWord) -> None:
    allowed.delete()


# ---------------------------------------------------------------- upload


def _display_name(name: str) -> str:
    """A file name for display only: last path part, no control characters, bounded length."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())
    return name[-200:] or "unnamed"


def _expand(files: list[tuple[str, bytes]]) -> list[tuple[str, bytes | None, str]]:
    """(name, data, reason) per file, with zips opened under the zip limits."""
    out = []
    for name, data in files:
        name = _display_name(name)
        if data is None:
            out.append(
                (name, None, f"The file is larger than the limit of {limits().max_file_bytes // 1048576} MB.")
            )
            continue
        if extension_of(name) != ".zip":
            out.append((name, data, ""))
            continue
        try:
            if len(data) > limits().max_file_bytes:
                raise ImportRejected("The zip file is larger than the upload limit.")
            members = read_zip_safely(data, what="zip file")
        except ImportRejected as exc:
            out.append((name, None, str(exc)))
            continue
        for member, content in members.items():
            base = member.rsplit("/", 1)[-1]
            if base.startswith(".") or member.startswith("__MACOSX/"):
                continue
            if extension_of(base) == ".zip":
                out.append((_display_name(base), None, "Zip files inside a zip are not opened."))
                continue
            out.append((_display_name(base), content, ""))
    return out


@transaction.atomic
def start_import(
    *, project: Project, by, files: list[tuple[str, bytes]], participants: dict[str, str] | None = None
) -> ImportBatch:
    """Stage uploaded files and queue the batch; ``participants`` maps file names to pseudonyms."""
    if not files:
        raise ValidationError({"files": "Choose at least one file."})
    entries = _expand(files)
    lim = limits()
    if len(entries) > lim.max_files:
        raise ValidationError({"files": f"At most {lim.max_files} files can be imported at once."})
    participants = {k: (v or "").strip()[:40] for k, v in (participants or {}).items()}
    batch = ImportBatch.objects.create(project=project, created_by=by, file_count=len(entries))
    for name, data, reason in entries:
        import_file = ImportFile(
            batch=batch,
            project=project,
            name=name,
            extension=extension_of(name)[:10],
            size=len(data or b""),
            participant_hint=participants.get(name, ""),
        )
        if not reason and import_file.extension not in SUPPORTED:
            reason = f"{import_file.extension or 'Files without an extension'} cannot be imported."
        if not reason and data is not None and len(data) > lim.max_file_bytes:
            reason = f"The file is larger than the limit of {lim.max_file_bytes // (1024 * 1024)} MB."
        if reason:
            import_file.status = ImportFileStatus.FAILED
            import_file.reason = reason[:300]
            import_file.finished_at = timezone.now()
            import_file.save()
            continue
        import_file.save()
        # Should this transaction roll back, the file has no row and the sweep removes it.
        _write_private(_staging_path(import_file, "upload"), data)
    queue_after_commit("interviews.tasks.process_import_batch", batch.pk)
    return batch


# The hard time limit of ``interviews.tasks.process_import_batch``.
BATCH_TIME_LIMIT = 660


def requeue_stalled_batches(*, minutes: int = 5) -> int:
    """Re-send batches still 'queued' after ``minutes`` (the broker was down when they were made)."""
    cutoff = timezone.now() - timedelta(minutes=minutes)
    ids = list(
        ImportBatch.objects.filter(status=ImportBatchStatus.QUEUED, created_at__lt=cutoff).values_list(
            "id", flat=True
        )
    )
    for batch_id in ids:
        queue_now("interviews.tasks.process_import_batch", batch_id)
    return len(ids)


def settle_dead_batches() -> int:
    """End batches still 'running' long after any worker could be reading them.

    A worker that dies leaves its message unacknowledged and the broker hands it out again
    (``process_import_batch(recover=True)``); this is for a message lost with the broker itself.
    The cut-off (the broker's visibility timeout, the task's hard time limit and a margin,
    counted from the upload) is far past the point where a redelivery would have come.
    """
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    cutoff = timezone.now() - timedelta(seconds=visibility + BATCH_TIME_LIMIT + 15 * 60)
    ids = list(
        ImportBatch.objects.filter(status=ImportBatchStatus.RUNNING, created_at__lt=cutoff).values_list(
            "id", flat=True
        )
    )
    for batch_id in ids:
        fail_unfinished(batch_id=batch_id, reason="Reading this file stopped unexpectedly; upload it again.")
    return len(ids)


# ---------------------------------------------------------------- processing (Celery task body)


def process_import_batch(*, batch_id: int, recover: bool = True) -> None:
    """Read every queued file of the batch; safe to run twice (each file is claimed once).

    ``recover``: a batch found 'running' was left so by a worker that died (the task passes
    whether the broker redelivered the message); with False, a second message for a batch
    another worker is reading does nothing.
    """
    claimed = ImportBatch.objects.filter(pk=batch_id, status=ImportBatchStatus.QUEUED).update(
        status=ImportBatchStatus.RUNNING
    )
    if not claimed:
        running = ImportBatch.objects.filter(pk=batch_id, status=ImportBatchStatus.RUNNING)
        if not recover or not running.exists():
            return  # already done, no such batch, or another worker is reading it
        # A redelivery after the worker died mid-batch (acks_late): the file it was
        # reading may be what killed it, so it is reported rather than read again.
        for import_file in ImportFile.objects.filter(batch_id=batch_id, status=ImportFileStatus.PARSING):
            _fail(import_file, "Reading this file stopped unexpectedly; it may be damaged.")
    for file_id in ImportFile.objects.filter(batch_id=batch_id).order_by("id").values_list("id", flat=True):
        process_import_file(file_id=file_id)
        _count_progress(batch_id)
    ImportBatch.objects.filter(pk=batch_id).update(status=ImportBatchStatus.DONE, finished_at=timezone.now())
    _count_progress(batch_id)


def _count_progress(batch_id: int) -> None:
    done = (
        ImportFile.objects.filter(batch_id=batch_id)
        .exclude(status__in=[ImportFileStatus.QUEUED, ImportFileStatus.PARSING])
        .count()
    )
    ImportBatch.objects.filter(pk=batch_id).update(processed_count=done)


def _source_digest(project: Project, text: str) -> str:
    # Keyed, so a stored digest cannot be checked against guessed texts.
    return hmac.new(_term_key(project), text.encode("utf-8"), hashlib.sha256).hexdigest()


def analyse(text_document, *, terms: TermIndex | None, allowed: set[str]) -> dict:
    """Turns, proposed roles and findings of a parsed document (pure; used by the task and the benchmark)."""
    turns = find_turns(text_document)
    # Conventional labels (Interviewer, P07) are never name guesses; a label that is a
    # name ("Ahmed:", "[Ahmed]") is flagged like the name anywhere else.
    labels = [
        (t.label_start, t.label_end) for t in turns if t.label_start is not None and is_known(t.speaker)
    ]
    findings = detect(text_document.text, terms=terms, allowed=allowed, skip=labels)
    return {
        "turns": [t.as_dict() for t in turns],
        "roles": propose_roles(t.speaker for t in turns if t.speaker),
        "findings": [f.as_dict() for f in findings],
    }


def process_import_file(*, file_id: int) -> None:
    claimed = ImportFile.objects.filter(pk=file_id, status=ImportFileStatus.QUEUED).update(
        status=ImportFileStatus.PARSING
    )
    if not claimed:
        return
    import_file = ImportFile.objects.select_related("project").get(pk=file_id)
    upload = _staging_path(import_file, "upload")
    try:
        try:
            data = upload.read_bytes()
        except FileNotFoundError:
            raise ImportRejected("The uploaded file was lost before it could be read; upload it again.")
        finally:
            upload.unlink(missing_ok=True)
        document = parse_upload(import_file.name, data)
        del data
        project = import_file.project
        allowed = set(project.allowed_words.values_list("word", flat=True))
        result = analyse(document, terms=term_index(project), allowed=allowed)
        digest = _source_digest(project, document.text)
        duplicate = _find_duplicate(import_file, document.text, digest)
        staged = {"text": document.text, **result}
        _write_private(_staging_path(import_file, "json"), json.dumps(staged).encode("utf-8"))
        with transaction.atomic():
            # Only while still ours: a file reported failed meanwhile stays failed.
            ImportFile.objects.filter(pk=file_id, status=ImportFileStatus.PARSING).update(
                status=ImportFileStatus.READY,
                source_digest=digest,
                duplicate_of=duplicate,
                turn_count=len(result["turns"]),
                finding_count=sum(1 for f in result["findings"] if f["accepted"]),
                flagged_count=sum(1 for f in result["findings"] if not f["accepted"]),
                finished_at=timezone.now(),
            )
    except ImportRejected as exc:
        _fail(import_file, str(exc))
    except Exception as exc:
        # Log the kind of failure only: the message could quote the text.
        logger.error("import file %s failed: %s", file_id, type(exc).__name__)
        _fail(import_file, "The file could not be read; it may be damaged.")


def _fail(import_file: ImportFile, reason: str) -> None:
    _delete_staging(import_file.guid)
    ImportFile.objects.filter(pk=import_file.pk).update(
        status=ImportFileStatus.FAILED, reason=reason[:300], finished_at=timezone.now()
    )


def _find_duplicate(import_file: ImportFile, text: str, digest: str) -> Interview | None:
    """An interview of the project with this text already (imported from the same text, or stored as is)."""
    earlier = (
        ImportFile.objects.filter(project=import_file.project, source_digest=digest)
        .exclude(pk=import_file.pk)
        .filter(status=ImportFileStatus.IMPORTED, interview__isnull=False)
        .values_list("interview_id", flat=True)
        .first()
    )
    if earlier:
        return Interview.objects.get(pk=earlier)
    waiting = (
        ImportFile.objects.filter(
            project=import_file.project, source_digest=digest, status=ImportFileStatus.READY
        )
        .exclude(pk=import_file.pk)
        .exists()
    )
    if waiting:
        raise ImportRejected("The same text is already waiting for review in another file of this project.")
    return import_file.project.interviews.filter(text_sha256=text_sha256(text)).first()


# ---------------------------------------------------------------- review and confirm


def review_data(*, import_file: ImportFile) -> dict:
    if import_file.status != ImportFileStatus.READY:
        raise ValidationError({"file": "This file is not waiting for review."})
    staged = load_staged(import_file)
    return {
        "text": staged["text"],
        "turns": staged["turns"],
        "roles": staged["roles"],
        "findings": staged["findings"],
    }


def _clean_redactions(text_length: int, redactions: list[dict]) -> list[Finding]:
    out = []
    for n, r in enumerate(sorted(redactions, key=lambda r: (r["start"], r["end"])), 1):
        start, end = r["start"], r["end"]
        if not 0 <= start < end <= text_length:
            raise ValidationError(
                {"redactions": f"Redaction {n}: the range {start}–{end} is outside the text."}
            )
        if out and start < out[-1].end:
            raise ValidationError({"redactions": f"Redaction {n} overlaps the one before it."})
        category = (r.get("category") or "NAME").strip().upper()
        if not _CATEGORY.match(category):
            raise ValidationError({"redactions": f"Redaction {n}: the category must be a word in capitals."})
        placeholder = (r.get("placeholder") or "").strip()
        if placeholder and not _PLACEHOLDER.match(placeholder):
            raise ValidationError({"redactions": f"Redaction {n}: write the placeholder like [NAME-1]."})
        out.append(Finding(start, end, category, "review", True, placeholder))
    return out


def _taken_numbers(participant: Participant | None, project: Project) -> dict[str, int]:
    """Numbers already used, so a new [NAME-n] never repeats one meaning someone else."""
    placeholders = list(project.sensitive_terms.values_list("placeholder", flat=True))
    if participant is not None:
        placeholders += RedactionLog.objects.filter(interview__participant=participant).values_list(
            "placeholder", flat=True
        )
    return used_numbers(placeholders)


def _turns_after(turns: list[dict], edits, new_text: str, roles: dict[str, str]) -> list[dict]:
    out = []
    for t in turns:
        start, end, _ = remap_range(edits, t["start"], t["end"])
        speaker = t["speaker"]
        role = roles.get(speaker, SpeakerRole.OTHER)
        if t.get("label_start") is not None:
            l_start, l_end, touched = remap_range(edits, t["label_start"], t["label_end"])
            if touched:  # the label itself was redacted: name the speaker by the placeholder
                speaker = new_text[l_start:l_end].strip("[]{}*: ") or ""
                speaker = f"[{speaker}]" if speaker else ""
        out.append(
            {
                "start": start,
                "end": end,
                "speaker": speaker[:80],
                "role": role,
                "time_start": _decimal(t.get("time_start")),
                "time_end": _decimal(t.get("time_end")),
            }
        )
    return out


def _decimal(value):
    from decimal import Decimal

    return None if value is None else Decimal(str(round(float(value), 3)))


@transaction.atomic
def confirm_import(
    *,
    import_file: ImportFile,
    by,
    title: str,
    redactions: list[dict],
    roles: dict[str, str] | None = None,
    participant: Participant | None = None,
    new_pseudonym: str = "",
    allow_duplicate: bool = False,
    **metadata,
) -> tuple[Interview, list[dict]]:
    """Store the redacted transcript; returns the interview and the one-time key (original → placeholder)."""
    import_file = ImportFile.objects.select_for_update().get(pk=import_file.pk)
    if import_file.status != ImportFileStatus.READY:
        raise ValidationError(
            {"file": "This file is not waiting for review (already imported or discarded?)."}
        )
    if import_file.duplicate_of_id and not allow_duplicate:
        raise ValidationError(
            {
                "allow_duplicate": "The same text is already in the project as an interview "
                f"(id {import_file.duplicate_of_id}). Confirm again with allow_duplicate to import it twice."
            }
        )
    roles = dict(roles or {})
    bad = sorted({r for r in roles.values() if r not in SpeakerRole.values})
    if bad:
        raise ValidationError({"roles": f"Roles must be one of {', '.join(SpeakerRole.values)}."})
    if participant is None and not new_pseudonym.strip() and import_file.participant_hint:
        # The bulk upload mapped this file name to a pseudonym: use that participant, or create it.
        participant = import_file.project.participants.filter(pseudonym=import_file.participant_hint).first()
        if participant is None:
            new_pseudonym = import_file.participant_hint
    if (participant is None) == (not new_pseudonym.strip()):
        raise ValidationError(
            {"participant": "Choose a participant or give a new pseudonym (one of the two)."}
        )
    staged = load_staged(import_file)
    text = staged["text"]
    cleaned = _clean_redactions(len(text), redactions)
    if participant is None:
        participant = services.create_participant(project=import_file.project, pseudonym=new_pseudonym)
    elif participant.project_id != import_file.project_id:
        raise ValidationError({"participant": "That participant belongs to another project."})

    planned = assign_placeholders(text, cleaned, taken=_taken_numbers(participant, import_file.project))
    edits = clean_edits(len(text), redaction_edits(planned))
    new_text = apply_edits(text, edits)
    staged_roles = {**staged.get("roles", {}), **roles}
    turns = _turns_after(staged["turns"], edits, new_text, staged_roles)
    interview = services.create_interview(
        participant=participant, title=title, text=new_text, turns=turns, anonymised_by=by, **metadata
    )
    _record_redactions(interview, planned, by)
    ImportFile.objects.filter(pk=import_file.pk).update(
        status=ImportFileStatus.IMPORTED, interview=interview, name="", finished_at=timezone.now()
    )
    guid = import_file.guid
    transaction.on_commit(lambda: _delete_staging(guid))
    key = [{"original": r.original, "placeholder": r.placeholder, "category": r.category} for r in planned]
    return interview, key


@transaction.atomic
def discard_import(*, import_file: ImportFile) -> None:
    updated = ImportFile.objects.filter(
        pk=import_file.pk, status__in=OPEN_STATUSES + (ImportFileStatus.FAILED,)
    )
    if not updated.update(status=ImportFileStatus.DISCARDED, name="", finished_at=timezone.now()):
        raise ValidationError({"file": "This file has already been imported."})
    guid = import_file.guid
    transaction.on_commit(lambda: _delete_staging(guid))


def sweep_abandoned_imports(*, hours: int | None = None) -> int:
    """Expire imports left open longer than ``hours`` and delete staging files nobody owns."""
    hours = settings.IMPORT_STAGING_HOURS if hours is None else hours
    cutoff = timezone.now() - timedelta(hours=hours)
    stale = ImportFile.objects.filter(created_at__lt=cutoff).filter(
        status__in=OPEN_STATUSES + (ImportFileStatus.FAILED,)
    )
    guids = list(stale.values_list("guid", flat=True))
    stale.update(status=ImportFileStatus.EXPIRED, name="", finished_at=timezone.now())
    ImportFile.objects.filter(created_at__lt=cutoff).exclude(name="").exclude(
        status__in=OPEN_STATUSES
    ).update(name="")
    for guid in guids:
        _delete_staging(guid)
    open_guids = {
        str(g) for g in ImportFile.objects.filter(status__in=OPEN_STATUSES).values_list("guid", flat=True)
    }
    removed = len(guids)
    for path in staging_dir().iterdir():
        stem = path.name.split(".", 1)[0]
        try:
            uuid.UUID(stem)
        except ValueError:
            continue
        if stem not in open_guids:
            path.unlink(missing_ok=True)
            removed += 1
    return removed


# ---------------------------------------------------------------- redaction after import


@transaction.atomic
def redact_interview(*, interview: Interview, redactions: list[dict], by) -> tuple[Interview, list[dict]]:
    """Redact passages of a stored interview; codings follow (``services.revise_transcript``).

    Codings outside every redaction keep their text; touched ones are flagged
    for review, never dropped. Returns the interview and the one-time key.
    """
    interview = Interview.objects.select_for_update().get(pk=interview.pk)
    cleaned = _clean_redactions(interview.text_length, redactions)
    if not cleaned:
        raise ValidationError({"redactions": "Give at least one passage to redact."})
    planned = assign_placeholders(
        interview.text, cleaned, taken=_taken_numbers(interview.participant, interview.project)
    )
    services.revise_transcript(interview=interview, edits=redaction_edits(planned), by=by, reason="redaction")
    interview.refresh_from_db()  # earlier log positions moved with the text in revise_transcript
    _record_redactions(interview, planned, by)
    key = [{"original": r.original, "placeholder": r.placeholder, "category": r.category} for r in planned]
    return interview, key


def _record_redactions(interview: Interview, planned, by) -> None:
    """The redaction log of edits just applied: positions in the new text, never the original."""
    logs, shift = [], 0
    for r in planned:
        start = r.start + shift
        logs.append(
            RedactionLog(
                interview=interview,
                category=r.category,
                start=start,
                end=start + len(r.placeholder),
                placeholder=r.placeholder,
                text_version=interview.text_version,
                created_by=by,
            )
        )
        shift += len(r.placeholder) - (r.end - r.start)
    RedactionLog.objects.bulk_create(logs)


def fail_unfinished(
    *, batch_id: int, reason: str = "The import ran out of time before this file was read; upload it again."
) -> None:
    """After a time limit: files not yet read are reported, never left 'queued' forever."""
    for import_file in ImportFile.objects.filter(
        batch_id=batch_id, status__in=[ImportFileStatus.QUEUED, ImportFileStatus.PARSING]
    ):
        _fail(import_file, reason)
    ImportBatch.objects.filter(pk=batch_id).update(status=ImportBatchStatus.DONE, finished_at=timezone.now())
    _count_progress(batch_id)
