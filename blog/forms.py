from datetime import datetime
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.text import slugify

from accounts import timezones
from accounts.images import COVER_MAX_SIDE, UploadedImageField
from blog.models import ApiKey, NewsletterSettings, Post, PostImage, SiteSettings, SlugRedirect, Subscriber, Webhook
from blog.posts.publishing import check_publication_time
from blog.shared import sitesettings


def version_of(post: Post) -> str:
    """What the editor was opened on: a save from an older version is a conflict."""
    return post.updated_at.isoformat() if post.pk and post.updated_at else ""


class ConflictError(Exception):
    """The post changed since the editor loaded it; the message says when."""


def check_version(post: Post, submitted: str) -> None:
    if post.pk and submitted and submitted != version_of(post):
        changed = timezone.localtime(post.updated_at).strftime("%H:%M:%S %Z")
        raise ConflictError(
            f"This post was changed elsewhere (at {changed}) after you opened it, so your text was not saved. "
            "Copy what you wrote, reload the page, and put your changes back."
        )


ACTIONS = {"save", "preview", "schedule", "publish"}


class PostForm(forms.ModelForm[Post]):
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
        zone = timezone.get_current_timezone_name()
        self.fields[
            "publish_at"
        ].help_text = f"In your time zone, {zone} ({timezones.abbreviation(zone)}); change it in your settings."

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"].strip()
        if not title:
            raise forms.ValidationError("A post needs a title.")
        return title

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"] or self.instance.slug
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


class ImageUploadForm(forms.ModelForm[PostImage]):
    """An image dropped on the editor (JavaScript), stored before the post is saved."""

    class Meta:
        model = PostImage
        fields = ["image", "alt"]
        labels = {"alt": "Image description"}
        error_messages = {"alt": {"required": "Describe the image for readers who cannot see it."}}

    image = UploadedImageField(max_side=COVER_MAX_SIDE)


class DraftForm(forms.ModelForm[Post]):
    """What autosave keeps of a draft while the author types."""

    class Meta:
        model = Post
        fields = ["title", "subtitle", "body", "excerpt"]
        error_messages = {"title": {"required": "Give the post a title; then it saves by itself."}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["body"].required = False  # a title alone is worth keeping: it saves from the first keystroke

    def clean_title(self) -> str:
        title: str = self.cleaned_data["title"].strip()
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zone = timezone.get_current_timezone_name()
        self.fields[
            "until"
        ].help_text = f"In your time zone, {zone} ({timezones.abbreviation(zone)}). Empty for a permanent ban."

    def clean_reason(self) -> str:
        reason: str = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A ban needs a reason.")
        return reason


class SubscribeForm(forms.Form):
    email = forms.EmailField(max_length=254, error_messages={"required": "Enter your e-mail address."})
    website = forms.CharField(required=False)  # honeypot, hidden from people
    source = forms.CharField(required=False, max_length=120)


class PreferencesForm(forms.ModelForm[Subscriber]):
    timezone = forms.ChoiceField(choices=timezones.choices, label="Time zone")
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

    def clean(self) -> dict[str, Any]:
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


class WelcomeForm(forms.ModelForm[NewsletterSettings]):
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

    def clean_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["file"]
        size = upload.size or 0  # an upload always has one; the type allows a file without
        if size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"The file is {size / 1024**2:.0f} MB; the largest import is "
                f"{settings.IMPORT_MAX_BYTES / 1024**2:.0f} MB."
            )
        return upload


# --- Integrations (API keys and webhooks, blog/views/integrations.py) ------------


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Which tool uses it, e.g. “Zapier” or “mobile app”.")
    scopes = forms.MultipleChoiceField(
        choices=ApiKey.Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one scope."},
    )
    trusted_import = forms.BooleanField(
        required=False,
        label="Trusted to import",
        help_text="Subscribers it adds skip the confirmation e-mail. Only for tools that collected consent.",
    )


class WebhookForm(forms.Form):
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(event.value, event.label) for event in Webhook.Event if event != Webhook.Event.TEST],
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )


LOGO_MAX_BYTES = 1024 * 1024
FAVICON_MAX_BYTES = 256 * 1024


