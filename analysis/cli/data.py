"""``aibubble validate`` and ``aibubble import crunchbase|pitchbook|epoch``: thin handlers over
:mod:`analysis.data.ledger`, :mod:`analysis.data.importers` and :mod:`analysis.data.epoch`.

The handlers print their summary and return 0, and let :class:`~analysis.errors.AIBubbleError`
propagate so :func:`analysis.cli.app.dispatch` prints them as one line each with a non-zero exit code.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from analysis import config
from analysis.errors import AIBubbleError


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", required=True, metavar="LEDGER.csv", help="ledger CSV to write")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists")
    parser.add_argument("--report", metavar="CLASSIFICATION.csv",
                        help="also write the per-company classification (domain, rule that fired)")
    parser.add_argument("--ai-filter", choices=("rules", "strict", "all"), default="rules",
                        help="which companies are AI: an AI category or any domain rule (rules, default); "
                             "an AI category only (strict); every company (all: the export is AI-only)")


def _use_system_allocator() -> None:
    """Let pyarrow allocate with the C library's malloc for the rest of this (CLI) process.

    pyarrow's default mimalloc pool makes an import of a 1M-round export about 1.4x slower
    on Linux (measured in benchmarks/import_ledger.py): the importer allocates and frees many
    large short-lived buffers, which mimalloc returns to the OS and faults back in.
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def cmd_crunchbase(args: argparse.Namespace) -> int:
    """Import a Crunchbase bulk export (funding_rounds.csv + organizations.csv)."""
    from analysis.data.importers import import_crunchbase

    _check_outputs(args)
    _use_system_allocator()

    result = import_crunchbase(args.funding_rounds, args.organizations, investors=args.investors,
                               ai_filter=args.ai_filter)
    return _write(result, args)


def cmd_pitchbook(args: argparse.Namespace) -> int:
    """Import a PitchBook deals export."""
    from analysis.data.importers import import_pitchbook

    _check_outputs(args)
    _use_system_allocator()

    result = import_pitchbook(args.deals, deal_size_unit=args.deal_size_unit, ai_filter=args.ai_filter)
    return _write(result, args)


def cmd_epoch(args: argparse.Namespace) -> int:
    """Import an Epoch AI model database download as the tidy models table."""
    from analysis.data.epoch import import_epoch, write_models

    result = import_epoch(args.models, snapshot=args.snapshot)
    out = write_models(result, args.out, force=args.force)
    print(result.summary().to_string(index=False))
    print(f"wrote {config.display_path(out)} ({result.kept:,} models; {result.source})")
    return 0


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse two outputs that are one file (``--out x.csv --report x.csv``, or the same file by
    another path or link): the second write would silently replace the first."""
    from analysis.errors import OutputPathError

    if args.report and Path(args.report).resolve() == Path(args.out).resolve():
        raise OutputPathError(f"--report {args.report}: the same file as --out; choose another name for one of them")


def _write(result, args: argparse.Namespace) -> int:
    from analysis.data.importers import write_import

    # Both targets are checked before anything is written (existing files without --force, the
    # curated datasets never, a report beside the ledger named like its reference tables).
    out, report = write_import(result, Path(args.out), Path(args.report) if args.report else None,
                               overwrite=args.force)
    print(result.report())
    print(f"wrote {config.display_path(out)} ({result.rows_kept:,} rounds)")
    if report is not None:
        print(f"wrote {config.display_path(report)} ({len(result.companies):,} companies)")
    return 0


def add_import_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``import`` with ``crunchbase`` and ``pitchbook`` sub-commands; return its parser."""
    imp = subparsers.add_parser("import", help="import a Crunchbase or PitchBook export as a funding ledger, "
                                                 "or an Epoch AI model database as the models table",
                                description="Build a funding ledger from your own Crunchbase or PitchBook "
                                            "export, classified into the taxonomy's AI domains; or refresh "
                                            "the models table from an Epoch AI download.")
    sub = imp.add_subparsers(dest="import_source", required=True, metavar="{crunchbase,pitchbook,epoch}")

    cb = sub.add_parser("crunchbase", help="Crunchbase bulk export (funding_rounds.csv + organizations.csv)")
    cb.add_argument("--funding-rounds", required=True, metavar="FILE.csv", help="funding_rounds.csv")
    cb.add_argument("--organizations", required=True, metavar="FILE.csv", help="organizations.csv")
    cb.add_argument("--investors", metavar="FILE.csv",
                    help="optional investors.csv (uuid, name) to name lead investors")
    _common(cb)
    cb.set_defaults(func=cmd_crunchbase)

    pb = sub.add_parser("pitchbook", help="PitchBook deals export")
    pb.add_argument("--deals", required=True, metavar="FILE.csv", help="deals export CSV")
    pb.add_argument("--deal-size-unit", choices=("millions", "usd"), default="millions",
                    help="unit of DEAL_SIZE and valuations (PitchBook exports: USD millions)")
    _common(pb)
    pb.set_defaults(func=cmd_pitchbook)

    ep = sub.add_parser("epoch", help="Epoch AI model database CSV (any vintage) -> models table",
                        description="Read an Epoch AI models CSV (epoch.ai/data, CC BY 4.0), keep the "
                                    "columns the analysis uses and write them as a models table. To "
                                    "refresh the bundled table: --out data/models.csv --force.")
    ep.add_argument("--models", required=True, metavar="FILE.csv", help="the downloaded Epoch AI CSV")
    ep.add_argument("--out", required=True, metavar="MODELS.csv", help="models table to write")
    ep.add_argument("--snapshot", metavar="YYYY-MM-DD",
                    help="download date (default: the date in the file name, else 'undated')")
    ep.add_argument("--force", action="store_true", help="replace --out if it exists")
    ep.set_defaults(func=cmd_epoch)
    return imp


def cmd_validate(args: argparse.Namespace) -> int:
    from analysis.data.ledger import check_files, guess_dataset

    # Files are checked in groups of at most one per dataset (the cross-file rules pair a ledger
    # with its companies), so two ledgers given together are both checked, each on its own.
    groups: list[dict[str, Path]] = []
    if args.files:
        for name in args.files:
            path = Path(name)
            dataset = args.dataset or guess_dataset(path)
            if dataset is None:
                raise AIBubbleError(f"{path.name}: cannot tell which dataset this is; pass --dataset")
            group = next((g for g in groups if dataset not in g), None)
            if group is None:
                group = {}
                groups.append(group)
            group[dataset] = path
    else:
        groups.append(dict(config.DATASET_FILES))
    reports = [check_files(group) for group in groups]
    problems = [problem for report in reports for problem in report.problems]
    for problem in problems:
        print(problem)
    for note in (note for report in reports for note in report.notes):
        print(f"note: {note}")
    checked = ", ".join(config.display_path(p) for group in groups for p in group.values())
    if problems:
        print(f"{len(problems)} problem(s) in {checked}", file=sys.stderr)
        return 1
    print(f"ok: {checked}")
    return 0


def add_validate_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``validate``: the curated datasets, or the given files."""
    validate = subparsers.add_parser("validate", help="validate the curated datasets or given files")
    validate.add_argument("files", nargs="*", help="CSV files (default: all bundled datasets)")
    validate.add_argument("--dataset", help="schema to use for the files (default: from the name)")
    validate.set_defaults(func=cmd_validate)
    return validate
