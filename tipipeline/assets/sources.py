"""Inputs as observable source assets: each wave folder's exports, the codebook, the policy
audits, the boundary file, the framework and the reference data, versioned by content hash.

The `survey_inputs_sensor` (automation.py) reports a new observation whenever a version changes;
the UI then shows which input changed and what is stale, and declarative automation re-runs what
depends on it. "Observe sources" in the UI does the same by hand."""

from __future__ import annotations

from dagster import (
    AssetObservation,
    DataVersion,
    DataVersionsByPartition,
    MetadataValue,
    ObserveResult,
    observable_source_asset,
)

from tipipeline import inputs
from tipipeline.partitions import survey_waves
from tipipeline.resources import PathsResource
from tipipeline.settings import Settings

GROUP = "inputs"
DESCRIPTIONS = {
    inputs.RAW_CODEBOOK: "The survey instrument, data/raw/surveys/codebook.yaml.",
    inputs.RAW_POLICY_AUDITS: "The policy-document audit files (.csv, .xlsx) in data/raw/policy_audit/.",
    inputs.RAW_OUTCOMES: "Violence outcomes and denominators as published (MPS borough crime, OHID Fingertips exports, "
    "ONS population estimates) in data/raw/outcomes/.",
    inputs.RAW_DEFINITION: "The London definition's consensus panel in data/raw/definition/: the protocol "
    "(definition.yaml), the candidate statements (statements.yaml), the panel file and each round's exports.",
    inputs.RAW_PRACTICE: "The practice library in data/raw/practice/: the submission form's exports (submissions/) "
    "and the reviewers' decisions (reviews.csv).",
    inputs.RAW_WORKFORCE: "The partners' workforce figures in data/raw/workforce/: templates (.csv, .xlsx) and the "
    "Home Office police workforce tables (.ods).",
    inputs.RAW_BOUNDARIES: "The boundary file in data/boundaries/ (none: the built-in London tile grid).",
    inputs.FRAMEWORK_FILES: "The measurement framework and indicator catalogue (tipipeline/framework/*.yaml), and the "
    "outcome mapping and outcome indicators (tipipeline/outcomes/*.yaml).",
    inputs.REFERENCE_FILES: "London's geography and organisations (tipipeline/reference/*.csv) and the staff groups "
    "(tipipeline/reference/staff_groups.yaml).",
}


def input_metadata(version: inputs.InputVersion) -> dict:
    """What an observation shows: each file and its SHA-256."""
    return {"files": MetadataValue.md("\n".join(f"- `{n}`: {s}" for n, s in version.files.items()) or "none")}


def observation(key: str, version: inputs.InputVersion, partition: str | None = None) -> AssetObservation:
    """An observation of an input at `version` (the tag Dagster reads a data version from)."""
    return AssetObservation(
        key,
        partition=partition,
        tags={"dagster/data_version": version.version},
        metadata=input_metadata(version),
    )


def _unpartitioned_source(key: str):
    @observable_source_asset(name=key, group_name=GROUP, description=DESCRIPTIONS[key])
    def _source(paths: PathsResource) -> ObserveResult:
        version = inputs.input_versions(paths.settings)[key]
        return ObserveResult(data_version=DataVersion(version.version), metadata=input_metadata(version))

    return _source


@observable_source_asset(
    name=inputs.RAW_SURVEY_WAVE,
    group_name=GROUP,
    partitions_def=survey_waves,
    description="The survey export files (.csv, .xlsx) in one wave folder under data/raw/surveys/; a file added, "
    "removed or replaced changes the wave's version and re-runs it.",
)
def raw_survey_wave(paths: PathsResource) -> DataVersionsByPartition:
    return DataVersionsByPartition(
        {wave: DataVersion(v.version) for wave, v in inputs.wave_versions(paths.settings).items()}
    )


def observations(
    settings: Settings, known_waves: set[str], last: dict[str, str], settle: bool = True
) -> tuple[list, dict[str, str]]:
    """Observations of every input whose version differs from `last` (name -> version; wave
    partitions as `raw_survey_wave[wave]`), for the waves in `known_waves`, and the new versions.
    `settle`: leave a wave whose files changed in the last seconds (still being copied) for later."""
    current = {key: v for key, v in inputs.input_versions(settings).items()}
    events, versions = [], {}
    for key, version in current.items():
        versions[key] = version.version
        if last.get(key) != version.version:
            events.append(observation(key, version))
    for wave, version in inputs.wave_versions(settings).items():
        if wave not in known_waves or (settle and not inputs.settled(settings, wave)):
            # Registered this tick (observed once its partition exists), or still being copied in.
            continue
        name = f"{inputs.RAW_SURVEY_WAVE}[{wave}]"
        versions[name] = version.version
        if last.get(name) != version.version:
            events.append(observation(inputs.RAW_SURVEY_WAVE, version, partition=wave))
    return events, versions


source_assets = [raw_survey_wave, *(_unpartitioned_source(key) for key in DESCRIPTIONS)]
