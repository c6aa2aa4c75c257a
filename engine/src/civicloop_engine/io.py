"""Reading responses from files and writing results: the engine's only I/O."""

from __future__ import annotations

import csv
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from civicloop_engine.pipeline import Analysis

ENCODINGS = ("utf-8-sig", "cp1252")


class InputError(Exception):
    """A problem with the input file, in words for the person who gave it."""


@dataclass
class Responses:
    texts: list[str]
    ids: list[str]
    stances: list[str | None] | None
    groups: dict[str, list[str | None]] = field(default_factory=dict)


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise InputError(f"{path} does not exist.")
    suffix = path.suffix.lower()
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"{path.name} is empty.")
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise InputError(f"{path.name} could not be opened as an Excel file.") from exc
        sheet = iter(book.worksheets[0].iter_rows(values_only=True))
        header = [str(h).strip() if h is not None else "" for h in next(sheet, [])]
        return [
            {h: ("" if v is None else str(v)) for h, v in zip(header, row, strict=False)}
            for row in sheet
        ]
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise InputError(f"{path.name} is not UTF-8 or Windows-1252 text. Save it as CSV UTF-8.")
    if suffix == ".jsonl":
        rows = []
        for number, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                try:
                    item = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path.name} line {number} is not JSON: {exc.msg}.") from None
                if not isinstance(item, dict):
                    raise InputError(f"{path.name} line {number} is not a JSON object.")
                rows.append({k: "" if v is None else str(v) for k, v in item.items()})
        return rows
    if suffix in {".csv", ".txt"}:
        return list(csv.DictReader(io.StringIO(text, newline="")))
    raise InputError(f"{path.name}: use a .csv, .xlsx or .jsonl file.")


def read_responses(
    path: str | Path,
    *,
    text_column: str,
    id_column: str | None = None,
    stance_column: str | None = None,
    group_columns: list[str] | tuple[str, ...] = (),
) -> Responses:
    rows = _rows(Path(path))
    if not rows:
        raise InputError(f"{Path(path).name} has no rows of responses.")
    columns = list(rows[0])
    for name in (text_column, id_column, stance_column, *group_columns):
        if name is not None and name not in columns:
            raise InputError(f"There is no column {name!r}. The columns are: {', '.join(columns)}.")
    ids = [r[id_column] for r in rows] if id_column else [str(n) for n in range(1, len(rows) + 1)]
    if len(set(ids)) != len(ids):
        raise InputError(f"The id column {id_column!r} has repeated values.")
    return Responses(
        texts=[r.get(text_column) or "" for r in rows],
        ids=ids,
        stances=[r.get(stance_column) or None for r in rows] if stance_column else None,
        groups={name: [r.get(name) or None for r in rows] for name in group_columns},
    )


def write_outputs(analysis: Analysis, texts: list[str], out: str | Path) -> list[Path]:
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    by_id = {r.response_id: n for n, r in enumerate(analysis.responses)}
    other = sum(1 for r in analysis.responses if not r.theme_ids)
    themes_json = {
        "responses": len(analysis.responses),
        "representation": analysis.representation,
        "stance_source": analysis.stance_source,
        "languages": analysis.languages,
        "other": other,
        "notes": analysis.notes,
        "themes": [
            {
                "id": t.theme.id,
                "label": t.theme.label,
                "description": t.theme.description,
                "keywords": list(t.theme.keywords),
                "count": t.theme.count,
                "share": round(t.theme.share, 4),
                "positions": t.positions,
                "sentiment": t.sentiment,
                "quotes": [{"response_id": q, "text": texts[by_id[q]]} for q in t.quotes],
                "breakdowns": t.breakdowns,
            }
            for t in analysis.themes
        ],
        "campaigns": [
            {
                "id": c.id,
                "template": c.template,
                "count": c.size,
                "exact_copies": c.exact_copies,
                "response_ids": [analysis.responses[m].response_id for m in c.members],
            }
            for c in analysis.campaigns
        ],
    }
    themes_path = folder / "themes.json"
    themes_path.write_text(json.dumps(themes_json, ensure_ascii=False, indent=2), encoding="utf-8")
    responses_path = folder / "responses.csv"
    with responses_path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "response_id",
                "theme_ids",
                "position",
                "sentiment",
                "campaign_id",
                "evidence_rich",
                "language",
            ]
        )
        for r in analysis.responses:
            writer.writerow(
                [
                    r.response_id,
                    ";".join(str(t) for t in r.theme_ids),
                    r.position,
                    r.sentiment,
                    "" if r.campaign_id is None else r.campaign_id,
                    "yes" if r.evidence_rich else "no",
                    r.language,
                ]
            )
    report_path = folder / "report.html"
    report_path.write_text(_report(analysis, texts, by_id), encoding="utf-8")
    return [themes_path, responses_path, report_path]


