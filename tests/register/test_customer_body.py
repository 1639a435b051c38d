"""The customer body as models: the error paths the console places beside its fields, no
echo of a henkilötunnus, null rules of an update, and the schema the API description shows."""

from __future__ import annotations

import json
from typing import Any, Final

import pytest

from api.openapi import document
from common.errors import ValidationProblem
from common.models import validate_body
from register.validation import CUSTOMER_ROLES, CustomerChange, NewCustomer
from tests.register.samples import maija

# Not the sample of the format message (131052-308T), so that an echo cannot hide in it.
HETU: Final = "010195+433X"
WRONG_HETU: Final = "010195+433Y"


def errors_of(body: dict[str, Any], model: type[CustomerChange] = NewCustomer) -> dict[str, str]:
    with pytest.raises(ValidationProblem) as caught:
        validate_body(body, model)
    return {e["field"]: e["message"] for e in caught.value.errors}


def test_items_are_named_by_index_and_lists_checked_whole_are_named_as_lists() -> None:
    errors = errors_of(
        maija(
            roles=["tenant", "landlord"],
            emails=["maija@example.fi", "no-at-sign"],
            phones=[{"number": "+358401234567"}, "0401234567", {"type": "mobile"}],
            addresses=[
                {"street": "Toinen linja 14", "postal_code": "530", "city": "Helsinki"},
                "Toinen linja 14",
                {
                    "street": "Storgatan 1",
                    "postal_code": "1234567890123",
                    "city": "Malmö",
                    "country": "SE",
                },
                {
                    "street": "Storgatan 1",
                    "postal_code": "111 22",
                    "city": "Malmö",
                    "country": "se",
                },
            ],
        )
    )
    assert errors == {
        "roles": f"a non-empty list of: {', '.join(CUSTOMER_ROLES)}",
        "emails": "a list of at most 10 e-mail addresses",
        "phones[1]": "an object with number and type",
        "phones[2]": "an object with number and type",
        "addresses[0].postal_code": "five digits, like 00530",
        "addresses[1]": "an object with street, postal_code and city",
        "addresses[2].postal_code": "five digits, like 00530",
        "addresses[3].country": "a two-letter country code like FI",
    }


def test_a_good_body_is_normalised() -> None:
    customer = validate_body(
        maija(
            roles=["tenant", "applicant", "tenant"],
            emails=["Maija@Example.FI", "maija@example.fi"],
            phones=[{"number": "040 123 4567"}, {"number": "+358401234567", "type": "work"}],
            addresses=[
                {"street": "Storgatan 1", "postal_code": "111 22", "city": "Malmö", "country": "SE"}
            ],
        ),
        NewCustomer,
    )
    assert customer.roles == ["applicant", "tenant"]
    assert customer.emails == ["maija@example.fi"]
    assert [(p.number, p.type) for p in customer.phones] == [("+358401234567", "work")]
    assert customer.henkilotunnus is not None
    assert customer.henkilotunnus.birth_date.isoformat() == "1952-10-13"  # maija's
    assert (customer.language, customer.status, customer.turvakielto) == ("fi", "active", False)


@pytest.mark.parametrize(
    "body",
    [
        maija(henkilotunnus=WRONG_HETU),
        maija(henkilotunnus=WRONG_HETU.replace("-", "Q")),
        maija(henkilotunnus=[HETU]),
        maija(customer_number=HETU + " x", first_name=HETU * 9, travel_document=HETU * 5),
        maija(roles=[HETU], emails=[HETU], phones=[{"number": HETU}], language=HETU),
        maija(addresses=[{"street": HETU, "postal_code": HETU, "city": HETU, "country": HETU}]),
        maija(turvakielto=HETU, turvakielto_start=HETU, assigned_advisor=[HETU]),
    ],
)
def test_no_error_repeats_the_value_sent(body: dict[str, Any]) -> None:
    errors = errors_of(body)
    assert errors
    said = json.dumps(errors)
    assert "010195" not in said
    assert "433" not in said


def test_an_update_refuses_null_for_what_every_customer_has_and_clears_the_rest() -> None:
    for name in ("customer_number", "first_name", "roles", "language", "status", "turvakielto"):
        assert list(errors_of({name: None}, CustomerChange)) == [name]
    change = validate_body(
        {"henkilotunnus": None, "phones": None, "assigned_advisor": None}, CustomerChange
    )
    assert change.present == {"henkilotunnus", "phones", "assigned_advisor"}
    assert (change.henkilotunnus, change.phones, change.assigned_advisor) == (None, [], None)
    assert validate_body({}, CustomerChange).present == set()
    created = validate_body(maija(language=None, turvakielto=None), NewCustomer)
    assert (created.language, created.turvakielto) == ("fi", False)
    assert errors_of(maija(first_name=None)) == {"first_name": "required"}


def test_the_api_description_shows_the_customer_models() -> None:
    described = document()
    schemas = described["components"]["schemas"]
    new, change = schemas["NewCustomer"], schemas["CustomerChange"]
    assert set(new["required"]) == {"customer_number", "first_name", "last_name", "roles"}
    assert "required" not in change
    assert new["additionalProperties"] is change["additionalProperties"] is False
    assert new["properties"]["roles"]["items"]["enum"] == list(CUSTOMER_ROLES)
    assert "131052-308T" in new["properties"]["henkilotunnus"]["anyOf"][0]["description"]
    body = described["paths"]["/v1/customers"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/NewCustomer")
    patch = described["paths"]["/v1/customers/{id}"]["patch"]["requestBody"]
    assert patch["content"]["application/json"]["schema"]["$ref"].endswith("/CustomerChange")
