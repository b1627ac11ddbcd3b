"""The grid worker's phone pages: file a report, self-handled, my reports, the verify queue,
and the small JSON endpoints the filing page's script uses.

Every form works as a plain POST and re-renders with Chinese messages; the script posts the
same fields with ``Accept: application/json`` and gets JSON back instead of a redirect.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.throttling import client_ip
from reports import selectors, services, workflow
from reports.calendar import get_calendar
from reports.forms.desk import MineFilter
from reports.forms.phone import (
    FilingForm,
    NearbyQuery,
    SelfHandledForm,
    SightingForm,
    VerifyForm,
)
from reports.models import OPEN_STATES, PhotoKind, Report, State
from reports.views.desk import page_of

# The assets the service worker keeps so the filing page opens with no signal.
OFFLINE_ASSETS = (
    "css/base.css",
    "css/phone.css",
    "js/queue.js",
    "js/region-layer.js",
    "js/file.js",
    "vendor/browser-image-compression-2.0.2/browser-image-compression.js",
    "vendor/leaflet-1.9.4/leaflet.css",
    "vendor/leaflet-1.9.4/leaflet.js",
)


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _detail_url(report: Report) -> str | None:
    """The case page (DESK's ``reports:detail``), or None while it does not exist."""
    try:
        return reverse("reports:detail", args=[report.pk])
    except NoReverseMatch:
        return None


def _worker(request: HttpRequest) -> User:
    """The phone pages are the grid worker's and grid head's; anyone else is refused."""
    user = request.user
    assert isinstance(user, User)
    if not selectors.filing_grids(user).exists():
        raise PermissionDenied(_("只有网格员和网格长可以使用此页面"))
    return user


def _form_errors(form: Any) -> dict[str, list[str]]:
    return {field: [str(m) for m in msgs] for field, msgs in form.errors.items()}


def _refused(request: HttpRequest, form: Any, template: str, ctx: dict[str, Any]) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"errors": _form_errors(form)}, status=400)
    return render(request, template, {**ctx, "form": form}, status=400)


def _filed(request: HttpRequest, report: Report) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"number": report.number, "id": report.pk}, status=201)
    messages.success(request, _("已上报，案件编号 %(number)s") % {"number": report.number})
    return redirect("reports:mine")


def _filing_page(
    request: HttpRequest,
    form_class: type[FilingForm] | type[SelfHandledForm],
    template: str,
    file_it: Callable[[Any, dict[str, Any]], Report],
) -> HttpResponse:
    """GET a fresh form (its idempotency key made with the draft); POST files through the
    service, or re-renders with the Chinese reason and nothing saved."""
    user = _worker(request)
    grids = selectors.filing_grids(user)
    ctx = {"categories": selectors.categories_for_filing(), "grid_map": selectors.filing_map(grids)}
    if request.method != "POST":
        form = form_class(grids=grids, initial={"idempotency_key": uuid.uuid4().hex})
        return render(request, template, {**ctx, "form": form})
    form = form_class(request.POST, request.FILES, grids=grids)
    refusal = _throttle(request, user)
    if refusal:
        if _wants_json(request):
            return JsonResponse({"errors": {"__all__": [refusal]}}, status=429)
        form.is_valid()  # field errors shown too; no photo is decoded here
        form.add_error(None, refusal)
        return render(request, template, {**ctx, "form": form}, status=429)
    if form.is_valid():
        try:
            return _filed(request, file_it(user, form.cleaned_data))
        except (workflow.WorkflowError, PermissionDenied) as e:
            form.add_error(None, str(e))
    return _refused(request, form, template, ctx)


def _throttle(request: HttpRequest, user: User) -> str:
    """The Chinese reason when this filing passes the per-user or per-address rate."""
    return services.filing_throttle(
        reporter=user, address=client_ip(request),
        idempotency_key=request.POST.get("idempotency_key", ""),
    )


