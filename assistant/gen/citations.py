"""Post-checks on what the model wrote, done by code: citations must name evidence that was given,
every sentence must cite something, and numbers (shares, counts) must match the computed statistics."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

# "[W12]", "[W12, W13]", "[W12][C3]", "[id: W12]" — ids are letters/digits/_-.: (see evidence.safe_id)
_CITE = re.compile(r"\[\s*((?:id\s*[:=]\s*)?[A-Za-z0-9_.:\-]+(?:\s*[,;]\s*(?:id\s*[:=]\s*)?[A-Za-z0-9_.:\-]+)*)\s*\]")
_SENT = re.compile(r"(?<=[.!?])(?:\s*\[[^\]]*\])*\s+(?=[A-Z0-9\"'(])")


def cited_ids(text: str) -> list[str]:
    """Ids cited in ``text``, in order, without duplicates."""
    out: list[str] = []
    for m in _CITE.finditer(text):
        for part in re.split(r"\s*[,;]\s*", m.group(1)):
            part = re.sub(r"^id\s*[:=]\s*", "", part.strip())
            if part and part not in out:
                out.append(part)
    return out


def split_prose(text: str) -> list[str]:
    """Split prose into sentences, keeping trailing citation brackets with their sentence."""
    text = re.sub(r"\s+", " ", text).strip()
    if not text:
        return []
    out: list[str] = []
    start = 0
    for m in re.finditer(r"[.!?](?:\s*\[[^\]]*\])*(?=\s+[A-Z0-9\"'(]|\s*$)", text):
        out.append(text[start:m.end()].strip())
        start = m.end()
    if start < len(text) and text[start:].strip():
        out.append(text[start:].strip())
    return [s for s in out if s]


_STOP = frozenset(["a", "an", "the", "is", "are", "was", "were", "be", "been", "being", "do", "does", "did", "to", "of", "in", "on", "for", "with", "at", "by", "from", "and", "or", "not", "no", "it", "its", "this", "that", "these", "those", "what", "which", "who", "whom", "how", "why", "when", "where", "there", "here", "can", "could", "should", "would", "will", "shall", "may", "might", "must", "i", "me", "my", "we", "our", "you", "your", "he", "she", "they", "them", "their", "his", "her", "as", "if", "than", "then", "so", "such", "about", "into", "over", "under", "any", "some", "all", "more", "most", "very", "much", "many", "have", "has", "had", "get", "got", "make", "made", "product", "item", "one", "ones", "buy", "bought", "people", "say", "said", "think", "thought", "good", "also", "just", "really", "but", "too", "while", "however", "overall", "buyers", "buyer", "reviews", "review", "reviewers", "customers", "users"])


def content_words(text: str) -> set[str]:
    """Lower-cased content words (stop words removed, a plural "s" stripped) for overlap checks."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {w[:-1] if w.endswith("s") and len(w) > 3 else w for w in words if w not in _STOP and len(w) > 1}


def whole_sentences(text: str, *, min_keep: float = 0.0) -> str:
    """Drop a trailing sentence fragment (a grammar's length cap can stop the model mid-sentence). The cut
    is kept only when more than ``min_keep`` of the text survives; a lone fragment stays as it is."""
    text = text.strip()
    if not text or re.search(r"[.!?\"')\]]$", text):
        return text
    cut = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    return text[:cut + 1] if cut > max(0, int(len(text) * min_keep)) else text


def fit_word_budget(text: str, words: int, *, slack: float = 0.15) -> tuple[str, list[str]]:
    """Keep whole sentences, in order, while the running word count (citations not counted) stays within
    ``words`` (+``slack``); a sentence that does not fit is skipped so a shorter later one (often the
    complaint) can still fit. The first sentence is always kept. Returns (text, trimmed sentences)."""
    limit = int(words * (1 + slack))
    kept: list[str] = []
    trimmed: list[str] = []
    used = 0
    for sent in split_prose(text):
        n = len(strip_citations(sent).split())
        if kept and used + n > limit:
            trimmed.append(sent)
            continue
        kept.append(sent)
        used += n
    return " ".join(kept), trimmed


