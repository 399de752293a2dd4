from django import forms

from accounts.images import AVATAR_MAX_SIDE, UploadedImageField
from accounts.models import User

AVATAR_MAX_BYTES = 2 * 1024 * 1024


class ProfileForm(forms.ModelForm):
    avatar = UploadedImageField(required=False, max_side=AVATAR_MAX_SIDE, max_bytes=AVATAR_MAX_BYTES, noun="avatar")

    class Meta:
        model = User
        fields = ["display_name", "bio", "avatar", "email_on_comments", "email_on_replies", "email_on_moderation"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}
