from __future__ import annotations

import dataclasses
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings

from imaging import fetching
from imaging.fetching import (
    FetchError,
    FetchPolicy,
    FetchRefused,
    FetchTransientError,
    address_public,
    fetch_policy_from_settings,
    image_fetch,
)
from tests.support.image_server import ImageServer


@pytest.fixture(scope="module")
def server() -> Iterator[ImageServer]:
    with ImageServer() as running:
        yield running


def default_policy(**overrides: object) -> FetchPolicy:
    """The default install's policy (the platforms' media hosts, nothing private) with
    `overrides`, whatever this machine's settings add for the playground."""
    options: dict = {
        "allowed_hosts": tuple(settings.DIYMOD_IMAGE_MEDIA_HOSTS),
        "allow_private": False,
        **overrides,
    }
    return dataclasses.replace(fetch_policy_from_settings(), **options)


def local_policy(server: ImageServer, **overrides: object) -> FetchPolicy:
    """The test server is loopback: allowed only because it is listed AND private is allowed."""
    options: dict = {
        "allowed_hosts": (server.host_port, *settings.DIYMOD_IMAGE_MEDIA_HOSTS),
        "allow_private": True,
        "timeout_seconds": 3.0,
    }
    options.update(overrides)
    return default_policy(**options)


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names resolve through this table (and are counted); anything else fails to resolve."""
    table: dict[str, list[str]] = {}
    calls: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: str, port: int, *args: object, **kwargs: object) -> list:
        if fetching.host_is_literal(host):  # the pinned connection itself: no lookup involved
            return real_getaddrinfo(host, port, *args, **kwargs)
        calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in table[host]
        ]

    monkeypatch.setattr(fetching.socket, "getaddrinfo", getaddrinfo)
    table["__calls__"] = calls  # type: ignore[assignment]
    return table


# --- address classes ---


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",  # loopback
        "127.10.20.30",
        "::1",
        "10.1.2.3",  # private
        "172.16.5.4",
        "192.168.0.10",
        "fc00::1",  # unique local
        "169.254.169.254",  # link-local (cloud metadata)
        "fe80::1",
        "224.0.0.1",  # multicast
        "ff02::1",
        "240.0.0.1",  # reserved
        "0.0.0.0",  # unspecified
        "::",
        "100.64.0.1",  # carrier-grade NAT, not global
        "::ffff:127.0.0.1",  # IPv4-mapped loopback
        "::ffff:10.0.0.1",  # IPv4-mapped private
        "2002:7f00:1::",  # 6to4 wrapping 127.0.0.1
        "fec0::1",  # deprecated site-local
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not address_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["151.101.1.140", "93.184.216.34", "2606:4700::6810:84e5"])
def test_public_addresses_are_accepted(address: str) -> None:
    assert address_public(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "10.0.0.8", "169.254.169.254", "0.0.0.0", "[::1]", "[::ffff:7f00:1]"]
)
def test_a_listed_ip_literal_that_is_not_public_is_refused_without_allow_private(
    address: str,
) -> None:
    policy = default_policy(allowed_hosts=(address,), allow_private=False)

    with pytest.raises(FetchRefused, match="non-public"):
        image_fetch(url=f"http://{address}/image.jpg", policy=policy)


def test_a_listed_name_resolving_to_loopback_is_refused_without_allow_private(
    fake_dns: dict[str, list[str]],
) -> None:
    fake_dns["images.example.test"] = ["127.0.0.1"]
    policy = default_policy(allowed_hosts=("images.example.test",), allow_private=False)

    with pytest.raises(FetchRefused, match="non-public"):
        image_fetch(url="http://images.example.test/image.jpg", policy=policy)


def test_one_private_record_among_public_ones_refuses_the_host(
    fake_dns: dict[str, list[str]],
) -> None:
    fake_dns["i.redd.it"] = ["151.101.1.140", "10.0.0.7"]

    with pytest.raises(FetchRefused, match="non-public"):
        image_fetch(url="https://i.redd.it/x.jpg", policy=default_policy())


# --- allow-list ---


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://i.redd.it/x.jpg",
        "gopher://i.redd.it/",
        "data:image/png;base64,AAAA",
        "http://evil.example.com/x.jpg",
        "https://i.redd.it.evil.example.com/x.jpg",
        "https://i.redd.it:8443/x.jpg",  # listed host, unlisted port
        "https://user:pass@i.redd.it/x.jpg",
        "http://[::1/",
    ],
)
def test_urls_outside_the_allow_list_are_refused_before_any_lookup(
    url: str, fake_dns: dict[str, list[str]]
) -> None:
    with pytest.raises(FetchRefused):
        image_fetch(url=url, policy=default_policy())

    assert fake_dns["__calls__"] == []


def test_loopback_server_is_allowed_only_when_listed_and_private_is_allowed(
    server: ImageServer,
) -> None:
    url = server.url("/image.jpg?w=40&h=30")

    fetched = image_fetch(url=url, policy=local_policy(server))

    assert fetched.image.size == (40, 30) and fetched.format == "JPEG"
    with pytest.raises(FetchRefused, match="non-public"):
        image_fetch(url=url, policy=local_policy(server, allow_private=False))
    with pytest.raises(FetchRefused, match="allow-list"):
        image_fetch(url=url, policy=local_policy(server, allowed_hosts=("127.0.0.1",)))


def test_allow_private_never_opens_a_builtin_public_media_host(
    server: ImageServer, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["i.redd.it"] = ["127.0.0.1"]
    policy = local_policy(server, allowed_hosts=(f"i.redd.it:{server.port}",))

    with pytest.raises(FetchRefused, match="non-public"):
        image_fetch(url=f"http://i.redd.it:{server.port}/image.jpg", policy=policy)


def test_the_checked_address_is_used_and_the_host_header_keeps_the_name(
    server: ImageServer, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["images.example.test"] = ["127.0.0.1"]
    policy = local_policy(server, allowed_hosts=(f"images.example.test:{server.port}",))
    before = len(server.requests)

    image_fetch(url=f"http://images.example.test:{server.port}/image.png", policy=policy)

    # Resolved exactly once (no second lookup between check and connect), Host kept.
    assert fake_dns["__calls__"] == ["images.example.test"]
    assert server.requests[before:] == [("/image.png", f"images.example.test:{server.port}")]


# --- redirects ---


@pytest.mark.parametrize(
    ("extension", "image_format"),
    [("jpg", "JPEG"), ("png", "PNG"), ("gif", "GIF"), ("webp", "WEBP"), ("avif", "AVIF"),
     ("mpo", "MPO")],
)  # fmt: skip
def test_the_formats_media_hosts_serve_are_fetched_and_decoded(
    server: ImageServer, extension: str, image_format: str
) -> None:
    fetched = image_fetch(
        url=server.url(f"/image.{extension}?w=40&h=30"), policy=local_policy(server)
    )

    assert fetched.format == image_format and fetched.image.size == (40, 30)


def test_redirects_are_followed_up_to_three_hops(server: ImageServer) -> None:
    fetched = image_fetch(url=server.url("/chain?n=3"), policy=local_policy(server))

    assert fetched.final_url == server.url("/image.jpg")


def test_a_fourth_redirect_is_refused(server: ImageServer) -> None:
    with pytest.raises(FetchRefused, match="redirects"):
        image_fetch(url=server.url("/chain?n=4"), policy=local_policy(server))


def test_a_redirect_to_a_name_resolving_to_a_private_address_is_refused(
    server: ImageServer, fake_dns: dict[str, list[str]]
) -> None:
    fake_dns["pbs.twimg.com"] = ["10.0.0.9"]
    before = len(server.requests)

    with pytest.raises(FetchRefused, match="non-public"):
        image_fetch(
            url=server.url("/redirect?to=http://pbs.twimg.com/media/x.jpg"),
            policy=local_policy(server),
        )

    assert [path for path, _ in server.requests[before:]] == [
        "/redirect?to=http://pbs.twimg.com/media/x.jpg"
    ]


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://127.0.0.1:6379/",
        "http://[::1]/",
        "file:///etc/passwd",
    ],
)
def test_a_redirect_to_an_internal_target_is_refused(server: ImageServer, location: str) -> None:
    with pytest.raises(FetchRefused):
        image_fetch(url=server.url(f"/redirect?to={location}"), policy=local_policy(server))


def test_a_relative_redirect_stays_on_the_checked_host(server: ImageServer) -> None:
    fetched = image_fetch(
        url=server.url("/redirect?to=/image.png%3Fw%3D20%26h%3D10&status=308"),
        policy=local_policy(server),
    )

    assert fetched.format == "PNG" and fetched.image.size == (20, 10)


# --- size, time, content ---


def test_oversize_by_content_length_is_refused_before_the_body_is_read(
    server: ImageServer,
) -> None:
    with pytest.raises(FetchRefused, match="byte limit"):
        image_fetch(
            url=server.url("/huge?bytes=5000000"), policy=local_policy(server, max_bytes=100_000)
        )


def test_oversize_without_content_length_is_refused_while_streaming(server: ImageServer) -> None:
    with pytest.raises(FetchRefused, match="byte limit"):
        image_fetch(
            url=server.url("/huge-stream?bytes=5000000"),
            policy=local_policy(server, max_bytes=100_000),
        )


def test_a_non_image_is_refused(server: ImageServer) -> None:
    with pytest.raises(FetchRefused, match="not a decodable image"):
        image_fetch(url=server.url("/text"), policy=local_policy(server))


def test_text_disguised_as_jpeg_is_refused(server: ImageServer) -> None:
    with pytest.raises(FetchRefused, match="not a decodable image"):
        image_fetch(url=server.url("/fake-image"), policy=local_policy(server))


def test_a_decompression_bomb_far_over_pillows_limit_is_refused(server: ImageServer) -> None:
    with pytest.raises(FetchRefused):
        image_fetch(url=server.url("/bomb?w=50000&h=50000"), policy=local_policy(server))


def test_an_image_over_the_pixel_cap_but_under_pillows_limit_is_refused(
    server: ImageServer,
) -> None:
    # 64 M pixels: Pillow itself would only warn; our cap (40 M) refuses before decoding.
    with pytest.raises(FetchRefused, match="pixel cap"):
        image_fetch(url=server.url("/bomb?w=8000&h=8000"), policy=local_policy(server))


def test_the_pixel_cap_comes_from_the_policy(server: ImageServer) -> None:
    with pytest.raises(FetchRefused, match="pixel cap"):
        image_fetch(
            url=server.url("/image.jpg?w=100&h=100"), policy=local_policy(server, max_pixels=9_999)
        )


def test_a_slow_server_is_a_transient_error(server: ImageServer) -> None:
    with pytest.raises(FetchTransientError, match="timed out"):
        image_fetch(
            url=server.url("/slow?delay=3"), policy=local_policy(server, timeout_seconds=0.5)
        )


def test_a_trickling_server_hits_the_overall_time_limit(server: ImageServer) -> None:
    with pytest.raises(FetchTransientError):
        image_fetch(
            url=server.url("/trickle?bytes=200&interval=0.05"),
            policy=local_policy(server, timeout_seconds=0.5),
        )


@pytest.mark.parametrize("code", [500, 502, 503, 429])
def test_server_errors_are_transient(server: ImageServer, code: int) -> None:
    with pytest.raises(FetchTransientError):
        image_fetch(url=server.url(f"/status?code={code}"), policy=local_policy(server))


@pytest.mark.parametrize("code", [403, 404, 410])
def test_client_errors_are_permanent(server: ImageServer, code: int) -> None:
    with pytest.raises(FetchRefused):
        image_fetch(url=server.url(f"/status?code={code}"), policy=local_policy(server))


def test_a_closed_port_is_a_transient_error(server: ImageServer) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now

    with pytest.raises(FetchTransientError, match="connection error"):
        image_fetch(
            url=f"http://127.0.0.1:{port}/image.jpg",
            policy=default_policy(allowed_hosts=(f"127.0.0.1:{port}",), allow_private=True),
        )


def test_a_name_that_does_not_resolve_is_refused(fake_dns: dict[str, list[str]]) -> None:
    with pytest.raises(FetchRefused, match="does not resolve"):
        image_fetch(url="https://i.redd.it/x.jpg", policy=default_policy())


# --- TLS: the pinned IP is dialled, but SNI and the certificate check use the name ---


def certificate_make(directory: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (cert, key) written to `directory`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path: Path) -> Iterator[tuple[ImageServer, Path, list[str]]]:
    """An HTTPS image server whose certificate names images.example.test; records SNI."""
    cert_path, key_path = certificate_make(tmp_path, "images.example.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)
    names: list[str] = []
    context.sni_callback = lambda connection, name, _context: names.append(name) and None
    with ImageServer(tls=context) as running:
        yield running, cert_path, names


def test_https_dials_the_checked_ip_with_the_names_sni_and_certificate(
    tls_server: tuple[ImageServer, Path, list[str]], fake_dns: dict[str, list[str]]
) -> None:
    server, cert_path, names = tls_server
    fake_dns["images.example.test"] = ["127.0.0.1"]
    policy = default_policy(
        allowed_hosts=(f"images.example.test:{server.port}",),
        allow_private=True,
        ca_file=str(cert_path),
    )

    fetched = image_fetch(
        url=f"https://images.example.test:{server.port}/image.jpg", policy=policy
    )

    assert fetched.image.size == (64, 48)
    assert names == ["images.example.test"]
    assert server.requests[-1] == ("/image.jpg", f"images.example.test:{server.port}")


def test_https_to_a_host_whose_certificate_names_another_host_fails(
    tls_server: tuple[ImageServer, Path, list[str]], fake_dns: dict[str, list[str]]
) -> None:
    server, cert_path, _names = tls_server
    fake_dns["other.example.test"] = ["127.0.0.1"]
    policy = default_policy(
        allowed_hosts=(f"other.example.test:{server.port}",),
        allow_private=True,
        ca_file=str(cert_path),
    )

    with pytest.raises(FetchError, match="(?i)certificate"):
        image_fetch(url=f"https://other.example.test:{server.port}/image.jpg", policy=policy)

    assert server.requests == []
