"""Theme discovery quality (`make eval`): NMI and ARI of each response's primary theme
against human codes, with TF-IDF + k-means given the true number of classes as the
baseline in the same run.

Sets (../shared/data): NHS patient feedback, pxtextmining phase 1 (`label`), and
BANKING77 (test split, `category`). BERTopic, the issue's second baseline, needs
torch and a sentence model in a separate environment: not run yet."""

from __future__ import annotations

import csv
import os
import time
from pathlib import Path

from sklearn.cluster import KMeans
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

from civicloop_engine import ThemeFinder

DATA = Path(
    os.environ.get("CIVICLOOP_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)


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


def main() -> None:
    print("\n## Themes: primary theme against human codes\n")
    print("| Set | Responses | True classes | Method | Themes | NMI | ARI | Seconds |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, load in (("NHS patient feedback (label)", nhs), ("BANKING77 test", banking77)):
        texts, truth = load()
        k = len(set(truth))
        start = time.perf_counter()
        matrix = TfidfVectorizer(stop_words="english", sublinear_tf=True, min_df=2).fit_transform(
            texts
        )
        kmeans = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(matrix)
        seconds = time.perf_counter() - start
        print(
            f"| {name} | {len(texts)} | {k} | TF-IDF + k-means (told k) | {k} | "
            f"{normalized_mutual_info_score(truth, kmeans):.3f} | {adjusted_rand_score(truth, kmeans):.3f} | {seconds:.1f} |"
        )
        for label, finder in (
            ("ThemeFinder (not told k)", ThemeFinder(random_state=0)),
            ("ThemeFinder (told k)", ThemeFinder(n_themes=k, random_state=0)),
        ):
            start = time.perf_counter()
            labels = finder.fit_predict(texts)
            seconds = time.perf_counter() - start
            print(
                f"| {name} | {len(texts)} | {k} | {label} | {finder.n_themes_} | "
                f"{normalized_mutual_info_score(truth, labels):.3f} | {adjusted_rand_score(truth, labels):.3f} | {seconds:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
