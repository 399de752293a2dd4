"""Liveness and readiness, as a load balancer sees them (docs/scaling.md)."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

LEAK = 'connection to server at "db.internal" (10.0.0.5), user "dispatch" failed'


def broken(*args, **kwargs):
    raise RuntimeError(LEAK)


def test_liveness_answers_without_asking_the_database(client, monkeypatch) -> None:
    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readiness_reports_the_database_cache_and_storage(client) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "cache": "ok", "storage": "ok"}


def test_readiness_fails_when_the_database_is_down_without_telling_visitors_why(client, monkeypatch, caplog) -> None:
    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unavailable", "cache": "ok", "storage": "ok"}
    assert "db.internal" not in response.content.decode()
    assert "db.internal" in caplog.text  # the operator still finds it in the log


def test_readiness_fails_when_the_cache_is_down(client, monkeypatch) -> None:
    from django.core.cache import cache

    monkeypatch.setattr(cache, "set", broken)
    response = client.get("/readyz")
    assert response.status_code == 503 and response.json()["cache"] == "unavailable"


def test_readiness_fails_when_the_media_store_does_not_answer(client, settings, s3_endpoint) -> None:
    settings.STORAGES = {  # a bucket on a port where nothing listens
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage",
                    "OPTIONS": {"bucket_name": "gone", "endpoint_url": "http://127.0.0.1:9", "region_name": "us-east-1",
                                "access_key": "test", "secret_key": "test"}},
    }  # fmt: skip
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "cache": "ok", "storage": "unavailable"}
