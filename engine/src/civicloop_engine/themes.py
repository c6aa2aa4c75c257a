"""Theme discovery: what people are talking about, with counts and quotes.

A lexical first version: TF-IDF over words and word pairs, factorised with NMF.
Unless the analyst asks for a number, the number of themes grows with the square
root of the number of responses (a stopgap: a searched, measured choice is still to
come — a UMass-coherence search was tried and always chose the largest number). Every response keeps a row: empty or unmatched ones are labelled -1 ("other")."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.decomposition import NMF, MiniBatchNMF
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer

from civicloop_engine.text import normalise

MINI_BATCH_ABOVE = 20_000
# Above this many responses the vocabulary and the NMF factors are learnt from a
# seeded sample of this size, then every response is projected onto them in chunks:
# memory stays flat (the bigram counts of a million answers alone take gigabytes)
# and the themes barely change (docs/benchmarks.md).
FIT_SAMPLE = 50_000
CHUNK = 50_000
# scikit-learn's list misses contractions (its tokeniser splits them) and the filler
# that fills consultation answers; as keywords they say nothing about a theme.
STOP_WORDS = sorted(
    ENGLISH_STOP_WORDS
    | {
        *(
            f"{w}n't"
            for w in [
                "are",
                "ca",
                "could",
                "did",
                "does",
                "do",
                "had",
                "has",
                "have",
                "is",
                "might",
                "must",
                "need",
                "should",
                "was",
                "were",
                "wo",
                "would",
            ]
        ),
        *[
            "i'm",
            "i've",
            "i'd",
            "i'll",
            "we're",
            "we've",
            "we'd",
            "we'll",
            "you're",
            "you've",
            "they're",
            "they've",
            "it's",
            "that's",
            "there's",
            "what's",
            "let's",
        ],
        *[
            "actually",
            "also",
            "just",
            "like",
            "really",
            "think",
            "things",
            "thing",
            "lot",
            "lots",
            "way",
            "ve",
            "ll",
            "don",
            "didn",
            "doesn",
            "isn",
            "wasn",
        ],
        *[
            "yes",
            "no",
            "ok",
            "okay",
            "please",
            "thank",
            "thanks",
            "people",
            "person",
            "bit",
            "quite",
            "sure",
            "maybe",
        ],
    }
)
REPRESENTATIONS = ("auto", "lexical", "semantic")
# "auto" embeds up to this many responses (about a minute on two cores, measured in
# docs/decisions/0007) and falls back to lexical above it or when no model is installed.
SEMANTIC_UP_TO = 5_000
# The most themes the semantic search for a number will offer (BANKING77's 77 intents fit).
SEMANTIC_MAX_THEMES = 80
# Semantic memberships: a second theme counts when its cosine similarity is within
# about this much of the best theme's (exp(-0.035 / 0.05) = 0.5 = secondary_share).
_SIMILARITY_TEMPERATURE = 0.05


@dataclass(frozen=True)
class Theme:
    """One theme. ``quotes`` are indices of representative responses."""

    id: int
    label: str
    keywords: tuple[str, ...]
    description: str
    count: int
    share: float
    quotes: tuple[int, ...]


class ThemeFinder:
    """Discover themes in free-text responses.

    Parameters
    ----------
    n_themes:
        Ask for this many themes; None uses sqrt(responses / 2), kept between
        ``min_themes`` and ``max_themes``.
    representation:
        "lexical" (TF-IDF words and word pairs factorised with NMF; no model),
        "semantic" (sentence embeddings from a local MiniLM model, clustered with
        k-means; keywords from each cluster's class-based TF-IDF), or "auto", the
        default: semantic up to ``SEMANTIC_UP_TO`` responses when a model is
        installed, lexical otherwise (docs/decisions/0007-theme-representation.md).
    encoder:
        For "semantic": an object with ``encode(texts) -> array``; None loads
        :class:`civicloop_engine.embeddings.SentenceEncoder`.
    top_terms:
        Keywords kept per theme.
    random_state:
        Seed for NMF: same input, same output.

    Attributes
    ----------
    themes_: list[Theme]
        Largest first; ids are positions in this list.
    labels_: numpy.ndarray
        Primary theme per response, -1 for "other" (empty or unmatched).
    memberships_: list[tuple[int, ...]]
        All themes of each response, primary first.
    n_themes_: int
        The number of themes used.
    representation_: str
        "lexical" or "semantic": what "auto" chose.
    """

    def __init__(
        self,
        *,
        n_themes: int | None = None,
        representation: str = "auto",
        encoder: Any = None,
        min_themes: int = 4,
        max_themes: int = 60,
        top_terms: int = 8,
        secondary_share: float = 0.5,
        random_state: int = 0,
    ) -> None:
        if representation not in REPRESENTATIONS:
            raise ValueError(
                f"representation must be one of {', '.join(REPRESENTATIONS)}, not {representation!r}"
            )
        self.n_themes = n_themes
        self.representation = representation
        self.encoder = encoder
        self.min_themes = min_themes
        self.max_themes = max_themes
        self.top_terms = top_terms
        self.secondary_share = secondary_share
        self.random_state = random_state

    def _factorise(self, matrix: sparse.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray]:
        model: NMF | MiniBatchNMF
        if matrix.shape[0] > MINI_BATCH_ABOVE:
            # Full-batch NMF grows too slow past tens of thousands of responses.
            model = MiniBatchNMF(
                n_components=k,
                init="nndsvda",
                batch_size=4096,
                max_iter=50,
                random_state=self.random_state,
            )
        else:
            model = NMF(
                n_components=k, init="nndsvda", max_iter=300, random_state=self.random_state
            )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # NNDSVD takes square roots of values that rounding can leave a hair below
            # zero when responses are nearly identical; the factorisation is still sound.
            warnings.simplefilter("ignore", RuntimeWarning)
            sample = self._sample(matrix.shape[0])
            if sample is None:
                weights = model.fit_transform(matrix)
            else:
                model.fit(matrix[sample])
                weights = np.vstack(
                    [
                        model.transform(matrix[start : start + CHUNK])
                        for start in range(0, matrix.shape[0], CHUNK)
                    ]
                )
        return weights, model.components_

    def _choose_representation(self, responses: int) -> str:
        if self.representation != "auto":
            return self.representation
        if self.encoder is not None:
            return "semantic"
        if responses > SEMANTIC_UP_TO:
            return "lexical"
        from civicloop_engine.embeddings import ModelNotFound, find_model

        try:
            find_model()
            import tokenizers  # noqa: F401
        except (ModelNotFound, ImportError):
            return "lexical"
        return "semantic"

    def _choose_k(self, vectors: np.ndarray) -> int:
        """The number of themes whose k-means clusters are best separated (highest
        mean silhouette, cosine) on a sample, over a log-spaced grid. Measured in
        docs/decisions/0007: it picks about as many themes as the human codes have
        on three of four labelled sets, where sqrt(n/2) over- or under-shoots."""
        from sklearn.cluster import KMeans
        from sklearn.metrics import silhouette_score

        n = len(vectors)
        upper = min(SEMANTIC_MAX_THEMES, max(self.min_themes, n // 8))
        if upper <= self.min_themes or n < 3 * self.min_themes:
            return max(1, min(self.min_themes, n))
        grid = sorted({round(float(k)) for k in np.geomspace(self.min_themes, upper, 10)})
        rng = np.random.default_rng(self.random_state)
        sample = vectors[rng.choice(n, size=min(n, 4000), replace=False)]
        best_k, best_score = grid[0], -1.0
        for k in grid:
            if k >= len(sample):
                break
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                labels = KMeans(n_clusters=k, n_init=1, random_state=self.random_state).fit_predict(
                    sample
                )
            if len(set(labels.tolist())) < 2:
                continue
            score = float(silhouette_score(sample, labels, metric="cosine"))
            if score > best_score + 1e-9:
                best_k, best_score = k, score
        return best_k

    def _cluster_embeddings(
        self, documents: list[str], matrix: sparse.csr_matrix, k: int | None
    ) -> tuple[np.ndarray, np.ndarray]:
        from sklearn.cluster import KMeans, MiniBatchKMeans

        encoder = self.encoder
        if encoder is None:
            from civicloop_engine.embeddings import shared_encoder

            encoder = self.encoder = shared_encoder()
        vectors = np.asarray(encoder.encode(documents), dtype=np.float32)
        if k is None:
            k = self._choose_k(vectors)
        # k-means cannot find more clusters than there are distinct points.
        k = max(1, min(k, len(np.unique(vectors.round(4), axis=0))))
        self.n_themes_ = k
        clusterer: KMeans | MiniBatchKMeans
        if len(documents) > MINI_BATCH_ABOVE:
            clusterer = MiniBatchKMeans(
                n_clusters=k, n_init=3, batch_size=4096, random_state=self.random_state
            )
        else:
            clusterer = KMeans(n_clusters=k, n_init=3, random_state=self.random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            labels = clusterer.fit_predict(vectors)
        centroids = clusterer.cluster_centers_
        centroids = centroids / np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        similarity = vectors @ centroids.T
        # The clusterer's own label is the primary theme; others close behind are secondary.
        similarity[np.arange(len(labels)), labels] = similarity.max(axis=1) + 1e-6
        weights = np.exp(
            (similarity - similarity.max(axis=1, keepdims=True)) / _SIMILARITY_TEMPERATURE
        )
        # Keywords: each cluster's pooled TF-IDF (BERTopic's class-based TF-IDF, in spirit).
        membership = sparse.csr_matrix(
            (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels))
        )
        pooled = np.asarray((membership @ matrix).todense())
        frequency = pooled / np.maximum(pooled.sum(axis=1, keepdims=True), 1e-12)
        rarity = np.log1p(pooled.sum() / k / np.maximum(pooled.sum(axis=0), 1e-12))
        return weights, frequency * rarity

    def _sample(self, n: int) -> np.ndarray | None:
        if n <= FIT_SAMPLE:
            return None
        rng = np.random.default_rng(self.random_state)
        return np.sort(rng.choice(n, size=FIT_SAMPLE, replace=False))

    def _vectorise(self, documents: list[str], *, strict: bool) -> tuple[TfidfVectorizer, Any]:
        vectorizer = TfidfVectorizer(
            stop_words=STOP_WORDS,
            ngram_range=(1, 2),
            min_df=2 if strict and len(documents) >= 20 else 1,
            max_df=0.5 if strict else 1.0,
            sublinear_tf=True,
            max_features=30_000,
            token_pattern=r"(?u)\b[^\W\d_][\w'-]+\b",  # noqa: S106 - a regex, not a password
            dtype=np.float32,
        )
        sample = self._sample(len(documents))
        if sample is None:
            return vectorizer, vectorizer.fit_transform(documents)
        vectorizer.fit([documents[i] for i in sample])
        chunks = [
            vectorizer.transform(documents[start : start + CHUNK])
            for start in range(0, len(documents), CHUNK)
        ]
        return vectorizer, sparse.vstack(chunks, format="csr")

    def fit(self, texts: Sequence[str]) -> ThemeFinder:
        cleaned = [normalise(t or "") for t in texts]
        n = len(cleaned)
        self.labels_ = np.full(n, -1, dtype=np.int64)
        self.memberships_: list[tuple[int, ...]] = [() for _ in range(n)]
        self.themes_: list[Theme] = []
        self.n_themes_ = 0
        self.representation_ = "lexical"
        usable = [i for i, t in enumerate(cleaned) if t]
        if len(usable) < 2:
            return self
        documents = [cleaned[i] for i in usable]
        try:
            vectorizer, matrix = self._vectorise(documents, strict=True)
        except ValueError:
            # Every word pruned (e.g. all responses alike): try again keeping them.
            try:
                vectorizer, matrix = self._vectorise(documents, strict=False)
            except ValueError:  # nothing but stop words, numbers or symbols
                return self
        vocabulary = vectorizer.get_feature_names_out()
        if self.n_themes is not None:
            wanted = self.n_themes
        else:
            wanted = min(self.max_themes, max(self.min_themes, round(math.sqrt(len(usable) / 2))))
        k = max(1, min(wanted, matrix.shape[1], len(usable)))
        self.representation_ = self._choose_representation(len(usable))
        if self.representation_ == "semantic":
            weights, components = self._cluster_embeddings(
                documents, matrix, k if self.n_themes is not None else None
            )
        else:
            weights, components = self._factorise(matrix, k)
            self.n_themes_ = k
        self._assign(usable, weights, components, vocabulary, cleaned, n)
        return self

    def _assign(
        self,
        usable: list[int],
        weights: np.ndarray,
        components: np.ndarray,
        vocabulary: np.ndarray,
        cleaned: list[str],
        n: int,
    ) -> None:
        k = components.shape[0]
        primary = np.argmax(weights, axis=1)
        strongest = weights[np.arange(len(usable)), primary]
        matched = strongest > 1e-9
        counts = np.bincount(primary[matched], minlength=k)
        # Themes numbered largest first, so ids are stable for the same input.
        order = [int(t) for t in np.argsort(-counts, kind="stable") if counts[t] > 0]
        new_id = {old: new for new, old in enumerate(order)}
        renumber = np.full(k, -1, dtype=np.int64)
        for old_id, new_number in new_id.items():
            renumber[old_id] = new_number
        # Every theme within secondary_share of a response's strongest one, strongest
        # first. Sorted by weight, the kept themes are a prefix of each row.
        ranked_themes = np.argsort(-weights, axis=1, kind="stable")
        ranked_weights = np.take_along_axis(weights, ranked_themes, axis=1)
        kept = (
            (ranked_weights >= self.secondary_share * strongest[:, None]) & (ranked_weights > 0)
        ).sum(axis=1)
        labels = renumber[primary]
        for row in np.flatnonzero(matched).tolist():
            index = usable[row]
            themes = renumber[ranked_themes[row, : kept[row]]]
            self.memberships_[index] = tuple(int(t) for t in themes if t >= 0)
            self.labels_[index] = int(labels[row])
        members_of = {old: np.flatnonzero(matched & (primary == old)).tolist() for old in order}
        total = max(int(matched.sum()), 1)
        for old in order:
            members = members_of[old]
            said = " \n ".join(cleaned[usable[r]].casefold() for r in members[:500])
            keywords = _distinct_phrases(
                [str(vocabulary[i]) for i in np.argsort(-components[old])[: self.top_terms * 4]],
                self.top_terms,
                said,
            )
            share_of_row = weights[members, old] / np.maximum(weights[members].sum(axis=1), 1e-12)
            ranked = [members[i] for i in np.argsort(-share_of_row, kind="stable")]
            quotes = tuple(usable[r] for r in ranked if 20 <= len(cleaned[usable[r]]) <= 600)[
                :5
            ] or tuple(usable[r] for r in ranked[:3])
            self.themes_.append(
                Theme(
                    id=new_id[old],
                    label=_label(keywords),
                    keywords=keywords,
                    description=_describe(keywords, cleaned[quotes[0]] if quotes else ""),
                    count=len(members),
                    share=len(members) / total,
                    quotes=quotes[:5],
                )
            )

    def fit_predict(self, texts: Sequence[str]) -> np.ndarray:
        return self.fit(texts).labels_


def _distinct_phrases(ranked: list[str], wanted: int, said: str) -> tuple[str, ...]:
    """Keep the strongest phrases, folding a word into a longer phrase that contains
    it ("mould" and "black mould" give "black mould") so labels do not repeat. A word
    pair counts only if people wrote it as such: pairs are counted after stop words
    are removed, so "bring people back to the high street" also yields "bring high"."""
    chosen: list[str] = []
    for phrase in ranked:
        words = set(phrase.split())
        if len(words) > 1 and phrase not in said:
            continue
        if any(words <= set(c.split()) for c in chosen):
            continue  # already said by a longer phrase
        chosen = [c for c in chosen if not set(c.split()) <= words]
        chosen.append(phrase)
        if len(chosen) == wanted:
            break
    return tuple(chosen)


def _label(keywords: tuple[str, ...]) -> str:
    """Up to three key phrases, first letter capitalised: "Mould bathroom, leak, wait"."""
    text = ", ".join(keywords[:3])
    return text[:1].upper() + text[1:]


def _describe(keywords: tuple[str, ...], typical: str) -> str:
    """One line: what the theme's answers mention most, and its most typical answer."""
    if not keywords:
        return ""
    named = ", ".join(keywords[:2]) + (f" and {keywords[2]}" if len(keywords) > 2 else "")
    line = f"Answers that mention {named}."
    if typical:
        quote = typical if len(typical) <= 110 else typical[:107].rsplit(" ", 1)[0] + "…"
        line += f" Typically: “{quote}”"
    return line
