"""Command line: ``ecgstation`` starts the workstation; ``ecgstation analyze FILE`` measures an ECG."""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from typing import Any

from ecgstation import __version__
from ecgstation.cli_storage import STORAGE_COMMANDS, add_storage_commands, run_storage_command
from ecgstation.core.errors import EcgStationError
from ecgstation.tracing import configure_logging, traced

log = logging.getLogger(__name__)


def _positive_hz(text: str) -> float:
    """argparse type: a positive, finite sampling rate in Hz."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of Hz") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"the sampling rate must be a positive number of Hz, not {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    # -v is accepted before and after the subcommand; the two counts add up.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-v", "--verbose", action="count", default=0, help="log more (-v info, -vv debug)")
    parser = argparse.ArgumentParser(prog="ecgstation", description="ECG Station: offline ECG workstation.")
    parser.add_argument(
        "-v", "--verbose", dest="verbose_before", action="count", default=0, help="log more (-v info, -vv debug)"
    )
    parser.add_argument("--version", action="version", version=f"ecgstation {__version__}")
    sub = parser.add_subparsers(dest="command")
    an = sub.add_parser("analyze", help="measure an ECG file and print the results", parents=[common])
    an.add_argument("file", help="ECG file (WFDB .hea/.dat, CSV, ...)")
    an.add_argument("--json", action="store_true", help="print one JSON object")
    an.add_argument("--fs", type=_positive_hz, help="sampling rate in Hz, for files that do not state it (CSV)")
    an.add_argument("--units", choices=["mV", "uV", "V"], help="signal units, for files that do not state them")
    an.add_argument("--mains", type=float, default=50.0, choices=[50.0, 60.0], help="mains frequency in Hz")
    an.add_argument("--models", metavar="DIR", help="folder of ONNX models and their cards (default: the bundled models)")
    an.add_argument("--no-models", action="store_true", help="rules only: no beat labels or model findings")
    gui = sub.add_parser("gui", help="start the workstation window (the default)", parents=[common])
    gui.add_argument("file", nargs="?", help="ECG file to open")
    add_storage_commands(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ecgstation`` console script; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    parser = _parser()
    args, extra = parser.parse_known_args(args_list)
    verbosity = args.verbose_before + getattr(args, "verbose", 0)
    configure_logging(logging.WARNING - 10 * min(verbosity, 2))
    if args.command == "analyze":
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return _analyze(args)
    if args.command in STORAGE_COMMANDS:
        if extra:
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        return run_storage_command(args) or 0
    from ecgstation.ui.app import run_gui

    gui_args = extra + ([args.file] if getattr(args, "file", None) else [])
    return run_gui(gui_args)


def _analyze(args: argparse.Namespace) -> int:
    from ecgstation.cli_format import result_to_dict, result_to_text, slices_to_dicts
    from ecgstation.core.analysis import AnalysisSettings, analyze_recording
    from ecgstation.io import read_recording

    options: dict[str, Any] = {}
    if args.fs is not None:
        options["fs"] = args.fs
    if args.units is not None:
        options["units"] = args.units
    with traced(f"analyze {args.file}") as trace_id:
        try:
            recording = read_recording(args.file, **options)
            settings = AnalysisSettings(mains_hz=args.mains)
            warnings = [str(w) for w in recording.metadata.get("warnings", ())]
            slices: list[dict[str, Any]] = []
            models: tuple[str, ...] = ()
            if args.no_models:
                result = analyze_recording(recording, settings)
            else:
                from ecgstation.inference import ModelRegistry
                from ecgstation.inference.model_analysis import analyze_with_models, load_analysis_models

                loaded = load_analysis_models(ModelRegistry.from_folder(args.models))
                analysis = analyze_with_models(recording, loaded, settings)
                result, models = analysis.result, analysis.models
                slices = slices_to_dicts(analysis.slices)
                warnings += [f"model not used: {p}" for p in analysis.problems]
            for w in warnings:
                log.warning("%s: %s", args.file, w)
            if args.json:
                payload = result_to_dict(result, first_sample=int(recording.metadata.get("first_sample", 0)))
                payload.update(
                    file=args.file, warnings=warnings, trace_id=trace_id, version=__version__,
                    models=list(models), windows=slices,
                )  # fmt: skip
                text = json.dumps(payload, allow_nan=False) + "\n"
            else:
                text = result_to_text(result, args.file, warnings, models=models)
        except EcgStationError as err:
            log.info("analyze refused: %s", err)
            print(f"ecgstation: {err}", file=sys.stderr)
            return 2
        except Exception:  # a bug: log it with the trace for a report, show a short message
            log.exception("internal error while analysing %s", args.file)
            print(
                f"ecgstation: internal error while analysing {args.file} (trace {trace_id}); see the log above",
                file=sys.stderr,
            )
            return 3
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
