"""Words to search terms, and terms to keyed tokens: the blind keyword index.

A word is normalised (Unicode NFKC, case-folded, punctuation stripped) and reduced to its
base form by simplemma's lemmatiser for the transcript's language, so "kiitoksia" and
"kiitos", "vuokrasopimuksen" and "vuokrasopimus" are one term (the Snowball stemmer leaves
both pairs apart). A term is stored only as the first 16 bytes of HMAC-SHA256 under the
``transcript_terms`` data key, which is wrapped to the keyring like every data key: the
database alone holds no word and cannot test a guess.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

import simplemma

from storage.fieldcrypt import FieldCipher

DATA_KEY: Final = "transcript_terms"
TOKEN_BYTES: Final = 16
KIND: Final = "transcript-term"
MAX_WORD: Final = 64
# Letters and digits, and the apostrophes and hyphens inside a word ("vuokra-asunto").
WORD: Final = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def normalise(text: str) -> list[str]:
    """The words of ``text``: NFKC, case-folded, without punctuation; over-long runs dropped."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return [w for w in WORD.findall(folded) if len(w) <= MAX_WORD]


@lru_cache(maxsize=65536)
def base_form(word: str, language: str) -> str:
    """The lemma of one normalised word (the word itself when the lemmatiser has none)."""
    try:
        lemma = simplemma.lemmatize(word, lang=language)
    except ValueError:  # a language simplemma does not know: exact words still match
        return word
    return unicodedata.normalize("NFKC", lemma).casefold()


def terms(text: str, language: str) -> list[str]:
    """The base forms in ``text``, in order, repeats kept (a query's words, a segment's)."""
    return [base_form(w, language) for w in normalise(text)]


class TermKey:
    """Turns base forms into the index's tokens."""

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def token(self, term: str) -> bytes:
        """The keyed token of one base form."""
        return self._cipher.blind_index(KIND, term)[:TOKEN_BYTES]

    def tokens(self, found: Iterable[str]) -> list[bytes]:
        """The distinct tokens of ``found``, sorted (an insert in a stable order)."""
        return sorted({self.token(t) for t in found})
