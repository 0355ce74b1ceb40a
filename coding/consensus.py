"""Disagreement review and the consensus layer.

Two or more coders code an interview independently; a supervisor compares their codings of
each code and settles every difference into the project's **consensus layer**: ordinary
``Coding`` rows whose coder is the project's consensus account
(``services.consensus_coder``), which analytics and agreement can then use like a coder.

- ``disagreements`` (a selector, one query) groups, per code, the chosen coders' codings
  that overlap one another (connected components of overlapping ranges) and says for each
  group whether the coders agree exactly, or how they differ, and which consensus codings
  already settle it.
- ``settle`` writes the consensus coding for a group: one coder's range (accept), the union
  or the intersection of the group's ranges, or a new range; it replaces the consensus
  codings of that code overlapping the group. ``undo_settlement`` takes one back and puts
  back what it replaced. Both are for supervisors and leave an audit record.
"""

from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from interviews import audit
from interviews.models import Interview, Membership, Role

from . import selectors
from .agreement import union
from .models import Code, Coding
from .services import _check_coding, _save_coding, consensus_coder

AGREED = "agreed"
APPLIED_BY_SOME = "applied_by_some"
DIFFERENT_RANGES = "different_ranges"

KIND_LABELS = {
    AGREED: "Agreed",
    APPLIED_BY_SOME: "Applied by some coders only",
    DIFFERENT_RANGES: "Different ranges",
}

METHODS = ("accept", "union", "intersection", "new")


@dataclass
class Passage:
    """One coding in a group (or in the consensus layer), with its quote cut by the database."""

    id: int
    code_id: int
    coder_id: int
    start: int
    end: int
    quote: str = ""

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


@dataclass
class Group:
    """Overlapping codings of one code (a connected component of overlapping ranges)."""

    code_id: int
    start: int
    end: int
    codings: list[Passage] = field(default_factory=list)
    consensus: list[Passage] = field(default_factory=list)
    kind: str = AGREED
    coders_with: list[int] = field(default_factory=list)  # coders who applied the code here
    coders_without: list[int] = field(default_factory=list)

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    @property
    def settled(self) -> bool:
        return bool(self.consensus)

    @property
    def is_disagreement(self) -> bool:
        return self.kind != AGREED

    def intersection(self) -> tuple[int, int] | None:
        start, end = max(p.start for p in self.codings), min(p.end for p in self.codings)
        return (start, end) if start < end else None


@dataclass
class Disagreements:
    interview: Interview
    coders: list[int]
    consensus_coder_id: int
    groups: list[Group]
    consensus: list[Passage]  # every consensus coding of the chosen codes on the interview

    @property
    def open_count(self) -> int:
        return sum(1 for g in self.groups if g.is_disagreement and not g.settled)


def _components(passages: list[Passage]) -> list[list[Passage]]:
    """Connected components of overlapping ranges (touching ranges [a, b) [b, c) do not overlap)."""
    components: list[list[Passage]] = []
    reach = -1
    for passage in sorted(passages, key=lambda p: (p.start, p.end, p.id)):
        if components and passage.start < reach:
            components[-1].append(passage)
            reach = max(reach, passage.end)
        else:
            components.append([passage])
            reach = passage.end
    return components


def _classify(group: Group, coders: list[int]) -> None:
    ranges: dict[int, list] = {}
    for passage in group.codings:
        ranges.setdefault(passage.coder_id, []).append((passage.start, passage.end))
    group.coders_with = [c for c in coders if c in ranges]
    group.coders_without = [c for c in coders if c not in ranges]
    if group.coders_without:
        group.kind = APPLIED_BY_SOME
    elif len({tuple(union(r)) for r in ranges.values()}) == 1:
        group.kind = AGREED
    else:
        group.kind = DIFFERENT_RANGES


