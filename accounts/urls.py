from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("settings/profile/", views.edit_profile, name="edit_profile"),
    path("settings/time-zone/from-browser/", views.browser_time_zone, name="browser_time_zone"),
]
