"""Signatures checked with the standardwebhooks package, not only our own code."""

import base64
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from webhooks.signing import secret_new, signature


def test_a_secret_is_whsec_and_base64_of_32_random_bytes():
    secret = secret_new()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    assert secret != secret_new()


def test_the_standard_webhooks_library_verifies_our_signature():
    secret, body, stamp = (
        secret_new(),
        b'{"id":7,"type":"signal.created"}',
        int(time.time()),
    )
    headers = {
        "webhook-id": "7",
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature(secret, "7", stamp, body),
    }
    assert Webhook(secret).verify(body, headers) == {"id": 7, "type": "signal.created"}


def test_a_changed_body_or_another_secret_fails_verification():
    secret, stamp = secret_new(), int(time.time())
    headers = {
        "webhook-id": "7",
        "webhook-timestamp": str(stamp),
        "webhook-signature": signature(secret, "7", stamp, b'{"a":1}'),
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret_new()).verify(b'{"a":1}', headers)
