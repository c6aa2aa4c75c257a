"""Guidance as code: each rule checks a draft post against one piece of published
guidance and returns pass, advice or needs-review with a plain message.

Pure functions over plain data, no Django: the composer, the approval flow and
`civicloop guidance check` all call :func:`check`. Organisations tune the pack with a
:class:`Policy` (rules switched off, blocked words, sensitive topics, election
periods, their own word rules)."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from civicloop.channels.limits import NETWORKS

PASS = "pass"  # noqa: S105 - a finding level, not a password
ADVICE = "advice"
REVIEW = "needs-review"
LEVELS = (PASS, ADVICE, REVIEW)

# Sources, cited by every finding so authors can read the guidance itself.
GCS_SOCIAL = "GCS, Social media playbook (accessibility and tone)"
GOVUK_A11Y = "GOV.UK, Making your service accessible: social media (alt text, hashtags, emoji)"
GOVUK_STYLE = "GOV.UK style guide and content design: writing for GOV.UK (plain English)"
PSBAR = "Public Sector Bodies Accessibility Regulations 2018"
PROPRIETY = "Cabinet Office, General election guidance for civil servants; LGA/Code of Recommended Practice on Local Authority Publicity (pre-election period)"
UK_GDPR = "UK GDPR and Data Protection Act 2018 (personal data)"
ORG_POLICY = "Your organisation's social media policy"

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
_HASHTAG = re.compile(r"(?<![\w#])#(\w+)", re.UNICODE)
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")
_URL = re.compile(r"https?://\S+|www\.\S+", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_UK_PHONE = re.compile(r"(?<!\d)(?:\+44\s?|0)(?:\d\s?){9,10}(?!\d)")
_NI_NUMBER = re.compile(
    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]\b",
    re.I,
)
_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.I)
_FULL_NAME = re.compile(
    r"\b(?:Mr|Mrs|Ms|Miss|Dr)\.?\s+[A-Z][a-z]+|\b[A-Z][a-z]+\s+[A-Z][a-z]{2,}\b"
)
_ACRONYM = re.compile(r"\b[A-Z]{2,6}s?\b")
_VOWELS = re.compile(r"[aeiouy]+")

# Acronyms most people know (GOV.UK's own list includes these); the rest need spelling out.
KNOWN_ACRONYMS = frozenset(
    [
        "UK",
        "EU",
        "NHS",
        "BBC",
        "GP",
        "TV",
        "OK",
        "MP",
        "MPs",
        "PM",
        "ID",
        "PIN",
        "ATM",
        "USA",
        "US",
        "DVLA",
        "HMRC",
        "VAT",
        "PDF",
        "FAQ",
        "FAQs",
        "AM",
        "PM",
        "CCTV",
        "DIY",
    ]
)
NETWORK_LIMITS = {name: limits.characters for name, limits in NETWORKS.items()}
POLITICAL_WORDS = re.compile(
    r"\b(?:councillors?|cllr|candidates?|MPs?|MSPs?|MSs?|party|parties|Labour|Conservatives?|Tory|Tories|"
    r"Liberal Democrats?|Lib Dems?|Green Party|Reform UK|Plaid Cymru|SNP|manifesto|vote for|re-?elect)\b",
    re.I,
)
SHARING = re.compile(r"\b(?:RT|via)\s+@|^\s*RT\b|\bquote[- ]post", re.I)
LAUNCH = re.compile(
    r"\b(?:launch(?:es|ed|ing)?|new (?:campaign|consultation|scheme|initiative|policy)|have your say|consultation (?:opens|is open))\b",
    re.I,
)
PRESS_RELEASE = re.compile(
    r"\b(?:is (?:pleased|delighted|proud|thrilled) to (?:announce|confirm)|we are (?:pleased|delighted|proud|thrilled) to|"
    r"stakeholders?|leverag(?:e|ing)|going forward|key (?:deliverables?|partners)|in due course|"
    r"commence[sd]?|facilitate[sd]?|hereby|aforementioned|utili[sz]e[sd]?)\b",
    re.I,
)


@dataclass(frozen=True)
class Image:
    alt: str | None = None  # None or blank: no alt text


@dataclass(frozen=True)
class Draft:
    text: str
    network: str | None = None
    images: tuple[Image, ...] = ()
    on: dt.date | None = None  # the publish date, for the pre-election rule


@dataclass(frozen=True)
class ElectionPeriod:
    name: str
    starts: dt.date
    ends: dt.date  # polling day

    def covers(self, day: dt.date) -> bool:
        return self.starts <= day <= self.ends


@dataclass(frozen=True)
class WordRule:
    """An organisation's own rule: any of ``words`` found gives ``level``."""

    id: str
    words: tuple[str, ...]
    level: str
    message: str


