"""The personal-data screen over free text: e-mail addresses, UK telephone numbers and personal
names. Cautious by design: a match holds an entry back for a person to look at; it never
publishes or rewrites anything, so a false alarm costs a review and a miss is what the tests hunt.

What it cannot catch: a name that is neither after a title or a cue word ("contact", "led by"),
nor a listed given name next to another capitalised word (a surname alone, "Okafor's team"); a
number written in words; an address. The review is the last line, not this screen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The lookbehinds start a match only at the beginning of a word: without them a long run of
# letters and hyphens is tried from every position (quadratic: 48 s on a 32,000-character cell).
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+'-])[A-Za-z0-9._%+'-]+\s*(?:@|\(at\)|\[at\])\s*[A-Za-z0-9-]+"
    r"(?:\s*(?:\.|\(dot\)|\[dot\])\s*[A-Za-z0-9-]+)+"
    # Spelt out: "jane dot doe at nhs dot net" (a " dot " after the " at " is required).
    r"|(?<![\w-])[A-Za-z0-9_-]+(?:\s+dot\s+[A-Za-z0-9_-]+)*\s+at\s+[A-Za-z0-9-]+(?:\s+dot\s+[A-Za-z0-9-]+)+\b",
    re.IGNORECASE,
)
# A run of digits with the spacing people type (spaces, hyphens, dots, brackets), 9 or more long.
PHONE_CANDIDATE = re.compile(r"(?<![\w.])\+?\(?\d[\d\s().-]{7,}\d(?![\w])")
# A capitalised word, or one in capitals ("Okafor", "O'Neil", "OKAFOR").
WORD = r"[A-Z][A-Za-z]*(?:['’-][A-Z]?[A-Za-z]+)?"


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
    """Find personal data in free text. A personal name is: a title and a capitalised word ("Dr
    Okafor"); a cue word and one or two capitalised words ("contact Chidi Okafor", "ask Sam"); a
    listed given name and a capitalised word, in either order, in any case ("Jane Okafor",
    "JANE OKAFOR", "Okafor, Jane")."""

    def __init__(self, titles: list[str], given_names: frozenset[str], cues: list[str] = (), not_names: list[str] = ()):
        title_pattern = "|".join(sorted((re.escape(t) for t in titles), key=len, reverse=True))
        self._titled = re.compile(rf"\b(?:{title_pattern})\.?\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)?")
        cue_pattern = "|".join(sorted((re.escape(c).replace(r"\ ", r"\s+") for c in cues), key=len, reverse=True))
        self._cued = re.compile(rf"\b(?i:{cue_pattern})\s*:?\s+({WORD}(?:\s+{WORD})?)\b") if cue_pattern else None
        self._given = {name.casefold() for name in given_names}
        self._not_names = {word.casefold() for word in not_names}
        self._pairs = re.compile(rf"\b({WORD})(,?)\s+({WORD})\b")

    def _cued_name(self, words: str) -> bool:
        """Words after a cue are a name unless one is in capitals (an acronym: "NHS England") or
        a word that names a role or an organisation ("Centre", "Team", "Health")."""
        parts = words.split()
        return not any(p.isupper() or p.casefold() in self._not_names for p in parts)

    def _names(self, text: str, cues: bool = True) -> list[Finding]:
        found, taken = [], []
        for match in self._titled.finditer(text):
            found.append(Finding("personal name", match.group(0)))
            taken.append(match.span())
        if self._cued is not None and cues:
            for match in self._cued.finditer(text):
                if not self._cued_name(match.group(1)):
                    continue
                if not any(start <= match.start(1) < end for start, end in taken):
                    found.append(Finding("personal name", match.group(1)))
                    taken.append(match.span(1))
        position = 0
        while match := self._pairs.search(text, position):
            first, comma, second = match.group(1), match.group(2), match.group(3)
            given = second if comma else first  # "Okafor, Jane": the given name comes second
            inside = any(start <= match.start() < end for start, end in taken)
            if given.casefold() in self._given and not inside:
                found.append(Finding("personal name", match.group(0)))
                position = match.end()
            else:
                position = match.start(3)
        return found

    def findings(self, text: object, cues: bool = True) -> list[Finding]:
        """Every match in `text`, by kind then position (empty for blank text). `cues`: whether
        words after a cue ("contact", "led by") count as a name (not in a field that holds a role)."""
        if text is None or not isinstance(text, str) or not text.strip():
            return []
        found = [Finding("e-mail address", m.group(0)) for m in EMAIL.finditer(text)]
        found += [
            Finding("telephone number", m.group(0).strip())
            for m in PHONE_CANDIDATE.finditer(text)
            if _is_uk_phone(m.group(0))
        ]
        return found + self._names(text, cues)


def screen_for(config) -> PiiScreen:
    """The screen library.yaml describes."""
    return PiiScreen(
        config.pii_screen.titles, config.given_names(), config.pii_screen.name_cues, config.pii_screen.not_names
    )


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
