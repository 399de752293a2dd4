from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.text import slugify

from accounts.images import COVER_MAX_SIDE, UploadedImageField
from blog.models import NewsletterSettings, Post, PostImage, SlugRedirect, Subscriber
from blog.publishing import check_publication_time


def version_of(post: Post) -> str:
    """What the editor was opened on: a save from an older version is a conflict."""
    return post.updated_at.isoformat() if post.pk and post.updated_at else ""


class ConflictError(Exception):
    """The post changed since the editor loaded it; the message says when."""


def check_version(post: Post, submitted: str) -> None:
    if post.pk and submitted and submitted != version_of(post):
        changed = timezone.localtime(post.updated_at).strftime("%H:%M:%S")
        raise ConflictError(
            f"This post was changed elsewhere (at {changed}) after you opened it, so your text was not saved. "
            "Copy what you wrote, reload the page, and put your changes back."
        )


ACTIONS = {"save", "preview", "schedule", "publish", "unpublish"}


class PostForm(forms.ModelForm):
    slug = forms.SlugField(
        max_length=200,
        required=False,
        help_text="The permalink. Leave empty to make one from the title; old links keep working.",
    )
    cover = UploadedImageField(required=False, max_side=COVER_MAX_SIDE, noun="cover image")
    version = forms.CharField(required=False, widget=forms.HiddenInput)
    body_image = UploadedImageField(
        required=False,
        max_side=COVER_MAX_SIDE,
        label="Add an image to the body",
        help_text="JPEG, PNG, WebP or GIF. It is added at the end of the body as Markdown; move it where you like.",
    )
    body_image_alt = forms.CharField(
        required=False,
        max_length=300,
        label="Image description",
        help_text="What the image shows, for readers who cannot see it.",
    )
    email_subscribers = forms.BooleanField(required=False, label="E-mail it to subscribers when it goes out")
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
        self.initial.setdefault("version", version_of(self.instance))
        self.initial.setdefault("email_subscribers", self.instance.email_subscribers)

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

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("body_image") and not data.get("body_image_alt", "").strip():
            self.add_error("body_image_alt", "Describe the image for readers who cannot see it.")
        try:
            check_version(self.instance, data.get("version", ""))
        except ConflictError as conflict:
            raise forms.ValidationError(str(conflict)) from None
        return data

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
            if self.cleaned_data.get("body_image"):
                image = PostImage.objects.create(
                    image=self.cleaned_data["body_image"], alt=self.cleaned_data["body_image_alt"],
                    post=post, uploaded_by=post.author,
                )  # fmt: skip
                post.body = f"{post.body.rstrip()}\n\n{image.markdown}\n"
                post.save(update_fields=["body"])
        return post


class ImageUploadForm(forms.ModelForm):
    """An image dropped on the editor (JavaScript), stored before the post is saved."""

    class Meta:
        model = PostImage
        fields = ["image", "alt"]
        labels = {"alt": "Image description"}
        error_messages = {"alt": {"required": "Describe the image for readers who cannot see it."}}

    image = UploadedImageField(max_side=COVER_MAX_SIDE)


class DraftForm(forms.ModelForm):
    """What autosave keeps of a draft while the author types."""

    class Meta:
        model = Post
        fields = ["title", "subtitle", "body", "excerpt"]
        error_messages = {"title": {"required": "Give the post a title; then it saves by itself."}}

    def clean_title(self) -> str:
        title = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("Give the post a title; then it saves by itself.")
        return title


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


class PublishForm(forms.Form):
    """The last step before a post goes live: e-mail it too, or the web only."""

    EMAIL, WEB = "email", "web"
    delivery = forms.ChoiceField(
        choices=[(EMAIL, "Publish and e-mail it to subscribers"), (WEB, "Publish on the web only")],
        widget=forms.RadioSelect,
        label="How should it go out?",
        error_messages={"required": "Choose whether to e-mail it or to publish it on the web only."},
    )


class WelcomeForm(forms.ModelForm):
    class Meta:
        model = NewsletterSettings
        fields = ["welcome_enabled", "welcome_subject", "welcome_body"]
        widgets = {"welcome_body": forms.Textarea(attrs={"rows": 8, "class": "markdown"})}


class PublicationImportForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text=(
            "Substack's export ZIP, Ghost's JSON export or members CSV, WordPress's WXR (XML) file, "
            "or a Dispatch export ZIP."
        ),
    )
    old_site = forms.URLField(
        label="Old site address (Ghost)",
        required=False,
        assume_scheme="https",
        help_text="Ghost writes its own address as __GHOST_URL__ in links and images; give it to keep them working.",
    )
    unsubscribe_missing = forms.BooleanField(
        label="Unsubscribe those missing from this list",
        required=False,
        help_text="People an earlier import from the same platform brought who are not in this newer list.",
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024**2:.0f} MB; the largest import is "
                f"{settings.IMPORT_MAX_BYTES / 1024**2:.0f} MB."
            )
        return upload
