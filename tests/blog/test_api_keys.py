"""API keys on the desk: made by those with blog.manage_integrations, shown
once, kept only as a hash, revoked with a POST; everyone else refused."""

import hashlib
import re

import pytest

from blog.models import ApiKey
from tests.factories import grant, make_user


@pytest.fixture
def owner(db):
    return grant(make_user("olga"), "blog.manage_integrations")


def make_key(client, owner, **data):
    client.force_login(owner)
    return client.post("/write/integrations/keys/", {"name": "Zapier", "scopes": ["read", "write_posts"], **data})


def test_a_new_key_is_shown_once_and_stored_as_a_hash(client, owner) -> None:
    response = make_key(client, owner)
    assert response.status_code == 200
    [secret] = re.findall(r"dsp_[0-9a-f]{8}_[\w-]{43}", response.content.decode())
    key = ApiKey.objects.get()
    assert key.hashed_key == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiKey.objects.values()))
    assert key.scopes == ["read", "write_posts"] and key.created_by == owner
    listing = client.get("/write/integrations/keys/").content.decode()
    assert secret not in listing and f"dsp_{key.prefix}_" in listing


def test_the_new_key_works_at_once(client, owner) -> None:
    secret = re.findall(r"dsp_[0-9a-f]{8}_[\w-]{43}", make_key(client, owner).content.decode())[0]
    client.logout()
    response = client.get("/api/v1/posts", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200
    assert ApiKey.objects.get().last_used_at is not None


def test_revoking_a_key_makes_it_401(client, owner) -> None:
    secret = re.findall(r"dsp_[0-9a-f]{8}_[\w-]{43}", make_key(client, owner).content.decode())[0]
    key = ApiKey.objects.get()
    assert client.get(f"/write/integrations/keys/{key.pk}/revoke/").status_code == 405
    assert client.post(f"/write/integrations/keys/{key.pk}/revoke/").status_code == 302
    assert client.get("/api/v1/posts", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


@pytest.mark.parametrize(
    ("data", "message"),
    [({"name": ""}, "This field is required."), ({"scopes": []}, "Choose at least one scope."),
     ({"scopes": ["everything"]}, "Select a valid choice.")],
)  # fmt: skip
def test_a_bad_key_request_is_refused_and_nothing_made(client, owner, data, message) -> None:
    response = make_key(client, owner, **data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ApiKey.objects.exists()


def test_key_pages_need_the_permission(client, ada, rosa, owner) -> None:
    key_id = (make_key(client, owner), ApiKey.objects.get().pk)[1]
    for user in (ada, rosa):
        client.force_login(user)
        assert client.get("/write/integrations/keys/").status_code == 403
        assert client.post("/write/integrations/keys/", {"name": "x", "scopes": ["read"]}).status_code == 403
        assert client.post(f"/write/integrations/keys/{key_id}/revoke/").status_code == 403
    client.logout()
    assert client.post(f"/write/integrations/keys/{key_id}/revoke/").status_code == 302
    assert ApiKey.objects.get().revoked_at is None
    assert ApiKey.objects.count() == 1


def test_a_superuser_manages_keys_without_a_grant(client, db) -> None:
    admin = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get("/write/integrations/keys/").status_code == 200


def test_a_key_stops_working_when_its_makers_account_is_closed(client, owner) -> None:
    secret = re.findall(r"dsp_[0-9a-f]{8}_[\w-]{43}", make_key(client, owner).content.decode())[0]
    owner.is_active = False
    owner.save()
    assert client.get("/api/v1/posts", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
