"""Cross-agency links told hit-style: "la Gendarmerie nationale détient 2 pistes sur ce
véhicule" — which agency holds how many leads on an entity, and whom to ask, never what the
leads say (hit/no-hit, domain.md).

Owns the wording (``holding_message_fr``) and ``notices_for``: given a link (the entity and the
markings of the leads of every agency on it), what each agency is told. An agency is told about
another agency's lead only if the access policy would give its analysts at least the hit on it
(``policies.engine.decide``): a lead under embargo or classed H3 adds nothing, not even a count.

Pure: no clock (``now`` is an argument), no I/O beyond the policy files when none is given.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from hub.contract.lead import AGENCY_LABELS_FR, Agency, HandlingCode, LeadKind
from policies.engine import decide
from policies.models import OUTCOME_ORDER, Caller, LeadMarking, Outcome, Policy, Role

ENTITY_PHRASES_FR: dict[str, str] = {
    "vehicle": "ce véhicule",
    "phone": "ce numéro de téléphone",
    "person": "cette personne",
    "location": "ce lieu",
    "deal_point": "ce point de deal",
}


class LinkedLead(BaseModel):
    """A lead on the linked entity: its marking only, never its content."""

    lead_id: str
    agency: Agency
    kind: LeadKind
    handling_code: HandlingCode
    restricted_to: list[Agency] = Field(default_factory=list)
    embargo_until: AwareDatetime | None = None

    def marking(self) -> LeadMarking:
        return LeadMarking(lead_id=self.lead_id, originating_agency=self.agency, kind=self.kind,
                           handling_code=self.handling_code, restricted_to=self.restricted_to,
                           embargo_until=self.embargo_until)


class Holding(BaseModel):
    agency: str
    agency_label_fr: str
    lead_count: int
    contact_fr: str | None = None


class LinkNotice(BaseModel):
    """What one agency is told about one cross-agency link."""

    alert_id: str
    agency: str = Field(description="Service destinataire")
    entity_kind: str
    entity_key: str
    own_lead_ids: list[str]
    holdings: list[Holding] = Field(description="Autres services détenteurs (nombre de pistes)")
    message_fr: str


# The agency as the subject of a French sentence, and whether its verb is plural.
AGENCY_SUBJECTS_FR: dict[Agency, tuple[str, bool]] = {
    Agency.POLICE: ("la Police nationale", False),
    Agency.GENDARMERIE: ("la Gendarmerie nationale", False),
    Agency.DOUANES: ("les Douanes", True),
    Agency.POLICE_JUDICIAIRE: ("la Police judiciaire", False),
    Agency.PAF: ("la Police aux frontières", False),
    Agency.GIR: ("le GIR", False),
    Agency.PREFECTURE: ("la Préfecture", False),
    Agency.OFAST: ("l'OFAST", False),
    Agency.BAILLEUR_SOCIAL: ("le bailleur social", False),
}


def entity_label_fr(kind: str, key: str) -> str:
    if kind == "person":
        return f"{ENTITY_PHRASES_FR['person']} ({key.rsplit(':', 1)[-1][:8]})"
    return f"{ENTITY_PHRASES_FR.get(kind, 'cette entité')} ({key})"


def holding_message_fr(kind: str, key: str, holdings: list[Holding]) -> str:
    """« La Gendarmerie nationale détient 2 pistes sur ce véhicule (AB-123-CD). Contact : … »"""
    parts = []
    for h in holdings:
        subject, plural = AGENCY_SUBJECTS_FR.get(Agency(h.agency), (h.agency_label_fr, False))
        piste = "piste" if h.lead_count == 1 else "pistes"
        parts.append(f"{subject} {'détiennent' if plural else 'détient'} {h.lead_count} {piste}")
    sentence = f"{' ; '.join(parts)} sur {entity_label_fr(kind, key)}."
    contacts = [h for h in holdings if h.contact_fr]
    if len(contacts) == 1:
        sentence += f" Contact : {contacts[0].contact_fr}."
    elif contacts:
        sentence += " Contacts : " + " ; ".join(f"{h.agency_label_fr} — {h.contact_fr}" for h in contacts) + "."
    return sentence[0].upper() + sentence[1:]


def notices_for(alert_id: str, entity_kind: str, entity_key: str, leads: list[LinkedLead], *,
                now: datetime, policy: Policy) -> list[LinkNotice]:
    """One notice per agency holding a lead on the entity that may know of at least one other
    agency's lead on it. Counts only the leads the policy would show its analysts as a hit or
    more."""
    by_agency: dict[Agency, list[LinkedLead]] = defaultdict(list)
    for lead in leads:
        by_agency[lead.agency].append(lead)
    notices = []
    for recipient in [a for a in Agency if a in by_agency]:
        caller = Caller(user_id=f"{recipient.value}:service", name="service",
                        agency=recipient, role=Role.ANALYST)
        holdings = []
        for holder in [a for a in Agency if a in by_agency and a is not recipient]:
            count = sum(
                1 for lead in by_agency[holder]
                if OUTCOME_ORDER[decide(caller, lead.marking(), policy, now=now).outcome]
                >= OUTCOME_ORDER[Outcome.HIT]
            )
            if count:
                holdings.append(Holding(agency=holder.value, agency_label_fr=AGENCY_LABELS_FR[holder],
                                        lead_count=count,
                                        contact_fr=policy.agency(holder).contact_fr))
        if not holdings:
            continue
        notices.append(LinkNotice(
            alert_id=alert_id, agency=recipient.value, entity_kind=entity_kind, entity_key=entity_key,
            own_lead_ids=sorted(lead.lead_id for lead in by_agency[recipient]),
            holdings=holdings, message_fr=holding_message_fr(entity_kind, entity_key, holdings),
        ))
    return notices
