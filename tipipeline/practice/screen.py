"""The personal-data screen over free text: e-mail addresses, UK telephone numbers and personal
names. Cautious by design: a match holds an entry back for a person to look at; it never
publishes or rewrites anything, so a false alarm costs a review and a miss is what the tests hunt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EMAIL = re.compile(
    r"[A-Za-z0-9._%+'-]+\s*(?:@|\(at\)|\[at\])\s*[A-Za-z0-9-]+(?:\s*(?:\.|\(dot\)|\[dot\])\s*[A-Za-z0-9-]+)+"
)
# A run of digits with the spacing people type (spaces, hyphens, dots, brackets), 9 or more long.
PHONE_CANDIDATE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{7,}\d(?![\w])")
CAPITALISED = r"[A-Z][a-z]+(?:['’-][A-Z]?[a-z]+)?"


@dataclass(frozen=True)
class Finding:
    """One match: what kind of personal data it looks like and the words matched."""

    kind: str  # e-mail address, telephone number, personal name
    text: str


def _is_uk_phone(candidate: str) -> bool:
    """A UK number: 10 or 11 digits starting 0 (01/02/03/07/08), or +44 / 0044 and 9-10 more."""
    digits = re.sub(r"\D", "", candidate)
    if digits.startswith("0044"):
        digits = "0" + digits[4:]
    elif candidate.lstrip("(").startswith("+44") or (digits.startswith("44") and len(digits) in (11, 12)):
        digits = "0" + digits[2:].lstrip("0")
    return digits.startswith("0") and len(digits) in (10, 11) and digits[1] in "123789"


class PiiScreen:
    """Find personal data in free text. `titles` mark a name when a capitalised word follows
    ("Dr Okafor"); a given name counts when a capitalised word follows it ("Jane Okafor")."""

    def __init__(self, titles: list[str], given_names: frozenset[str]):
        title_pattern = "|".join(sorted((re.escape(t) for t in titles), key=len, reverse=True))
        self._titled = re.compile(rf"\b(?:{title_pattern})\.?\s+{CAPITALISED}(?:\s+{CAPITALISED})?")
        self._given = given_names
        self._two_words = re.compile(rf"\b({CAPITALISED})\s+({CAPITALISED})\b")

    def findings(self, text: object) -> list[Finding]:
        """Every match in `text`, in order of kind then position (empty for blank text)."""
        if text is None or not isinstance(text, str) or not text.strip():
            return []
        found = [Finding("e-mail address", m.group(0)) for m in EMAIL.finditer(text)]
        found += [
            Finding("telephone number", m.group(0).strip())
            for m in PHONE_CANDIDATE.finditer(text)
            if _is_uk_phone(m.group(0))
        ]
        titled = [m for m in self._titled.finditer(text)]
        found += [Finding("personal name", m.group(0)) for m in titled]
        taken = [m.span() for m in titled]
        # overlapped=True in spirit: "Jane Okafor Smith" is one finding; scanning pairs from each word.
        position = 0
        while match := self._two_words.search(text, position):
            inside = any(start <= match.start() < end for start, end in taken)
            if match.group(1) in self._given and not inside:
                found.append(Finding("personal name", match.group(0)))
                position = match.end()
            else:
                position = match.start(2)
        return found


def held_back(findings: list[Finding], cleared: set[str]) -> list[Finding]:
    """The findings a reviewer has not cleared as not personal data (matched with case ignored)."""
    cleared_keys = {c.strip().casefold() for c in cleared if c.strip()}
    return [f for f in findings if f.text.strip().casefold() not in cleared_keys]


def describe(findings: list[Finding]) -> str:
    """The kinds found, with counts, for a reason that does not repeat the personal data itself."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.kind] = counts.get(finding.kind, 0) + 1
    return ", ".join(f"{kind} ({count})" for kind, count in counts.items())
