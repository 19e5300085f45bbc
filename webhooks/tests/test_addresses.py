import pytest

from webhooks.addresses import AddressError, addresses_checked, is_public, url_parts


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/", "https://user:pw@example.com/", "http:///path", "nonsense"],
)
def test_only_http_urls_without_credentials_are_accepted(url):
    with pytest.raises(AddressError):
        url_parts(url)


def test_url_parts_give_the_default_ports():
    assert url_parts("https://example.com/hook") == ("https", "example.com", 443)
    assert url_parts("http://example.com:8080/") == ("http", "example.com", 8080)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "224.0.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
    ],
)
def test_private_loopback_link_local_and_multicast_are_not_public(address):
    assert not is_public(address)


def test_a_public_address_is_public():
    assert is_public("93.184.216.34") and is_public("2606:2800:220:1::1")


def test_a_literal_private_host_is_refused_unless_allowed():
    with pytest.raises(AddressError, match="public"):
        addresses_checked("127.0.0.1", 80, allow_private=False)
    assert addresses_checked("127.0.0.1", 80, allow_private=True) == ["127.0.0.1"]
