from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.text import slugify

from accounts.images import COVER_MAX_SIDE, UploadedImageField
from blog.models import Post, SlugRedirect, Subscriber
from blog.publishing import check_publication_time

ACTIONS = {"save", "preview", "schedule", "publish", "unpublish"}


class PostForm(forms.ModelForm):
    slug = forms.SlugField(
        max_length=200,
        required=False,
        help_text="The permalink. Leave empty to make one from the title; old links keep working.",
    )
    cover = UploadedImageField(required=False, max_side=COVER_MAX_SIDE, noun="cover image")
    publish_at = forms.DateTimeField(
        required=False,
        label="Schedule for",
        help_text="Your local time zone is UTC unless set.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    class Meta:
        model = Post
        # slug is set through Post.set_slug, which keeps the old one as a redirect.
        fields = ["title", "subtitle", "body", "excerpt", "cover", "cover_alt", "tags", "comments_open"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 24, "class": "markdown"}),
            "excerpt": forms.Textarea(attrs={"rows": 3}),
        }

    field_order = ["title", "subtitle", "slug", "body"]

    def __init__(self, *args: Any, action: str = "save", **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.action = action
        self.initial.setdefault("slug", self.instance.slug)
        if self.instance.status == Post.Status.SCHEDULED:
            self.initial.setdefault("publish_at", self.instance.published_at)

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("A post needs a title.")
        return title

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"] or self.instance.slug
        if not slug:
            return ""
        slug = slugify(slug)
        others = Post.objects.exclude(pk=self.instance.pk)
        old_slugs = SlugRedirect.objects.exclude(post_id=self.instance.pk)
        if others.filter(slug=slug).exists() or old_slugs.filter(old_slug=slug).exists():
            raise forms.ValidationError("Another post already uses this permalink.")
        return slug

    def clean_publish_at(self) -> datetime | None:
        when = self.cleaned_data.get("publish_at")
        if self.action == "schedule":
            check_publication_time(when)
        return when

    def save(self, commit: bool = True) -> Post:
        post = super().save(commit=False)
        slug = self.cleaned_data["slug"]
        if slug:
            post.set_slug(slug)
        if commit:
            post.save()
            self.save_m2m()
        return post


class BanForm(forms.Form):
    reason = forms.CharField(
        max_length=300,
        help_text="Shown to the banned reader, and kept in the log.",
        error_messages={"required": "A ban needs a reason."},
    )
    until = forms.DateTimeField(
        required=False,
        label="Ends",
        help_text="Empty for a permanent ban.",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A ban needs a reason.")
        return reason


class SubscribeForm(forms.Form):
    email = forms.EmailField(max_length=254, error_messages={"required": "Enter your e-mail address."})
    website = forms.CharField(required=False)  # honeypot, hidden from people
    source = forms.CharField(required=False, max_length=120)


class PreferencesForm(forms.ModelForm):
    digest_hour = forms.TypedChoiceField(
        choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int, label="Digest time"
    )

    class Meta:
        model = Subscriber
        fields = ["frequency", "digest_hour", "digest_weekday", "timezone"]
        labels = {"frequency": "Send me", "digest_weekday": "Weekly digest on", "timezone": "Time zone"}
        widgets = {"frequency": forms.RadioSelect}


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file", help_text="One address a row: email[,frequency]. A header row is fine.")
    dry_run = forms.BooleanField(required=False, initial=True, label="Dry run: check the file, import nothing")

    def clean(self) -> dict:
        data = super().clean() or {}
        upload = data.get("file")
        if upload:
            if upload.size > 20 * 1024 * 1024:
                raise forms.ValidationError("The file is larger than 20 MB; split it.")
            try:
                data["text"] = upload.read().decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    "The file is not UTF-8 text. Save it as CSV (UTF-8) and try again."
                ) from None
        return data


class PublicationImportForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text="Substack's export ZIP, Ghost's JSON export, WordPress's WXR (XML) file, or a Dispatch export ZIP.",
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024**2:.0f} MB; the largest import is "
                f"{settings.IMPORT_MAX_BYTES / 1024**2:.0f} MB."
            )
        return upload
