"""Residents pages: thin views over scoped selectors and services. Out of scope is 404;
departments see nothing (403 with a reason)."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from reports.workflow import WorkflowError
from residents import registers, selectors, services
from residents.errors import ResidentError
from residents.forms import (
    CaseForm,
    EraseForm,
    ExportForm,
    MemberForm,
    OverrideForm,
    PurposeForm,
    SearchForm,
    TagsForm,
    UploadForm,
    VisitForm,
    WishClaimForm,
)
from residents.history import change_text
from residents.models import CareLevel, Change, Household, ImportStatus, RegisterImport, Tag

_HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def residents_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed in, and a role that sees residents (handlers and outsiders do not)."""

    @wraps(view)
    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.sees_residents(request.user):
            raise PermissionDenied(_("您的岗位不能查看居民信息"))
        return view(request, *args, **kwargs)

    return wrapped


def _ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR") or None


def _form_error(form: Any, e: ResidentError) -> None:
    form.add_error(e.field if e.field in form.fields else None, e.message)


@require_GET
def levels_css(request: HttpRequest) -> HttpResponse:
    """The colours of the care levels as classes (admin-editable, so not in a static file;
    classes rather than style attributes keep a strict Content-Security-Policy possible)."""
    lines = []
    for lv in selectors.care_levels():
        color = lv.color if _HEX.match(lv.color) else "#9e9e9e"
        r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
        text = "#000" if 0.299 * r + 0.587 * g + 0.114 * b > 150 else "#fff"
        lines.append(f".lv-{lv.rank}{{background:{color};color:{text};border-color:{color}}}")
    return HttpResponse("\n".join(lines) + "\n", content_type="text/css; charset=utf-8")


@residents_page
def index(request: HttpRequest) -> HttpResponse:
    communities = list(selectors.communities_visible_to(request.user)[:200])
    search = SearchForm(request.POST or None)
    if request.method == "POST" and search.is_valid():
        person = services.find_by_id_number(
            selectors.people_visible_to(request.user), search.cleaned_data["id_number"]
        )
        if person is not None:
            return redirect("residents:person", pk=person.pk)
        search.add_error("id_number", _("您的网格内没有这个身份证号"))
    return render(request, "residents/index.html", {
        "communities": communities, "search": search,
        "may_export": selectors.may_export(request.user),
    })


@require_GET
@residents_page
def situation_map(request: HttpRequest, pk: int) -> HttpResponse:
    community = selectors.get_community_for_user(request.user, pk)
    blocks = selectors.situation_map(request.user, community)
    levels = selectors.care_levels()
    colors = {lv.rank: lv.color for lv in levels}
    points = [
        {"id": b.id, "name": b.name, "lng": b.lng, "lat": b.lat, "households": b.households,
         "party": b.party, "color": colors.get(b.darkest or 0, "#9e9e9e"), "rank": b.darkest,
         # The hover text, in the reader's language (the script puts it in as text).
         "summary": _("%(name)s · %(n)s 户") % {"name": b.name, "n": b.households}
         + (_(" · 党员户 %(n)s") % {"n": b.party} if b.party else "")}
        for b in blocks
    ]
    return render(request, "residents/map.html", {
        "community": community, "blocks": blocks, "levels": levels, "colors": colors,
        "points": points, "total": sum(b.households for b in blocks),
        # One reverse() for the page rather than one per door (2,000 doors).
        "household_base": reverse("residents:household", args=[0])[:-2],
    })


def _changes(h: Household, levels: list[CareLevel]) -> list[tuple[Change, str]]:
    """The last changes, each with its sentence (2 queries: changes, tag names)."""
    names, tags = {lv.rank: lv.name for lv in levels}, selectors.tag_names()
    return [
        (c, change_text(c, levels=names, tags=tags)) for c in selectors.household_changes(h)
    ]


@residents_page
def household(request: HttpRequest, pk: int) -> HttpResponse:
    h = selectors.get_household_for_user(request.user, pk)
    form = OverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.household_override_care(actor=request.user, household=h,
                                             **form.cleaned_data)
            messages.success(request, _("关注等级已调整"))
            return redirect("residents:household", pk=h.pk)
        except ResidentError as e:
            _form_error(form, e)
    members = list(h.members.filter(erased_at__isnull=True).prefetch_related("tags__tag"))
    levels = selectors.care_levels()
    return render(request, "residents/household.html", {
        "h": h, "members": members, "form": form, "levels": levels,
        "visits": selectors.visits_of(h), "wishes": list(h.wishes.order_by("-created_at")),
        "changes": _changes(h, levels),
        "case_form": CaseForm(), "claim_form": WishClaimForm(), "member_form": MemberForm(),
    })


