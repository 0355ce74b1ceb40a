"""Retrieve: the passages coded with a code, with context, filtered; as a page or as CSV.

The database cuts each passage and its context out of the transcript
(``selectors.passages``), so a transcript is never loaded whole per passage.
"""

import csv

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from interviews import audit
from interviews.access import get_membership
from interviews.models import InterviewStatus
from interviews.selectors import filter_participants_by_attribute

from .. import analytics, drilldown, selectors

PAGE_SIZE = 50


class RetrieveForm(forms.Form):
    code = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Code")
    descendants = forms.BooleanField(required=False, label="Include its sub-codes")
    coder = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Coder")
    interview = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Interview")
    participant = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Participant")
    attr = forms.ChoiceField(required=False, label="Participant attribute")
    value = forms.CharField(required=False, max_length=200, label="equals")
    # The analytics' scope, so that a number on the dashboard opens exactly its passages
    # (``coding.drilldown``): co-occurrence with a second code, statuses, speech, population.
    with_code = forms.TypedChoiceField(
        coerce=int, empty_value=None, required=False, label="Occurring together with code"
    )
    together = forms.ChoiceField(
        choices=[
            ("overlap", "in overlapping passages"),
            ("nearby", "in nearby passages"),
            ("participant", "for the same participant"),
        ],
        required=False,
        label="Together",
    )
    distance = forms.IntegerField(
        required=False, min_value=0, max_value=1_000_000, label="Nearby: at most (characters apart)"
    )
    status = forms.MultipleChoiceField(
        choices=InterviewStatus.choices, required=False, label="Interview status"
    )
    speech = forms.ChoiceField(
        choices=[("", "Everyone's turns"), ("participant", "Only participant speech")],
        required=False,
        label="Speech",
    )
    where = forms.CharField(required=False, max_length=2000, label="Only participants matching")

    def __init__(self, *args, codes, coders, interviews, definitions, participants, consensus=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = [("", "All codes")] + [
            (c.pk, "\u2003" * c.depth + c.name) for c in codes
        ]
        self.fields["with_code"].choices = [("", "—")] + self.fields["code"].choices[1:]
        self.fields["coder"].choices = (
            [("", "All coders")] + [(m.user_id, m.user.username) for m in coders] + list(consensus)
        )
        self.fields["interview"].choices = [("", "All interviews")] + [(i.pk, i.title) for i in interviews]
        self.fields["attr"].choices = [("", "Any")] + [(d.key, d.label) for d in definitions]
        self.fields["participant"].choices = [("", "All participants")] + [
            (pk, pseudonym) for pk, pseudonym in participants
        ]


def _rows(rows, context: int, pseudonyms: dict[int, str]):
    """Each row with ``before``/``quote``/``after``; a cut context loses its partial word and shows "…"."""
    for row in rows:
        before, quote, after = selectors.split_window(row)
        if row["start"] > context and " " in before:
            before = "…" + before[before.index(" ") + 1 :]
        if len(after) == context and " " in after:
            after = after[: after.rindex(" ")] + "…"
        row.update(before=before, quote=quote, after=after, pseudonym=pseudonyms.get(row["interview_id"], ""))
        yield row


# Cells a spreadsheet would read as a formula (or that hide one behind a control
# character) are neutralised with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def csv_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value):
        return value


def _csv_response(request, project, codings, context, pseudonyms):
    writer = csv.writer(_Echo())
    base = request.build_absolute_uri("/")[:-1]
    # reverse() once with a placeholder id rather than once per row.
    placeholder = "987654321"
    view = base + reverse("coding-view", args=[project.pk, int(placeholder)])
    header = [
        "coding_id",
        "interview",
        "participant",
        "code",
        "coder",
        "start",
        "end",
        "context_before",
        "passage",
        "context_after",
        "comment",
        "link",
    ]

    def lines():
        yield "\ufeff"  # so spreadsheet programs read the file as UTF-8
        yield writer.writerow(header)
        for c in _rows(codings.iterator(chunk_size=500), context, pseudonyms):
            link = view.replace(placeholder, str(c["interview_id"])) + f"?at={c['start']}#c{c['id']}"
            yield writer.writerow(
                [
                    csv_cell(c[key])
                    for key in (
                        "id",
                        "interview_title",
                        "pseudonym",
                        "code_name",
                        "coder_name",
                        "start",
                        "end",
                        "before",
                        "quote",
                        "after",
                        "comment",
                    )
                ]
                + [csv_cell(link)]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="passages-project-{project.pk}.csv"'
    return response


def _in_analytics_scope(membership, data, codings):
    """Only the codings the analytics count under the chosen scope, when one is chosen;
    with ``with_code``, only those co-occurring with it (ValidationError naming the field)."""
    if data["with_code"] is None and not (data["status"] or data["speech"] or data["where"]):
        return codings
    scope = analytics.make_scope(
        membership.project,
        coder_id=data["coder"],
        statuses=data["status"],
        include_interviewer=data["speech"] != "participant",
        where=data["where"],
        membership=membership,
    )
    if data["with_code"] is None:
        return codings.filter(id__in=analytics.eligible_codings(scope).values("id"))
    if data["code"] is None:
        raise ValidationError({"code": "Choose the code whose passages to show with the second code."})
    together = drilldown.cooccurring_codings(
        scope,
        code_id=data["code"],
        with_code_id=data["with_code"],
        mode=data["together"] or "overlap",
        distance=data["distance"] or 0,
    )
    return codings.filter(id__in=together.values("id"))


def _filter_summary(data: dict) -> dict:
    """The filters in use, as plain JSON values for the audit trail."""
    summary = {}
    for key, value in data.items():
        if value is None or value is False or value in ("", [], ()):
            continue
        if isinstance(value, (list, tuple)):
            value = [v if isinstance(v, (int, str)) else str(v) for v in value]
        elif not isinstance(value, (int, str, bool)):
            value = str(value)
        summary[key] = value
    return summary


@login_required
@require_safe
def retrieve(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    project = membership.project
    codes = selectors.flatten_tree(selectors.code_tree(project, counts=False))
    coders = list(selectors.coders_of(project))
    interviews = list(project.interviews.only("id", "title", "project_id").order_by("title", "id"))
    definitions = list(project.attribute_definitions.all())
    participant_choices = list(project.participants.order_by("pseudonym").values_list("pk", "pseudonym"))
    form = RetrieveForm(
        request.GET,
        codes=codes,
        coders=coders,
        consensus=[(project.consensus_user_id, "Consensus")] if project.consensus_user_id else [],
        interviews=interviews,
        definitions=definitions,
        participants=participant_choices,
    )
    context = {"project": project, "membership": membership, "form": form, "page": None}
    if not form.is_valid():
        return render(request, "coding/retrieve.html", context, status=400)
    data = form.cleaned_data
    code_ids = None
    if data["code"] is not None:
        code = next(c for c in codes if c.pk == data["code"])
        code_ids = [c.pk for c in selectors.flatten_tree([code])] if data["descendants"] else [code.pk]
    participants = None
    if data["participant"] is not None:
        participants = project.participants.filter(pk=data["participant"])
    if data["attr"] and data["value"]:
        participants = filter_participants_by_attribute(
            participants if participants is not None else project.participants.all(),
            project,
            data["attr"],
            data["value"],
        )
    codings = selectors.passages(
        project,
        code_ids=code_ids,
        coder_id=data["coder"],
        interview_id=data["interview"],
        participants=participants,
    )
    try:
        codings = _in_analytics_scope(membership, data, codings)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages)
        return render(request, "coding/retrieve.html", context, status=400)
    # Blind coding: other coders' passages on a blind interview are not shown (page and CSV).
    codings = selectors.visible_codings(membership, codings)
    pseudonyms = selectors.interview_participants(project)
    as_csv = request.GET.get("format") == "csv"
    # One read per request, naming the filters: passages with context are transcript text.
    audit.record_read(
        project=project,
        action="passages.exported" if as_csv else "passages.retrieved",
        target_type="project",
        target_id=project.pk,
        interview_id=data["interview"],
        detail={
            "view": "retrieve CSV" if as_csv else "retrieve",
            "role": membership.role,
            "filters": _filter_summary(data),
            **({} if as_csv else {"page": request.GET.get("page") or "1"}),
        },
    )
    if as_csv:
        return _csv_response(request, project, codings, selectors.CONTEXT_CHARS, pseudonyms)
    # Page over ids first, so the database cuts context for this page's rows only.
    page = Paginator(codings.values_list("id", flat=True), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = codings.filter(id__in=list(page.object_list))
    page.rows = list(_rows(rows, selectors.CONTEXT_CHARS, pseudonyms))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    context.update({"page": page, "query": query.urlencode(), "codings_total": page.paginator.count})
    return render(request, "coding/retrieve.html", context)
