"""Supervisors' pages for agreement and consensus.

- The agreement page: percentage agreement, Cohen's κ per pair of coders and Krippendorff's α,
  per code and overall, for the chosen interviews, codes, coders and unit (``coding.agreement``).
- The disagreement view of one interview: each coder's codings in a lane beside the consensus
  lane, grouped where they overlap (``coding.consensus.disagreements``), with buttons that settle
  a group into the consensus layer, and the comment threads of each coding.
"""

from itertools import combinations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from interviews import audit
from interviews.access import get_membership, require_role
from interviews.models import Role

from .. import comments, consensus, selectors
from ..agreement import Unit, project_agreement
from ..models import Code, Coding, CodingComment
from ..services import consensus_coder

UNIT_EXPLANATIONS = [
    (
        Unit.CHARACTERS.value,
        "Characters",
        "Each character of participant speech is one unit: for every code, each coder either coded "
        "that character with the code or did not. Long passages weigh more than short ones, and "
        "a passage selected a few characters wider by one coder counts as a small disagreement.",
    ),
    (
        Unit.TURNS.value,
        "Speaker turns",
        "Each participant turn is one unit: a coder coded the turn with the code if any of their "
        "codings of it overlaps the turn. Exact boundaries do not matter, only which turns were coded.",
    ),
    (
        Unit.PARTICIPANTS.value,
        "Participants",
        "Each participant is one unit: a coder coded the participant with the code if they applied it "
        "anywhere in that participant's interviews. This is the unit of “k of N participants”.",
    ),
]


