"""The analytics dashboard for supervisors (and every other member, read-only) and its downloads.

One page shows each analytic as a chart (server-rendered SVG) with its table; every
table can be downloaded as CSV or XLSX with the same filters. Numbers link to the
passages behind them on the retrieve page. The page only reads: the selectors in
``coding.analytics`` do the work.
"""

import csv
import io
from dataclasses import dataclass, replace

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from interviews import audit
from interviews.access import get_membership
from interviews.models import AttributeKind, InterviewStatus

from .. import analytics, charts, drilldown
from ..models import SavedQuery
from ..suppression import Hidden, suppress, threshold

# Cells a spreadsheet would read as a formula (or that hide one behind a control
# character) are neutralised with a leading apostrophe; numbers stay numbers.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def safe_cell(value):
    if value is None:
        return ""
    if isinstance(value, Hidden):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


@dataclass
class Cell:
    value: object
    href: str = ""
    display: str = ""

    def __str__(self):
        if self.display:
            return self.display
        return (
            ""
            if self.value is None
            else (f"{self.value:g}" if isinstance(self.value, float) else str(self.value))
        )


def pct(value):
    return Cell(value, display="" if value is None else f"{value:.1%}")


def interval(ci):
    return Cell(None if ci is None else f"{ci[0]:.3f}–{ci[1]:.3f}")


@dataclass
class Table:
    name: str
    title: str
    headers: list
    rows: list  # lists of Cell


class DashboardForm(forms.Form):
    unit = forms.ChoiceField(choices=[(u, analytics.UNIT_LABELS[u]) for u in analytics.UNITS], required=False)
    coder = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Layer")
    status = forms.ChoiceField(required=False, label="Interview status")
    include_interviewer = forms.BooleanField(required=False, label="Count interviewer turns")
    where = forms.CharField(required=False, max_length=2000, label="Only participants matching")
    group = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Code group")
    attribute = forms.ChoiceField(required=False, label="Crosstab by")
    q = forms.CharField(required=False, max_length=2000, label="Who fits this definition?")
    saved = forms.TypedChoiceField(coerce=int, empty_value=None, required=False, label="Saved query")
    numeric = forms.ChoiceField(required=False, label="Events attribute")
    mode = forms.ChoiceField(choices=[(m, m) for m in analytics.COOCCURRENCE_MODES], required=False)
    distance = forms.IntegerField(
        required=False, min_value=0, max_value=1_000_000, label="Distance (characters)"
    )
    value = forms.ChoiceField(
        choices=[(v, v) for v in analytics.MATRIX_VALUES], required=False, label="Matrix"
    )
    cluster = forms.BooleanField(required=False, label="Order rows by clustering")
    clusters = forms.IntegerField(required=False, min_value=1, max_value=50, label="Profile clusters")

    def __init__(self, *args, project, book, **kwargs):
        super().__init__(*args, **kwargs)
        coders = project.memberships.select_related("user").order_by("user__username")
        # The layer counted: every coder's codings, one coder's, or the consensus layer.
        self.fields["coder"].choices = (
            [("", "All coders")]
            + [(m.user_id, m.user.username) for m in coders]
            + ([(project.consensus_user_id, "Consensus")] if project.consensus_user_id else [])
        )
        self.fields["status"].choices = [("", "Any status")] + list(InterviewStatus.choices)
        self.fields["group"].choices = [(g, book.path(g)) for g in book.groups()]
        definitions = list(project.attribute_definitions.all())
        self.fields["attribute"].choices = (
            [(d.key, d.label) for d in definitions if d.kind != AttributeKind.TEXT]
            + [("participant_type", "Participant type")]
            + [(f"code:{pk}", f"has {book.path(pk)}") for pk in book.order]
        )
        self.fields["numeric"].choices = [
            (d.key, d.label) for d in definitions if d.kind in (AttributeKind.INTEGER, AttributeKind.DECIMAL)
        ]
        self.fields["saved"].choices = [("", "—")] + [
            (s.pk, s.name) for s in SavedQuery.objects.filter(project=project).order_by("name")
        ]


def _scope(project, data, book=None, membership=None):
    return analytics.make_scope(
        project,
        unit=data.get("unit") or "participants",
        coder_id=data.get("coder"),
        statuses=[data["status"]] if data.get("status") else [],
        include_interviewer=bool(data.get("include_interviewer")),
        where=data.get("where") or "",
        book=book,
        membership=membership,
    )


# ---------------------------------------------------------------- tables


