"""The console takes permission names and the API's lists from the server (the generated
``/console/vocabulary.js``), never from hand copies, and can name every value in both
languages."""

from __future__ import annotations

import json
import re
from typing import Any, Final

from asyncpg import Pool

from tests.api.sessions import Client, headers_for
from tests.console.text import modules, string_literals, text_tables

ROLE_USERS: Final = ("admin", "customer-service", "trainer", "dpo", "housing-advisor")
NOT_SHOWN: Final = {"permissions", "open_request_statuses"}  # used, never displayed
# Lists the database itself constrains: (table, column) → the vocabulary's list.
CHECKED: Final = {
    ("recordings", "status"): "recording_statuses",
    ("recordings", "direction"): "directions",
    ("contact_log", "channel"): "contact_channels",
    ("contact_log", "direction"): "directions",
    ("contact_log", "topic"): "topics",
    ("subject_requests", "kind"): "request_kinds",
    ("subject_requests", "status"): "request_statuses",
    ("customers", "status"): "customer_statuses",
    ("customer_phones", "kind"): "phone_types",
    ("marketing_preferences", "kind"): "marketing_kinds",
    ("disclosures", "recipient_kind"): "disclosure_recipients",
    ("lease_parties", "role"): "lease_roles",
}


async def served(api: Client) -> dict[str, Any]:
    """The vocabulary module as the browser gets it, read as the JSON it is made of."""
    response = await api.get("/console/vocabulary.js")
    assert response.status == 200
    assert response.content_type == "text/javascript"
    text = await response.text()
    data: dict[str, Any] = json.loads(text[text.index("{") : text.rindex("}") + 1])
    return data


async def test_the_vocabulary_holds_what_the_server_grants(staff_api: Client) -> None:
    vocabulary = await served(staff_api)
    granted: dict[str, set[str]] = {"roles": set(), "permissions": set(), "purposes": set()}
    for user in ROLE_USERS:
        me = await (
            await staff_api.get("/v1/auth/me", headers=await headers_for(staff_api, user))
        ).json()
        for key, values in granted.items():
            values |= set(me[key])
    assert set(vocabulary["permissions"].values()) == granted["permissions"]
    assert set(vocabulary["roles"]) == granted["roles"]
    assert set(vocabulary["purposes"]) == granted["purposes"]
    assert set(vocabulary["open_request_statuses"]) < set(vocabulary["request_statuses"])


async def test_the_vocabulary_matches_the_databases_constraints(
    staff_api: Client, pool: Pool
) -> None:
    vocabulary = await served(staff_api)
    rows = await pool.fetch(
        "SELECT conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def"
        " FROM pg_constraint WHERE contype = 'c'"
    )
    for (table, column), name in CHECKED.items():
        allowed = [
            set(re.findall(r"'([^']*)'::text", row["def"]))
            for row in rows
            if row["tbl"] == table and re.search(rf"\(\(?{column} = ANY", row["def"])
        ]
        assert allowed == [set(vocabulary[name])], (table, column)


async def test_every_listed_value_has_a_name_in_both_languages(staff_api: Client) -> None:
    vocabulary = await served(staff_api)
    for language, table in text_tables().items():
        names = table["names"]
        assert isinstance(names, dict)
        for name, values in vocabulary.items():
            if name in NOT_SHOWN:
                continue
            named = names.get(name)
            assert isinstance(named, dict), (language, name)
            assert set(named) == set(values), (language, name)


async def test_no_module_copies_a_permission_name_or_a_list_by_hand(staff_api: Client) -> None:
    vocabulary = await served(staff_api)
    permissions = vocabulary["permissions"]
    values = {v for name, vs in vocabulary.items() if name != "permissions" for v in vs}
    for name, source in modules().items():
        if name == "i18n.js":  # its tables are keyed by the values, which is the point
            continue
        literals = set(string_literals(source))
        assert literals.isdisjoint(permissions.values()), name
        for array in re.findall(r"\[([^\[\]]*)\]", source):
            members = string_literals(array)
            assert len(members) < 2 or not set(members) <= values, (name, array)
        used = set(re.findall(r"\bP\.([A-Z_]+)", source))
        assert used <= set(permissions), (name, used - set(permissions))
