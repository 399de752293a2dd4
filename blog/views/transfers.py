"""The desk's way in and out: importing another platform's export, exporting everything.

Exporting everything hands over every post, account and subscriber's address:
it takes explicit permissions (EXPORT_PERMISSIONS), never the staff flag alone."""

from django.conf import settings
from django.contrib import messages
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.requests import SignedInRequest
from accounts.roles import permission_required
from blog.forms import PublicationImportForm
from blog.models import ExportJob, ImportJob
from blog.shared.ratelimits import allow, too_many_requests
from blog.tasks import check_import, export_publication, import_publication
from blog.transfers import exports
from blog.transfers.imports import jobs
from blog.transfers.imports.steps import Report
from blog.views.desk import author_required

EXPORT_PERMISSIONS = ("blog.change_any_post", "blog.manage_subscribers")


def _own_jobs(request: SignedInRequest) -> QuerySet[ImportJob]:
    jobs_ = ImportJob.objects.order_by("-created_at")
    return jobs_ if request.user.has_perm("blog.change_any_post") else jobs_.filter(user=request.user)


@author_required
def import_upload(request: SignedInRequest) -> HttpResponse:
    """Upload an export; its dry run's report comes back before anything is imported."""
    if request.method == "POST" and not allow(request, "import-upload", settings.IMPORT_UPLOAD_RATE):
        # Each upload may be IMPORT_MAX_BYTES on disk and a worker's time: a few an hour is plenty.
        return too_many_requests(request, "That is a lot of imports. Please wait an hour before the next upload.")
    form = PublicationImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        options = {name: form.cleaned_data[name] for name in ("old_site", "unsubscribe_missing")}
        job = jobs.save_upload(form.cleaned_data["file"], request.user, options)
        check_import.delay_on_commit(job.pk)
        return redirect("blog:import_job", pk=job.pk)
    context = {"form": form, "recent": _own_jobs(request)[:10]}
    return render(request, "blog/desk/import.html", context, status=400 if form.errors else 200)


@author_required
def import_job(request: SignedInRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(_own_jobs(request), pk=pk)
    progress = jobs.job_progress(job)
    if request.GET.get("format") == "json":
        return JsonResponse(progress)
    context = {
        "job": job,
        "progress": progress,
        "dry_run": Report.from_dict(job.dry_run_report) if job.dry_run_report else None,
        "report": Report.from_dict(job.report) if job.report else None,
    }
    return render(request, "blog/desk/import_job.html", context)


@author_required
@require_POST
def import_run(request: SignedInRequest, pk: int) -> HttpResponse:
    job = get_object_or_404(_own_jobs(request), pk=pk)
    if jobs.start_import(job):
        import_publication.delay_on_commit(job.pk)
        messages.success(request, "The import is queued; this page follows it.")
    return redirect("blog:import_job", pk=job.pk)


@permission_required(*EXPORT_PERMISSIONS)
def export_list(request: SignedInRequest) -> HttpResponse:
    context = {"exports": ExportJob.objects.select_related("user").order_by("-created_at")[:10]}
    return render(request, "blog/desk/export.html", context)


@permission_required(*EXPORT_PERMISSIONS)
@require_POST
def export_start(request: SignedInRequest) -> HttpResponse:
    job = ExportJob.objects.create(user=request.user)
    export_publication.delay_on_commit(job.pk)
    messages.success(request, "The export is being written; this page shows when it is ready.")
    return redirect("blog:export_list")


@permission_required(*EXPORT_PERMISSIONS)
def export_download(request: SignedInRequest, pk: int) -> FileResponse:
    job = get_object_or_404(ExportJob, pk=pk, status=ExportJob.Status.DONE)
    # Streamed from private storage through this view, which checked who asks; never a public URL.
    file = exports.job_file(job)
    if file is None:
        raise Http404("This export's file is gone.")
    response = FileResponse(file, as_attachment=True, filename=f"dispatch-export-{job.created_at:%Y%m%d-%H%M}.zip")
    response["Cache-Control"] = "private, no-store"
    return response
