"""Theme discovery quality (`make eval`): NMI and ARI of each response's primary theme
against human codes, side by side in one run with two baselines — TF-IDF + k-means
given the true number of classes, and BERTopic on all-MiniLM-L6-v2 embeddings (run in
the separate .venv-eval; skipped with a note when that environment is missing).

Sets (../shared/data): NHS patient feedback (pxtextmining phase 1, `label`), BANKING77
(test split), StackOverflow titles (Xu et al. 2015, 20 tags) and CrisisLexT26
(information type, labelled tweets only). Sentence embeddings are cached under
var/eval-cache so a second run skips the slow encoding; the time column counts the
encoding (from the cache's record) so methods compare fairly."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from civicloop_engine import ThemeFinder
from civicloop_engine.text import normalise

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("CIVICLOOP_SHARED_DATA", ROOT.parent / "shared" / "data"))
CACHE = ROOT / "var" / "eval-cache"
EVAL_PYTHON = ROOT / ".venv-eval" / "bin" / "python"


def nhs() -> tuple[list[str], list[str]]:
    with open(
        DATA / "nhs-patient-experience-pxtextmining/phase_1/text_data.csv", encoding="utf-8"
    ) as f:
        rows = [
            r for r in csv.DictReader(f) if r["feedback"] and r["feedback"] != "NA" and r["label"]
        ]
    return [r["feedback"] for r in rows], [r["label"] for r in rows]


def banking77() -> tuple[list[str], list[str]]:
    with open(DATA / "banking77/test.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["category"] for r in rows]


def stackoverflow() -> tuple[list[str], list[str]]:
    with open(DATA / "stackoverflow-stc/stackoverflow_titles_labelled.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    return [r["text"] for r in rows], [r["label"] for r in rows]


def crisislex() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for path in sorted((DATA / "crisislex/CrisisLexT26").glob("*/*-tweets_labeled.csv")):
        with open(path, encoding="utf-8", errors="replace") as f:
            for row in csv.DictReader(f, skipinitialspace=True):
                label = (row.get("Information Type") or "").strip()
                text = (row.get("Tweet Text") or "").strip()
                if text and label and label not in {"Not labeled", "Not applicable"}:
                    texts.append(text)
                    labels.append(label)
    return texts, labels


SETS: list[tuple[str, Callable[[], tuple[list[str], list[str]]]]] = [
    ("NHS patient feedback", nhs),
    ("BANKING77 test", banking77),
    ("StackOverflow titles", stackoverflow),
    ("CrisisLexT26 info type", crisislex),
]


class CachedEncoder:
    """The engine's SentenceEncoder with results kept on disk between runs."""

    def __init__(self, name: str, texts: Sequence[str]) -> None:
        from civicloop_engine.embeddings import SentenceEncoder

        digest = hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16]
        self.path = CACHE / f"{name.split()[0].lower()}-{digest}.npz"
        if self.path.exists():
            cached = np.load(self.path)
            self.vectors, self.seconds = cached["vectors"], float(cached["seconds"])
        else:
            start = time.perf_counter()
            self.vectors = SentenceEncoder().encode(list(texts))
            self.seconds = time.perf_counter() - start
            CACHE.mkdir(parents=True, exist_ok=True)
            np.savez(self.path, vectors=self.vectors, seconds=self.seconds)
        self.row = {text: n for n, text in enumerate(texts)}
        self.texts = list(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        # ThemeFinder passes normalised texts; map them back to the cached rows.
        return self.vectors[[self.row[t] for t in texts]]


def bertopic(texts: list[str], vectors: np.ndarray) -> tuple[np.ndarray, float] | None:
    if not EVAL_PYTHON.exists():
        return None
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "in.npz", Path(folder) / "out.json"
        np.savez(source, texts=np.array(texts, dtype=str), embeddings=vectors)
        subprocess.run(  # noqa: S603 - our own script in our own environment
            [
                str(EVAL_PYTHON),
                str(Path(__file__).with_name("bertopic_baseline.py")),
                source,
                target,
            ],
            check=True,
        )
        result = json.loads(target.read_text())
    return np.array(result["topics"]), float(result["seconds"])


def row(name: str, n: int, k: int, method: str, themes: int, truth, labels, seconds: float) -> None:
    print(
        f"| {name} | {n} | {k} | {method} | {themes} | "
        f"{normalized_mutual_info_score(truth, labels):.3f} | "
        f"{adjusted_rand_score(truth, labels):.3f} | {seconds:.1f} |",
        flush=True,
    )


def main() -> None:
    print("\n## Themes: primary theme against human codes\n")
    print("| Set | Responses | True classes | Method | Themes | NMI | ARI | Seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    notes = []
    for name, load in SETS:
        raw, truth = load()
        # One row per distinct normalised text keeps the cache lookup exact; duplicates
        # (retweets) would otherwise count twice for every method alike.
        seen: dict[str, int] = {}
        texts, labels_true = [], []
        for text, label in zip(raw, truth, strict=True):
            key = normalise(text)
            if key and key not in seen:
                seen[key] = len(texts)
                texts.append(key)
                labels_true.append(label)
        k = len(set(labels_true))
        n = len(texts)
        start = time.perf_counter()
        matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2).fit_transform(
            texts
        )
        kmeans = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(matrix)
        row(
            name,
            n,
            k,
            "TF-IDF + k-means (told k)",
            k,
            labels_true,
            kmeans,
            time.perf_counter() - start,
        )
        encoder = CachedEncoder(name, texts)
        baseline = bertopic(texts, encoder.vectors)
        themes = 0
        if baseline is None:
            notes.append(f"{name}: BERTopic not run (no .venv-eval; `make eval` builds it).")
        else:
            topics, seconds = baseline
            themes = len(set(topics.tolist()) - {-1})
            row(
                name,
                n,
                k,
                "BERTopic (MiniLM, not told k)",
                themes,
                labels_true,
                topics,
                seconds + encoder.seconds,
            )
        for label, finder, extra in (
            ("ThemeFinder lexical (not told k)", ThemeFinder(representation="lexical"), 0.0),
            (
                "ThemeFinder semantic (not told k)",
                ThemeFinder(representation="semantic", encoder=encoder),
                encoder.seconds,
            ),
        ):
            start = time.perf_counter()
            labels = finder.fit_predict(texts)
            row(
                name,
                n,
                k,
                label,
                finder.n_themes_,
                labels_true,
                labels,
                time.perf_counter() - start + extra,
            )
        if themes:
            # NMI rises with the number of clusters, so also compare at BERTopic's count.
            start = time.perf_counter()
            finder = ThemeFinder(
                representation="semantic", encoder=encoder, n_themes=themes, max_themes=1000
            )
            labels = finder.fit_predict(texts)
            seconds = time.perf_counter() - start + encoder.seconds
            method = "ThemeFinder semantic (told BERTopic's count)"
            row(name, n, k, method, finder.n_themes_, labels_true, labels, seconds)
    for note in notes:
        print(f"\n{note}")


if __name__ == "__main__":
    main()
