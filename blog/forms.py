from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import slugify

from blog.models import Post, SlugRedirect

ACTIONS = {"save", "preview", "schedule", "publish", "unpublish"}


class PostForm(forms.ModelForm):
    slug = forms.SlugField(
        max_length=200,
        required=False,
        help_text="The permalink. Leave empty to make one from the title; old links keep working.",
    )
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

    def __init__(self, *args, action: str = "save", **kwargs) -> None:
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

    def clean_cover(self):
        cover = self.cleaned_data.get("cover")
        if cover and getattr(cover, "size", 0) > settings.MAX_COVER_BYTES:
            limit = settings.MAX_COVER_BYTES // (1024 * 1024)
            raise forms.ValidationError(f"The cover image must be {limit} MB or smaller.")
        return cover

    def clean_publish_at(self):
        when = self.cleaned_data.get("publish_at")
        if self.action == "schedule":
            if not when:
                raise forms.ValidationError("Choose when to publish.")
            if when <= timezone.now():
                raise forms.ValidationError("Choose a publication time in the future.")
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