def clean_markdown(text: str) -> str:
    """Model prose without list markers, headings and emphasis; a cut-off last fragment is removed."""
    text = re.sub(r"(?m)^\s*(?:#+\s*|[-*•]\s+|\d+[.)]\s+)", "", text)
    text = re.sub(r"\*\*|__|`", "", text)
    text = re.sub(r"\s*\n+\s*", " ", text).strip()
    sents = split_prose(text)
    if len(sents) > 1 and not re.search(r"[.!?](?:\s*\[[^\]]*\])*$", sents[-1]):
        sents = sents[:-1]
    return " ".join(sents)


def attribute_uncited(text: str, evidence: dict[str, str], *, min_support: float = 0.6, min_words: int = 3,
                      max_ids: int = 2) -> tuple[str, list[str]]:
    """Cite sentences the model left uncited when the evidence supports them: a sentence with at least
    ``min_words`` content words, at least ``min_support`` (and ``min_words``) of them found in one
    evidence text, gets that text's id (best ``max_ids``). Unsupported sentences stay uncited (and are
    dropped later). Pass only trustworthy evidence (see ``evidence.looks_like_injection``).
    Returns (text, ids added)."""
    ev_words = {i: content_words(t) for i, t in evidence.items()}
    out: list[str] = []
    added: list[str] = []
    for sent in split_prose(text):
        if any(c in evidence for c in cited_ids(sent)):
            out.append(sent)
            continue
        cw = content_words(strip_citations(sent))
        if len(cw) < min_words:
            out.append(sent)
            continue
        scored = sorted(((len(cw & w) / len(cw), i) for i, w in ev_words.items() if len(cw & w) >= min_words),
                        key=lambda x: (-x[0], x[1]))
        ids = [i for sc, i in scored[:max_ids] if sc >= min_support]
        if ids:
            body = strip_citations(sent)
            end = body[-1] if body and body[-1] in ".!?" else ""
            sent = f"{body[:-1] if end else body} [{', '.join(ids)}]{end or '.'}"
            added.extend(i for i in ids if i not in added)
        out.append(sent)
    return " ".join(out), added


def strip_citations(text: str) -> str:
    return re.sub(r"\s+([.,;!?])", r"\1", _CITE.sub("", text)).strip()


@dataclass
class CitationReport:
    """Result of checking a text's citations against the evidence ids."""

    text: str
    cited: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    uncited_sentences: list[str] = field(default_factory=list)
    dropped_sentences: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.invalid and not self.uncited_sentences

    def as_dict(self) -> dict[str, Any]:
        return {"citations_valid": self.valid, "invalid_citations": self.invalid, "cited": self.cited,
                "uncited_sentences": self.uncited_sentences, "dropped_sentences": self.dropped_sentences}


def check_citations(text: str, known_ids: Iterable[str], *, drop_uncited: bool = False,
                    remove_invalid: bool = True) -> CitationReport:
    """Check every citation in ``text`` against ``known_ids``.

    Invalid ids are reported (and removed from the text when ``remove_invalid``); sentences that cite
    nothing valid are reported in ``uncited_sentences`` and, when ``drop_uncited``, removed from the
    text (listed in ``dropped_sentences``; then they no longer make the report invalid).
    """
    known = set(known_ids)
    report = CitationReport(text=text)
    kept: list[str] = []
    for sent in split_prose(text):
        ids = cited_ids(sent)
        bad = [i for i in ids if i not in known]
        good = [i for i in ids if i in known]
        for i in bad:
            if i not in report.invalid:
                report.invalid.append(i)
        for i in good:
            if i not in report.cited:
                report.cited.append(i)
        if remove_invalid and bad:
            sent = _rewrite_cites(sent, known)
        if not good:
            if drop_uncited:
                report.dropped_sentences.append(sent)
                continue
            report.uncited_sentences.append(sent)
        kept.append(sent)
    report.text = " ".join(kept)
    return report


def _rewrite_cites(sentence: str, known: set[str]) -> str:
    def repl(m: re.Match[str]) -> str:
        ids = [i for i in cited_ids(m.group(0)) if i in known]
        return "[" + ", ".join(ids) + "]" if ids else ""

    return re.sub(r"\s+([.,;!?])", r"\1", _CITE.sub(repl, sentence)).strip()


