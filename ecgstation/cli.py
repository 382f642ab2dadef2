"""Command line: ``ecgstation`` starts the workstation; ``ecgstation analyze FILE`` measures an ECG."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from ecgstation import __version__
from ecgstation.core.errors import EcgStationError
from ecgstation.tracing import configure_logging, traced

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ecgstation", description="ECG Station: offline ECG workstation.")
    parser.add_argument("--version", action="version", version=f"ecgstation {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command")
    an = sub.add_parser("analyze", help="measure an ECG file and print the results")
    an.add_argument("file", help="ECG file (WFDB .hea/.dat, CSV, ...)")
    an.add_argument("--json", action="store_true", help="print one JSON object")
    an.add_argument("--fs", type=float, help="sampling rate in Hz, for files that do not state it (CSV)")
    an.add_argument("--units", choices=["mV", "uV", "V"], help="signal units, for files that do not state them")
    an.add_argument("--mains", type=float, default=50.0, choices=[50.0, 60.0], help="mains frequency in Hz")
    gui = sub.add_parser("gui", help="start the workstation window (the default)")
    gui.add_argument("file", nargs="?", help="ECG file to open")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecgstation`` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, extra = parser.parse_known_args(args_list)
    configure_logging(logging.WARNING - 10 * min(args.verbose, 2))
    if args.command == "analyze":
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return _analyze(args)
    from ecgstation.ui.app import run_gui

    gui_args = extra + ([args.file] if getattr(args, "file", None) else [])
    return run_gui(gui_args)


def _analyze(args: argparse.Namespace) -> int:
    from ecgstation.core.analysis import AnalysisSettings, analyze_recording
    from ecgstation.io import read_recording

    options: dict[str, Any] = {}
    if args.fs is not None:
        options["fs"] = args.fs
    if args.units is not None:
        options["units"] = args.units
    try:
        with traced(f"analyze {args.file}") as trace_id:
            recording = read_recording(args.file, **options)
            result = analyze_recording(recording, AnalysisSettings(mains_hz=args.mains))
    except EcgStationError as err:
        print(f"ecgstation: {err}", file=sys.stderr)
        return 2
    except Exception:  # a bug: log it with the trace for a report, show a short message
        log.exception("internal error while analysing %s", args.file)
        print(f"ecgstation: internal error while analysing {args.file}; see the log above", file=sys.stderr)
        return 3
    from ecgstation.cli_format import result_to_dict, result_to_text

    if args.json:
        payload = result_to_dict(result)
        payload["file"] = args.file
        payload["trace_id"] = trace_id
        payload["version"] = __version__
        json.dump(payload, sys.stdout, allow_nan=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(result_to_text(result, args.file))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