class SiteSettingsForm(forms.ModelForm[SiteSettings]):
    """The publication's settings (blog/shared/sitesettings.py); blank keeps the environment's value."""

    logo = UploadedImageField(
        required=False, max_side=800, max_bytes=LOGO_MAX_BYTES, noun="logo",
        help_text="JPEG, PNG, WebP or GIF, up to 1 MB; shown at most 40 pixels high in the header.",
    )  # fmt: skip
    favicon = UploadedImageField(
        required=False, max_side=256, max_bytes=FAVICON_MAX_BYTES, noun="favicon",
        help_text="A square picture, up to 256 KB; the browser tab's icon.",
    )  # fmt: skip
    accent_color = forms.CharField(
        label="Accent colour", required=False, max_length=7,
        widget=forms.TextInput(attrs={"placeholder": "#b3261e", "size": 8}),
        help_text="# and six hexadecimal digits, for links, buttons and highlights. It must be dark enough to "
        "read on the page (WCAG AA). Blank: the default red.",
    )  # fmt: skip
    nav_text = forms.CharField(
        label="Navigation links", required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="One a line, a label and an address: “About | /about/” or “Shop | https://shop.example.com/”.",
    )  # fmt: skip
    time_zone = forms.ChoiceField(label="Default time zone", required=False)

    class Meta:
        model = SiteSettings
        fields = [
            "name", "description", "logo", "favicon", "accent_color", "sender_name", "reply_to",
            "about", "footer_text", "time_zone",
        ]  # fmt: skip
        widgets = {"about": forms.Textarea(attrs={"rows": 8, "class": "markdown"})}
        help_texts = {
            "name": "Blank: the SITE_NAME setting.",
            "sender_name": "The name e-mails come from. Blank: the publication name.",
            "reply_to": "Where replies to newsletters go. Blank: the EMAIL_REPLY_TO setting.",
            "about": "Markdown, shown at /about/. Blank: no About page.",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        zones = sitesettings.time_zone_names()
        time_zone = self.fields["time_zone"]
        assert isinstance(time_zone, forms.ChoiceField)
        time_zone.choices = [("", f"As the TIME_ZONE setting ({settings.TIME_ZONE})")] + [
            (zone, zone) for zone in zones
        ]
        defaults = sitesettings.resolve(None)  # what a blank field means, shown in it
        placeholders = {"name": defaults.name, "description": defaults.description,
                        "sender_name": defaults.sender_name, "reply_to": ", ".join(defaults.reply_to)}  # fmt: skip
        for name, placeholder in placeholders.items():
            if placeholder:
                self.fields[name].widget.attrs["placeholder"] = placeholder
        self.fields["nav_text"].initial = "\n".join(
            f"{link['label']} | {link['url']}" for link in self.instance.nav_links or []
        )

    def clean_accent_color(self) -> str:
        colour: str = self.cleaned_data["accent_color"].strip().lower()
        if colour and (problem := sitesettings.contrast_problem(colour)):
            raise forms.ValidationError(problem)
        return colour

    def clean_nav_text(self) -> str:
        try:
            self.instance.nav_links = [
                {"label": link.label, "url": link.url}
                for link in sitesettings.parse_nav_links(self.cleaned_data["nav_text"])
            ]
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        text: str = self.cleaned_data["nav_text"]
        return text


class MemberFilterForm(forms.Form):
    """The members page's search and filters (blog/newsletter/members.py); GET, so a filtered list has an address."""

    q = forms.CharField(label="Address", required=False, max_length=254)
    status = forms.ChoiceField(label="Status", required=False, choices=[("", "Any"), *Subscriber.Status.choices])
    cadence = forms.ChoiceField(label="Cadence", required=False, choices=[("", "Any"), *Subscriber.Frequency.choices])
    source = forms.CharField(
        label="Source", required=False, max_length=120, help_text="Where they subscribed, e.g. post-top or import."
    )
    label = forms.CharField(label="Label", required=False, max_length=40)
    joined_from = forms.DateField(label="Joined from", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    joined_to = forms.DateField(label="Joined until", required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("joined_from") and data.get("joined_to") and data["joined_from"] > data["joined_to"]:
            raise forms.ValidationError("“Joined from” must be on or before “Joined until”.")
        return data


class MemberNoteForm(forms.ModelForm[Subscriber]):
    class Meta:
        model = Subscriber
        fields = ["label", "note"]
        widgets = {"note": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"label": "One word or two to filter by, e.g. “press” or “founding”."}
