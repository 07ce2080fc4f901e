"""``crosshub dev --oidc``: the demo's agencies sign in with their "own" accounts, served by a
local Keycloak (hub/dev/keycloak.py) with one realm per demo agency.

Each realm has a public client ``crosshub`` (PKCE S256 required, the hub's exact callback as its
only redirect URI), groups ``cross-analystes`` and ``cross-coordinateurs`` and two people with a
password new at each run (Keycloak keeps nothing: in-memory database). The hub is pointed at them
through an identity providers file written under the data directory (``CROSSHUB_IDENTITY_
PROVIDERS_FILE`` is set for the hub processes this command starts). Demo only: never a
deployment's provider.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from hub.contract.lead import AGENCY_LABELS_FR, Agency
from hub.dev import keycloak as kc

GROUPS = (("cross-coordinateurs", "coordinator"), ("cross-analystes", "analyst"))
PEOPLE = (("sso-analyste", "cross-analystes"), ("sso-coordination", "cross-coordinateurs"))


@dataclass(frozen=True)
class DemoSso:
    server: kc.RunningKeycloak
    providers_file: Path
    people: list[tuple[str, str, str]]  # (agency, username, password)

    def stop(self) -> None:
        kc.stop(self.server)


def start(data_dir: Path, hub_url: str, agencies: tuple[str, ...]) -> DemoSso:
    people: list[tuple[str, str, str]] = []
    realms = []
    for agency in agencies:
        users = []
        for username, group in PEOPLE:
            password = secrets.token_urlsafe(12)
            people.append((agency, username, password))
            users.append(kc.RealmUser(username=username, password=password, first_name="Démo",
                                      last_name=username, groups=(group,)))
        realms.append(kc.RealmSpec(
            name=agency, groups=tuple(g for g, _ in GROUPS), users=tuple(users),
            redirect_uris=(f"{hub_url}/auth/oidc/{agency}/callback",)))
    server = kc.start(data_dir / "keycloak", realms)
    lines = ["# Written by `crosshub dev --oidc` at each run: the demo's local Keycloak.",
             "version: 1", "providers:"]
    for agency in agencies:
        lines += [f"  - id: {agency}", f"    agency: {agency}",
                  f"    label_fr: {AGENCY_LABELS_FR[Agency(agency)]} (démo)",
                  f"    issuer: {server.issuer(agency)}", "    client_id: crosshub",
                  "    roles:"]
        lines += [f"      - {{value: {value}, role: {role}}}" for value, role in GROUPS]
    providers_file = data_dir / "identity_providers.dev.yaml"
    providers_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    os.environ["CROSSHUB_IDENTITY_PROVIDERS_FILE"] = str(providers_file)
    return DemoSso(server=server, providers_file=providers_file, people=people)