def frequency_table(result):
    rows = [
        [
            Cell(r["path"], r["link"], display="\u2003" * r["depth"] + r["name"]),
            Cell(r["count"], r["link"]),
            pct(r["share"]),
        ]
        + [Cell(r["per_coder"].get(str(c["id"]), 0)) for c in result["coders"]]
        for r in result["rows"]
    ]
    headers = ["Code", result["unit_label"], f"share of N = {result['n']}"] + [
        c["username"] for c in result["coders"]
    ]
    return Table("frequencies", "Code frequencies", headers, rows)


def heterogeneity_table(result):
    rows = []
    for g in result["groups"]:
        ci = g["ci"]
        for c in g["categories"]:
            rows.append(
                [
                    Cell(g["group"]["path"]),
                    Cell(c["name"], c["link"]),
                    Cell(c["participants"], c["link"]),
                    pct(c["share"]),
                    interval(c["share_ci"]),
                ]
            )
        rows.append(
            [
                Cell(g["group"]["path"]),
                Cell("(whole group)"),
                Cell(g["n_coded"]),
                Cell(g["richness"], display=f"richness {g['richness']} {_ci(ci['richness'])}"),
                Cell(
                    g["gini_simpson"],
                    display=f"H {g['shannon']:.3f} {_ci(ci['shannon'])} · "
                    f"evenness {_num(g['evenness'])} {_ci(ci['evenness'])} · "
                    f"Gini–Simpson {g['gini_simpson']:.3f} {_ci(ci['gini_simpson'])}",
                ),
            ]
        )
    headers = ["Group", "Category", "Participants", "Share (fractional)", "95% interval"]
    return Table("heterogeneity", "Heterogeneity per code group", headers, rows)


def _ci(ci):
    return "" if not ci else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _num(value):
    return "—" if value is None else f"{value:.3f}"


def crosstab_table(result):
    headers = ["Code", "Participants"]
    for c in result["columns"]:
        headers += [f"{c['label']} (n={c['n']})", "row %", "column %"]
    rows = []
    for r in result["rows"]:
        row = [Cell(r["name"], r["link"]), Cell(r["n"], r["link"])]
        for cell in r["cells"]:
            row += [
                Cell(cell["count"], cell["link"] if cell["count"] else ""),
                pct(cell["row_pct"]),
                pct(cell["col_pct"]),
            ]
        rows.append(row)
    return Table("crosstab", f"{result['group']['name']} × {result['attribute']['label']}", headers, rows)


def query_table(result):
    rows = [[Cell(p["pseudonym"], p["link"])] for p in result["participants"]]
    return Table("query", result["sentence"], ["Participant"], rows)


def cooccurrence_table(result, links=None):
    """Each pair once; a code's name opens its passages that occur with the other code."""
    names = [c["path"] for c in result["codes"]]
    links = links or [[""] * len(names) for _ in names]
    rows = []
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            count = result["counts"][i][j]
            if count:
                jac = result["jaccard"][i][j] if result["jaccard"] else None
                rows.append(
                    [
                        Cell(a, links[i][j]),
                        Cell(names[j], links[j][i]),
                        Cell(count, links[i][j]),
                        Cell(jac, display=_num(jac)),
                    ]
                )
    headers = ["Code", "Code", result["unit_label"], "Jaccard"]
    return Table("cooccurrence", f"Co-occurrence ({result['mode']})", headers, rows)


def matrix_table(result):
    headers = ["Participant"] + [c["path"] for c in result["codes"]]
    template = result["link_template"]
    rows = [
        [Cell(r["pseudonym"])]
        + [
            Cell(v, template.format(code=c["code_id"], participant=r["participant_id"]) if v else "")
            for v, c in zip(r["values"], result["codes"], strict=True)
        ]
        for r in result["rows"]
    ]
    return Table("matrix", f"Participant × code ({result['value']})", headers, rows)


def profiles_table(result):
    rows = [
        [Cell(p["count"]), Cell(", ".join(c["path"] for c in p["codes"])), Cell(", ".join(p["participants"]))]
        for p in result["profiles"]
    ]
    for c in result["clusters"]:
        rows.append(
            [
                Cell(c["size"]),
                Cell(
                    f"cluster {c['label']}: "
                    + ", ".join(
                        f"{x['path']} ({x['share']:.0%} vs {x['overall']:.0%})" for x in c["characteristic"]
                    )
                ),
                Cell(", ".join(m["pseudonym"] or "" for m in c["members"])),
            ]
        )
    headers = ["Participants", "Profile / cluster", "Who"]
    return Table(
        "profiles",
        f"{result['distinct_profiles']} distinct profiles among {result['n_profiled']}",
        headers,
        rows,
    )


