"""Organised campaigns: exact copies, near-duplicate templates, fill-in-the-blank
variants and lightly reworded form letters, grouped so that a campaign can be
counted once as a campaign and once per person — never silently dropped."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH
from datasketch.lsh import _optimal_param

from civicloop_engine.text import fingerprint, normalise

_WORD = re.compile(r"\w+", re.UNICODE)
# Function words keep a sentence's shape when a "spun" form letter swaps its content words.
_FUNCTION_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "i",
        "we",
        "you",
        "he",
        "she",
        "they",
        "our",
        "your",
        "their",
        "my",
        "me",
        "us",
        "them",
        "not",
        "no",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "will",
        "would",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "shall",
        "than",
        "then",
        "so",
        "such",
        "which",
        "who",
        "whom",
        "what",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "each",
        "every",
        "more",
        "most",
        "other",
        "some",
        "into",
        "over",
        "under",
        "about",
        "against",
        "between",
        "through",
        "during",
        "before",
        "after",
        "above",
        "below",
        "up",
        "down",
        "out",
        "off",
        "again",
        "further",
        "once",
        "here",
        "there",
        "also",
        "only",
        "own",
        "same",
        "very",
        "just",
        "rather",
    ]
)


def _skeleton(text: str, size: int) -> set[str]:
    """Word ``size``-grams of ``text`` with every content word replaced by "_"."""
    tokens = [w if w in _FUNCTION_WORDS else "_" for w in _WORD.findall(text.casefold())]
    return {" ".join(tokens[i : i + size]) for i in range(max(1, len(tokens) - size + 1))}


@dataclass(frozen=True)
class Campaign:
    """A group of responses that share a template.

    ``members`` are indices into the input, in input order; ``template`` is the
    text most members sent word for word (or the most typical member)."""

    id: int
    template: str
    members: tuple[int, ...]
    exact_copies: int

    @property
    def size(self) -> int:
        return len(self.members)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            # The smaller index becomes the root, so results do not depend on order of unions.
            self.parent[max(ra, rb)] = min(ra, rb)


class CampaignDetector:
    """Find campaigns in a list of texts.

    Parameters
    ----------
    threshold:
        Estimated Jaccard similarity of word shingles above which two texts are
        treated as the same template.
    shingle_size:
        Words per shingle. 2 tolerates inserted names and swapped words better than 3+.
    num_perm:
        MinHash permutations (accuracy against speed).
    min_size:
        Fewest responses that make a campaign.
    min_words:
        Texts shorter than this join a campaign only as exact copies of each other
        ("I agree" said by many people is agreement, not a campaign) — and only if
        at least ``min_exact_words`` long.
    random_state:
        Seed of the MinHash permutations: same input, same output.

    Attributes
    ----------
    campaigns_: list[Campaign]
        Largest first.
    labels_: numpy.ndarray
        Campaign id per input text, -1 where none.
    """

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        shingle_size: int = 2,
        num_perm: int = 128,
        min_size: int = 3,
        min_words: int = 12,
        min_exact_words: int = 4,
        skeleton_threshold: float | None = 0.4,
        skeleton_size: int = 4,
        random_state: int = 0,
    ) -> None:
        self.threshold = threshold
        self.shingle_size = shingle_size
        self.num_perm = num_perm
        self.min_size = min_size
        self.min_words = min_words
        self.min_exact_words = min_exact_words
        self.skeleton_threshold = skeleton_threshold
        self.skeleton_size = skeleton_size
        self.random_state = random_state

    def _signer(self) -> Callable[[set[bytes]], MinHash]:
        """A function making MinHash signatures that share one set of permutations
        (drawing them per text dominated the run time)."""
        first = MinHash(num_perm=self.num_perm, seed=self.random_state)

        def sign(items: set[bytes]) -> MinHash:
            signature = MinHash(
                num_perm=self.num_perm,
                seed=self.random_state,
                permutations=first.permutations,
                scheme=first.scheme,
            )
            signature.update_batch(sorted(items))
            return signature

        return sign

    def _shingles(self, words: list[str]) -> set[bytes]:
        k = self.shingle_size
        if len(words) < k:
            return {" ".join(words).encode()}
        return {" ".join(words[i : i + k]).encode() for i in range(len(words) - k + 1)}

    def fit(self, texts: Sequence[str]) -> CampaignDetector:
        """Group ``texts``; see ``campaigns_`` and ``labels_``."""
        n = len(texts)
        # 1. Exact copies (after normalising case and spacing) collapse to one entry.
        keys = [fingerprint(t or "") for t in texts]
        first_of: dict[str, int] = {}
        copies: dict[str, list[int]] = defaultdict(list)
        for index, key in enumerate(keys):
            first_of.setdefault(key, index)
            copies[key].append(index)
        uniques = list(first_of)  # in order of first appearance
        lengths = np.zeros(len(uniques), dtype=np.int32)

        # 2. Near duplicates among texts long enough to have a template: MinHash
        # signatures in one array, banded, and each band's buckets checked in order.
        forest = _UnionFind(len(uniques))
        long_rows: list[int] = []
        signatures = np.empty((len(uniques), self.num_perm), dtype=np.uint32)
        sign = self._signer()
        for u, key in enumerate(uniques):
            tokens = _WORD.findall(normalise(texts[first_of[key]]).casefold())
            lengths[u] = len(tokens)
            if len(tokens) >= self.min_words:
                signatures[len(long_rows)] = sign(self._shingles(tokens)).hashvalues
                long_rows.append(u)
        self._link_similar(
            signatures[: len(long_rows)], np.array(long_rows, dtype=np.int64), forest
        )
        del signatures

        # 3. Components of enough people become campaigns.
        groups: dict[int, list[int]] = defaultdict(list)
        for u in range(len(uniques)):
            groups[forest.find(u)].append(u)
        found: list[tuple[tuple[int, ...], str, int]] = []
        for members in groups.values():
            indices = sorted(i for u in members for i in copies[uniques[u]])
            if len(indices) < self.min_size:
                continue
            if len(members) == 1 and lengths[members[0]] < self.min_exact_words:
                continue  # many people saying "yes" is not a campaign
            template_u = max(members, key=lambda u: (len(copies[uniques[u]]), -u))
            template = normalise(texts[first_of[uniques[template_u]]])
            found.append((tuple(indices), template, len(copies[uniques[template_u]])))
        found = self._merge_spun(found)
        found.sort(key=lambda item: (-len(item[0]), item[0][0]))
        self.campaigns_ = [
            Campaign(id=cid, template=template, members=indices, exact_copies=exact)
            for cid, (indices, template, exact) in enumerate(found)
        ]
        labels = np.full(n, -1, dtype=np.int64)
        for campaign in self.campaigns_:
            labels[list(campaign.members)] = campaign.id
        self.labels_ = labels
        return self

    def _link_similar(self, signatures: np.ndarray, rows: np.ndarray, forest: _UnionFind) -> None:
        """Join texts whose estimated Jaccard similarity reaches ``threshold``.

        Locality-sensitive hashing by bands (datasketch's optimal split for the
        threshold); within a bucket each text is checked against the one before it
        and the first, so a 10,000-copy campaign costs 10,000 checks, not 50 million.
        Memory is the signature array (4 bytes x num_perm a text) and one band's keys."""
        if len(rows) < 2:
            return
        bands, width = _optimal_param(self.threshold, self.num_perm, 0.5, 0.5)
        mixers = np.random.default_rng(self.random_state).integers(
            1, 2**62, size=width, dtype=np.uint64
        )
        for band in range(bands):
            block = signatures[:, band * width : (band + 1) * width].astype(np.uint64)
            keys = (block * mixers).sum(axis=1)  # wraps modulo 2**64: a hash of the band
            order = np.argsort(keys, kind="stable")
            ordered = keys[order]
            starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
            ends = np.r_[starts[1:], len(order)]
            for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
                if end - start < 2:
                    continue
                members = order[start:end]
                block_sigs = signatures[members]
                to_first = (block_sigs[1:] == block_sigs[0]).mean(axis=1)
                to_previous = (block_sigs[1:] == block_sigs[:-1]).mean(axis=1)
                close = (to_first >= self.threshold) | (to_previous >= self.threshold)
                for i in np.flatnonzero(close).tolist():
                    other = members[0] if to_first[i] >= self.threshold else members[i]
                    forest.union(int(rows[members[i + 1]]), int(rows[other]))

    def _merge_spun(
        self, found: list[tuple[tuple[int, ...], str, int]]
    ) -> list[tuple[tuple[int, ...], str, int]]:
        if self.skeleton_threshold is None or len(found) < 2:
            return found
        found = sorted(found, key=lambda item: (-len(item[0]), item[0][0]))
        skeletons = [_skeleton(template, self.skeleton_size) for _, template, _ in found]
        forest = _UnionFind(len(found))
        # Candidates from LSH over the skeletons (there can be thousands of small
        # campaigns), then the exact Jaccard decides. Short templates have no frame to share.
        lsh = MinHashLSH(threshold=self.skeleton_threshold, num_perm=self.num_perm)
        sign = self._signer()
        for i, (_, template, _) in enumerate(found):
            if len(_WORD.findall(template)) < self.min_words:
                continue
            signature = sign({gram.encode() for gram in skeletons[i]})
            for j in lsh.query(signature):
                a, b = skeletons[i], skeletons[j]
                if len(a & b) / len(a | b) >= self.skeleton_threshold:
                    forest.union(i, j)
            lsh.insert(i, signature)
        merged: dict[int, list[int]] = defaultdict(list)
        for i in range(len(found)):
            merged[forest.find(i)].append(i)
        # The largest campaign of a family gives the template (roots are the lowest index).
        return [
            (tuple(sorted(m for i in group for m in found[i][0])), found[root][1], found[root][2])
            for root, group in merged.items()
        ]

    def fit_predict(self, texts: Sequence[str]) -> np.ndarray:
        """Fit and return ``labels_``."""
        return self.fit(texts).labels_


def pairwise_scores(truth: Sequence[object], predicted: Sequence[int]) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a grouping against true groups.

    ``predicted`` uses -1 for "in no campaign" (each such item is its own group);
    ``truth`` uses None for the same."""

    def pairs(counter: Counter[object]) -> int:
        return sum(c * (c - 1) // 2 for c in counter.values())

    true_groups = [t if t is not None else ("solo", i) for i, t in enumerate(truth)]
    pred_groups = [p if p != -1 else ("solo", i) for i, p in enumerate(predicted)]
    both = pairs(Counter(zip(true_groups, pred_groups, strict=True)))
    true_pairs = pairs(Counter(true_groups))
    pred_pairs = pairs(Counter(pred_groups))
    precision = both / pred_pairs if pred_pairs else 1.0
    recall = both / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
