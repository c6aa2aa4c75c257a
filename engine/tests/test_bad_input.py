"""The issue's bad inputs: each gets a clear result or message, and no row is lost."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from tests_support import CORPUS_TEXTS  # type: ignore[import-not-found]

from civicloop_engine.language import detect_language
from civicloop_engine.pipeline import MAX_CHARACTERS, analyse
from civicloop_engine.text import strip_markup


def cli(*args: str, cwd) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "civicloop_engine", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_csv(path, rows):
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "answer"])
        writer.writerows(rows)


def test_awkward_answers_each_keep_their_row():
    texts = [
        *CORPUS_TEXTS[:12],
        "",  # empty
        CORPUS_TEXTS[0],  # duplicate
        "boiler repairs " * 7000,  # about 105,000 characters
        "Mae angen trwsio'r boeler yn gyflymach, mae'r plymwr yn hwyr bob tro.",  # Welsh
        "😡😡😡 👎",  # emoji only
        "<p>The <b>car park</b> charges are too high &amp; unfair</p><script>alert(1)</script>",
        "N/A",  # a placeholder, not an answer
    ]
    result = analyse(texts, representation="lexical", n_themes=3)
    assert len(result.responses) == len(texts)
    by_text = result.responses
    assert by_text[12].empty and by_text[12].theme_ids == ()
    assert by_text[13].theme_ids == by_text[0].theme_ids  # a duplicate is analysed like its twin
    assert any(f"longer than {MAX_CHARACTERS:,}" in note for note in result.notes)
    assert by_text[15].language == "cy"
    assert any("may not be in English (cy 1)" in note for note in result.notes)
    assert by_text[16].language == "und" and not by_text[16].empty
    assert by_text[16].position == "neutral"  # no words to weigh: neutral, not a guess
    html_theme = by_text[17].theme_ids
    parking = {r.theme_ids[0] for r in by_text[1:12:3] if r.theme_ids}
    assert html_theme and html_theme[0] in parking
    assert by_text[18].empty and by_text[18].theme_ids == ()
    assert any("1 answers only say there is nothing to say" in note for note in result.notes)
    labels = " ".join(t.theme.label for t in result.themes)
    assert "script" not in labels and "amp" not in labels


def test_strip_markup():
    assert strip_markup("a<br>b &lt;3 <i>c</i>") == "a b <3 c"
    assert strip_markup("<style>p{}</style>text").strip() == "text"
    assert strip_markup("5 < 6 and 7 > 2") == "5 < 6 and 7 > 2"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("We need the library to open on Saturdays for the children", "en"),
        ("Il faut absolument garder la bibliothèque ouverte le samedi", "fr"),
        ("Mae angen i'r llyfrgell fod ar agor ar ddydd Sadwrn", "cy"),
        ("👍👍", "und"),
        ("", "und"),
    ],
)
def test_language(text, code):
    assert detect_language(text) == code


def test_breakdowns_by_group_add_up_to_each_theme():
    texts = CORPUS_TEXTS[:12]
    channel = ["web", "email", "paper"] * 4
    age = ["16_24", None, "65_74", "65_74"] * 3
    result = analyse(
        texts, groups={"channel": channel, "age": age}, representation="lexical", n_themes=3
    )
    for theme in result.themes:
        assert sum(theme.breakdowns["channel"].values()) == theme.theme.count
        assert sum(theme.breakdowns["age"].values()) == theme.theme.count
    assert any("not given" in t.breakdowns["age"] for t in result.themes)
    with pytest.raises(ValueError, match="same length"):
        analyse(texts, groups={"channel": channel[:3]})


def test_one_row_file(tmp_path):
    write_csv(tmp_path / "one.csv", [["A", "The bins were not collected on Tuesday."]])
    result = cli("one.csv", "--text-column", "answer", "--id-column", "id", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader((tmp_path / "analysis/responses.csv").open(encoding="utf-8-sig")))
    assert [r["response_id"] for r in rows] == ["A"]
    assert rows[0]["theme_ids"] == ""  # one answer cannot make a theme; it is "other"


def test_file_where_every_row_is_the_same(tmp_path):
    same = "Stop the incinerator. It will harm our children's health and the river."
    write_csv(tmp_path / "same.csv", [[f"R{n}", same] for n in range(30)])
    result = cli("same.csv", "--text-column", "answer", "--id-column", "id", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    themes = json.loads((tmp_path / "analysis/themes.json").read_text())
    assert themes["campaigns"][0]["count"] == 30
    assert len(themes["campaigns"][0]["response_ids"]) == 30
    assert sum(t["count"] for t in themes["themes"]) + themes["other"] == 30


def test_empty_file_and_missing_column_and_bad_theme_count(tmp_path):
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    result = cli("empty.csv", "--text-column", "answer", cwd=tmp_path)
    assert (
        result.returncode == 2 and "is empty" in result.stderr and "Traceback" not in result.stderr
    )
    write_csv(tmp_path / "ok.csv", [["A", "text"]])
    result = cli("ok.csv", "--text-column", "comment", cwd=tmp_path)
    assert result.returncode == 2 and "no column 'comment'" in result.stderr
    result = cli("ok.csv", "--text-column", "answer", "--themes", "0", cwd=tmp_path)
    assert result.returncode == 2 and "--themes must be 1 or more" in result.stderr
    result = cli("ok.csv", "--text-column", "answer", "--group-column", "age", cwd=tmp_path)
    assert result.returncode == 2 and "no column 'age'" in result.stderr
