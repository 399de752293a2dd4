"""Checks other apps add to what an account may change.

accounts never imports blog: blog registers its bans here when it starts
(blog.apps), and the profile view asks every registered check."""

from collections.abc import Callable

from accounts.models import User

# Given the reader and their address, a reason they may not change their public profile, or None.
ProfileGuard = Callable[[User, str | None], str | None]
PROFILE_GUARDS: list[ProfileGuard] = []
PUBLIC_FIELDS = ("display_name", "bio", "avatar")


def register_profile_guard(guard: ProfileGuard) -> None:
    if guard not in PROFILE_GUARDS:
        PROFILE_GUARDS.append(guard)


def profile_refusal(user: User, ip: str | None) -> str | None:
    return next((message for guard in PROFILE_GUARDS if (message := guard(user, ip))), None)
