"""Is a review-statistics number called what it is? A ``review_stats`` result holds, per aspect (fit, size,
fabric, ...), how many reviews mention it (``n_reviews``, and ``share``: their part of all reviews) and how
many of those are positive, negative or neutral about it. A number the answer takes from one of these and
writes as another is flagged ``mislabelled_number``:

- the share (or count) of reviews that *mention* an aspect written as those that complain about or praise
  it ("0.5502 of buyers complain about the fit", 0.5502 being the share that mention fit at all);
- praise written as complaints or the other way round ("159 reviews complain about size", 159 being the
  reviews positive about size);
- one aspect's number written beside another aspect ("174 reviews praise the fabric", 174 being size's).

An aspect named as a complaint (praise) that few buyers complain about (praise) is flagged
``unsupported_claim`` ("buyers complain about the colour" when 6 of the 212 reviews that mention it are
negative and size, fit and length hold the most complaints), numbers or not.

What a clause says comes from its words: "complain", "dislike", "negative", "problem" (complaints); "like",
"love", "praise", "positive" (praise); "mention", "discuss", "talk about" (mentions, which a share may
always be); the aspect names it holds. A clause without such words takes those earlier in its sentence, else
the question's. A clause with words of both sides, or a number that other parts of the results (the rating
histogram, the review count) or the question also hold, is not judged; a number found in several places is
flagged only when none of them fits the clause. When the result holds the number that belongs there, the
flag says it (``expected``), so the rewrite can use it."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.agent.result import AgentFlag, AgentStep, result_entity
from assistant.numbers import NumberMention, clauses, extract_numbers, sentences, shows, source_pool

COUNT_KEYS = ("positive", "negative", "neutral")  # reviews with that opinion of the aspect
MENTION_KEYS = ("n_reviews", "share")  # reviews that mention the aspect (count, part of all reviews)
NEG, POS, BOTH = "negative", "positive", "both"
CLAIM_SHARE = 0.1  # an aspect under this share of negative (positive) mentions is no complaint (praise) of buyers

_NEG = re.compile(r"\b(?:complain\w*|dislik\w*|negative(?:ly)?|issues?|problems?|unhappy|disappoint\w*|"
                  r"criticis\w*|criticiz\w*|grumbl\w*|cons)\b", re.IGNORECASE)
_POS = re.compile(r"\b(?:likes?|liked|lov(?:e|es|ed|ing)|prais\w*|positive(?:ly)?|happy|pleased|satisf\w*|"
                  r"enjoy\w*|compliment\w*|appreciat\w*|pros)\b", re.IGNORECASE)
_MENTION = re.compile(r"\b(?:mention\w*|discuss\w*|talk\w* about|bring up|brought up|comes? up|comment\w* on|"
                      r"refer\w* to|rais\w*|cit(?:e|es|ed|ing))\b", re.IGNORECASE)
_CLAIM_NEG = re.compile(r"\b(?:complain\w*|dislik\w*|unhappy|disappoint\w*|criticis\w*|criticiz\w*|grumbl\w*)\b",
                        re.IGNORECASE)
_CLAIM_POS = re.compile(r"\b(?:likes?|liked|lov(?:e|es|ed|ing)|prais\w*|enjoy\w*|appreciat\w*)\b", re.IGNORECASE)
_HEDGE = re.compile(r"\b(?:few|only|rarely|seldom|some|occasional\w*|handful|minor|little|not|no)\b", re.IGNORECASE)
_MOST = re.compile(r"\b(?:most|top|biggest|main|chief|primary|leading|number one)\b", re.IGNORECASE)
_SPELLINGS = {"color": "colou?r", "colour": "colou?r"}


@dataclass(frozen=True)
class _Reading:
    step: AgentStep
    index: int  # position in the result's aspects
    aspect: str
    key: str


def aspect_flags(answer: str, question: str, steps: Sequence[AgentStep], skip: Collection[int] = ()) -> list[AgentFlag]:
    """``mislabelled_number`` flags for ``answer`` (see the module doc); ``skip``: start offsets of numbers
    already flagged for another reason."""
    judged = [(step, _aspects(step)) for step in steps]
    judged = [(step, aspects) for step, aspects in judged if aspects]
    if not judged:
        return []
    names = sorted({str(a["aspect"]) for _, aspects in judged for a in aspects}, key=len, reverse=True)
    rest = source_pool([question, *(v for s in steps for v in (s.arguments, s.error, _rest(s)))])
    q_pol, q_aspects = _polarity(question), _named(question, names)
    flags: list[AgentFlag] = []
    for s_off, sentence in sentences(answer):
        for c_off, clause in clauses(sentence):
            lead = sentence[:c_off]
            pol = _polarity(clause) or _polarity(lead) or q_pol
            own = _named(clause, names)  # the aspects the clause itself names (claims are judged on these)
            named = own or _named(lead, names) or q_aspects
            mention = bool(_MENTION.search(clause))
            for m in extract_numbers(clause):
                start = s_off + c_off + m.start
                if start in skip or rest.supports(m):
                    continue
                found = _find(m, judged)
                if not found or any(_fits(r, pol, named, mention) for r in found):
                    continue
                flag = _flag(m, found[0], pol, named)
                flag.detail.update(start=start, end=s_off + c_off + m.end)
                flags.append(flag)
            claim = _claim(clause) or _claim(lead) or _claim(question)
            if len(judged) == 1 and claim and _MOST.search(clause):
                flags += _not_the_most(clause, s_off + c_off, claim, own, judged[0])
            elif len(judged) == 1 and claim and not re.search(r"\d", clause) and not _HEDGE.search(clause):
                flags += _claims(clause, s_off + c_off, claim, own, judged[0])
    return flags


def _not_the_most(clause: str, offset: int, pol: str, named: set[str],
                  judged: tuple[AgentStep, list[dict[str, Any]]]) -> list[AgentFlag]:
    """An ``unsupported_claim`` flag when a clause calls one aspect (``named``) the most complained about
    (praised) and another has more such reviews ("the most complained about aspect is fit": size 95, fit 62)."""
    step, aspects = judged
    if len(named) != 1:
        return []
    name = next(iter(named))
    top = max(aspects, key=lambda a: float(a.get(pol) or 0))
    it = next(a for a in aspects if a["aspect"] == name)
    if top["aspect"] == name or float(top.get(pol) or 0) <= float(it.get(pol) or 0):
        return []
    entity = result_entity(step) or step.tool
    verb = "complained about" if pol == NEG else "praised"
    return [_claim_flag(f"The answer calls {name} the most {verb}, but in the result for {entity} {top['aspect']} "
                        f"has more {pol} reviews ({top.get(pol)}) than {name} ({it.get(pol)}).",
                        name, entity, pol, clause, offset)]


def _claim_flag(message: str, name: str, entity: str, pol: str, clause: str, offset: int) -> AgentFlag:
    """An ``unsupported_claim`` flag about aspect ``name``, placed on its word in the clause (at ``offset``)."""
    at = re.search(rf"\b{_pattern(name)}", clause, re.IGNORECASE)
    return AgentFlag("unsupported_claim", message, {"text": name, "entity": entity, "aspect": name, "polarity": pol,
                                                    **({"start": offset + at.start(), "end": offset + at.end()}
                                                       if at else {})})


def _claim(text: str) -> str | None:
    """NEG / POS when ``text`` says buyers complain about (praise) something, else None (both or neither)."""
    neg, pos = bool(_CLAIM_NEG.search(text)), bool(_CLAIM_POS.search(text))
    return None if neg == pos else NEG if neg else POS


def _claims(clause: str, offset: int, pol: str, named: set[str],
            judged: tuple[AgentStep, list[dict[str, Any]]]) -> list[AgentFlag]:
    """``unsupported_claim`` flags for the aspects a complaining (praising) clause names (``named``) that buyers
    seldom complain about (praise): under ``CLAIM_SHARE`` of the reviews that mention it, and not among the three
    aspects with the most such reviews ("buyers complain about the colour", 6 of 212 negative)."""
    step, aspects = judged
    entity = result_entity(step) or step.tool
    top = sorted(aspects, key=lambda a: -float(a.get(pol) or 0))[:3]
    flags = []
    for a in aspects:
        name = str(a["aspect"])
        count, n = a.get(pol), a.get("n_reviews")
        if name not in named or a in top or not isinstance(count, int | float) \
                or not isinstance(n, int | float) or n <= 0 or count >= CLAIM_SHARE * n:
            continue
        verb = "complain about" if pol == NEG else "praise"
        most = ", ".join(f"{t['aspect']} {t.get(pol)}" for t in top)
        flags.append(_claim_flag(f"The answer says buyers {verb} {name}, but few do in the result for {entity}: "
                                 f"{count:.12g} of the {n:.12g} reviews that mention {name} are {pol} about it "
                                 f"(most {pol}: {most}).", name, entity, pol, clause, offset))
    return flags


def _aspects(step: AgentStep) -> list[dict[str, Any]]:
    """The aspect entries of a successful step's result (review_stats), else []."""
    items = step.result.get("aspects") if step.ok and isinstance(step.result, dict) else None
    if not isinstance(items, list):
        return []
    return [a for a in items if isinstance(a, dict) and isinstance(a.get("aspect"), str) and "negative" in a]


