import gzip
import json

import brotli
import pytest

from signals.tests.factories import SignalFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def big_list(db):  # type: ignore[no-untyped-def]
    SignalFactory.create_batch(30)
    return "/api/signals/?page_size=30"


def test_brotli_when_accepted_else_gzip_else_identity(client, big_list):
    identity = client.get(big_list, HTTP_ACCEPT_ENCODING="identity")
    assert "Content-Encoding" not in identity
    plain = json.loads(identity.content)["results"]
    br = client.get(big_list, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert br["Content-Encoding"] == "br" and "Accept-Encoding" in br["Vary"]
    assert json.loads(brotli.decompress(br.content))["results"] == plain
    assert len(br.content) < len(identity.content)
    gz = client.get(big_list, HTTP_ACCEPT_ENCODING="gzip")
    assert gz["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(gz.content))["results"] == plain


def test_cached_answers_are_compressed_too(client, big_list, any_cache):
    client.get(big_list)
    hit = client.get(big_list, HTTP_ACCEPT_ENCODING="br")
    assert hit["X-Cache"] == "HIT" and hit["Content-Encoding"] == "br"


def test_small_bodies_and_refused_codings_stay_plain(client, big_list):
    assert "Content-Encoding" not in client.get(
        "/api/health", HTTP_ACCEPT_ENCODING="br"
    )
    refused = client.get(big_list, HTTP_ACCEPT_ENCODING="br;q=0, gzip;q=0")
    assert "Content-Encoding" not in refused


def test_compression_can_be_switched_off(client, big_list, settings):
    settings.COMPRESS_IN_DJANGO = False
    assert "Content-Encoding" not in client.get(big_list, HTTP_ACCEPT_ENCODING="br")


def test_sessionless_api_reads_skip_sessions_but_still_vary_on_cookie(api_client):
    response = api_client.get("/api/signals/")
    assert response.status_code == 200
    assert "Cookie" in response["Vary"]
    assert not hasattr(response.wsgi_request, "session")


def test_api_requests_with_a_session_are_authenticated_by_it(client, django_user_model):
    staff = django_user_model.objects.create_user("s", password="pw", is_staff=True)
    client.force_login(staff)
    response = client.get("/api/signals/")
    assert response.status_code == 200 and "Cookie" in response["Vary"]
    assert response.wsgi_request.user == staff
    # Outside the API (the admin) sessions always run.
    assert client.get("/admin/").status_code == 200
