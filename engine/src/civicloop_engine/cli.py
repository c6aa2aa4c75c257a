"""`civicloop analyse` (also `python -m civicloop_engine`): analyse a file of responses."""

from __future__ import annotations

import argparse
import sys

from civicloop_engine.embeddings import ModelNotFound
from civicloop_engine.io import InputError, read_responses, write_outputs
from civicloop_engine.pipeline import analyse


def build_parser(prog: str = "civicloop analyse") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Find themes (split by position), sentiment, campaigns and evidence in free-text responses.",
    )
    parser.add_argument("input", help="a .csv, .xlsx or .jsonl file, one response per row")
    parser.add_argument("--text-column", required=True, help="the column holding the free text")
    parser.add_argument(
        "--id-column", help="a column of unique response ids (default: row numbers)"
    )
    parser.add_argument(
        "--stance-column", help="a paired closed answer (agree/disagree, yes/no) for positions"
    )
    parser.add_argument(
        "--group-column",
        action="append",
        default=[],
        help="a demographic or channel column to break themes down by (repeat for more)",
    )
    parser.add_argument(
        "--representation",
        choices=("auto", "lexical", "semantic"),
        default="auto",
        help="how texts are compared: auto (semantic up to 5,000 responses when a model is installed), lexical or semantic",
    )
    parser.add_argument(
        "--themes", type=int, help="ask for this many themes (default: chosen for you)"
    )
    parser.add_argument(
        "--out", default="analysis", help="folder for themes.json, responses.csv, report.html"
    )
    return parser


def _progress(percent: int, message: str) -> None:
    filled = percent // 5
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (20 - filled)}] {percent:3d}% {message:<40}")
    if percent >= 100:
        sys.stderr.write("\n")
    sys.stderr.flush()


def main(argv: list[str] | None = None, prog: str = "civicloop analyse") -> int:
    args = build_parser(prog).parse_args(argv)
    try:
        responses = read_responses(
            args.input,
            text_column=args.text_column,
            id_column=args.id_column,
            stance_column=args.stance_column,
            group_columns=args.group_column,
        )
    except InputError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    if args.themes is not None and args.themes < 1:
        print(f"{prog}: --themes must be 1 or more.", file=sys.stderr)
        return 2
    try:
        analysis = analyse(
            responses.texts,
            responses.ids,
            responses.stances,
            groups=responses.groups,
            n_themes=args.themes,
            representation=args.representation,
            progress=_progress,
        )
    except ModelNotFound as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 2
    paths = write_outputs(analysis, responses.texts, args.out)
    print(
        f"{len(responses.texts)} responses, {len(analysis.themes)} themes, {len(analysis.campaigns)} campaigns."
    )
    for path in paths:
        print(f"  {path}")
    return 0