@dataclass(frozen=True)
class Policy:
    disabled: frozenset[str] = frozenset()
    blocked_words: tuple[str, ...] = ()
    sensitive_topics: tuple[str, ...] = ()
    elections: tuple[ElectionPeriod, ...] = ()
    own_rules: tuple[WordRule, ...] = ()
    max_reading_age: int = 14  # Flesch-Kincaid grade 9: most adults read this easily


@dataclass(frozen=True)
class Finding:
    rule: str
    level: str
    message: str
    source: str


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def risk(self) -> str:
        """high: something needs a second person; medium: advice to consider; low: clear."""
        levels = {f.level for f in self.findings}
        if REVIEW in levels:
            return "high"
        if ADVICE in levels:
            return "medium"
        return "low"

    @property
    def needs_review(self) -> bool:
        return self.risk == "high"

    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.level != PASS]

    def as_json(self, *, include_passes: bool = False) -> dict[str, object]:
        shown = self.findings if include_passes else self.problems()
        return {"risk": self.risk, "findings": [asdict(f) for f in shown]}


RuleFunction = Callable[[Draft, Policy], list[tuple[str, str]]]  # [(level, message)]
RULES: dict[str, tuple[str, str, RuleFunction]] = {}  # id -> (title, source, check)


def rule(rule_id: str, title: str, source: str) -> Callable[[RuleFunction], RuleFunction]:
    def register(function: RuleFunction) -> RuleFunction:
        RULES[rule_id] = (title, source, function)
        return function

    return register


def _words_in(text: str, words: tuple[str, ...]) -> list[str]:
    found = []
    for word in words:
        word = word.strip()
        if word and re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.I):
            found.append(word)
    return found


def _prose(text: str) -> str:
    """The text people read: links, mentions and hashtags taken out."""
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return _HASHTAG.sub(" ", text)


def _is_emoji(char: str) -> bool:
    return unicodedata.category(char) == "So" or 0x1F300 <= ord(char) <= 0x1FAFF


