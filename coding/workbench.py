"""Reads for the transcript coding view (the workbench): its version tag and its page data.

Both are selectors in a fixed number of queries whatever the number of
codings: ``interview_with_version`` is one query (the interview without its
text, plus the aggregates the version tag is made of), ``page_data`` six more
(text, turns, codings, codes, members, memos). The browser polls with the
version tag as an ETag, so a poll that finds nothing new costs one query after
the membership check.
"""

import hashlib

from django.db import connection
from django.db.models import F, Q
from django.http import Http404

from interviews.api_base import etag_for
from interviews.models import Interview, Membership, Project, Role, SpeakerTurn

from .models import Memo

# Raw SQL, because profiling said so: built with the ORM, this one statement
# (eight aggregates over four tables) cost ~10 ms of Python to compile on every
# 3-second poll of every open coding view, against ~0.5 ms in the database.
# Values are bound parameters.
_VERSION_SQL = """
SELECT i.id, i.project_id, i.participant_id, i.title, i.language, i.status, i.text_version,
       i.text_length, i.anonymised_at, i.updated_at,
       p.pseudonym AS participant_pseudonym,
       c.n AS v_codings, c.ids AS v_codings_ids, c.at AS v_codings_at,
       k.n AS v_codes, k.at AS v_codes_at,
       m.n AS v_memos, m.at AS v_memos_at,
       ms.n AS v_members{blind_columns}
FROM interviews_interview i
JOIN interviews_participant p ON p.id = i.participant_id
CROSS JOIN (SELECT COUNT(*) AS n, COALESCE(SUM(id), 0) AS ids, MAX(updated_at) AS at
            FROM coding_coding WHERE interview_id = %s) c
CROSS JOIN (SELECT COUNT(*) AS n, MAX(updated_at) AS at FROM coding_code WHERE project_id = %s) k
CROSS JOIN (SELECT COUNT(*) AS n, MAX(memo.updated_at) AS at
            FROM coding_memo memo LEFT JOIN coding_coding mc ON mc.id = memo.coding_id
            WHERE memo.interview_id = %s OR mc.interview_id = %s) m
CROSS JOIN (SELECT COUNT(*) AS n FROM interviews_membership WHERE project_id = %s) ms{blind_joins}
WHERE i.id = %s AND i.project_id = %s
"""
# For a member below supervisor the same statement also answers whether the interview is
# blind for them, and the aggregates of what they would then see (their own codings; memos
# not on someone else's coding), so a poll stays one query. The rule is
# ``interviews.selectors.blind_interviews``: unrevealed, and the project codes blind or
# the member's own assignment is blind.
_BLIND_COLUMNS = """,
       (SELECT COUNT(*) FROM coding_reveal r WHERE r.interview_id = i.id) AS v_revealed,
       (SELECT COUNT(*) FROM coding_assignment a
        WHERE a.interview_id = i.id AND a.coder_id = %s AND a.blind = %s) AS v_my_blind,
       co.n AS v_own_codings, co.ids AS v_own_codings_ids, co.at AS v_own_codings_at,
       mo.n AS v_own_memos, mo.at AS v_own_memos_at"""
_BLIND_JOINS = """
CROSS JOIN (SELECT COUNT(*) AS n, COALESCE(SUM(id), 0) AS ids, MAX(updated_at) AS at
            FROM coding_coding WHERE interview_id = %s AND coder_id = %s) co
CROSS JOIN (SELECT COUNT(*) AS n, MAX(memo.updated_at) AS at
            FROM coding_memo memo LEFT JOIN coding_coding mc ON mc.id = memo.coding_id
            WHERE (memo.interview_id = %s OR mc.interview_id = %s)
              AND (mc.id IS NULL OR mc.coder_id = %s)) mo"""
_PLAIN_VERSION_SQL = _VERSION_SQL.format(blind_columns="", blind_joins="")
_MEMBER_VERSION_SQL = _VERSION_SQL.format(blind_columns=_BLIND_COLUMNS, blind_joins=_BLIND_JOINS)


def interview_with_version(
    *, project: Project, interview_id, membership: Membership | None = None
) -> Interview:
    """The interview (text deferred) with what its version tag is made of, or 404. One query.

    Deleting a coding lowers the count and id sum of the interview's codings,
    creating or editing one raises their latest ``updated_at``; the same holds
    for the project's codes and the interview's memos (its own and its
    codings'), so any change anyone makes changes the tag.

    With ``membership``, blind coding applies: where other coders' codings are hidden
    from the member, the result's ``own_only`` is their user id and the tag is made of
    their own codings only (another coder's work does not change it, and a reveal does).
    """
    try:
        interview_id = int(interview_id)
    except (TypeError, ValueError):
        raise Http404("No such interview.") from None
    i, p = interview_id, project.pk
    if membership is None or membership.has_role(Role.SUPERVISOR):
        rows = list(Interview.objects.raw(_PLAIN_VERSION_SQL, [i, p, i, i, p, i, p]))
    else:
        me = membership.user_id
        rows = list(
            Interview.objects.raw(_MEMBER_VERSION_SQL, [me, True, i, p, i, i, p, i, me, i, i, me, i, p])
        )
    if not rows:
        raise Http404("No such interview.")
    interview = rows[0]
    interview.own_only = None
    if getattr(interview, "v_revealed", 1) == 0 and (membership.project.blind_coding or interview.v_my_blind):
        interview.own_only = membership.user_id
        interview.v_codings = interview.v_own_codings
        interview.v_codings_ids = interview.v_own_codings_ids
        interview.v_codings_at = interview.v_own_codings_at
        interview.v_memos = interview.v_own_memos
        interview.v_memos_at = interview.v_own_memos_at
    return interview


