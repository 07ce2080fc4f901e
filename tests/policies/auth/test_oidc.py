"""policies/auth/oidc.py: the identity providers file (validated, each refusal naming the line and
the reason in French), the claim -> role table (first entry held wins), and the mapping of a
verified ID token onto a hub identity (agency from the provider, never from a claim)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.contract.errors import ConfigurationError
from policies.auth.oidc import (
    IdentityProviders,
    LinkedAccount,
    OidcProvider,
    OidcRefused,
    VerifiedIdToken,
    link_key,
    load_identity_providers,
    role_for,
)

GOOD = """version: 1
providers:
  - id: police
    agency: police
    label_fr: Police nationale
    issuer: https://sso.example/realms/police
    client_id: crosshub
    client_auth: client_secret_basic
    roles:
      - {value: cross-coordinateurs, role: coordinator}
      - {value: cross-analystes, role: analyst}
  - id: gendarmerie
    agency: gendarmerie
    label_fr: Gendarmerie nationale
    issuer: http://127.0.0.1:8080/realms/gendarmerie
    client_id: crosshub
    roles:
      - {value: analystes-gn, role: analyst}
"""


def _load(tmp_path: Path, text: str) -> IdentityProviders:
    path = tmp_path / "identity_providers.yaml"
    path.write_text(text, encoding="utf-8")
    return load_identity_providers(path)


def test_the_packaged_file_configures_no_provider() -> None:
    assert load_identity_providers().providers == []


def test_a_good_file_loads_with_its_defaults(tmp_path: Path) -> None:
    providers = _load(tmp_path, GOOD)
    police = providers.get("police")
    assert police is not None and police.agency.value == "police"
    assert police.scopes == ["openid", "profile", "email"] and police.role_claim == "groups"
    assert providers.get("gendarmerie").client_auth == "none"
    assert providers.get("douanes") is None


@pytest.mark.parametrize(("change", "where", "reason"), [
    (("https://sso.example/realms/police", "http://sso.example/realms/police"), "issuer",
     "https obligatoire"),
    (("client_auth: client_secret_basic", "client_auth: client_secret_basic\n    scopes: [profile]"),
     "scopes", "« openid » est obligatoire"),
    (("role: analyst}\n  - id: gendarmerie", "role: analyst}\n      - {value: cross-analystes, role: "
      "auditor}\n  - id: gendarmerie"), "roles", "listée(s) deux fois"),
    (("{value: analystes-gn, role: analyst}", "{value: analystes-gn, role: connector}"), "role",
     "ne se connecte jamais"),
    (("agency: gendarmerie", "agency: mairie"), "agency", ""),
    (("id: gendarmerie", "id: police"), "(fichier)", "id en double"),
    (("client_id: crosshub\n    roles:\n      - {value: analystes-gn",
      "client_id: crosshub\n    client_secret: en-clair\n    roles:\n      - {value: analystes-gn"),
     "client_secret", ""),
])
def test_a_bad_file_is_refused_naming_the_field(tmp_path: Path, change, where, reason) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigurationError) as refused:
        _load(tmp_path, GOOD.replace(old, new, 1))
    message = refused.value.message
    assert message.startswith("Règles de fournisseurs d'identité invalides")
    assert reason in message
    assert where in message or where == "(fichier)"


# The table as policy data says it: the first entry the person holds wins.
TABLE = [("cross-coordinateurs", "coordinator"), ("cross-analystes", "analyst")]


@pytest.mark.parametrize(("claim", "expected"), [
    (["cross-analystes"], "analyst"),
    (["cross-analystes", "cross-coordinateurs"], "coordinator"),
    ("cross-coordinateurs", "coordinator"),
    (["autres"], None),
    ([], None),
    (None, None),
    ([{"nested": "cross-analystes"}], None),
])
def test_the_claim_maps_to_the_first_role_of_the_table_the_person_holds(tmp_path, claim,
                                                                        expected) -> None:
    police = _load(tmp_path, GOOD).get("police")
    assert [(m.value, m.role.value) for m in police.roles] == TABLE
    found = role_for(police, claim)
    assert (found.value if found else None) == expected


def _provider(tmp_path, accounts=(None, None), provider="police") -> OidcProvider:
    config = _load(tmp_path, GOOD).get(provider)
    return OidcProvider(config, lambda _link, _uid: accounts)


def _token(provider="police", **claims) -> VerifiedIdToken:
    base = {"sub": "abc-123", "preferred_username": "Dupont", "groups": ["cross-analystes"]}
    return VerifiedIdToken(provider_id=provider, claims={**base, **claims})


def test_the_agency_is_the_providers_never_a_claim(tmp_path) -> None:
    who = _provider(tmp_path).authenticate(_token(agency="gendarmerie", agence="douanes"))
    assert (who.user_id, who.agency, who.role, who.provider) == (
        "police:dupont", "police", "analyst", "oidc:police")


@pytest.mark.parametrize(("accounts", "token", "reason"), [
    ((None, None), _token(provider="gendarmerie"), "token_other_provider"),
    ((None, None), _token(groups=["autres"]), "role_unmapped"),
    ((None, None), _token(preferred_username="../admin"), "username_invalid"),
    ((None, LinkedAccount(user_id="police:dupont", name="dupont", agency="police")), _token(),
     "account_id_taken"),
    ((LinkedAccount(user_id="police:dupont", name="dupont", agency="police", disabled=True,
                    oidc_link="x"), None), _token(), "disabled"),
    ((LinkedAccount(user_id="gendarmerie:dupont", name="dupont", agency="gendarmerie",
                    oidc_link="x"), None), _token(), "account_other_agency"),
])
def test_refusals_carry_their_cause_and_one_french_message(tmp_path, accounts, token,
                                                          reason) -> None:
    with pytest.raises(OidcRefused) as refused:
        _provider(tmp_path, accounts).authenticate(token)
    assert refused.value.reason == reason
    assert refused.value.message.startswith("connexion refusée")


def test_a_linked_account_keeps_its_id_and_takes_the_providers_role(tmp_path) -> None:
    linked = LinkedAccount(user_id="police:jdupont", name="Jean Dupont", agency="police",
                           oidc_link=link_key("https://sso.example/realms/police", "abc-123"))
    who = _provider(tmp_path, (linked, None)).authenticate(
        _token(groups=["cross-coordinateurs"], preferred_username="renomme"))
    assert (who.user_id, who.role) == ("police:jdupont", "coordinator")
