"""Every map the baseline needs: for each domain mean and the index, per wave, councils by borough,
police by BCU, health by ICB, and the borough partnership (three panels side by side)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tipipeline.viz.maps import Area, Panel, areas_from_cells, score_scheme, shapes_for
from tipipeline.viz.plates import MapRecord, PlannedMap, Plate, draw_planned

__all__ = ["ALL_LAYERS", "LAYERS", "MapRecord", "build_maps", "plan_maps"]

LAYERS = {
    "councils": ("borough", "council", "Councils by borough"),
    "police": ("bcu", "police", "Metropolitan Police by Basic Command Unit"),
    "health": ("icb", "health", "NHS by Integrated Care Board"),
}


def _labels(boundaries, level: str, reference) -> dict[str, str] | None:
    if boundaries.mode != "tile_grid":
        return None
    if level == "borough":
        return dict(zip(reference.boroughs["gss_code"], reference.boroughs["short_code"]))
    if level == "bcu":
        return {c: c for c in reference.bcus["bcu_code"]}
    return dict(zip(reference.icbs["icb_code"], reference.icbs["short_name"]))


def _describe(areas: dict[str, Area], names: dict[str, str]) -> str:
    shown = {code: area.value for code, area in areas.items() if not area.suppressed and area.value is not None}
    suppressed = sum(1 for area in areas.values() if area.suppressed)
    if not shown:
        return "No values to show." + (f" {suppressed} suppressed." if suppressed else "")
    high = max(shown, key=shown.get)
    low = min(shown, key=shown.get)
    text = f"Highest {names.get(high, high)} ({shown[high]:.2f}), lowest {names.get(low, low)} ({shown[low]:.2f})."
    if suppressed:
        text += f" {suppressed} area(s) suppressed."
    return text


def _table(cells: pd.DataFrame, level: str, sector_label: str) -> pd.DataFrame:
    chosen = cells[cells["geography_level"] == level]
    return pd.DataFrame(
        {
            "Sector": sector_label,
            "Area": chosen["geography_name"].to_numpy(),
            "Mean score": chosen["value"].round(2).to_numpy(),
            "Lower CI": chosen["lower_ci"].round(2).to_numpy(),
            "Upper CI": chosen["upper_ci"].round(2).to_numpy(),
            "Respondents": chosen["n"].astype("Int64").array,  # counts as integers, empty if withheld
            "Compared with London": chosen["comparison"].to_numpy(),
            "Suppressed": chosen["suppression_reason"].fillna("").to_numpy(),
            # The report shows a withheld row's blank values as [c] (withheld), not [x] (none).
            "withheld": chosen["suppressed"].fillna(False).astype(bool).to_numpy(),
        }
    )


ALL_LAYERS = (*LAYERS, "partnership")


def build_maps(
    cells: pd.DataFrame,
    catalogue: pd.DataFrame,
    boundaries,
    reference,
    out_dir: Path | None,
    indicator_ids: list[str],
    layers: tuple[str, ...] = ALL_LAYERS,
) -> list[MapRecord]:
    """Draw the maps of `layers`; with `out_dir`, also write them as out_dir/<wave>/<indicator>_<layer>.png."""
    planned = plan_maps(cells, catalogue, boundaries, reference, indicator_ids, layers)
    return draw_planned(planned, out_dir)[0]


def plan_maps(
    cells: pd.DataFrame,
    catalogue: pd.DataFrame,
    boundaries,
    reference,
    indicator_ids: list[str],
    layers: tuple[str, ...] = ALL_LAYERS,
) -> list[PlannedMap]:
    """The maps of `layers` for every survey wave and indicator in `cells`, planned, not drawn."""
    names = {
        **dict(zip(reference.boroughs["gss_code"], reference.boroughs["name"])),
        **dict(zip(reference.bcus["bcu_code"], reference.bcus["name"])),
        **dict(zip(reference.icbs["icb_code"], reference.icbs["name"])),
    }
    # Primary (fewer than the threshold) and secondary (protecting those) suppression look alike.
    scheme = score_scheme("Suppressed: small numbers")
    attribution = boundaries.attribution
    mode_note = "" if boundaries.mode == "file" else " Tile-grid map: each square is a borough, equal in size."
    indicator_names = catalogue.set_index("indicator_id")["name"]
    planned = []
    survey_waves = sorted(set(cells.loc[cells["source"] == "survey", "wave"]))
    shapes = {level: shapes_for(boundaries, level) for level in ("borough", "bcu", "icb")}
    for wave in survey_waves:
        for indicator in indicator_ids:
            block = cells[(cells["indicator_id"] == indicator) & (cells["wave"] == wave)]
            if block.empty:
                continue
            london = block[block["geography_level"] == "london"]
            london_text = (
                f"London: {london['value'].iloc[0]:.2f}" if len(london) and pd.notna(london["value"].iloc[0]) else ""
            )
            title = f"{indicator_names[indicator]}, wave {wave}"
            panels = {}
            for layer, (level, sector, label) in LAYERS.items():
                sector_cell = block[(block["geography_level"] == "sector") & (block["geography_code"] == sector)]
                n = sector_cell["n"].iloc[0] if len(sector_cell) else None
                base = (
                    f"{label}. Base: {sector} respondents with a score (n = {int(n) if pd.notna(n) else 'suppressed'})."
                )
                panel = Panel(
                    label, shapes[level], areas_from_cells(block, level), _labels(boundaries, level, reference)
                )
                panels[layer] = (panel, base, _table(block, level, label))
            drawn = [
                (layer, [panels[layer][0]], f"{panels[layer][1]} {london_text}.{mode_note}".strip(), panels[layer][2])
                for layer in LAYERS
            ]
            partnership_subtitle = (
                f"Each borough's council, its police BCU and its ICB side by side. {london_text}.{mode_note}"
            )
            drawn.append(
                (
                    "partnership",
                    [p[0] for p in panels.values()],
                    partnership_subtitle,
                    pd.concat([p[2] for p in panels.values()], ignore_index=True),
                )
            )
            for layer, layer_panels, subtitle, table in drawn:
                if layer not in layers:
                    continue
                plate = Plate(
                    f"{wave}/{indicator}_{layer}.png", title, subtitle, tuple(layer_panels), attribution, scheme
                )
                described = " ".join(f"{p.title}: {_describe(p.areas, names)}" for p in layer_panels)
                alt = (
                    f"Map of London: {indicator_names[indicator].lower()}, wave {wave}. {described} "
                    f"The table below gives every value."
                )
                planned.append(PlannedMap(plate, indicator, wave, layer, title, alt, table, attribution))
    return planned