def version_tag(interview: Interview, *, role: str, coder_id: int | None = None) -> str:
    """A strong ETag (quoted) for the page data of ``interview_with_version``'s result."""
    parts = [
        interview.pk,
        interview.text_version,
        interview.updated_at.isoformat(),
        interview.v_codings,
        interview.v_codings_ids,
        interview.v_codings_at,
        interview.v_codes,
        interview.v_codes_at,
        interview.v_memos,
        interview.v_memos_at,
        interview.v_members,
        role,
        coder_id,
        getattr(interview, "own_only", None),
    ]
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=12).hexdigest()
    return f'"{digest}"'


# The one part of the page data that grows with the interview: a plain cursor,
# because the ORM's per-row work was most of this endpoint's time (profiled on
# the benchmark's 355-coding interview). Coder names come from ``members``.
_CODINGS_SQL = (
    'SELECT id, code_id, coder_id, start, "end", comment, needs_review, updated_at FROM coding_coding '
    'WHERE interview_id = %s {coder} ORDER BY start, "end", id'
)


def _codings(interview_id: int, coder_id: int | None) -> list[dict]:
    params = [interview_id]
    sql = _CODINGS_SQL.format(coder="")
    if coder_id is not None:
        sql = _CODINGS_SQL.format(coder="AND coder_id = %s")
        params.append(coder_id)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        {
            "id": id_,
            "code_id": code_id,
            "coder_id": coder,
            "start": start,
            "end": end,
            "comment": comment,
            "needs_review": bool(needs_review),
            # The coding's version: the page sends it as If-Match when it changes the coding.
            "etag": etag_for(id_, updated_at),
        }
        for id_, code_id, coder, start, end, comment, needs_review, updated_at in rows
    ]


def page_data(*, membership: Membership, interview: Interview, coder_id: int | None = None) -> dict:
    """Everything the coding view shows, as plain data (six queries).

    Offsets are code points of the stored text; the browser converts them.
    ``coder_id`` keeps only that coder's codings. Where blind coding hides other coders'
    codings from the member (``interview.own_only``), only their own codings come, and
    only memos not attached to someone else's coding.
    """
    project = membership.project
    own = getattr(interview, "own_only", None)
    text = Interview.objects.filter(pk=interview.pk).values_list("text", flat=True).get()
    # Filters by id, not by instance: copying a model instance into a query's
    # expressions cost milliseconds per filter (profiled).
    turns = list(
        SpeakerTurn.objects.filter(interview_id=interview.pk)
        .order_by("index")
        .values("index", "start", "end", "speaker", "role")
    )
    if own is not None and coder_id not in (None, own):
        codings = []
    else:
        codings = _codings(interview.pk, own if own is not None else coder_id)
    codes = list(
        project.codes.order_by("order", "name", "id").values(
            "id", "parent_id", "name", "colour", "shortcut", "is_codable", "order", "definition"
        )
    )
    members = [
        {"id": user_id, "username": username, "role": role}
        for user_id, username, role in project.memberships.order_by("user__username").values_list(
            "user_id", "user__username", "role"
        )
    ]
    memos = Memo.objects.filter(Q(interview_id=interview.pk) | Q(coding__interview_id=interview.pk))
    if own is not None:
        memos = memos.filter(Q(coding__isnull=True) | Q(coding__coder_id=own))
    memos = list(
        memos.order_by("-updated_at", "id").values(
            "id",
            "kind",
            "coding_id",
            "author_id",
            "title",
            "text",
            "created_at",
            "updated_at",
            author_username=F("author__username"),
        )
    )
    can_code = membership.has_role(Role.CODER) and interview.is_codable
    return {
        "project": {"id": project.pk, "name": project.name},
        "interview": {
            "id": interview.pk,
            "title": interview.title,
            "participant": interview.participant_pseudonym,
            "language": interview.language,
            "status": interview.status,
            "text_version": interview.text_version,
            "text_length": interview.text_length,
            "is_codable": interview.is_codable,
        },
        "me": {
            "id": membership.user_id,
            "username": membership.user.username,
            "role": membership.role,
            "can_code": can_code,
            "can_edit_codebook": can_code and membership.has_role(Role.SUPERVISOR),
            "can_supervise": membership.has_role(Role.SUPERVISOR),
            "can_write_memos": membership.has_role(Role.CODER),
            # Blind coding: other coders' codings are hidden from me until a supervisor reveals them.
            "blind": own is not None,
        },
        "text": text,
        "turns": turns,
        "codings": codings,
        "codes": codes,
        "members": members,
        "memos": memos,
    }
