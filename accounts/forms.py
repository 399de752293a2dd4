from django import forms
from django.core.files.uploadedfile import UploadedFile

from accounts.models import User


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["display_name", "bio", "avatar", "email_on_comments", "email_on_replies", "email_on_moderation"]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def clean_avatar(self) -> UploadedFile | None:
        avatar = self.cleaned_data.get("avatar")
        if avatar and avatar.size > 2 * 1024 * 1024:
            raise forms.ValidationError("The avatar must be 2 MB or smaller.")
        return avatar