# --------------------------------------------------------------------------- numbers vs statistics

_PCT = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*(?:%|percent\b)")
_COUNT = re.compile(r"\b(\d{1,7})(\s+(?:of|out of)\s+(\d{1,7}))?\s+(?:reviews?|reviewers|buyers|customers|shoppers|people)\b",
                    re.I)


@dataclass
class NumberIssue:
    sentence: str
    found: str
    expected: str | None
    action: str  # "corrected" | "flagged"

    def as_dict(self) -> dict[str, Any]:
        return {"sentence": self.sentence, "found": self.found, "expected": self.expected, "action": self.action}


def _aspect_in(sentence: str, aspects: Sequence[dict[str, Any]]) -> dict[str, Any] | None:
    low = sentence.lower()
    best: tuple[int, dict[str, Any]] | None = None
    for a in aspects:
        name = str(a.get("aspect", "")).lower()
        if not name:
            continue
        pos = low.find(name)
        if pos >= 0 and (best is None or pos < best[0]):
            best = (pos, a)
    return best[1] if best else None


def check_numbers(text: str, stats: dict[str, Any], *, correct: bool = True) -> tuple[str, list[NumberIssue]]:
    """Check percentages and review counts in ``text`` against ``stats`` (``aspect_stats`` output).

    A percentage in a sentence naming an aspect must equal that aspect's share (or its positive /
    negative share) to the nearest percent; a count must equal n_reviews, an aspect's n_reviews,
    positive or negative count. A wrong number in a sentence that names an aspect is corrected to the
    aspect's share/count; any other unverifiable number is flagged. Returns (text, issues)."""
    n_total = int(stats.get("n_reviews") or 0)
    aspects: list[dict[str, Any]] = list(stats.get("aspects") or [])
    all_counts = {n_total} | {int(a.get(k) or 0) for a in aspects for k in ("n_reviews", "positive", "negative", "neutral")}
    all_pcts = {round(100 * c / n_total) for c in all_counts} if n_total else set()
    issues: list[NumberIssue] = []
    out: list[str] = []
    for sent in split_prose(text):
        asp = _aspect_in(sent, aspects)
        if asp is not None and n_total:
            a_counts = {int(asp.get(k) or 0) for k in ("n_reviews", "positive", "negative", "neutral")}
            a_pcts = {round(100 * c / n_total) for c in a_counts}
            a_pcts |= {round(100 * float(asp.get("share") or 0.0))}
        else:
            a_counts, a_pcts = set(), set()

        def fix_pct(m: re.Match[str], sent: str = sent, asp: dict[str, Any] | None = asp,
                    a_pcts: set[int] = a_pcts) -> str:
            val = float(m.group(1))
            if any(abs(val - p) <= 1 for p in (a_pcts or all_pcts)):
                return m.group(0)
            if asp is not None and correct:
                exp = round(100 * float(asp.get("share") or 0.0))
                issues.append(NumberIssue(sent, m.group(0), f"{exp}%", "corrected"))
                return f"{exp}%"
            issues.append(NumberIssue(sent, m.group(0), None, "flagged"))
            return m.group(0)

        def fix_count(m: re.Match[str], sent: str = sent, asp: dict[str, Any] | None = asp,
                      a_counts: set[int] = a_counts) -> str:
            val = int(m.group(1))
            total = m.group(3)
            ok_total = total is None or int(total) == n_total
            if (val in (a_counts or all_counts) or (asp is None and val in all_counts)) and ok_total:
                return m.group(0)
            if asp is not None and correct:
                exp = int(asp.get("n_reviews") or 0)
                fixed = m.group(0).replace(m.group(1), str(exp), 1)
                if total is not None:
                    fixed = fixed.replace(f" {total} ", f" {n_total} ", 1) if f" {total} " in fixed else fixed
                issues.append(NumberIssue(sent, m.group(0), fixed, "corrected"))
                return fixed
            issues.append(NumberIssue(sent, m.group(0), None, "flagged"))
            return m.group(0)

        sent = _PCT.sub(fix_pct, sent)
        sent = _COUNT.sub(fix_count, sent)
        out.append(sent)
    return " ".join(out), issues