@residents_page
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    h = selectors.get_household_for_user(request.user, pk)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_add(actor=request.user, household=h, **form.cleaned_data)
            messages.success(request, _("成员已添加"))
            return redirect("residents:household", pk=h.pk)
        except ResidentError as e:
            _form_error(form, e)
    return render(request, "residents/member_form.html", {"h": h, "form": form},
                  status=400 if form.errors else 200)


@require_POST
@residents_page
def person_erase(request: HttpRequest, pk: int) -> HttpResponse:
    p = selectors.get_person_for_user(request.user, pk)
    household_id = p.household_id
    if not EraseForm(request.POST).is_valid():
        messages.error(request, _("请勾选确认后再删除"))
        return redirect("residents:person", pk=p.pk)
    services.person_erase(actor=request.user, person=p)
    messages.success(request, _("已删除此人的个人信息，仅保留匿名统计"))
    return redirect("residents:household", pk=household_id)


@residents_page
def person(request: HttpRequest, pk: int) -> HttpResponse:
    p = selectors.get_person_for_user(request.user, pk)
    tags = list(Tag.objects.filter(derived=False))
    current = {t.tag_id: t.grade for t in p.tags.all()}
    form = TagsForm(request.POST or None, tags=tags, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            services.person_set_tags(actor=request.user, person=p, tags=form.chosen())
            messages.success(request, _("标签已保存"))
            return redirect("residents:person", pk=p.pk)
        except ResidentError as e:
            _form_error(form, e)
    return render(request, "residents/person.html", {
        "p": p, "form": form, "purpose_form": PurposeForm(), "full": None,
        "erase_form": EraseForm(),
        "tags": p.tags.select_related("tag", "tagged_by"),
    })


@never_cache
@require_POST
@residents_page
def person_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """The full record, for a stated purpose, logged; rendered in the POST's response so
    that reloading or sharing a URL never shows it again without a new log row."""
    p = selectors.get_person_for_user(request.user, pk)
    purpose_form = PurposeForm(request.POST)
    full = None
    if purpose_form.is_valid():
        try:
            full = services.person_reveal(actor=request.user, person=p, ip=_ip(request),
                                          purpose=purpose_form.cleaned_data["purpose"])
        except ResidentError as e:
            _form_error(purpose_form, e)
    tags = list(Tag.objects.filter(derived=False))
    return render(request, "residents/person.html", {
        "p": p, "full": full, "purpose_form": purpose_form, "erase_form": EraseForm(),
        "form": TagsForm(tags=tags, current={t.tag_id: t.grade for t in p.tags.all()}),
        "tags": p.tags.select_related("tag", "tagged_by"),
    }, status=200 if full else 400)


@residents_page
def visit_new(request: HttpRequest, pk: int) -> HttpResponse:
    h = selectors.get_household_for_user(request.user, pk)
    form = VisitForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        wish = data.pop("wish")
        try:
            visit = services.visit_record(actor=request.user, household=h, **data)
            if wish:
                services.wish_create(actor=request.user, household=h, title=wish, visit=visit)
            messages.success(request, _("走访已记录"))
            return redirect("residents:household", pk=h.pk)
        except ResidentError as e:
            _form_error(form, e)
    return render(request, "residents/visit_form.html", {"h": h, "form": form})


@require_POST
@residents_page
def visit_case(request: HttpRequest, pk: int) -> HttpResponse:
    visit = selectors.get_visit_for_user(request.user, pk)
    form = CaseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择案件类别"))
    else:
        try:
            services.visit_file_case(actor=request.user, visit=visit,
                                     category=form.cleaned_data["category"])
            messages.success(request, _("已转为案件 %(n)s") % {"n": visit.report.number})
        except (ResidentError, WorkflowError, PermissionDenied) as e:
            messages.error(request, str(getattr(e, "message", e)))
    return redirect("residents:household", pk=visit.household_id)


@require_POST
@residents_page
def wish_claim(request: HttpRequest, pk: int) -> HttpResponse:
    wish = selectors.get_wish_for_user(request.user, pk)
    form = WishClaimForm(request.POST)
    try:
        if not form.is_valid():
            raise ResidentError(_("请填写认领人"))
        services.wish_claim(actor=request.user, wish=wish, **form.cleaned_data)
        messages.success(request, _("心愿已认领"))
    except ResidentError as e:
        messages.error(request, e.message)
    return redirect("residents:household", pk=wish.household_id)


@require_POST
@residents_page
def wish_fulfil(request: HttpRequest, pk: int) -> HttpResponse:
    wish = selectors.get_wish_for_user(request.user, pk)
    try:
        services.wish_fulfil(actor=request.user, wish=wish)
        messages.success(request, _("心愿已实现"))
    except ResidentError as e:
        messages.error(request, e.message)
    return redirect("residents:household", pk=wish.household_id)


@require_GET
@residents_page
def due(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    rows = [(h, (today - h.next_visit_due).days) for h in selectors.due_visits(request.user, today)]
    return render(request, "residents/due.html", {
        "rows": rows, "today": today, "week_end": selectors.week_end(today),
    })


# -- registers -----------------------------------------------------------------------------


@residents_page
def registers_page(request: HttpRequest) -> HttpResponse:
    communities = selectors.communities_visible_to(request.user)
    form = UploadForm(request.POST or None, request.FILES or None, communities=communities)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job, _checked = registers.import_preview(
                user=request.user, community=form.cleaned_data["community"],
                filename=upload.name, data=upload.read(),
            )
            return redirect("residents:import", pk=job.pk)
        except ResidentError as e:
            form.add_error("file", e.message)
    return render(request, "residents/registers.html", {
        "form": form,
        "export_form": ExportForm(communities=selectors.communities_exportable_by(request.user)),
        "may_export": selectors.may_export(request.user),
    })


def _job_for_user(request: HttpRequest, pk: int) -> RegisterImport:
    job = RegisterImport.objects.filter(pk=pk, user=request.user).select_related(
        "community").first()
    if job is None:
        raise Http404
    return job


@residents_page
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for_user(request, pk)
    if request.method == "POST":
        try:
            job = registers.import_start(user=request.user, job=job)
        except ResidentError as e:
            messages.error(request, e.message)
        return redirect("residents:import", pk=job.pk)
    return render(request, "residents/import.html", {
        "job": job, "errors": job.errors[:500], "more": max(0, len(job.errors) - 500),
    })


@require_GET
@residents_page
def import_progress(request: HttpRequest, pk: int) -> JsonResponse:
    job = _job_for_user(request, pk)
    done = job.total if job.status == ImportStatus.DONE else cache.get(
        registers.progress_key(job.pk), 0)
    return JsonResponse({"status": job.status, "done": done, "total": job.total,
                         "label": job.get_status_display()})


@require_GET
@residents_page
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    job = _job_for_user(request, pk)
    response = HttpResponse(registers.errors_workbook(job.errors), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="errors.xlsx"'
    return response


@require_GET
@residents_page
def template_download(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(registers.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="register-template.xlsx"'
    return response


@require_POST
@residents_page
def export(request: HttpRequest) -> HttpResponse:
    if not selectors.may_export(request.user):
        raise PermissionDenied(_("您的岗位不能导出居民个人信息"))
    form = ExportForm(request.POST,
                      communities=selectors.communities_exportable_by(request.user))
    if not form.is_valid():
        messages.error(request, _("请选择社区并填写导出目的"))
        return redirect("residents:registers")
    community = form.cleaned_data["community"]
    people = (
        selectors.people_exportable_by(request.user)
        .filter(household__grid__parent=community)
        .select_related("household__entrance__building")
        .prefetch_related("tags__tag")
        .order_by("household__entrance__building__number", "household__entrance__number",
                  "household__door", "pk")
    )
    rows = list(people)
    services.export_log(actor=request.user, region_id=community.pk, rows=len(rows),
                        purpose=form.cleaned_data["purpose"], ip=_ip(request))
    response = HttpResponse(registers.export_workbook(rows), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="register.xlsx"'
    return response


