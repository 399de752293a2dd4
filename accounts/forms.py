from typing import Any

from django import forms

from accounts import timezones
from accounts.images import AVATAR_MAX_SIDE, UploadedImageField
from accounts.models import User

AVATAR_MAX_BYTES = 2 * 1024 * 1024


class ProfileForm(forms.ModelForm[User]):
    avatar = UploadedImageField(required=False, max_side=AVATAR_MAX_SIDE, max_bytes=AVATAR_MAX_BYTES, noun="avatar")
    time_zone = forms.ChoiceField(
        choices=timezones.choices,
        required=False,
        label="Time zone",
        help_text="Every time on this site is shown in it, and schedules are read in it.",
    )

    class Meta:
        model = User
        fields = ["display_name", "bio", "avatar", "time_zone"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.initial["time_zone"] = self.instance.time_zone or timezones.site_default()

    def clean_time_zone(self) -> str:
        # A form without the field (an older page, a script) leaves the zone as it was.
        zone: str = self.cleaned_data["time_zone"] or self.instance.time_zone
        return zone


class NotificationsForm(forms.ModelForm[User]):
    """The e-mails about comments; the newsletter's switches sit beside them on the same page."""

    class Meta:
        model = User
        fields = ["email_on_comments", "email_on_replies", "email_on_moderation"]
        labels = {
            "email_on_comments": "New comments on my posts",
            "email_on_replies": "Replies to my comments",
            "email_on_moderation": "Comments waiting for moderation",
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.instance.is_author:
            del self.fields["email_on_comments"]
        if not self.instance.is_moderator:
            del self.fields["email_on_moderation"]


class BrowserTimeZoneForm(forms.Form):
    time_zone = forms.CharField(max_length=64)

    def clean_time_zone(self) -> str:
        zone = timezones.canonical(self.cleaned_data["time_zone"])
        if zone is None:
            raise forms.ValidationError("Unknown time zone.")
        return zone


class DeleteAccountForm(forms.Form):
    password = forms.CharField(
        label="Your password",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To be sure it is you.",
        error_messages={"required": "Enter your password to close the account."},
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password: str = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password; nothing was changed.")
        return password