def saturation_table(result):
    rows = [
        [
            Cell(p["position"]),
            Cell(p["title"]),
            Cell(p["date"]),
            Cell(p["participant"]),
            Cell(p["new"]),
            Cell(p["cumulative"]),
        ]
        + [Cell(p["per_coder"][str(c["id"])]["new"]) for c in result["coders"]]
        for p in result["points"]
    ]
    headers = ["#", "Interview", "Date", "Participant", "New codes", "Cumulative"] + [
        f"new ({c['username']})" for c in result["coders"]
    ]
    return Table("saturation", "Saturation", headers, rows)


def events_table(result):
    rows = [[Cell(d["value"]), Cell(d["participants"])] for d in result["distribution"]]
    return Table("events", f"{result['attribute']['label']}: distribution", ["Value", "Participants"], rows)


# ---------------------------------------------------------------- computing the page


def compute(project, data, book, only=None, k=0, membership=None):
    """Every section's result, table and chart (or only the named one, for a download).

    ``k``: counts below it are shown as "<k" (``coding.suppression``; viewers, when the
    project asks for it)."""
    # The codebook the form loaded, not read again; blind coding applies to ``membership``.
    scope = _scope(project, data, book, membership)
    sections = {}
    hidden = Hidden(k)

    def shown(kind, result):
        return suppress(kind, result, k, hidden=hidden)

    def wanted(name):
        return only is None or only == name

    if wanted("frequencies"):
        result = shown("frequencies", analytics.code_frequencies(scope))
        table = frequency_table(result)
        chart = charts.bar_chart(
            [
                {"label": r["name"], "value": r["count"], "link": r["link"], "depth": r["depth"]}
                for r in result["rows"]
            ],
            title=f"Code frequencies in {result['unit_label']}",
        )
        sections["frequencies"] = (result, table, chart)
    groups = book.groups()
    if wanted("heterogeneity") and groups:
        result = shown("heterogeneity", analytics.heterogeneity(scope, groups=groups))
        charts_html = [
            charts.bar_chart(
                [
                    {
                        "label": c["name"],
                        "value": hidden if c["share"] is None else c["share"],
                        "ci": c["share_ci"],
                        "link": c["link"],
                    }
                    for c in g["categories"]
                ],
                title=g["group"]["name"],
                percent=True,
            )
            for g in result["groups"]
        ]
        sections["heterogeneity"] = (result, heterogeneity_table(result), charts_html)
    group = data.get("group") or (groups[0] if groups else None)
    attribute = data.get("attribute") or "participant_type"
    if wanted("crosstab") and group:
        result = shown("crosstab", analytics.crosstab(scope, group=group, attribute=attribute))
        chart = charts.heatmap(
            [r["name"] for r in result["rows"]],
            [c["label"] for c in result["columns"]],
            [[cell["count"] for cell in r["cells"]] for r in result["rows"]],
            title="Crosstab",
            links=[[cell["link"] for cell in r["cells"]] for r in result["rows"]],
        )
        sections["crosstab"] = (result, crosstab_table(result), chart)
    expression = data.get("q") or ""
    if not expression and data.get("saved"):
        saved = SavedQuery.objects.filter(project=project, pk=data["saved"]).first()
        expression = saved.expression if saved else ""
    if wanted("query") and expression:
        result = shown("query", analytics.run_query(scope, expression))
        sections["query"] = (result, query_table(result), "")
    if wanted("cooccurrence"):
        result = shown(
            "cooccurrence",
            analytics.cooccurrence(
                scope if scope.unit != "words" else replace(scope, unit="participants"),
                mode=data.get("mode") or "overlap",
                distance=data.get("distance") or 0,
            ),
        )
        links = drilldown.links(scope, result)  # cell (i, j): code i's passages with code j
        chart = charts.heatmap(
            [c["name"] for c in result["codes"]],
            [c["name"] for c in result["codes"]],
            result["counts"],
            title="Co-occurrence",
            links=links,
        )
        sections["cooccurrence"] = (result, cooccurrence_table(result, links), chart)
    if wanted("matrix"):
        result = shown(
            "matrix",
            analytics.participant_code_matrix(
                scope, value=data.get("value") or "presence", cluster=bool(data.get("cluster"))
            ),
        )
        template = result["link_template"]
        chart = charts.heatmap(
            [r["pseudonym"] for r in result["rows"]],
            [c["name"] for c in result["codes"]],
            [r["values"] for r in result["rows"]],
            title="Participant × code",
            links=[
                [template.format(code=c["code_id"], participant=r["participant_id"]) for c in result["codes"]]
                for r in result["rows"]
            ],
        )
        sections["matrix"] = (result, matrix_table(result), chart)
    if wanted("profiles") and groups:
        result = shown(
            "profiles", analytics.profiles(scope, groups=groups, clusters=data.get("clusters") or 4)
        )
        sections["profiles"] = (result, profiles_table(result), "")
    if wanted("saturation"):
        result = shown("saturation", analytics.saturation(scope))
        series = [("all coders", [p["cumulative"] for p in result["points"]])] + [
            (c["username"], [p["per_coder"][str(c["id"])]["cumulative"] for p in result["points"]])
            for c in result["coders"]
        ]
        chart = charts.line_chart(
            series, title="Saturation", x_label="interviews in date order", y_label="codes"
        )
        sections["saturation"] = (result, saturation_table(result), chart)
    numeric = data.get("numeric")
    if wanted("events") and numeric:
        result = shown("events", analytics.events_vs_people(scope, attribute=numeric))
        chart = charts.bar_chart(
            [{"label": f"{d['value']:g}", "value": d["participants"]} for d in result["distribution"]],
            title="Distribution",
        )
        sections["events"] = (result, events_table(result), chart)
    return sections


