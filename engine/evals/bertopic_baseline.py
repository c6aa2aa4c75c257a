"""BERTopic baseline, run inside .venv-eval (never the product's environment).

Reads an .npz of texts and their all-MiniLM-L6-v2 embeddings (computed by the
engine's own encoder, which matches sentence-transformers), fits BERTopic with its
documented defaults (UMAP 15 neighbours to 5 dimensions, HDBSCAN min cluster size
10) seeded for repeatability, and writes one topic per text, -1 for outliers."""

from __future__ import annotations

import json
import sys
import time

import numpy as np
from bertopic import BERTopic
from umap import UMAP


def main(source: str, target: str) -> None:
    data = np.load(source, allow_pickle=False)
    texts = [str(t) for t in data["texts"]]
    embeddings = data["embeddings"]
    start = time.perf_counter()
    umap = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=42)
    model = BERTopic(umap_model=umap, calculate_probabilities=False)
    topics, _ = model.fit_transform(texts, embeddings=embeddings)
    seconds = time.perf_counter() - start
    with open(target, "w", encoding="utf-8") as f:
        json.dump({"topics": [int(t) for t in topics], "seconds": seconds}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