def _bar(positions: dict[str, int]) -> str:
    total = max(sum(positions.values()), 1)
    colours = {"support": "#00703c", "oppose": "#d4351c", "neutral": "#505a5f"}
    x, parts = 0.0, []
    for name, count in positions.items():
        width = 300 * count / total
        parts.append(
            f'<rect x="{x:.1f}" y="0" width="{width:.1f}" height="16" fill="{colours[name]}"><title>{name}: {count}</title></rect>'
        )
        x += width
    label = ", ".join(f"{n} {c}" for n, c in positions.items())
    return f'<svg width="300" height="16" role="img" aria-label="{html.escape(label)}">{"".join(parts)}</svg>'


def _headline(analysis: Analysis) -> str:
    """One line per large theme: "most support … a minority oppose …"."""
    lines = []
    for t in analysis.themes[:5]:
        total = max(sum(t.positions.values()), 1)
        leading = max(t.positions, key=lambda p: t.positions[p])
        share = t.positions[leading] / total
        word = "Most" if share > 0.5 else "The largest group"
        lines.append(
            f"<li><strong>{html.escape(t.theme.label)}</strong> ({t.theme.count}): "
            f"{word} ({share:.0%}) {leading}.</li>"
        )
    return "".join(lines)


def _report(analysis: Analysis, texts: list[str], by_id: dict[str, int]) -> str:
    e = html.escape
    total = len(analysis.responses)
    rows = []
    for t in analysis.themes:
        quotes = "".join(
            f"<blockquote>{e(texts[by_id[q]][:400])}</blockquote>" for q in t.quotes[:3]
        )
        tables = "".join(
            f"<table><caption>By {e(name)}</caption><tbody>"
            + "".join(
                f"<tr><th scope='row'>{e(value)}</th><td>{count}</td></tr>"
                for value, count in counts.items()
            )
            + "</tbody></table>"
            for name, counts in t.breakdowns.items()
        )
        rows.append(
            f"<section><h3>{e(t.theme.label)}</h3><p>{e(t.theme.description)}</p>"
            f"<p>{t.theme.count} responses ({t.theme.share:.0%}). "
            f"Support {t.positions['support']}, oppose {t.positions['oppose']}, neutral {t.positions['neutral']}.</p>"
            f"{_bar(t.positions)}{quotes}{tables}</section>"
        )
    campaigns = (
        "".join(
            f"<li><strong>{c.size} responses</strong> ({c.exact_copies} identical): {e(c.template[:300])}</li>"
            for c in analysis.campaigns
        )
        or "<li>None found.</li>"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>civicloop analysis</title>'
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#0b0c0c}"
        "blockquote{border-left:4px solid #b1b4b6;margin:.5rem 0;padding-left:1rem;color:#383f43}"
        "section{margin-bottom:2rem}table{border-collapse:collapse;margin:.5rem 0}"
        "th,td{border-bottom:1px solid #b1b4b6;padding:.2rem .6rem;text-align:left}</style></head><body>"
        f"<h1>What people said</h1><p>{total} responses. Positions from {e(analysis.stance_source)}; "
        f"themes from the {e(analysis.representation)} representation.</p>"
        f"<ul>{_headline(analysis)}</ul>"
        + "".join(f"<p>{e(n)}</p>" for n in analysis.notes)
        + f"<h2>Themes</h2>{''.join(rows)}<h2>Organised campaigns</h2><ul>{campaigns}</ul></body></html>"
    )
