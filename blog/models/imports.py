from django.conf import settings
from django.db import models

from blog.models.posts import Post


class SourceRecord(models.Model):
    """Which Dispatch row an item of an imported export became.

    Re-running an import finds its earlier rows here (nothing is created
    twice), and `digest` tells whether the export changed that item since.
    One source id may have a record per post: two authors importing the same
    id each get their own post (blog/transfers/imports/steps.py)."""

    source = models.CharField(max_length=20)  # substack, ghost, wordpress
    kind = models.CharField(max_length=20)  # post, comment, user
    source_id = models.CharField(max_length=200)
    # The exporting site (WordPress base_site_url, Ghost's url, the Substack publication): two
    # sites' ids repeat, so an id alone would update one site's posts with the other's.
    site = models.CharField(max_length=200, blank=True, default="")
    object_id = models.PositiveBigIntegerField()
    digest = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["source", "site", "kind", "source_id", "object_id"],
                name="one_record_per_site_source_id_and_object",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.kind} {self.source_id} -> {self.object_id}"


class LegacyPath(models.Model):
    """An address a post had on the platform it came from ("/2024/03/05/slug/",
    "/?p=12", "/slug/"); requests for it are redirected (301) to the post."""

    path = models.CharField(max_length=500, unique=True)
    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="legacy_paths")

    def __str__(self) -> str:
        return f"{self.path} -> {self.post.slug}"


class ImportJob(models.Model):
    """An export uploaded on the writing desk: checked by a dry run, then imported by a worker."""

    class Status(models.TextChoices):
        CHECKING = "checking", "Dry run under way"
        CHECKED = "checked", "Checked"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    path = models.CharField(max_length=500)  # a name in private storage (blog/shared/files.py), never public
    # run_import's choices made on the upload form: old_site, unsubscribe_missing.
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.CHECKING)
    dry_run_report = models.JSONField(default=dict)
    # Runs started (the check, then the import): a run whose worker died is
    # delivered again, and a job that stopped its worker twice fails (jobs.py).
    attempts = models.PositiveSmallIntegerField(default=0)
    report = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"import of {self.filename}"


class ExportJob(models.Model):
    """A staff export started on the desk and written by a worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        DONE = "done", "Ready"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=500, blank=True)  # a name in private storage
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"export {self.pk}"
