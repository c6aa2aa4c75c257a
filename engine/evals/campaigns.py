"""Campaign detection quality (`make eval`), on real texts from ../shared/data.

1. FCC docket 17-108: the 51 known campaign and bot templates (RagtagOpen/fccforensics),
   each sent 5 to 40 times with the changes real form-letter senders make (their name
   and a greeting added, words dropped, words swapped), mixed into 3,000 real NHS
   patient-feedback comments (pxtextmining phase 1) as the organic responses. Truth:
   the template row; the "bot.recursive" rows are one spun template, so one campaign.
   Pairwise precision, recall and F1, against exact-duplicate grouping as a baseline.
2. USDA-2017-0002 (199 real comments, no labels): what is found, for a reader to judge.

Run: `make eval` (or `.venv/bin/python engine/evals/campaigns.py`)."""

from __future__ import annotations

import csv
import os
import random
import re
import time
from pathlib import Path

import numpy as np

from civicloop_engine import CampaignDetector, fingerprint, pairwise_scores

DATA = Path(
    os.environ.get("CIVICLOOP_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data")
)
SEED = 20261128
NAMES = ["Jo Smith", "Sam Patel", "A. Nowak", "Chris O'Neill", "Pat Kim", "Robin Hughes"]
GREETINGS = ["Dear FCC,", "To the Commission:", "Hello,", "Dear Chairman Pai,"]
SIGNOFFS = ["Sincerely, {name}", "Thank you, {name}", "- {name}", "Regards {name}"]
SYNONYMS = {
    "internet": "web",
    "government": "state",
    "urge": "ask",
    "important": "vital",
    "rules": "regulations",
    "strong": "robust",
    "support": "back",
    "please": "kindly",
    "repeal": "reverse",
    "protect": "defend",
    "consumers": "customers",
    "companies": "firms",
    "free": "open",
    "access": "use",
}


def perturb(text: str, rng: random.Random) -> str:
    kind = rng.choices(["copy", "sign", "drop", "swap"], weights=[30, 30, 20, 20])[0]
    if kind == "copy":
        return text
    if kind == "sign":
        name = rng.choice(NAMES)
        return f"{rng.choice(GREETINGS)} {text} {rng.choice(SIGNOFFS).format(name=name)}"
    words = text.split()
    if kind == "drop":
        for _ in range(rng.randint(1, 3)):
            if len(words) > 10:
                del words[rng.randrange(len(words))]
        return " ".join(words)
    swapped = 0
    for i, word in enumerate(words):
        key = re.sub(r"\W", "", word).lower()
        if key in SYNONYMS and swapped < 3:
            words[i] = word.lower().replace(key, SYNONYMS[key])
            swapped += 1
    return " ".join(words)


def fcc_mix() -> tuple[list[str], list[object]]:
    rng = random.Random(SEED)
    with open(
        DATA / "nhs-patient-experience-pxtextmining/phase_1/text_data.csv", encoding="utf-8"
    ) as f:
        organic = [
            row["feedback"]
            for row in csv.DictReader(f)
            if row["feedback"] and row["feedback"] != "NA"
        ]
    organic = rng.sample(organic, 3000)
    with open(
        DATA / "fcc-17-108-campaign-templates-ragtag/templates_from_sources_md.csv",
        encoding="utf-8",
    ) as f:
        templates = [row for row in csv.DictReader(f) if len(row["text"].split()) >= 15]
    items: list[tuple[str, object]] = [(t, None) for t in organic]
    for number, row in enumerate(templates):
        truth = row["source"] if row["source"] == "bot.recursive" else f"{row['source']}:{number}"
        for _ in range(rng.randint(5, 40)):
            items.append((perturb(row["text"], rng), truth))
    rng.shuffle(items)
    return [t for t, _ in items], [label for _, label in items]


def exact_only(texts: list[str]) -> np.ndarray:
    """Baseline: group identical texts (after case and spacing) only."""
    keys = [fingerprint(t) for t in texts]
    counts: dict[str, int] = {}
    for key in keys:
        counts[key] = counts.get(key, 0) + 1
    ids = {key: i for i, key in enumerate(k for k, c in counts.items() if c >= 3)}
    return np.array([ids.get(key, -1) for key in keys])


def main() -> None:
    texts, truth = fcc_mix()
    campaign_rows = sum(t is not None for t in truth)
    print(
        f"\n## Campaign detection: FCC 17-108 templates in NHS feedback ({len(texts)} texts, "
        f"{campaign_rows} from {len({t for t in truth if t is not None})} campaigns)\n"
    )
    print("| Method | Precision | Recall | F1 | Campaigns found | Seconds |")
    print("| --- | --- | --- | --- | --- | --- |")
    start = time.perf_counter()
    baseline = exact_only(texts)
    seconds = time.perf_counter() - start
    score = pairwise_scores(truth, list(baseline))
    print(
        f"| exact duplicates only (baseline) | {score['precision']:.3f} | {score['recall']:.3f} | {score['f1']:.3f} "
        f"| {len(set(baseline) - {-1})} | {seconds:.2f} |"
    )
    start = time.perf_counter()
    detector = CampaignDetector(random_state=0).fit(texts)
    seconds = time.perf_counter() - start
    score = pairwise_scores(truth, list(detector.labels_))
    print(
        f"| CampaignDetector (MinHash LSH on 2-word shingles, 0.5; spun-template merge on function-word 4-grams, 0.4) | {score['precision']:.3f} | "
        f"{score['recall']:.3f} | {score['f1']:.3f} | {len(detector.campaigns_)} | {seconds:.2f} |"
    )
    again = CampaignDetector(random_state=0).fit(texts)
    print(f"\nSame input, same output: {bool(np.array_equal(again.labels_, detector.labels_))}")

    with open(
        DATA / "regulations-gov-usda-2017-0002-sample/text_comments_example.csv", encoding="utf-8"
    ) as f:
        usda = [row["Text Comment"] for row in csv.DictReader(f)]
    found = CampaignDetector(random_state=0).fit(usda).campaigns_
    print(f"\n## Campaign detection: USDA-2017-0002 ({len(usda)} real comments, no labels)\n")
    print("| Campaign | Responses | Exact copies | Template (start) |")
    print("| --- | --- | --- | --- |")
    for c in found[:6]:
        print(f"| {c.id} | {c.size} | {c.exact_copies} | {c.template[:90].replace('|', '/')}… |")
    print(
        f"\n{len(found)} campaigns, {sum(c.size for c in found)} of {len(usda)} comments in them."
    )


if __name__ == "__main__":
    main()