@rule("alt-text", "Every image has alt text", GOVUK_A11Y + "; " + PSBAR)
def _alt_text(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    missing = sum(1 for image in draft.images if not (image.alt or "").strip())
    if missing:
        return [
            (
                REVIEW,
                f"{missing} image{'s have' if missing > 1 else ' has'} no alt text. Describe what the "
                "image shows for people who cannot see it; text inside the image must be in the alt text too.",
            )
        ]
    long = [image for image in draft.images if len(image.alt or "") > 1000]
    if long:
        return [(ADVICE, "Alt text over 1,000 characters is cut off by some networks: shorten it.")]
    return []


@rule("sentence-length", "Sentences of 25 words or fewer", GOVUK_STYLE)
def _sentence_length(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    long = [s for s in _SENTENCE.split(_prose(draft.text)) if len(_WORD.findall(s)) > 25]
    if long:
        first = " ".join(long[0].split()[:8])
        return [
            (
                ADVICE,
                f"{len(long)} sentence{'s are' if len(long) > 1 else ' is'} over 25 words "
                f"(“{first}…”). Split long sentences: they are harder to read, especially on a phone.",
            )
        ]
    return []


@rule("hashtags", "Hashtags in CamelCase, at most two, at the end", GOVUK_A11Y)
def _hashtags(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    tags = _HASHTAG.findall(draft.text)
    out = []
    flat = [t for t in tags if len(t) >= 8 and (t.islower() or t.isupper()) and not t.isdigit()]
    if flat:
        out.append(
            (
                ADVICE,
                f"Write hashtags in CamelCase (#{flat[0]} → capitalise each word) so screen readers "
                "read the words out rather than spell them.",
            )
        )
    if len(tags) > 2:
        out.append(
            (ADVICE, f"{len(tags)} hashtags: use at most two, they are clutter to most readers.")
        )
    if tags:
        tail = draft.text[draft.text.find("#" + tags[0]) :]
        if _WORD.search(_URL.sub(" ", _HASHTAG.sub(" ", tail))):
            out.append(
                (
                    ADVICE,
                    "Put hashtags at the end: in the middle of a sentence they interrupt people "
                    "using screen readers.",
                )
            )
    return out


@rule("emoji", "Three emoji at most, never instead of words", GOVUK_A11Y)
def _emoji(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    text = draft.text
    count = sum(1 for char in text if _is_emoji(char))
    out = []
    if count > 3:
        out.append(
            (
                ADVICE,
                f"{count} emoji: screen readers read each one's full name aloud. Use three at most.",
            )
        )
    # An emoji between two words stands in for a word ("I ❤️ Leeds").
    if re.search(r"[A-Za-z]\s*[\U0001F300-\U0001FAFF\u2600-\u27BF]\ufe0f?\s*[a-z]", text):
        out.append(
            (
                ADVICE,
                "An emoji seems to stand in for a word. Write the word: emoji are read out by name "
                "(“red heart”), which changes the sentence.",
            )
        )
    return out


@rule("links", "One link at most", GCS_SOCIAL)
def _links(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    links = _URL.findall(draft.text)
    if len(links) > 1:
        return [(ADVICE, f"{len(links)} links: give people one clear thing to do.")]
    return []


def _syllables(word: str) -> int:
    word = word.lower().strip("'’-")
    count = len(_VOWELS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(count, 1)


def reading_age(text: str) -> float | None:
    """Flesch-Kincaid grade plus 5, the usual UK reading age; None for under 10 words."""
    prose = _prose(text)
    words = _WORD.findall(prose)
    if len(words) < 10:
        return None
    sentences = max(1, len([s for s in _SENTENCE.split(prose) if _WORD.search(s)]))
    syllables = sum(_syllables(w) for w in words)
    grade = 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59
    return round(grade + 5, 1)


@rule("reading-age", "Plain English: a reading age most people have", GOVUK_STYLE)
def _reading_age(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    age = reading_age(draft.text)
    if age is not None and age > policy.max_reading_age:
        return [
            (
                ADVICE,
                f"Reading age about {age:.0f} (aim for {policy.max_reading_age} or under): use shorter "
                "sentences and everyday words.",
            )
        ]
    return []


@rule("acronyms", "Acronyms explained", GOVUK_STYLE)
def _acronyms(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    prose = _prose(draft.text)
    if len(prose) > 40 and prose.isupper():
        return []  # all capitals: a different problem, not acronyms
    unexplained = []
    for match in _ACRONYM.finditer(prose):
        word = match.group(0)
        base = word[:-1] if word.endswith("s") and word[:-1].isupper() else word
        if base in KNOWN_ACRONYMS or word in KNOWN_ACRONYMS or base in unexplained:
            continue
        # Explained as "Full Name (ABC)" or "ABC (full name)".
        before = prose[max(0, match.start() - 3) : match.start()]
        after = prose[match.end() : match.end() + 3]
        if before.rstrip().endswith("(") or after.lstrip().startswith("("):
            continue
        unexplained.append(base)
    if unexplained:
        listed = ", ".join(unexplained[:3])
        return [(ADVICE, f"Explain {listed} the first time, or use the words instead.")]
    return []


@rule("personal-data", "No personal data", UK_GDPR)
def _personal_data(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    text = draft.text
    out = []
    if _NI_NUMBER.search(text):
        out.append((REVIEW, "This looks like a National Insurance number. Never post one."))
    emails = _EMAIL.findall(_URL.sub(" ", text))
    if emails:
        out.append(
            (
                REVIEW,
                f"Email address ({emails[0]}): check it is a team address, not a person's.",
            )
        )
    if _UK_PHONE.search(_URL.sub(" ", text)):
        out.append((REVIEW, "Phone number: check it is a public service number, not a person's."))
    if _POSTCODE.search(text) and _FULL_NAME.search(_prose(text)):
        out.append(
            (
                REVIEW,
                "A postcode together with what looks like a name can identify someone: check before posting.",
            )
        )
    return out


@rule("pre-election", "Pre-election period", PROPRIETY)
def _pre_election(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    day = draft.on or dt.date.today()
    period = next((p for p in policy.elections if p.covers(day)), None)
    if period is None:
        return []
    out = []
    prose = draft.text
    if POLITICAL_WORDS.search(prose):
        out.append(
            (
                REVIEW,
                f"{period.name}: pre-election period until {period.ends:%d %B %Y}. The post names a "
                "politician, candidate or party; a second person must check it is impartial.",
            )
        )
    if SHARING.search(prose):
        out.append(
            (
                REVIEW,
                f"{period.name}: sharing or quoting someone else's post during the pre-election period "
                "needs a second person to check it is not a party's or a politician's.",
            )
        )
    if LAUNCH.search(prose):
        out.append(
            (
                REVIEW,
                f"{period.name}: new campaigns and consultations normally wait until after polling day.",
            )
        )
    if not out:
        out.append(
            (
                ADVICE,
                f"{period.name}: pre-election period until {period.ends:%d %B %Y}. Keep to factual "
                "service information.",
            )
        )
    return out


@rule("blocked-words", "Words your organisation does not use", ORG_POLICY)
def _blocked(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    found = _words_in(draft.text, policy.blocked_words)
    if found:
        return [
            (
                REVIEW,
                f"Uses {', '.join(repr(w) for w in found[:3])}, which your organisation does not use.",
            )
        ]
    return []


@rule("sensitive-topics", "Sensitive topics", ORG_POLICY)
def _sensitive(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    found = _words_in(draft.text, policy.sensitive_topics)
    if found:
        return [
            (
                REVIEW,
                f"Mentions {', '.join(repr(w) for w in found[:3])}, a sensitive topic just now: a second person should check it.",
            )
        ]
    return []


@rule("press-release", "Sounds like a person, not a press release", GCS_SOCIAL)
def _press_release(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    found = PRESS_RELEASE.findall(draft.text)
    if found:
        return [
            (
                ADVICE,
                f"“{found[0]}” reads like a press release. Say it the way you would to a neighbour.",
            )
        ]
    return []


def text_length(text: str, network: str) -> int:
    """Characters as ``network`` counts them: X counts every link as 23; Bluesky counts
    graphemes (approximated by code points without combining marks)."""
    if network == "x":
        return len(_URL.sub("x" * 23, text))
    if network == "bluesky":
        return sum(1 for char in text if not unicodedata.combining(char) and char != "\ufe0f")
    return len(text)


@rule("length", "Fits the network", GCS_SOCIAL)
def _length(draft: Draft, policy: Policy) -> list[tuple[str, str]]:
    if not draft.network or draft.network not in NETWORK_LIMITS:
        return []
    limit = NETWORK_LIMITS[draft.network]
    used = text_length(draft.text, draft.network)
    if used > limit:
        return [
            (
                REVIEW,
                f"{used} characters: {draft.network} allows {limit}. Shorten by {used - limit} before it can be published.",
            )
        ]
    return []


def check(draft: Draft, policy: Policy | None = None) -> Report:
    """Run every rule not switched off, then the organisation's own rules."""
    policy = policy or Policy()
    report = Report()
    for rule_id, (_title, source, function) in RULES.items():
        if rule_id in policy.disabled:
            continue
        results = function(draft, policy)
        if not results:
            report.findings.append(Finding(rule_id, PASS, "", source))
        for level, message in results:
            report.findings.append(Finding(rule_id, level, message, source))
    for own in policy.own_rules:
        if own.id in policy.disabled:
            continue
        found = _words_in(draft.text, own.words)
        level = own.level if own.level in LEVELS else ADVICE
        report.findings.append(
            Finding(own.id, level if found else PASS, own.message if found else "", ORG_POLICY)
        )
    order = {REVIEW: 0, ADVICE: 1, PASS: 2}
    report.findings.sort(key=lambda f: order[f.level])
    return report
