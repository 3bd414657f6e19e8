"""The per-issuer cache of discovery documents and keys, with a fake clock and provider."""

from __future__ import annotations

from typing import Any

import pytest
from joserfc.jwk import RSAKey

from monitor.sso.provider import ProviderCache, SignInRefused
from monitor.sso.settings import issuer_error, parse_domains, parse_group_mappings

ISSUER = "https://idp.example.com/tenant"


class FakeProvider:
    def __init__(self) -> None:
        self.keys = [RSAKey.generate_key(2048, parameters={"kid": "one"}, private=False)]
        self.calls: list[str] = []
        self.now = 1000.0

    def fetch(self, url: str) -> dict[str, Any]:
        self.calls.append(url.rsplit("/", 1)[1])
        if url.endswith("openid-configuration"):
            return {
                "issuer": ISSUER,
                "authorization_endpoint": f"{ISSUER}/authorize",
                "token_endpoint": f"{ISSUER}/token",
                "jwks_uri": f"{ISSUER}/keys",
                "id_token_signing_alg_values_supported": ["RS256", "HS256", "none"],
            }
        return {"keys": [key.as_dict(private=False) for key in self.keys]}


@pytest.fixture
def fake() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def cache(fake: FakeProvider) -> ProviderCache:
    return ProviderCache(fetch=fake.fetch, clock=lambda: fake.now)


def test_discovery_is_cached_for_its_ttl_and_only_safe_algorithms_kept(
    fake: FakeProvider, cache: ProviderCache
) -> None:
    metadata = cache.metadata(ISSUER)
    assert metadata.algorithms == ("RS256",)
    cache.metadata(ISSUER)
    fake.now += 3599
    cache.metadata(ISSUER)
    assert fake.calls == ["openid-configuration"]
    fake.now += 2
    cache.metadata(ISSUER)
    assert fake.calls == ["openid-configuration"] * 2


def test_the_issuer_must_match_exactly(fake: FakeProvider) -> None:
    cache = ProviderCache(fetch=fake.fetch, clock=lambda: fake.now)
    with pytest.raises(SignInRefused) as refused:
        cache.metadata(ISSUER + "/")
    assert refused.value.reason == "discovery_issuer_mismatch"


def test_an_unknown_kid_refetches_once_a_minute_at_most(fake: FakeProvider, cache: ProviderCache) -> None:
    metadata = cache.metadata(ISSUER)
    assert [k.kid for k in cache.key_set(metadata, "one").keys] == ["one"]
    fake.keys = [RSAKey.generate_key(2048, parameters={"kid": "two"}, private=False)]
    assert [k.kid for k in cache.key_set(metadata, "two").keys] == ["two"]
    assert fake.calls.count("keys") == 2
    fake.now += 30
    cache.key_set(metadata, "forged")
    assert fake.calls.count("keys") == 2  # rate limited
    fake.now += 31
    cache.key_set(metadata, "forged")
    assert fake.calls.count("keys") == 3


@pytest.mark.parametrize(
    ("issuer", "problem"),
    [
        ("", "Enter the issuer"),
        ("http://idp.example.com", "must start with https://"),
        ("https://login.microsoftonline.com/organizations/v2.0", "not the multi-tenant"),
        ("https://idp.example.com/?x=1", "as a web address"),
        ("http://127.0.0.1:5556", None),
        ("https://accounts.google.com", None),
    ],
)
def test_issuer_rules(issuer: str, problem: str | None) -> None:
    error = issuer_error(issuer)
    assert (error is None) if problem is None else (problem in (error or ""))


def test_domains_and_group_mappings_are_parsed() -> None:
    assert parse_domains(" @Example.GOV.uk \n\nexample.gov.uk\nbad_domain") == (
        ["example.gov.uk"],
        ["“bad_domain” is not an email domain; enter one per line, like example.gov.uk"],
    )
    mappings, problems = parse_group_mappings(
        "a = provider\nb = provider, organisation admin\na = provider", "provider"
    )
    assert [(m.group_value, m.organisation_admin) for m in mappings] == [("a", False), ("b", True)]
    assert problems == ["Line 3: the group a is already mapped above"]
