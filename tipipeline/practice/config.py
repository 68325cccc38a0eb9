"""The practice library's rules as validated data (`library.yaml` beside this module)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError, model_validator

from tipipeline.errors import format_pydantic_error, read_yaml_mapping

LIBRARY_CONFIG = Path(__file__).with_name("library.yaml")
GIVEN_NAMES = Path(__file__).with_name("given_names.txt")
Identifier = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
FORM_FIELDS = (
    "response_id",
    "submitted_at",
    "title",
    "organisation",
    "service_area",
    "principles",
    "domains",
    "boroughs",
    "what_it_does",
    "who_it_is_for",
    "evidence_of_effect",
    "contact_role",
    "consent",
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FormField(_Strict):
    required: bool
    columns: list[Text]


class EvidenceLevel(_Strict):
    id: Identifier
    name: Text
    description: Text


class EvidenceScale(_Strict):
    name: Text
    source: Text
    levels: list[EvidenceLevel]


class PiiScreenConfig(_Strict):
    titles: list[Text]
    given_names_file: Text
    name_cues: list[Text]
    not_names: list[Text]


class LibraryConfig(_Strict):
    form: dict[str, FormField]
    free_text: list[str]
    list_separators: list[str]
    consent_yes: list[Text]
    consent_no: list[Text]
    review_states: dict[Identifier, Text]
    published_state: Identifier
    evidence_scale: EvidenceScale
    pii_screen: PiiScreenConfig
    sha256: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> LibraryConfig:
        missing = [name for name in FORM_FIELDS if name not in self.form]
        unknown = [name for name in self.form if name not in FORM_FIELDS]
        if missing or unknown:
            raise ValueError(f"@form: missing fields {missing}, unknown fields {unknown}; the form has {FORM_FIELDS}")
        if bad := [name for name in self.free_text if name not in self.form]:
            raise ValueError(f"@free_text: {bad} are not form fields")
        if self.published_state not in self.review_states:
            raise ValueError(f"@published_state: {self.published_state!r} is not one of the review_states")
        if "submitted" not in self.review_states:
            raise ValueError("@review_states: must include submitted (the state of an entry nobody has reviewed)")
        ids = [level.id for level in self.evidence_scale.levels]
        if len(set(ids)) != len(ids) or not ids:
            raise ValueError("@evidence_scale.levels: level ids must be unique, and there must be at least one")
        if overlap := {v.casefold() for v in self.consent_yes} & {v.casefold() for v in self.consent_no}:
            raise ValueError(f"@consent_no: {sorted(overlap)} are also consent_yes answers")
        return self

    @property
    def level_names(self) -> dict[str, str]:
        """Evidence level id -> its name, in the scale's order."""
        return {level.id: level.name for level in self.evidence_scale.levels}

    def given_names(self, path: Path = LIBRARY_CONFIG) -> frozenset[str]:
        """The screening list of given names (one per line; # comments)."""
        lines = path.with_name(self.pii_screen.given_names_file).read_text(encoding="utf-8").splitlines()
        return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def load_library_config(path: str | Path = LIBRARY_CONFIG) -> LibraryConfig:
    """Read and validate library.yaml (ConfigError naming the field when it is wrong)."""
    path = Path(path)
    raw, raw_bytes = read_yaml_mapping(path, "practice library rules")
    try:
        loaded = LibraryConfig.model_validate(raw)
    except ValidationError as exc:
        raise format_pydantic_error(path, exc) from exc
    return loaded.model_copy(update={"sha256": hashlib.sha256(raw_bytes).hexdigest()})