def disagreements(interview: Interview, coders, codes=None) -> Disagreements:
    """Per code, the groups of overlapping codings of ``coders`` (users or ids) on the interview.

    One query reads the coders' and the consensus layer's codings (quotes from one read
    of the text); grouping is range arithmetic in memory. ``codes``: codes or ids to limit to.
    """
    coder_ids = sorted({getattr(c, "pk", c) for c in coders})
    consensus_id = interview.project.consensus_user_id  # None until a first settlement
    coder_ids = [c for c in coder_ids if c != consensus_id]
    rows = interview.codings.filter(coder_id__in=[*coder_ids, consensus_id])
    if codes is not None:
        rows = rows.filter(code_id__in=[getattr(c, "pk", c) for c in codes])
    by_code: dict[int, list[Passage]] = {}
    settled: dict[int, list[Passage]] = {}
    values = rows.values("id", "interview_id", "code_id", "coder_id", "start", "end")
    for row in selectors.attach_quotes(values):
        del row["interview_id"]
        passage = Passage(**row)
        (settled if passage.coder_id == consensus_id else by_code).setdefault(passage.code_id, []).append(
            passage
        )
    groups = []
    for code_id, passages in by_code.items():
        for component in _components(passages):
            group = Group(
                code_id=code_id,
                start=min(p.start for p in component),
                end=max(p.end for p in component),
                codings=sorted(component, key=lambda p: (coder_ids.index(p.coder_id), p.start, p.end)),
            )
            group.consensus = [p for p in settled.get(code_id, []) if p.overlaps(group.start, group.end)]
            _classify(group, coder_ids)
            groups.append(group)
    groups.sort(key=lambda g: (g.start, g.end, g.code_id))
    consensus = sorted((p for ps in settled.values() for p in ps), key=lambda p: (p.start, p.end, p.id))
    return Disagreements(
        interview=interview,
        coders=coder_ids,
        consensus_coder_id=consensus_id,
        groups=groups,
        consensus=consensus,
    )


# ---------------------------------------------------------------- settling


def _require_supervisor(project, user) -> None:
    membership = Membership.objects.filter(project=project, user=user).first()
    if membership is None or not user.is_active or not membership.has_role(Role.SUPERVISOR):
        raise PermissionDenied("Only supervisors and owners of the project settle disagreements.")


def _range_for(method: str, codings: list[Coding], start, end) -> tuple[int, int]:
    if method not in METHODS:
        raise ValidationError({"method": f"Choose one of: {', '.join(METHODS)}."})
    if method != "new" and (start is not None or end is not None):
        raise ValidationError({"start": "A start and end are given only for a new range."})
    if method == "new":
        if start is None:
            raise ValidationError({"start": "Give the start of the new range."})
        if end is None:
            raise ValidationError({"end": "Give the end of the new range."})
        return start, end
    if not codings:
        raise ValidationError({"codings": "Choose the coding(s) to settle from."})
    if method == "accept":
        if len(codings) != 1:
            raise ValidationError({"codings": "Accept takes exactly one coder's coding."})
        return codings[0].start, codings[0].end
    if method == "union":
        merged = union((c.start, c.end) for c in codings)
        if len(merged) != 1:
            raise ValidationError(
                {"codings": "These codings do not overlap: their union is not one passage."}
            )
        return merged[0]
    start, end = max(c.start for c in codings), min(c.end for c in codings)
    if start >= end:
        raise ValidationError(
            {"codings": "These codings have no characters in common: the intersection is empty."}
        )
    return start, end


def _group_extent(interview, code, layer, start: int, end: int) -> tuple[int, int]:
    """[start, end) widened to the whole run of coders' codings of ``code`` that overlap it, so
    settling a group replaces every consensus coding over that group, not only over the part
    the chosen coding covers (one query)."""
    ranges = sorted(
        Coding.objects.filter(interview=interview, code=code).exclude(coder=layer).values_list("start", "end")
    )
    changed = True
    while changed:
        changed = False
        for s, e in ranges:
            if s < end and start < e and (s < start or e > end):
                start, end, changed = min(start, s), max(end, e), True
    return start, end