def _rest(step: AgentStep) -> Any:
    """A step's result without the judged numbers of its aspects."""
    if not _aspects(step):
        return step.result
    result: dict[str, Any] = step.result  # type: ignore[assignment]
    return {**result, "aspects": [{k: v for k, v in a.items() if k not in (*COUNT_KEYS, *MENTION_KEYS)}
                                  if isinstance(a, dict) else a for a in result["aspects"]]}


def _polarity(text: str) -> str | None:
    neg, pos = bool(_NEG.search(text)), bool(_POS.search(text))
    return BOTH if neg and pos else NEG if neg else POS if pos else None


def _named(text: str, names: Sequence[str]) -> set[str]:
    """The aspect names ``text`` holds ("fit", "colour" for color, "sizes" for size)."""
    return {name for name in names if re.search(rf"\b{_pattern(name)}(?:s|ing)?\b", text, re.IGNORECASE)}


def _pattern(name: str) -> str:
    """A regex for an aspect's name, with its other spellings ("colou?r")."""
    return _SPELLINGS.get(name.lower(), re.escape(name))


def _find(m: NumberMention, judged: list[tuple[AgentStep, list[dict[str, Any]]]]) -> list[_Reading]:
    out = []
    for step, aspects in judged:
        for i, a in enumerate(aspects):
            for key in (*COUNT_KEYS, *MENTION_KEYS):
                value = a.get(key)
                if isinstance(value, int | float) and not isinstance(value, bool) and shows(m, float(value)):
                    out.append(_Reading(step, i, str(a["aspect"]), key))
    return out


