from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from tests_support import CORPUS_STANCES, CORPUS_TEXTS  # type: ignore[import-not-found]

from civicloop_engine.pipeline import analyse


def run_cli(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civicloop_engine", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_response_gets_a_row_and_positions_follow_the_closed_question():
    result = analyse(
        CORPUS_TEXTS, [f"r{n}" for n in range(len(CORPUS_TEXTS))], CORPUS_STANCES, n_themes=3
    )
    assert [r.response_id for r in result.responses] == [f"r{n}" for n in range(len(CORPUS_TEXTS))]
    assert result.stance_source == "closed question"
    assert {r.position for r in result.responses[:12]} == {"support", "oppose"}
    assert sum(t.theme.count for t in result.themes) == 12
    for theme in result.themes:
        assert sum(theme.positions.values()) == theme.theme.count
    assert result.responses[-1].empty and result.responses[-1].theme_ids == ()
    assert "have no text: they are kept" in result.notes[0]


def test_sentiment_gives_positions_without_a_closed_question():
    result = analyse(
        ["I love the new cycle lanes, brilliant!", "This is a terrible, awful waste of money."]
    )
    assert [r.position for r in result.responses] == ["support", "oppose"]
    assert result.responses[0].sentiment > 0 > result.responses[1].sentiment


def test_ids_must_be_unique():
    with pytest.raises(ValueError, match="unique"):
        analyse(["a", "b"], ["1", "1"])


def test_cli_writes_the_three_outputs(tmp_path):
    source = tmp_path / "responses.csv"
    with source.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "answer", "agree"])
        for n, (text, stance) in enumerate(zip(CORPUS_TEXTS, CORPUS_STANCES, strict=True)):
            writer.writerow([f"R{n}", text, stance or ""])
        writer.writerow(["R99", "<script>alert('x')</script> repairs boiler plumber", "agree"])
    result = run_cli(
        str(source),
        "--text-column",
        "answer",
        "--id-column",
        "id",
        "--stance-column",
        "agree",
        "--out",
        "out",
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    themes = json.loads((tmp_path / "out/themes.json").read_text())
    assert themes["themes"] and {"id", "label", "keywords", "count", "positions", "quotes"} <= set(
        themes["themes"][0]
    )
    rows = list(csv.DictReader((tmp_path / "out/responses.csv").open(encoding="utf-8-sig")))
    assert len(rows) == len(CORPUS_TEXTS) + 1
    assert set(rows[0]) == {
        "response_id",
        "theme_ids",
        "position",
        "sentiment",
        "campaign_id",
        "evidence_rich",
        "language",
    }
    report = (tmp_path / "out/report.html").read_text()
    assert "<script>alert" not in report


@pytest.mark.parametrize(
    ("name", "content", "args", "message"),
    [
        ("r.csv", b"answer\nhello\n", ["--text-column", "text"], "There is no column 'text'"),
        ("r.csv", b"", ["--text-column", "answer"], "is empty"),
        (
            "r.csv",
            b"answer\n\x81\x8d\x8f\x90\n",
            ["--text-column", "answer"],
            "not UTF-8 or Windows-1252",
        ),
        (
            "r.jsonl",
            b'{"answer": "fine"}\nnot json\n',
            ["--text-column", "answer"],
            "line 2 is not JSON",
        ),
        ("r.pdf", b"%PDF-1.4", ["--text-column", "answer"], "use a .csv, .xlsx or .jsonl"),
        (
            "r.csv",
            b"id,answer\n1,a\n1,b\n",
            ["--text-column", "answer", "--id-column", "id"],
            "repeated values",
        ),
    ],
)
def test_cli_bad_input_is_explained(tmp_path, name, content, args, message):
    (tmp_path / name).write_bytes(content)
    result = run_cli(name, *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_accepts_one_row_cp1252_and_xlsx(tmp_path):
    (tmp_path / "one.csv").write_bytes(
        "answer\nCaf\xe9 closed too early \u2013 shame\n".encode("cp1252")
    )
    assert (
        run_cli("one.csv", "--text-column", "answer", "--out", "o1", cwd=tmp_path).returncode == 0
    )
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["answer"])
    for _ in range(5):
        book.active.append(["Same words every time about the bins"])
    book.save(tmp_path / "same.xlsx")
    result = run_cli("same.xlsx", "--text-column", "answer", "--out", "o2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    campaigns = json.loads((tmp_path / "o2/themes.json").read_text())["campaigns"]
    assert campaigns[0]["count"] == 5
