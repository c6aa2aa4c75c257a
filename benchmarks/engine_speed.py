"""Speed and peak memory of the default analysis pipeline (`make bench`).

Builds 10k, 100k and 1M responses by sampling real texts from ../shared/data (NHS patient
feedback, airline tweets, BANKING77, StackOverflow titles) with light perturbation
(a word dropped, an opening added), then runs civicloop_engine.analyse end to end in
a fresh process per size and reports wall time and peak resident memory."""

from __future__ import annotations

import csv
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

DATA = Path(
    os.environ.get("CIVICLOOP_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
SIZES = [int(s) for s in os.environ.get("BENCH_ENGINE_SIZES", "10000,100000,1000000").split(",")]
OPENINGS = ["", "", "", "Honestly, ", "To be fair, ", "In my view ", "As a resident, "]


def pool() -> list[str]:
    texts: list[str] = []
    with open(
        DATA / "nhs-patient-experience-pxtextmining/phase_1/text_data.csv", encoding="utf-8"
    ) as f:
        texts += [r["feedback"] for r in csv.DictReader(f) if r["feedback"] not in ("", "NA")]
    with open(DATA / "twitter-us-airline-sentiment/Tweets.csv", encoding="utf-8") as f:
        texts += [r["text"] for r in csv.DictReader(f)]
    with open(DATA / "banking77/train.csv", encoding="utf-8") as f:
        texts += [r["text"] for r in csv.DictReader(f)]
    with open(DATA / "stackoverflow-stc/title_StackOverflow.txt", encoding="utf-8") as f:
        texts += [line.strip() for line in f if line.strip()]
    return texts


def sample(n: int, seed: int = 20261128) -> list[str]:
    rng = random.Random(seed)
    source = pool()
    out = []
    for _ in range(n):
        words = rng.choice(source).split()
        if len(words) > 6 and rng.random() < 0.3:
            del words[rng.randrange(len(words))]
        out.append(rng.choice(OPENINGS) + " ".join(words))
    return out


def child(n: int) -> None:
    from civicloop_engine.pipeline import analyse

    texts = sample(n)
    start = time.perf_counter()
    result = analyse(texts)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "n": n,
                "seconds": seconds,
                "peak_mb": peak_mb,
                "themes": len(result.themes),
                "campaigns": len(result.campaigns),
            }
        )
    )


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(int(sys.argv[2]))
        return
    print(
        "\n## Analysis pipeline speed (default: lexical themes, campaigns, sentiment, positions, evidence)\n"
    )
    print("| Responses | Seconds | Peak memory (MB) | Themes | Campaigns |")
    print("| --- | --- | --- | --- | --- |")
    for n in SIZES:
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(n)],
            capture_output=True,
            text=True,
            check=True,
        )
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(
            f"| {r['n']:,} | {r['seconds']:.1f} | {r['peak_mb']:.0f} | {r['themes']} | {r['campaigns']} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