def _fits(r: _Reading, pol: str | None, named: set[str], mention: bool) -> bool:
    """Whether reading ``r`` may be written in a clause of polarity ``pol`` naming the aspects ``named``."""
    if named and r.aspect not in named:
        return False
    if pol in (None, BOTH):
        return True
    if r.key in MENTION_KEYS:  # "55% of reviews mention fit": fine; "55% complain about fit": not
        return mention
    return r.key == pol


def _flag(m: NumberMention, r: _Reading, pol: str | None, named: set[str]) -> AgentFlag:
    entity = result_entity(r.step) or r.step.tool
    aspects = _aspects(r.step)
    where = f"aspects[{r.index}].{r.key}"
    what = {"n_reviews": f"the reviews that mention {r.aspect}", "share": f"the share of reviews that mention {r.aspect}",
            "positive": f"the reviews positive about {r.aspect}", "negative": f"the reviews negative about {r.aspect}",
            "neutral": f"the reviews neutral about {r.aspect}"}[r.key]
    aspect = next(iter(named)) if len(named) == 1 else r.aspect
    key = pol if pol in (NEG, POS) else r.key  # the number that belongs in the clause
    says = {NEG: f"reviews that complain about {aspect}", POS: f"reviews that praise {aspect}"}.get(
        str(pol), f"{aspect}'s number")
    message = f"The number {m.text!r} reads as {says} but is {what} ({where}) in the result for {entity}"
    detail: dict[str, Any] = {"text": m.text, "entity": entity, "path": where}
    i = next((j for j, a in enumerate(aspects) if a["aspect"] == aspect), None)
    value = aspects[i].get(key) if i is not None else None
    if i is not None and isinstance(value, int | float) and not isinstance(value, bool) and (i, key) != (r.index, r.key):
        detail.update(expected=value, expected_path=f"aspects[{i}].{key}")
        n = aspects[i].get("n_reviews")
        message += f"; {aspect}: {value:.12g} reviews are {key} about it" + (
            f" (of {n:.12g} that mention it)" if isinstance(n, int | float) and key in COUNT_KEYS else "")
    return AgentFlag("mislabelled_number", message + ".", detail)
