"""The moderators' block list of fediverse servers."""

from django.test import Client

from blog.models import BlockedInstance


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_moderator_blocks_a_server(milo) -> None:
    client = signed_in(milo)
    response = client.post("/moderation/instances/", {"domain": "https://Spam.Example/@bot", "reason": "spam wave"})
    assert response.status_code == 302
    block = BlockedInstance.objects.get()
    assert (block.domain, block.reason, block.created_by) == ("spam.example", "spam wave", milo)
    page = client.get("/moderation/instances/").content.decode()
    assert "spam.example" in page and "spam wave" in page


def test_a_bad_server_name_is_refused_with_a_reason_and_nothing_saved(milo) -> None:
    response = signed_in(milo).post("/moderation/instances/", {"domain": "not a host!", "reason": ""})
    assert response.status_code == 400
    assert "Enter a server&#x27;s host name" in response.content.decode()
    assert not BlockedInstance.objects.exists()


def test_blocking_twice_says_so(milo) -> None:
    client = signed_in(milo)
    client.post("/moderation/instances/", {"domain": "spam.example"})
    response = client.post("/moderation/instances/", {"domain": "spam.example"})
    assert response.status_code == 400 and "blocked already" in response.content.decode()
    assert BlockedInstance.objects.count() == 1


def test_readers_cannot_see_or_change_the_block_list(rosa) -> None:
    client = signed_in(rosa)
    assert client.get("/moderation/instances/").status_code == 403
    assert client.post("/moderation/instances/", {"domain": "spam.example"}).status_code == 403
    assert not BlockedInstance.objects.exists()


def test_visitors_are_sent_to_log_in(db) -> None:
    response = Client().post("/moderation/instances/", {"domain": "spam.example"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not BlockedInstance.objects.exists()


def test_a_moderator_unblocks_by_post_only(milo, rosa) -> None:
    block = BlockedInstance.objects.create(domain="spam.example")
    assert signed_in(milo).get(f"/moderation/instances/{block.pk}/unblock/").status_code == 405
    assert signed_in(rosa).post(f"/moderation/instances/{block.pk}/unblock/").status_code == 403
    assert signed_in(milo).post(f"/moderation/instances/{block.pk}/unblock/").status_code == 302
    assert not BlockedInstance.objects.exists()