def _supervisor(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    require_role(membership, Role.SUPERVISOR)
    return membership


def _coder_choices(project) -> list[tuple[int, str]]:
    choices = [(m.user_id, m.user.username) for m in selectors.coders_of(project)]
    # Offered once a settlement has made the layer (reading never makes it).
    return choices + ([(project.consensus_user_id, "Consensus")] if project.consensus_user_id else [])


def _names(project) -> dict[int, str]:
    return dict(_coder_choices(project))


def _figure(value) -> str:
    return "—" if value is None else f"{value:.3f}"


def _percent(value) -> str:
    return "—" if value is None else f"{value:.1%}"


class AgreementForm(forms.Form):
    unit = forms.ChoiceField(
        choices=[(value, label) for value, label, _ in UNIT_EXPLANATIONS], required=False, label="Unit"
    )
    interview = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Interviews (none: all)")
    code = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Codes (none: all)")
    coder = forms.TypedMultipleChoiceField(coerce=int, required=False, label="Coders (none: all)")
    count_interviewer = forms.BooleanField(required=False, label="Count interviewer turns")

    def __init__(self, *args, project, codes, interviews, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interview"].choices = [(i.pk, i.title) for i in interviews]
        self.fields["code"].choices = [(c.pk, "\u2003" * c.depth + c.name) for c in codes if c.is_codable]
        self.fields["coder"].choices = _coder_choices(project)

    def clean_coder(self):
        coders = self.cleaned_data["coder"]
        if len(coders) == 1:
            raise ValidationError("Choose two or more coders (or none for everyone).")
        return coders


@login_required
@require_safe
def agreement(request, project_pk):
    membership = _supervisor(request, project_pk)
    project = membership.project
    codes = selectors.flatten_tree(selectors.code_tree(project, counts=False))
    interviews = list(project.interviews.select_related("participant").defer("text").order_by("title", "id"))
    form = AgreementForm(request.GET or None, project=project, codes=codes, interviews=interviews)
    context = {
        "project": project,
        "membership": membership,
        "form": form,
        "units": UNIT_EXPLANATIONS,
        "result": None,
    }
    data = {}
    if request.GET:
        if not form.is_valid():
            return render(request, "coding/agreement.html", context, status=400)
        data = form.cleaned_data
    unit = Unit(data.get("unit") or Unit.CHARACTERS)
    result = project_agreement(
        project,
        unit=unit,
        interview_ids=data.get("interview") or None,
        code_ids=data.get("code") or None,
        coder_ids=data.get("coder") or None,
        count_interviewer=bool(data.get("count_interviewer")),
    )
    names = _names(project)
    pairs = list(combinations(sorted(result.coders, key=str), 2))
    code_names = {c.pk: c for c in codes}

    def row(label, coincidence, code=None):
        kappas = coincidence.kappas()
        return {
            "label": label,
            "code": code,
            "percent": _percent(coincidence.percent_agreement),
            "alpha": _figure(coincidence.alpha),
            "kappas": [_figure(kappas.get(pair)) for pair in pairs],
            "units": f"{coincidence.units:,.0f}",
        }

    rows = [
        row(code_names[pk].name if pk in code_names else str(pk), c, code_names.get(pk))
        for pk, c in result.per_code.items()
    ]
    coded = dict(
        Coding.objects.filter(project=project)
        .exclude(coder_id=project.consensus_user_id)
        .values("interview_id")
        .annotate(n=Count("coder_id", distinct=True))
        .values_list("interview_id", "n")
    )
    chosen = set(data.get("interview") or [])
    coder_query = "&".join(f"coder={c}" for c in (data.get("coder") or []))
    context.update(
        {
            "result": result,
            "unit_label": dict((v, label) for v, label, _ in UNIT_EXPLANATIONS)[unit.value],
            "pair_labels": [f"{names.get(a, a)} × {names.get(b, b)}" for a, b in pairs],
            "coder_labels": [names.get(c, str(c)) for c in result.coders],
            "overall": row("All codes", result.overall),
            "rows": rows,
            "interviews": [
                {"interview": i, "coders": coded.get(i.pk, 0)}
                for i in interviews
                if not chosen or i.pk in chosen
            ],
            "coder_query": coder_query,
        }
    )
    return render(request, "coding/agreement.html", context)


# ---------------------------------------------------------------- disagreements of one interview


SHOW = {
    "disagreements": "Disagreements and settled groups",
    "open": "Open disagreements only",
    "all": "Every group, agreed ones too",
}


def _extent_text(group: consensus.Group) -> str:
    """The group's text, pieced together from its codings' quotes (they cover it: the group is
    a connected run of overlapping codings), so no second query cuts it."""
    text, reach = "", group.start
    for passage in sorted(group.codings, key=lambda p: (p.start, p.end)):
        if passage.end > reach:
            text += passage.quote[reach - passage.start :]
            reach = passage.end
    return text


def _bar(passage, group) -> dict:
    width = max(group.end - group.start, 1)
    return {
        "x": round(100 * (passage.start - group.start) / width, 2),
        "w": round(100 * (passage.end - passage.start) / width, 2),
    }


def _settle(request, interview, project):
    code = Code.objects.filter(project=project, pk=request.POST.get("code") or 0).first()
    if code is None:
        raise ValidationError({"code": "Choose a code of this project."})
    try:
        ids = [int(v) for v in request.POST.getlist("codings")]
        start = int(request.POST["start"]) if request.POST.get("start", "") != "" else None
        end = int(request.POST["end"]) if request.POST.get("end", "") != "" else None
    except ValueError:
        raise ValidationError({"start": "Give offsets and ids as whole numbers."}) from None
    method = request.POST.get("method", "")
    if method != "new":
        start = end = None
    coding = consensus.settle(
        interview=interview, code=code, method=method, codings=ids, start=start, end=end, by=request.user
    )
    return f"Settled {code.name} as characters {coding.start}–{coding.end} in the consensus layer."


def _post(request, membership, interview) -> str:
    project = membership.project
    action = request.POST.get("action")
    if action == "settle":
        return _settle(request, interview, project)
    if action == "undo":
        layer = consensus_coder(project)
        coding = Coding.objects.filter(
            interview=interview, coder=layer, pk=request.POST.get("coding") or 0
        ).first()
        if coding is None:
            raise ValidationError({"coding": "That consensus coding no longer exists."})
        restored = consensus.undo_settlement(coding=coding, by=request.user)
        return "Settlement taken back" + (
            f"; {len(restored)} earlier settlement(s) put back." if restored else "."
        )
    if action == "comment":
        coding = comments.visible_coding(membership, request.POST.get("coding") or 0)
        if coding.interview_id != interview.pk:
            raise ValidationError({"coding": "That coding is in another interview."})
        parent = None
        if request.POST.get("parent"):
            parent = CodingComment.objects.filter(coding=coding, pk=request.POST["parent"]).first()
            if parent is None:
                raise ValidationError({"parent": "No such comment on this coding."})
        comments.add_comment(
            membership=membership, coding=coding, text=request.POST.get("text", ""), parent=parent
        )
        return "Comment added."
    if action in ("resolve", "reopen"):
        comment = CodingComment.objects.filter(
            project=project, coding__interview=interview, pk=request.POST.get("comment") or 0
        ).first()
        if comment is None:
            raise ValidationError({"comment": "No such comment."})
        comments.resolve_thread(membership=membership, comment=comment, resolved=action == "resolve")
        return "Thread resolved." if action == "resolve" else "Thread reopened."
    raise ValidationError({"action": "Unknown action."})


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def disagreements(request, project_pk, interview_pk):
    membership = _supervisor(request, project_pk)
    project = membership.project
    interview = get_object_or_404(
        project.interviews.select_related("participant", "project").defer("text"), pk=interview_pk
    )
    errors = []
    if request.method == "POST":
        try:
            message = _post(request, membership, interview)
        except ValidationError as error:
            errors = (
                [m for messages_ in error.message_dict.values() for m in messages_]
                if hasattr(error, "error_dict")
                else error.messages
            )
        else:
            messages.success(request, message)
            query = request.GET.urlencode()
            return redirect(request.path + (f"?{query}" if query else ""))

    layer_id = project.consensus_user_id
    names = _names(project)
    member_coders = set(names) - {layer_id}
    try:
        chosen = [int(v) for v in request.GET.getlist("coder")]
    except ValueError:
        chosen = []
    chosen = [c for c in chosen if c in member_coders]
    if len(chosen) < 2:
        chosen = list(
            interview.codings.exclude(coder_id=layer_id)
            .order_by("coder_id")
            .values_list("coder_id", flat=True)
            .distinct()
        )
    result = consensus.disagreements(interview, chosen)
    show = request.GET.get("show") if request.GET.get("show") in SHOW else "disagreements"
    codes = {c.pk: c for c in project.codes.all()}
    threads = comments.threads_of(
        [p.id for g in result.groups for p in g.codings] + [p.id for p in result.consensus]
    )
    groups = []
    for group in result.groups:
        if (show == "disagreements" and not (group.is_disagreement or group.settled)) or (
            show == "open" and (group.settled or not group.is_disagreement)
        ):
            continue
        lanes = []
        for coder_id in result.coders:
            passages = [p for p in group.codings if p.coder_id == coder_id]
            lanes.append(
                {
                    "name": names.get(coder_id, str(coder_id)),
                    "passages": [
                        {"p": p, "bar": _bar(p, group), "threads": threads.get(p.id, [])} for p in passages
                    ],
                }
            )
        consensus_lane = [
            {"p": p, "bar": _bar(p, group), "threads": threads.get(p.id, [])} for p in group.consensus
        ]
        groups.append(
            {
                "g": group,
                "code": codes[group.code_id],
                "text": _extent_text(group),
                "lanes": lanes,
                "consensus": consensus_lane,
                "accept": [
                    (p.id, names.get(p.coder_id, str(p.coder_id)), p.start, p.end) for p in group.codings
                ],
                "intersection": group.intersection(),
            }
        )
    context = {
        "project": project,
        "membership": membership,
        "interview": interview,
        "groups": groups,
        "coder_names": [names.get(c, str(c)) for c in result.coders],
        "open_count": result.open_count,
        "disagreement_count": sum(1 for g in result.groups if g.is_disagreement),
        "settled_count": sum(1 for g in result.groups if g.settled),
        "errors": errors,
        "group_count": len(result.groups),
        "show": show,
        "show_options": SHOW.items(),
        "query": request.GET.urlencode(),
        "coder_options": [
            (pk, names[pk], pk in result.coders) for pk in sorted(member_coders, key=names.get)
        ],
    }
    # The page shows the coded passages' text: a read (DP3), one per page shown.
    audit.record_read(
        project=project,
        action="passages.retrieved",
        target_type="interview",
        target_id=interview.pk,
        interview_id=interview.pk,
        detail={"view": "disagreements", "role": membership.role, "coders": list(result.coders)},
    )
    return render(request, "coding/disagreements.html", context, status=400 if errors else 200)