def _place(d: dict[str, Any]) -> dict[str, Any]:
    return {k: d[k] for k in ("grid", "lng", "lat", "building", "entrance", "address")}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def file(request: HttpRequest) -> HttpResponse:
    """上报问题: photos, place, category, standard, urgency, description."""
    return _filing_page(
        request,
        FilingForm,
        "reports/phone/file.html",
        lambda user, d: services.report_file(
            reporter=user,
            category=d["category"],
            standard=d["standard"],
            urgency=d["urgency"],
            description=d["description"],
            idempotency_key=d["idempotency_key"],
            photos=d["photos"],
            **_place(d),
        ),
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def self_handled(request: HttpRequest) -> HttpResponse:
    """自处: fixed on the spot, filed closed with before and after photos."""
    return _filing_page(
        request,
        SelfHandledForm,
        "reports/phone/self_handled.html",
        lambda user, d: services.report_file_self_handled(
            reporter=user,
            category=d["category"],
            description=d["description"],
            idempotency_key=d["idempotency_key"],
            before_photos=d["before_photos"],
            after_photos=d["after_photos"],
            **_place(d),
        ),
    )


def _holder(r: Report) -> str:
    """Who has (or had) the case, for 我的上报: its department once dispatched; the worker
    for a self-handled case (filed closed — never "not dispatched"); the center while it
    waits for one; nothing for a case that ended without a department (its state says
    how: 不予立案, 已合并)."""
    if r.department_id is not None:
        return r.department.name  # type: ignore[union-attr]
    if r.self_handled:
        return _("现场自行处置")
    if r.state == State.TRANSFERRED:
        return _("区网格中心派遣中")
    if r.state in OPEN_STATES:
        return _("未派遣")
    return ""


def _rows(reports: list[Report]) -> list[dict[str, Any]]:
    now, calendar, limits = timezone.now(), get_calendar(), selectors.stage_limits()
    return [
        {
            "report": r,
            "clock": selectors.report_clock(r, now=now, calendar=calendar, limits=limits),
            "url": _detail_url(r),
            "holder": _holder(r),
        }
        for r in reports
    ]


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """我的上报: my cases with state, department and time left; older ones by page, by state
    and by date (the worker's history)."""
    user = _worker(request)
    flt = MineFilter(request.GET, selectors.reports_filed_by(user))
    page = page_of(request, flt.qs if flt.is_valid() else flt.queryset.none())
    query = request.GET.copy()
    query.pop("page", None)
    filtered = any(request.GET.get(k) for k in ("state", "created_after", "created_before"))
    ctx = {"rows": _rows(page.rows), "page": page, "filter": flt, "query": query.urlencode(),
           "filtered": filtered}
    return render(request, "reports/phone/mine.html", ctx)


@login_required
@require_GET
def verify_queue(request: HttpRequest) -> HttpResponse:
    """待核查: handled cases in my grids waiting for my on-site check."""
    user = _worker(request)
    reports = list(selectors.reports_to_verify(user)[:50])
    return render(
        request, "reports/phone/verify_queue.html", {"rows": _rows(reports), "form": VerifyForm()}
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify_case(request: HttpRequest, pk: int) -> HttpResponse:
    """核查 one case: pass, or fail with a reason and a photo (返工)."""
    report = selectors.get_report_for_user(request.user, pk)
    form = VerifyForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            workflow.report_verify(
                report,
                actor=request.user,  # type: ignore[arg-type]
                passed=d["result"] == VerifyForm.PASS,
                note=d["note"],
                photos=d["photos"],
            )
            messages.success(request, _("已提交核查结果：%(n)s") % {"n": report.number})
            return redirect("reports:verify_queue")
        except workflow.WorkflowError as e:
            form.add_error(None, str(e))
    status = 400 if request.method == "POST" else 200
    # What the department reports as done, to compare with what the worker sees on site.
    result_photos = list(report.photos.filter(kind=PhotoKind.RESULT).order_by("pk"))
    ctx = {
        "report": report,
        "form": form,
        "url": _detail_url(report),
        "result_photos": result_photos,
    }
    return render(request, "reports/phone/verify_case.html", ctx, status=status)


@login_required
@require_GET
def categories_json(request: HttpRequest) -> JsonResponse:
    """The category picker's data, with pinyin keys (cached by the service worker)."""
    return JsonResponse({"categories": selectors.categories_for_filing()})


@login_required
@require_GET
def nearby(request: HttpRequest) -> JsonResponse:
    """附近已有相同问题: my visible open cases of the category near the point."""
    query = NearbyQuery(request.GET)
    if not query.is_valid():
        return JsonResponse({"error": _("请提供类别和有效的经纬度")}, status=400)
    d = query.cleaned_data
    now = timezone.now()
    hits = selectors.nearby_open_reports(
        request.user, category=d["category"], lng=d["lng"], lat=d["lat"]
    )
    out = []
    for h in hits:
        r = h.report
        photo = r.listed_photos[0] if r.listed_photos else None  # type: ignore[attr-defined]
        out.append(
            {
                "id": r.pk,
                "number": r.number,
                "description": r.description[:80],
                "state": r.get_state_display(),
                "distance_m": round(h.distance_m),
                "age": _("%(t)s前") % {"t": timesince(r.created_at, now, depth=1)},
                "photo": (
                    reverse("reports:photo", args=[r.pk, photo.pk]) + "?thumb=1" if photo else None
                ),
                "url": _detail_url(r),
                "sighting_url": reverse("reports:sighting", args=[r.pk]),
            }
        )
    return JsonResponse({"radius_m": d["category"].nearby_radius_m, "reports": out})


@login_required
@require_POST
def sighting(request: HttpRequest, pk: int) -> HttpResponse:
    """我也看到了: add my note and photos to an open case instead of filing a duplicate."""
    report = selectors.get_report_for_user(request.user, pk)
    form = SightingForm(request.POST, request.FILES)
    error = None
    refusal = _throttle(request, request.user)  # type: ignore[arg-type]
    if refusal:
        if _wants_json(request):
            return JsonResponse({"errors": {"__all__": [refusal]}}, status=429)
        messages.error(request, refusal)
        return redirect("reports:file")
    if form.is_valid():
        d = form.cleaned_data
        try:
            services.report_add_sighting(
                report,
                actor=request.user,  # type: ignore[arg-type]
                note=d["note"],
                photos=d["photos"],
                idempotency_key=d["idempotency_key"],
            )
        except (workflow.WorkflowError, PermissionDenied) as e:
            error = str(e)
    else:
        error = "；".join(m for msgs in _form_errors(form).values() for m in msgs)
    if error:
        if _wants_json(request):
            return JsonResponse({"errors": {"__all__": [error]}}, status=400)
        messages.error(request, error)
        return redirect("reports:file")
    if _wants_json(request):
        return JsonResponse({"number": report.number, "id": report.pk}, status=201)
    messages.success(request, _("已补充到案件 %(number)s") % {"number": report.number})
    return redirect("reports:mine")


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """/sw.js at the site root, so it may control /m/ pages; lists the assets to cache."""
    assets = [static(a) for a in OFFLINE_ASSETS]
    pages = [reverse("reports:file"), reverse("reports:categories_json")]
    ctx = {
        # Our own URLs as JSON, written into a JS file (autoescape off in the template).
        "assets_json": json.dumps(assets),
        "pages_json": json.dumps(pages),
        "version": hashlib.sha256("\n".join(assets).encode()).hexdigest()[:12],
    }
    response = render(request, "reports/phone/sw.js", ctx, content_type="text/javascript")
    response["Cache-Control"] = "no-cache"
    return response

