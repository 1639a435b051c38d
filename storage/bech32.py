"""Bech32 (BIP 173) encoding, as age uses it for X25519 identities and recipients.

age uses plain Bech32 (not Bech32m) without BIP 173's 90-character limit, so keys written
here are the same strings the stock ``age`` tool prints and reads.
"""

from __future__ import annotations

from typing import Final

_CHARSET: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR: Final = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


class Bech32Error(ValueError):
    """The string is not valid Bech32 or has an unexpected prefix."""


def _polymod(values: list[int]) -> int:
    checksum = 1
    for value in values:
        top = checksum >> 25
        checksum = (checksum & 0x1FFFFFF) << 5 ^ value
        for i, generator in enumerate(_GENERATOR):
            if (top >> i) & 1:
                checksum ^= generator
    return checksum


def _expand_hrp(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    max_value = (1 << to_bits) - 1
    for value in data:
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & max_value)
    if pad and bits:
        out.append((acc << (to_bits - bits)) & max_value)
    elif not pad and (bits >= from_bits or (acc << (to_bits - bits)) & max_value):
        raise Bech32Error("invalid padding")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode ``data`` under the human-readable prefix ``hrp`` (lower case)."""
    words = _convert_bits(data, 8, 5, pad=True)
    checksum = _polymod([*_expand_hrp(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    words += [(checksum >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[w] for w in words)


def decode(expected_hrp: str, text: str) -> bytes:
    """Decode ``text``, requiring the prefix ``expected_hrp``; either case is accepted."""
    if text != text.lower() and text != text.upper():
        raise Bech32Error("mixed case")
    text = text.lower()
    hrp, sep, rest = text.rpartition("1")
    if not sep or hrp != expected_hrp or len(rest) < 6:
        raise Bech32Error(f"expected a {expected_hrp!r} key")
    try:
        words = [_CHARSET.index(c) for c in rest]
    except ValueError:
        raise Bech32Error("invalid character") from None
    if _polymod([*_expand_hrp(hrp), *words]) != 1:
        raise Bech32Error("bad checksum")
    return bytes(_convert_bits(words[:-6], 5, 8, pad=False))
