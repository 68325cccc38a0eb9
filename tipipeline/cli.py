"""The `tipipeline` command line: run, check, verify, wave remove, sample.

Every failure ends with one line on stderr, `tipipeline: error: <reason>`, and exit status 1.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from tipipeline.errors import TipipelineError


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except TipipelineError as exc:
        print(f"tipipeline: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tipipeline: error: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tipipeline",
        description="Baseline of trauma-informed practice across London: a reproducible Dagster pipeline.",
    )
    sub = parser.add_subparsers(dest="command")

    run = sub.add_parser("run", help="register every wave folder as a partition and build everything")
    run.add_argument(
        "--data-dir", help="data directory (default: $TIPIPELINE_DATA_DIR, else data/ in the project root)"
    )
    run.add_argument(
        "--output-dir", help="output directory (default: $TIPIPELINE_OUTPUT_DIR, else outputs/ in the project root)"
    )
    run.add_argument("--select", help="Dagster asset selection, e.g. 'group:reference' or 'key:boroughs+'")
    run.add_argument(
        "--wave",
        action="append",
        dest="waves",
        metavar="WAVE",
        help="run only this wave's partition (repeatable), then the London-wide assets",
    )
    run.set_defaults(handler=_run)

    check = sub.add_parser("check", help="read and validate input files without writing anything")
    check.add_argument(
        "files",
        nargs="+",
        metavar="FILE",
        help="survey exports, policy audits, boundary files, or outcome files (MPS crime, Fingertips, ONS population)",
    )
    check.add_argument(
        "--codebook",
        help="codebook.yaml to check survey exports against (default: the one the run would use: that of the "
        "data directory whose wave folder holds the file, else data/raw/surveys/codebook.yaml of the data directory)",
    )
    check.add_argument(
        "--wave", help="wave id for the codebook's per-wave column overrides (default: the file's folder name)"
    )
    check.add_argument("--json", action="store_true", help="print one JSON object per file (a JSON list)")
    check.set_defaults(handler=_check)

    verify = sub.add_parser("verify", help="rebuild from the inputs in a temporary folder and compare with the outputs")
    verify.add_argument(
        "--data-dir", help="data directory (default: $TIPIPELINE_DATA_DIR, else data/ in the project root)"
    )
    verify.add_argument(
        "--output-dir", help="output directory (default: $TIPIPELINE_OUTPUT_DIR, else outputs/ in the project root)"
    )
    verify.set_defaults(handler=_verify)

    wave = sub.add_parser("wave", help="manage survey waves")
    wave_sub = wave.add_subparsers(dest="wave_command", required=True)
    remove = wave_sub.add_parser(
        "remove", help="retire a wave whose folder was taken away: its partition, its rows, then republish"
    )
    remove.add_argument("wave_id", metavar="ID", help="the wave's folder name, e.g. 2024-w1")
    remove.add_argument(
        "--data-dir", help="data directory (default: $TIPIPELINE_DATA_DIR, else data/ in the project root)"
    )
    remove.add_argument(
        "--output-dir", help="output directory (default: $TIPIPELINE_OUTPUT_DIR, else outputs/ in the project root)"
    )
    remove.set_defaults(handler=_wave_remove)

    sample = sub.add_parser("sample", help="write the synthetic sample data (seeded, byte-identical)")
    sample.add_argument("--out", default="data/raw", help="folder to write (default: data/raw)")
    sample.add_argument("--seed", type=int, default=None, help="random seed (default: the bundled sample's)")
    sample.add_argument("--responses", type=int, default=None, help="respondents per wave (default: 3000)")
    sample.add_argument("--waves", type=int, default=2, help="number of waves (default: 2)")
    sample.set_defaults(handler=_sample)
    return parser


def _sample(args) -> int:
    from tipipeline.sample.generator import DEFAULT_RESPONSES, DEFAULT_SEED, generate_sample

    try:
        manifest = generate_sample(
            args.out,
            seed=DEFAULT_SEED if args.seed is None else args.seed,
            responses=DEFAULT_RESPONSES if args.responses is None else args.responses,
            waves=args.waves,
        )
    except ValueError as exc:
        raise TipipelineError(str(exc)) from exc
    print(f"Wrote the SYNTHETIC sample to {Path(args.out).resolve()}:")
    for wave in manifest["waves"]:
        print(f"  {wave['file']}: {wave['rows']} rows ({wave['tool']})")
    print(f"  policy_audit/policy_audit_2024.xlsx: {manifest['policy_audit']['rows']} rows")
    print(f"  {len(manifest['dirty_rows'])} deliberately dirty rows, listed in README.md")
    return 0


def _check(args) -> int:
    import json

    from tipipeline.check import check_files, format_report

    reports = check_files(args.files, args.codebook, args.wave)
    if args.json:
        print(json.dumps(reports, indent=2, default=str))
    else:
        print("\n".join(format_report(r) for r in reports))
    unusable = [r for r in reports if not r["usable"]]
    if unusable:
        more = f" (and {len(unusable) - 1} more unusable file(s))" if len(unusable) > 1 else ""
        raise TipipelineError(f"{unusable[0]['reason']}{more}")
    return 0


def _verify(args) -> int:
    warnings.filterwarnings("ignore")
    from tipipeline.settings import get_settings
    from tipipeline.verify import verify

    settings = get_settings(args.data_dir, args.output_dir)
    differences = verify(settings)
    for difference in differences:
        print(f"  DIFFERENT: {difference}")
    if differences:
        raise TipipelineError(
            f"{len(differences)} difference(s) between the outputs and a rebuild, first: {differences[0]}"
        )
    print("Verified: a rebuild from the inputs gives the same published tables, exports, maps and report.")
    return 0


def _wave_remove(args) -> int:
    warnings.filterwarnings("ignore")
    from tipipeline.pipeline import remove_wave

    settings = _pipeline_settings(args)
    started = time.monotonic()
    summary = remove_wave(settings, args.wave_id, progress=print)
    print(
        f"Done in {time.monotonic() - started:.1f} s: wave {args.wave_id} removed; {summary.materialised} assets rebuilt."
    )
    return 0


def _pipeline_settings(args):
    """Settings from the arguments, exported for sensors and code servers, and a DAGSTER_HOME."""
    from tipipeline.settings import ensure_dagster_home, export_paths, get_settings

    settings = get_settings(args.data_dir, args.output_dir)
    # Sensors and code servers read the environment: keep them pointed at the same folders.
    export_paths(settings)
    ensure_dagster_home()
    return settings


def _run(args) -> int:
    # Dagster warns about beta parameters on every load; users need the pipeline's messages only.
    warnings.filterwarnings("ignore")
    from tipipeline.pipeline import run_pipeline

    settings = _pipeline_settings(args)
    started = time.monotonic()
    summary = run_pipeline(settings, selection=args.select, progress=print, only_waves=args.waves)
    print(f"Done in {time.monotonic() - started:.1f} s: {summary.materialised} asset materialisations.")
    print(f"  Working warehouse: {settings.warehouse_path}")
    if settings.baseline_path.exists():
        print(f"  Published baseline: {settings.baseline_path}  (tipipeline.open_baseline())")
    print(f"  Outputs:           {settings.output_dir}")
    print("  Explore in the Dagster UI with `make ui` (http://127.0.0.1:3000).")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
