"""Maps and the report: drawn from the published baseline, so they show only what may be shown."""

from dataclasses import dataclass

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from tipipeline.assets.metadata import maps_markdown
from tipipeline.framework import load_framework
from tipipeline.framework.catalogue import load_indicator_catalogue, score_indicators
from tipipeline.ingest.codebook import load_codebook
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource, WarehouseResource
from tipipeline.warehouse import connection

# geopandas and matplotlib are imported inside the assets: the code server loads the definitions
# often (every reload), and drawing is needed only when these assets run.

MAPPED_INDICATORS = "ti_index_mean"
BOUNDARY_ASSETS = ["borough_boundaries", "bcu_boundaries", "icb_boundaries"]


def _warehouse_boundaries(warehouse: WarehouseResource):
    """The boundary tables the `boundaries` assets wrote (geometry, mode, attribution): the maps
    draw what the warehouse holds, never the boundary file read again. Both assets that call this
    run in the `duckdb_write` pool: the working warehouse is opened by one process at a time."""
    from tipipeline.ingest.boundaries import read_warehouse_boundaries

    with warehouse.get_connection() as conn:
        return read_warehouse_boundaries(conn)


@dataclass(frozen=True)
class _Planned:
    boundaries: object
    survey: list
    outcomes: list


def _planned_maps(settings, warehouse: WarehouseResource, report: bool = False) -> _Planned:
    """The maps planned from the published baseline (nothing drawn): every map for the `maps` asset;
    with `report`, the report's (the latest wave's partnership maps, the outcome small multiples)."""
    from tipipeline.report.data import load_evidence_data
    from tipipeline.viz.atlas import ALL_LAYERS, plan_maps
    from tipipeline.viz.outcome_maps import measure_order, plan_outcome_maps

    framework = load_framework()
    reference = load_reference()
    boundaries = _warehouse_boundaries(warehouse)
    with connection(settings.baseline_path, read_only=True) as conn:
        cells = conn.execute("SELECT * FROM indicators WHERE source = 'survey'").df()
        evidence = load_evidence_data(conn)
    if report:
        cells = cells[cells["wave"] == max(cells["wave"])]
    catalogue = load_indicator_catalogue(framework)
    layers = ("partnership",) if report else ALL_LAYERS
    survey = plan_maps(cells, catalogue, boundaries, reference, score_indicators(framework), layers)
    outcomes = []
    if evidence is not None:
        outcomes = plan_outcome_maps(
            evidence.cells, evidence.catalogue, boundaries, reference, measure_order(), each=not report
        )
    return _Planned(boundaries, survey, outcomes)


@asset(
    group_name="outputs",
    description="Choropleth maps per wave for the index and each domain's mean score: councils by borough, police by "
    "BCU, health by ICB, and the borough partnership (three panels); and the latest wave's outcome maps: each "
    "borough's rate of each violence outcome in the 12 months before it, compared with London, one map per outcome "
    "and the all-ages outcomes side by side. Drawn from the boundary tables in the warehouse: geographic from a "
    "boundary file (with its Crown copyright attribution), the London tile grid otherwise. PNGs in "
    "`outputs/maps/{wave}/` (outcomes in `outputs/maps/{wave}/outcomes/`); identical bytes for the same inputs. "
    "The latest wave's index maps are shown under `latest_index_maps`, its outcome maps under `latest_outcome_maps`.",
    kinds={"matplotlib", "geopandas"},
    owners=["team:tipipeline"],
    code_version="3",
    pool="duckdb_write",
    tags={"layer": "outputs"},
    deps=["published_baseline", *BOUNDARY_ASSETS],
)
def maps(context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource) -> MaterializeResult:
    from tipipeline.viz.outcome_maps import SMALL_MULTIPLES
    from tipipeline.viz.plates import draw_planned

    settings = paths.settings
    planned = _planned_maps(settings, warehouse)
    folder = settings.output_dir / "maps"
    drawn_records, drawn = draw_planned(planned.survey + planned.outcomes, folder)
    records, outcome_records = drawn_records[: len(planned.survey)], drawn_records[len(planned.survey) :]
    boundaries = planned.boundaries
    latest = max(r.wave for r in records)
    shown = [r for r in records if r.wave == latest and r.indicator_id == MAPPED_INDICATORS]
    folder = folder.resolve()
    metadata = {
        "maps": len(records),
        "outcome_maps": len(outcome_records),
        "mode": boundaries.mode,
        "attribution": boundaries.attribution or "none: the built-in tile grid",
        "folder": MetadataValue.path(str(folder)),
        "folder_link": MetadataValue.url(folder.as_uri()),
        # One entry, the maps at full size: see tipipeline.assets.metadata for why they are behind a link.
        "latest_index_maps": MetadataValue.md(maps_markdown(shown)),
    }
    outcome_shown = [r for r in outcome_records if r.indicator_id == SMALL_MULTIPLES]
    if outcome_shown:
        metadata["latest_outcome_maps"] = MetadataValue.md(maps_markdown(outcome_shown))
    metadata["drawn_now"] = drawn  # the others were already in the folder, drawn from the same content
    context.log.info(
        f"{len(records)} maps and {len(outcome_records)} outcome maps ({boundaries.mode}): {drawn} drawn, "
        f"{len(drawn_records) - drawn} unchanged"
    )
    return MaterializeResult(metadata=metadata)


