"""Render the report: Jinja templates (templates/), autoescaped, one per section inside report.html.

Every number comes from the published, disclosure-controlled tables; every image has alt text and
its data table beside it; headings go in order.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup

from tipipeline.reference import LONDON_CODE

TEMPLATES = Path(__file__).with_name("templates")


@cache
def environment() -> jinja2.Environment:
    """The report's Jinja environment: HTML autoescaped, an undefined name is an error."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # Codes the templates name (the London cells of the journey pages), from their one definition.
    env.globals["london_code"] = LONDON_CODE
    return env


def render_section(template: str, context: dict) -> Markup:
    """One section's HTML from its template (templates/sections/<id>.html)."""
    return Markup(environment().get_template(template).render(**context))


def render_report(title: str, subtitle: str, sections, synthetic: bool, provenance: str) -> str:
    """The whole report: `sections` are tipipeline.report.sections.Section objects, in order."""
    rendered = [{"id": s.id, "title": s.title, "html": render_section(s.template, s.context)} for s in sections]
    return (
        environment()
        .get_template("report.html")
        .render(title=title, subtitle=subtitle, sections=rendered, synthetic=synthetic, provenance=provenance)
    )