@transaction.atomic
def settle(
    *,
    interview: Interview,
    code: Code,
    method: str,
    codings=(),
    start: int | None = None,
    end: int | None = None,
    by,
) -> Coding:
    """Write the consensus coding of ``code`` for a group of coders' ``codings``.

    ``method``: ``accept`` (the one coding given), ``union`` or ``intersection`` of the
    codings' ranges, or ``new`` (``start``/``end``). Consensus codings of the code that
    overlap the group are replaced: the group is the run of overlapping coders' codings
    around the codings given and the new range.
    """
    project = interview.project
    _require_supervisor(project, by)
    layer = consensus_coder(project)
    ids = sorted({getattr(c, "pk", c) for c in codings})
    # Read them afresh and locked: the caller's objects may be stale.
    rows = list(Coding.objects.select_for_update().filter(pk__in=ids, interview=interview, code=code))
    if len(rows) != len(ids):
        raise ValidationError({"codings": f"Choose codings of {code.name!r} in this interview."})
    if any(c.coder_id == layer.pk for c in rows):
        raise ValidationError({"codings": "Settle from the coders' codings, not from the consensus layer."})
    new_start, new_end = _range_for(method, rows, start, end)
    _check_coding(interview=interview, code=code, coder=None, start=new_start, end=new_end)

    extent_start, extent_end = _group_extent(
        interview,
        code,
        layer,
        min([new_start, *(c.start for c in rows)]),
        max([new_end, *(c.end for c in rows)]),
    )
    replaced = list(
        Coding.objects.select_for_update()
        .filter(interview=interview, code=code, coder=layer, start__lt=extent_end, end__gt=extent_start)
        .order_by("start", "end", "id")
    )
    before = {"replaced": [{"id": c.pk, "start": c.start, "end": c.end} for c in replaced]}
    Coding.objects.filter(pk__in=[c.pk for c in replaced]).delete()
    coding = _save_coding(
        Coding(
            project_id=project.pk,
            interview=interview,
            code=code,
            coder=layer,
            start=new_start,
            end=new_end,
        )
    )
    audit.record(
        project=project,
        action="consensus.settled",
        target_type="coding",
        target_id=coding.pk,
        interview_id=interview.pk,
        actor=by,
        before=before,
        after={
            "coding": coding.pk,
            "code": code.pk,
            "start": new_start,
            "end": new_end,
            "method": method,
            "from_codings": [{"id": c.pk, "coder": c.coder_id, "start": c.start, "end": c.end} for c in rows],
            "text_version": interview.text_version,
        },
    )
    return coding


def settlement_of(coding: Coding):
    """The audit record of the settlement that wrote this consensus coding (None if none)."""
    from interviews.models import AuditEvent

    return (
        AuditEvent.objects.filter(
            project_id=coding.project_id,
            action="consensus.settled",
            target_type="coding",
            target_id=coding.pk,
        )
        .order_by("-at", "-id")
        .first()
    )


@transaction.atomic
def undo_settlement(*, coding: Coding, by) -> list[Coding]:
    """Remove a consensus coding and put back the consensus codings its settlement replaced.

    Those are put back only while the transcript is the version that was settled (after a
    revision their old offsets would point at other text). Returns the codings put back.
    """
    interview = Interview.objects.select_related("project").defer("text").get(pk=coding.interview_id)
    project = interview.project
    _require_supervisor(project, by)
    layer = consensus_coder(project)
    if coding.coder_id != layer.pk:
        raise ValidationError({"coding": "Only codings of the consensus layer can be unsettled here."})
    event = settlement_of(coding)
    restored: list[Coding] = []
    before = {"coding": coding.pk, "code": coding.code_id, "start": coding.start, "end": coding.end}
    Coding.objects.filter(pk=coding.pk).delete()
    if event is not None and (event.after or {}).get("text_version") == interview.text_version:
        for old in (event.before or {}).get("replaced", []):
            clash = Coding.objects.filter(interview=interview, code_id=before["code"], coder=layer).filter(
                Q(start__lt=old["end"], end__gt=old["start"])
            )
            if clash.exists():
                continue  # something newer covers it: leave that alone
            restored.append(
                _save_coding(
                    Coding(
                        project_id=project.pk,
                        interview=interview,
                        code_id=before["code"],
                        coder=layer,
                        start=old["start"],
                        end=old["end"],
                    )
                )
            )
    audit.record(
        project=project,
        action="consensus.undone",
        target_type="coding",
        target_id=before["coding"],
        interview_id=interview.pk,
        actor=by,
        before=before,
        after={"restored": [{"id": c.pk, "start": c.start, "end": c.end} for c in restored]},
    )
    return restored
