"""Maps and the report: drawn from the published baseline, so they show only what may be shown."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from tipipeline.framework import load_framework
from tipipeline.framework.catalogue import load_indicator_catalogue, score_indicators
from tipipeline.ingest.codebook import load_codebook
from tipipeline.metadata import maps_markdown
from tipipeline.reference import load_reference
from tipipeline.resources import PathsResource
from tipipeline.warehouse import connection

# geopandas and matplotlib are imported inside the assets: the code server loads the definitions
# often (every reload), and drawing is needed only when these assets run.

MAPPED_INDICATORS = "ti_index_mean"


@asset(
    group_name="outputs",
    description="Choropleth maps per wave for the index and each domain's mean score: councils by borough, police by "
    "BCU, health by ICB, and the borough partnership (three panels). Geographic with a boundary file, the London tile "
    "grid otherwise. PNGs in `outputs/maps/{wave}/`; identical bytes for the same inputs. The latest wave's index maps "
    "are shown under `latest_index_maps`.",
    kinds={"matplotlib", "geopandas"},
    owners=["team:tipipeline"],
    code_version="1",
    tags={"layer": "outputs"},
    deps=["published_baseline", "borough_boundaries", "bcu_boundaries", "icb_boundaries"],
)
def maps(context: AssetExecutionContext, paths: PathsResource) -> MaterializeResult:
    from tipipeline.ingest.boundaries import load_boundaries
    from tipipeline.viz.atlas import build_maps

    settings = paths.settings
    framework = load_framework()
    reference = load_reference()
    with connection(settings.baseline_path, read_only=True) as conn:
        cells = conn.execute("SELECT * FROM indicators WHERE source = 'survey'").df()
    catalogue = load_indicator_catalogue(framework)
    boundaries = load_boundaries(settings.boundaries_dir, reference)
    records = build_maps(
        cells, catalogue, boundaries, reference, settings.output_dir / "maps", score_indicators(framework)
    )
    latest = max(r.wave for r in records)
    shown = [r for r in records if r.wave == latest and r.indicator_id == MAPPED_INDICATORS]
    folder = (settings.output_dir / "maps").resolve()
    metadata = {
        "maps": len(records),
        "mode": boundaries.mode,
        "folder": MetadataValue.path(str(folder)),
        "folder_link": MetadataValue.url(folder.as_uri()),
        # One entry, the maps at full size: see tipipeline.metadata for why they are behind a link.
        "latest_index_maps": MetadataValue.md(maps_markdown(shown)),
    }
    context.log.info(f"{len(records)} maps drawn ({boundaries.mode})")
    return MaterializeResult(metadata=metadata)


@asset(
    group_name="outputs",
    description="The baseline report: one self-contained HTML file (`outputs/report/baseline.html`) with summary, "
    "framework, data and methods, indicators by domain with maps and tables, journey and roadmap, borough partnership "
    "profiles, promising practice and caveats. Every image has alt text and its data table.",
    kinds={"html"},
    owners=["team:tipipeline"],
    code_version="1",
    tags={"layer": "outputs"},
    deps=["maps", "published_baseline"],
)
def baseline_report(context: AssetExecutionContext, paths: PathsResource) -> MaterializeResult:
    from tipipeline.ingest.boundaries import load_boundaries
    from tipipeline.report.content import build_report
    from tipipeline.viz.atlas import build_maps
    from tipipeline.viz.style import write_atomically

    settings = paths.settings
    framework = load_framework()
    reference = load_reference()
    codebook = load_codebook(settings.codebook_path)
    with connection(settings.baseline_path, read_only=True) as conn:
        cells = conn.execute("SELECT * FROM indicators WHERE source = 'survey'").df()
        # Only the latest wave's partnership maps go in the report: drawn in memory (the `maps`
        # asset writes the files), so the report never depends on a stale file on disk.
        latest = max(cells["wave"])
        records = build_maps(
            cells[cells["wave"] == latest],
            load_indicator_catalogue(framework),
            load_boundaries(settings.boundaries_dir, reference),
            reference,
            None,
            score_indicators(framework),
            layers=("partnership",),
        )
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
        }
    )


report_assets = [maps, baseline_report]
