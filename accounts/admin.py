from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models

from accounts.forms import AVATAR_MAX_BYTES
from accounts.images import AVATAR_MAX_SIDE, UploadedImageField
from accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Profile", {"fields": ("display_name", "bio", "avatar")}))
    list_display = ("username", "email", "display_name", "is_staff", "date_joined")
    formfield_overrides = {
        models.ImageField: {
            "form_class": UploadedImageField,
            "max_side": AVATAR_MAX_SIDE,
            "max_bytes": AVATAR_MAX_BYTES,
        }
    }
