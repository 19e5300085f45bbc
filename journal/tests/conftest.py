import pytest
from rest_framework.test import APIClient


@pytest.fixture
def other_client(other_user) -> APIClient:  # type: ignore[no-untyped-def]
    client = APIClient()
    client.force_authenticate(other_user)
    return client
