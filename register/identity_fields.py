"""The henkilötunnus and travel-document number at rest: sealed per row, found by blind index.

Each value is encrypted with the row's context (column and customer id), so a ciphertext
copied to another row does not decrypt; an HMAC blind index allows exact lookup.
"""

from __future__ import annotations

import uuid
from typing import Final

from register.validation import CustomerChange
from storage.fieldcrypt import FieldCipher

HETU: Final = "hetu"
DOCUMENT: Final = "travel_document"


def field_context(column: str, customer_id: uuid.UUID) -> str:
    """The associated data that binds an encrypted column value to its row."""
    return f"customers.{column}:{customer_id}"


def identity_columns(
    cipher: FieldCipher, customer_id: uuid.UUID, data: CustomerChange
) -> tuple[bytes | None, bytes | None, bytes | None, bytes | None]:
    """Encrypted value and blind index of the henkilötunnus, then of the travel document."""
    hetu = data.henkilotunnus
    document = data.travel_document
    return (
        cipher.encrypt(hetu.value, field_context(HETU, customer_id)) if hetu else None,
        cipher.blind_index(HETU, hetu.value) if hetu else None,
        cipher.encrypt(document, field_context(DOCUMENT, customer_id)) if document else None,
        cipher.blind_index(DOCUMENT, document.upper()) if document else None,
    )
