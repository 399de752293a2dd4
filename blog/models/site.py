"""The publication's own settings, edited on the desk (one row).

A blank field means "as the environment says" (SITE_NAME, SITE_DESCRIPTION,
DEFAULT_FROM_EMAIL, EMAIL_REPLY_TO, TIME_ZONE), so a new install looks as
it did before anyone saved this form. Read it through blog.shared.sitesettings,
never directly: that is where the defaults are applied and the copy kept."""

from django.db import models


class SiteSettings(models.Model):
    name = models.CharField("publication name", max_length=100, blank=True)
    description = models.CharField("description", max_length=300, blank=True)
    logo = models.ImageField(upload_to="site/", blank=True)
    favicon = models.ImageField(upload_to="site/", blank=True)
    accent_color = models.CharField("accent colour", max_length=7, blank=True)
    sender_name = models.CharField("sender name", max_length=100, blank=True)
    reply_to = models.EmailField("reply-to address", blank=True)
    about = models.TextField("about page", blank=True)
    about_html = models.TextField(blank=True, editable=False)
    # [{"label": "Support us", "url": "/p/support/"}, ...]
    nav_links = models.JSONField("navigation links", default=list, blank=True)
    footer_text = models.CharField("footer text", max_length=300, blank=True)
    time_zone = models.CharField("default time zone", max_length=64, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "site settings"
        permissions = [("change_site", "Can change the publication's name, look, sender and pages")]

    def __str__(self) -> str:
        return "Site settings"