@asset(
    group_name="outputs",
    description="The baseline report: one self-contained HTML file (`outputs/report/baseline.html`) with summary, "
    "framework, data and methods, indicators by domain with maps and tables, journey and roadmap, borough partnership "
    "profiles, promising practice, the evidence base (with outcome maps) and caveats. Every image has alt text and "
    "its data table.",
    kinds={"html"},
    owners=["team:tipipeline"],
    code_version="3",
    pool="duckdb_write",
    tags={"layer": "outputs"},
    deps=["maps", "published_baseline", *BOUNDARY_ASSETS],
)
def baseline_report(
    context: AssetExecutionContext, paths: PathsResource, warehouse: WarehouseResource
) -> MaterializeResult:
    from tipipeline.report.content import build_report
    from tipipeline.viz.plates import draw_planned
    from tipipeline.viz.style import write_atomically

    settings = paths.settings
    framework = load_framework()
    codebook = load_codebook(settings.codebook_path)
    # Only the latest wave's partnership maps and the outcome small multiples go in the report. They
    # are the pictures the `maps` asset drew, read from its folder when the folder's record says they
    # were drawn from exactly this content (else drawn here, in memory): never a stale file.
    planned = _planned_maps(settings, warehouse, report=True)
    records, drawn = draw_planned(planned.survey + planned.outcomes, settings.output_dir / "maps", write=False)
    with connection(settings.baseline_path, read_only=True) as conn:
        html_text, figures = build_report(
            conn, records, framework, codebook.synthetic, framework.disclosure.min_cell_size
        )
    path = settings.output_dir / "report" / "baseline.html"
    write_atomically(path, html_text.encode("utf-8"))
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(path)),
            # A file:// link: browsers may refuse to open it from the UI's http page; the path copies.
            "link": MetadataValue.url(path.resolve().as_uri()),
            "size_bytes": len(html_text.encode("utf-8")),
            "figures": len(figures),
            "maps_from_maps_asset": len(records) - drawn,  # the rest drawn here: their files were stale
        }
    )


@asset(
    group_name="outputs",
    description="Journey reports (issue 16): one self-contained HTML page per partner in outputs/journeys/ (each "
    "council, the MPS, each ICB, and each BCU whose figures disclosure control lets through), an index page linking "
    "them, and the practice library page (filterable by principle, domain, sector, borough and evidence level; "
    "works from the file, without a server). Made from the published baseline only; withheld values appear as [c].",
    kinds={"html"},
    owners=["team:tipipeline"],
    code_version="1",
    pool="duckdb_write",
    tags={"layer": "outputs"},
    deps=["published_baseline"],
)
def journey_reports(context: AssetExecutionContext, paths: PathsResource) -> MaterializeResult:
    from tipipeline.practice.config import load_library_config
    from tipipeline.report.journey_pages import build_journey_pages
    from tipipeline.report.journeys import INDEX_PAGE
    from tipipeline.viz.style import write_atomically

    settings = paths.settings
    codebook = load_codebook(settings.codebook_path)
    with connection(settings.baseline_path, read_only=True) as conn:
        pages = build_journey_pages(conn, load_framework(), load_library_config(), codebook.synthetic)
    folder = settings.output_dir / "journeys"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in sorted(set(p.name for p in folder.glob("*.html")) - set(pages)):
        (folder / stale).unlink()  # a partner no longer reported on: its old page must not linger
    for name, html_text in sorted(pages.items()):
        write_atomically(folder / name, html_text.encode("utf-8"))
    index = folder / INDEX_PAGE
    context.log.info(f"{len(pages) - 2} journey reports, the index and the practice library in {folder}")
    return MaterializeResult(
        metadata={
            "reports": len(pages) - 2,
            "index": MetadataValue.path(str(index)),
            "link": MetadataValue.url(index.resolve().as_uri()),
        }
    )


report_assets = [maps, baseline_report, journey_reports]