def _form(request, project):
    book = analytics.Codebook(project)
    form = DashboardForm(request.GET, project=project, book=book)
    if form.is_valid():
        data = form.cleaned_data
        if not data.get("numeric") and form.fields["numeric"].choices:
            data["numeric"] = form.fields["numeric"].choices[0][0]
        if not request.GET.get("attribute"):
            data["attribute"] = form.fields["attribute"].choices[0][0]
    return form, book


@login_required
@require_safe
def dashboard(request, project_pk):
    membership = get_membership(user=request.user, project_id=project_pk)
    project = membership.project
    form, book = _form(request, project)
    context = {"project": project, "membership": membership, "form": form, "sections": {}}
    status = 200
    if form.is_valid():
        try:
            context["sections"] = compute(
                project, form.cleaned_data, book, k=threshold(membership), membership=membership
            )
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                form.add_error(field if field in form.fields else None, messages)
            status = 400
    else:
        status = 400
    context["query_string"] = request.GET.urlencode()
    return render(request, "coding/dashboard.html", context, status=status)


TABLES = (
    "frequencies",
    "heterogeneity",
    "crosstab",
    "query",
    "cooccurrence",
    "matrix",
    "profiles",
    "saturation",
    "events",
)


@login_required
@require_safe
def download(request, project_pk, table, fmt):
    membership = get_membership(user=request.user, project_id=project_pk)
    project = membership.project
    if table not in TABLES or fmt not in ("csv", "xlsx"):
        raise Http404("No such table.")
    form, book = _form(request, project)
    if not form.is_valid():
        problems = "; ".join(f"{field}: {' '.join(errors)}" for field, errors in form.errors.items())
        return HttpResponse(f"Check the filters: {problems}", status=400, content_type="text/plain")
    try:
        sections = compute(
            project, form.cleaned_data, book, only=table, k=threshold(membership), membership=membership
        )
    except ValidationError as error:
        return HttpResponse("; ".join(error.messages), status=400, content_type="text/plain")
    if table not in sections:
        raise Http404("Nothing to download for these filters.")
    _, data, _ = sections[table]
    rows = [[safe_cell(h) for h in data.headers]] + [[safe_cell(c.value) for c in row] for row in data.rows]
    filename = f"{table}-project-{project.pk}.{fmt}"
    audit.record_read(
        project=project,
        action="analytics.downloaded",
        target_type="project",
        target_id=project.pk,
        detail={"kind": f"{table}.{fmt}", "role": membership.role},
    )
    if fmt == "csv":
        buffer = io.StringIO()
        buffer.write("\ufeff")
        csv.writer(buffer).writerows(rows)
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        from openpyxl import Workbook

        book_ = Workbook()
        sheet = book_.active
        sheet.title = table[:31]
        for row in rows:
            sheet.append(row)
        # openpyxl would store a text starting with "=" as a formula; safe_cell prefixed every
        # such text with "'", and we also mark every text cell explicitly as a string.
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
        out = io.BytesIO()
        book_.save(out)
        response = HttpResponse(
            out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
