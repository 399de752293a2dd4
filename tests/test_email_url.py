"""EMAIL_URL names anymail's HTTP backends too: anymail://<provider>?<option>=<value>."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from config.settings import mailers_from_url


def test_an_anymail_url_becomes_that_providers_backend_with_its_options() -> None:
    mailer = mailers_from_url("anymail://postmark?server_token=abc-123")["default"]
    assert mailer == {"BACKEND": "anymail.backends.postmark.EmailBackend", "OPTIONS": {"server_token": "abc-123"}}
    backend = import_string(mailer["BACKEND"])(**mailer["OPTIONS"])
    assert backend.server_token == "abc-123"


def test_amazon_ses_needs_no_options_in_the_url() -> None:
    mailer = mailers_from_url("anymail://amazon_ses")["default"]
    assert mailer["BACKEND"] == "anymail.backends.amazon_ses.EmailBackend"


def test_an_unknown_provider_stops_start_up_with_the_list() -> None:
    with pytest.raises(ImproperlyConfigured, match="postmark"):
        mailers_from_url("anymail://pigeon")
