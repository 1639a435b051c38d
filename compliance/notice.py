"""Build a register's privacy notice from the live facts, in the seed documents' sections.

The sections follow the Finnish register descriptions (rekisteriseloste) the seeds show:
controller, contact person, name of the register, purposes and legal basis, data content,
sources, regular disclosures, transfers outside the EU/EEA, protection, retention, the data
subject's rights, and the right to complain. Retention and rights are worded by
``rights.wording``, which the access copy uses too.
"""

from __future__ import annotations

from compliance.content import (
    RETENTION_OF,
    Facts,
    access_lines,
    content_notes,
    data_items,
    disclosure_kinds,
    goals,
    security_lines,
)
from compliance.document import (
    Block,
    Bullets,
    Missing,
    Notice,
    Para,
    Section,
    bullets,
    known,
    line,
    paras,
)
from compliance.organisation import Party
from compliance.texts import say
from rights.wording import (
    HEADINGS,
    Language,
    how_to_ask,
    legal_hold_sentence,
    retention_sentences,
    rights,
)


def _controller(facts: Facts, language: Language) -> Section:
    org = facts.organisation
    return Section(
        "controller",
        say(language, "h_controller"),
        (
            Para(line(known(org.controller_name, "controller.name"))),
            Para(
                line(f"{say(language, 'y_tunnus')}: ", known(org.y_tunnus, "controller.y_tunnus"))
            ),
            Para(line(f"{say(language, 'address')}: ", known(org.address, "controller.address"))),
            Para(line(f"{say(language, 'contact')}: ", known(org.contact, "controller.contact"))),
        ),
    )


def _contact(facts: Facts, language: Language) -> Section:
    org = facts.organisation
    who = say(language, "dpo") + (f": {org.dpo_name}" if org.dpo_name else "")
    return Section(
        "contact",
        say(language, "h_contact"),
        (
            Para(line(who)),
            Para(line(f"{say(language, 'contact')}: ", known(org.dpo_contact, "dpo.contact"))),
            *paras(say(language, "dpo_help")),
        ),
    )


def _parties(parties: list[Party] | None, key: str, language: Language) -> tuple[Block, ...]:
    """A lead-in and one item per party; a visible mark when the profile lacks them."""
    if parties is None:
        return (Para(line(say(language, key), " ", Missing(key))),)
    if not parties:
        return paras(say(language, f"{key}.none"))
    items = tuple(line(f"{p.name}: {p.role.read(language)}") for p in parties)
    return (*paras(say(language, key)), Bullets(items))


def _disclosures(register: str, facts: Facts, language: Language) -> Section:
    org = facts.organisation
    blocks = [
        *_parties(org.for_register(org.recipients, register), "recipients", language),
        *_parties(org.for_register(org.processors, register), "processors", language),
    ]
    if register == "customers":
        kinds = disclosure_kinds(facts, language)
        if kinds:
            blocks += [*paras(say(language, "disclosure_log")), bullets(kinds)]
        else:
            blocks += paras(say(language, "disclosure_log.none"))
        blocks += paras(say(language, "disclosure_log.every"))
    return Section("disclosures", say(language, "h_disclosures"), tuple(blocks))


def _transfers(register: str, facts: Facts, language: Language) -> Section:
    org = facts.organisation
    heading = say(language, "h_transfers")
    if org.source is None:  # no profile at all: nobody has said there are none
        return Section("transfers", heading, (Para(line(Missing("transfers"))),))
    mine = [t for t in org.transfers if register in t.registers]
    if not mine:
        return Section("transfers", heading, paras(say(language, "transfers.none")))
    items = tuple(line(f"{t.recipient} ({t.country}): {t.safeguard.read(language)}") for t in mine)
    return Section("transfers", heading, (*paras(say(language, "transfers")), Bullets(items)))


def _rights(register: str, facts: Facts, language: Language) -> tuple[Section, Section]:
    org = facts.organisation
    listed = rights(language, facts.settings.subject_request_due_days)
    blocks: list[Block] = []
    for right in listed:
        if right.key != "complaint":
            blocks += paras(f"{right.heading}. {right.text}")
    if register == "call_recordings":
        blocks += paras(say(language, "rights_staff"))
    blocks += paras(how_to_ask(language))
    contact = org.dpo_contact or org.contact
    field = "dpo.contact" if org.dpo_contact or not org.contact else "controller.contact"
    blocks.append(Para(line(f"{say(language, 'rights_contact')} ", known(contact, field))))
    complaint = next(r for r in listed if r.key == "complaint")
    return (
        Section("rights", HEADINGS[language]["rights"], tuple(blocks)),
        Section("complaint", say(language, "h_complaint"), paras(complaint.text)),
    )


def build_notice(register: str, facts: Facts, language: Language) -> Notice:
    """The privacy notice of ``register`` (``call_recordings`` or ``customers``)."""
    name = say(language, f"register.{register}")
    sources = [say(language, f"sources.{register}")]
    if register == "call_recordings":
        sources.append(say(language, "notice_at_start"))
    retention = retention_sentences(facts.settings, language, RETENTION_OF[register])
    sections = (
        _controller(facts, language),
        _contact(facts, language),
        Section("name", say(language, "h_name"), paras(name)),
        Section(
            "purpose",
            say(language, "h_purpose"),
            (bullets(goals(register, language)), *paras(say(language, f"basis.{register}"))),
        ),
        Section(
            "content",
            say(language, "h_content"),
            (
                *paras(say(language, f"subjects.{register}")),
                bullets(data_items(register, facts, language)),
                *paras(*content_notes(register, facts, language)),
            ),
        ),
        Section("sources", say(language, "h_sources"), paras(*sources)),
        _disclosures(register, facts, language),
        _transfers(register, facts, language),
        Section(
            "protection",
            say(language, "h_protection"),
            (
                bullets(
                    access_lines(register, language) + security_lines(register, facts, language)
                ),
            ),
        ),
        Section(
            "retention",
            HEADINGS[language]["retention"],
            (bullets(retention), *paras(legal_hold_sentence(language))),
        ),
        *_rights(register, facts, language),
    )
    return Notice(
        register=register,
        language=language,
        title=f"{say(language, 'title')}: {name}",
        intro=say(language, "intro"),
        generated_at=facts.generated_at,
        sections=sections,
    )
