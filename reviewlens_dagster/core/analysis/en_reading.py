"""The English reading of a review: sentence boundaries from ``pysbd``, polarity from VADER
(``vaderSentiment``: a rule-based sentiment lexicon with negation, intensifiers, "but" and
punctuation, its data shipped in the wheel), the restaurant domain's words added to VADER's
lexicon, and each judgement attached to the aspect it is about.

How a review is read:

1. ``pysbd`` cuts it into sentences; a sentence is cut again at a contrast ("but", "although",
   "though", "however", "while", "whereas", "yet", "except", ";"): the part after it is marked as
   after a contrast (it stands where one aspect is judged both ways, as in Korean);
2. in each part, the aspects are *anchored* by their terms (:data:`ASPECT_TERMS`: nouns such as
   food, staff, prices, ambience, wait; and judging words that name their aspect, such as
   delicious, rude, overpriced, cozy);
3. the part is divided between its aspects: consecutive anchors of one aspect form one group, and
   two groups are separated at the last "and" / "," / "with" / "plus" between them (else midway),
   so "great food and terrible service" and "the food was great, the service slow" give each
   aspect its own words;
4. each aspect's words are scored by VADER (its compound score; the domain words of
   :data:`DOMAIN_VALENCE` added): ≥ :data:`POSITIVE_AT` positive, ≤ −:data:`POSITIVE_AT`
   negative; words of the middle only (okay, average, so-so, nothing special) neutral; no judging
   word at all: undecided, left to the LLM (docs/analysis.md "Neutral, defined").

5. the learned model (``en_model``, trained on MAMS) reads each sentence for the aspects it knows
   (:func:`_learned`): it decides a named aspect's polarity when it is sure, and adds an aspect the
   sentence speaks of without naming it.

The reasons of a mention are its judging words of the decided sign ("slow", "not friendly").
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..aspects import COARSE
from . import en_model

#: aspect -> the words that name it (matched as whole words, a plural "s" / "es" optional)
ASPECT_TERMS: dict[str, tuple[str, ...]] = {
    "맛": (
        "food",
        "taste",
        "flavor",
        "flavour",
        "dish",
        "meal",
        "entree",
        "entrée",
        "appetizer",
        "dessert",
        "cuisine",
        "menu",
        "pizza",
        "pasta",
        "sushi",
        "steak",
        "burger",
        "chicken",
        "fish",
        "salad",
        "soup",
        "bread",
        "brunch",
        "dinner",
        "lunch",
        "breakfast",
        "sandwich",
        "fries",
        "noodle",
        "rice",
        "sauce",
        "meat",
        "seafood",
        "cake",
        "coffee",
        "tea",
        "wine",
        "drink",
        "cocktail",
        "beer",
        "special",
        "course",
        "plate",
        "bite",
        "delicious",
        "tasty",
        "yummy",
        "flavorful",
        "flavourful",
        "bland",
        "tasteless",
        "overcooked",
        "undercooked",
        "soggy",
        "greasy",
        "stale",
        "inedible",
        # words that judge only the food: they name it where the dish is not a term ("Al pastor is juicy")
        "juicy",
        "crispy",
        "salty",
        "burnt",
        "watery",
        "mouthwatering",
        "succulent",
        "rubbery",
        "food poisoning",
        "hair",
        "cockroach",
    ),
    "양": ("portion", "serving", "portion size", "helping"),
    "가성비": ("value", "worth", "bang for the buck", "bang for your buck", "money"),
    "덤": ("complimentary", "on the house", "freebie", "free of charge"),
    "가격": (
        "price",
        "cost",
        "bill",
        "expensive",
        "overpriced",
        "pricey",
        "cheap",
        "affordable",
        "inexpensive",
        "reasonably priced",
        "priced",
        "bargain",
        "rip-off",
        "ripoff",
    ),
    "서비스": (
        "service",
        "staff",
        "waiter",
        "waitress",
        "server",
        "waitstaff",
        "wait staff",
        "host",
        "hostess",
        "manager",
        "owner",
        "bartender",
        "employee",
        "crew",
        "maitre d",
        "rude",
        "friendly",
        "attentive",
        "inattentive",
        "unfriendly",
        "courteous",
        "accommodating",
        "welcoming",
        "hospitable",
        "attitude",
        # what the staff failed to do, said without naming them
        *(f"got {who} order wrong" for who in ("our", "my", "the")),
        *(f"messed up {who} order" for who in ("our", "my", "the")),
        "wrong order",
        "had to ask",
        "never came back",
        "never checked on us",
        "nobody greeted us",
        "no one greeted us",
    ),
    "청결": ("cleanliness", "bathroom", "restroom", "hygiene", "dirty", "filthy", "sanitary", "unsanitary"),
    "분위기": (
        "atmosphere",
        "ambience",
        "ambiance",
        "decor",
        "décor",
        "interior",
        "music",
        "vibe",
        "setting",
        "view",
        "place",
        "room",
        "space",
        "seating",
        "patio",
        "bar",
        "noise",
        "cozy",
        "noisy",
        "romantic",
        "cramped",
        "crowded",
        "loud",
    ),
    "배달": ("delivery", "takeout", "take-out", "take out", "driver", "courier", "packaging", "delivered"),
    "대기시간": ("wait", "waited", "waiting", "line", "queue"),
    "주차": ("parking", "valet"),
}

#: anchors that are a mention only when judged (as a dish named in a Korean review): dishes, meals,
#: drinks and generic places; "we ordered the pasta" says nothing of the taste
WEAK_ANCHORS = frozenset(
    {"pizza", "pasta", "sushi", "steak", "burger", "chicken", "fish", "salad", "soup", "bread", "brunch"}
    | {"dinner", "lunch", "breakfast", "sandwich", "fries", "noodle", "rice", "sauce", "meat", "seafood", "cake"}
    | {"coffee", "tea", "wine", "drink", "cocktail", "beer", "special", "course", "plate", "bite", "dish", "meal"}
    | {"menu", "entree", "entrée", "appetizer", "dessert", "place", "room", "space", "bar", "seating", "patio"}
    | {"setting", "view", "line", "bill", "money", "cost", "owner", "manager", "host", "driver", "table", "worth"}
    | {"hair", "cockroach"}  # food safety only where judged ("a hair in my soup"), not "her hair was pink"
)

#: the restaurant domain's words VADER's lexicon lacks (its scale: -4 .. +4), tuned on MAMS
#: train / val only
DOMAIN_VALENCE: dict[str, float] = {
    # taste
    "tasty": 2.2,
    "yummy": 2.2,
    "flavorful": 2.0,
    "flavourful": 2.0,
    "juicy": 1.5,
    "tender": 1.3,
    "crispy": 1.2,
    "authentic": 1.2,
    "bland": -1.8,
    "tasteless": -2.2,
    "salty": -1.3,
    "greasy": -1.5,
    "soggy": -1.8,
    "stale": -1.8,
    "overcooked": -1.8,
    "undercooked": -1.8,
    "burnt": -1.6,
    "inedible": -2.8,
    "watery": -1.4,
    "mediocre": -1.2,
    "underwhelming": -1.5,
    "forgettable": -1.2,
    "uninspired": -1.3,
    "mouthwatering": 2.2,
    "succulent": 2.0,
    "savory": 1.0,
    "exquisite": 2.8,
    "rubbery": -1.8,
    # praise VADER's lexicon lacks
    "impeccable": 2.5,
    "phenomenal": 2.8,
    "stellar": 2.5,
    # price
    "overpriced": -2.0,
    "pricey": -1.2,
    "expensive": -1.3,
    "affordable": 1.5,
    "inexpensive": 1.5,
    "reasonable": 1.3,
    "reasonably": 1.0,
    "bargain": 1.5,
    "ripoff": -2.2,
    # service
    "attentive": 1.8,
    "inattentive": -1.8,
    "accommodating": 1.8,
    "courteous": 1.8,
    "welcoming": 1.6,
    "hospitable": 1.6,
    "prompt": 1.3,
    "efficient": 1.3,
    "knowledgeable": 1.3,
    "attitude": -1.2,
    "snotty": -2.0,
    "condescending": -2.0,
    "dismissive": -1.8,
    "slow": -1.4,
    "forever": -1.2,
    "waited": -0.8,
    # atmosphere, cleanliness, portion, delivery
    "cozy": 1.6,
    "cosy": 1.6,
    "quaint": 1.2,
    "loud": -1.0,
    "cramped": -1.5,
    "crowded": -0.9,
    "filthy": -2.5,
    "unsanitary": -2.2,
    "spotless": 2.0,
    "immaculate": 2.2,
    "sticky": -1.0,
    "spacious": 1.2,
    "tiny": -0.8,
    "skimpy": -1.5,
    "cold": -0.9,
    "lukewarm": -1.2,
    "late": -1.0,
    "quick": 1.0,
    "quickly": 1.0,
    "fast": 1.0,
}

#: words of VADER's lexicon that judge nothing of a restaurant where reviews use them ("with a
#: friend", "feel like", "I agree", "please"): no valence
NOT_JUDGEMENTS = (
    "friend",
    "friends",
    "boyfriend",
    "girlfriend",
    "party",
    "please",
    "like",
    "agree",
    "help",
    "hope",
    "want",
    "wanted",
    "chance",
    "sure",
    "yes",
    "kind",
    "share",
    "free",
    "special",
    "interest",
    "interesting",
    "reservation",
    "reservations",
    "tip",
    "ready",
    "big",
    "mistake",
    "surprised",
    "lol",
    "celebrate",
    "birthday",
    "pretty",
    "played",
    "laughed",
    "well",
    "whatever",
    "strong",
    "play",
    "joke",
)
#: a span of time a wait or a dish takes that is long (an hour, 10 minutes or more, hours)
_LONG_SPAN = r"(?:an? hour|\d{2,3}\s*min(?:ute)?s?|\d+\s*hours?)"
#: idioms and phrases of reviews, read as the word they mean (its valence from the lexicon)
PHRASES: tuple[tuple[str, str], ...] = (
    (r"left (?:a lot|much|something) to be desired", "disappointing"),
    (
        r"took (?:(?:their|its|his|her) )?(?:sweet )?time|took (?:forever|ages)|(?:waited|waiting|wait) (?:forever|ages)",
        "slow",
    ),
    (
        rf"(?:waited|waiting|wait(?:ed)? for)\s+(?:over |nearly |almost |about |more than )?{_LONG_SPAN}",
        "slow",
    ),
    # a duration that it took ("it took 70 minutes", "took over an hour to arrive")
    (
        rf"(?:took|takes|take|taking)\s+(?:over |nearly |almost |about |more than |at least )?{_LONG_SPAN}",
        "slow",
    ),
    (r"\d+\s*min(?:ute)?s? late", "late"),
    # adjectives whose judgement depends on the noun they qualify: a low price is good, a long wait bad
    (r"(?:low|cheap|great|good|fair|decent) prices?", "affordable"),
    (r"(?:high|steep|crazy|insane) prices?", "expensive"),
    (
        r"(?:long|slow) (?:wait|waits|lines?|queues?)|(?:wait|line|queue) (?:is|was|were|are) (?:very |so |really |too )?long",
        "slow",
    ),
    (r"(?:small|tiny|meager|meagre) portions?|portions? (?:is|was|were|are) (?:very |so |really |too )?small", "tiny"),
    (
        r"(?:big|large|huge|generous|hearty) portions?|portions? (?:is|was|were|are) (?:very |so |really )?(?:big|large|huge)",
        "generous",
    ),
    # what the staff failed to do
    (r"got (?:our|my|the) orders? wrong|messed up (?:our|my|the) orders?|wrong orders?", "wrong"),
    (r"had to (?:keep )?ask(?:ing)?|never came back|never checked on us|(?:nobody|no one) greeted us", "neglected"),
    (r"(?:was|were|is|are) (?:still |completely |practically )?raw", "undercooked"),
    # expectations let down; food safety
    (r"expected (?:more|better|much more|a lot more)", "disappointing"),
    (
        r"(?:a |some )?(?:hairs?|bugs?|cockroach(?:es)?|roach(?:es)?|flies|fly) in (?:my|the|our|his|her) \w+|food poisoning|got sick",
        "unsanitary",
    ),
    (r"not worth (?:it|the \w+)", "bad"),
    (r"worth (?:it|every penny|the \w+)", "good"),
    (r"never (?:again|coming back|go back|return)", "terrible"),
    (r"rip[- ]off", "ripoff"),
    (r"(?:i|we|you|they) (?:really |truly |just )?like", "liked"),
    (r"too (?:small|little|few)", "tiny"),
)
_PHRASES = [(re.compile(rf"\b{p}\b", re.IGNORECASE), word) for p, word in PHRASES]

#: words VADER scores that say no reason by themselves ("no wait", "yes"): left out of the reasons
NOT_REASONS = frozenset({"no", "yes", "not", "none", "nothing", "never"})

#: words that say what a thing is like without judging it (VADER scores none of them): with the
#: judging words, what an English sentence says a thing is like (:func:`describing_words`)
DESCRIBING_WORDS = frozenset(
    {"spicy", "sweet", "sour", "bitter", "tangy", "smoky", "creamy", "cheesy", "garlicky", "oily", "dry"}
    | {"chewy", "crunchy", "mushy", "tough", "raw", "fatty", "heavy", "thick", "thin"}
    | {"hot", "warm", "cold", "frozen", "homemade", "small", "big", "large", "huge", "long", "short"}
    | {"busy", "empty", "dark", "bright", "quiet", "clean", "cheap", "late"}
)

#: names of the place that, judged by a verdict alone (:data:`VERDICTS`), are the restaurant as a
#: whole ("love this place"), not its room ("the place is cramped", "a cozy spot" stay the atmosphere's)
WHOLE_PLACE = frozenset({"place", "spot"})
VERDICTS = frozenset(
    {"love", "loved", "like", "liked", "recommend", "recommended", "best", "favorite", "favourite", "amazing"}
    | {"awesome", "great", "excellent", "fantastic", "wonderful", "perfect", "good", "nice", "terrible"}
    | {"awful", "worst", "horrible", "bad", "enjoy", "enjoyed", "avoid", "fun", "solid"}
)

#: judging words that say how long something took: the food judged by these alone is the wait's
TIME_WORDS = frozenset({"slow", "late", "forever", "waited", "fast", "quick", "quickly", "prompt", "not fast"})

#: words of the middle: a part judged by these alone is neutral
MIDDLE_WORDS = frozenset({"okay", "ok", "average", "alright", "so-so", "fine", "decent", "standard", "adequate"})
_MIDDLE_PHRASES = re.compile(r"\bnothing (?:special|spectacular|to write home about)\b|\bjust ok(?:ay)?\b", re.I)
#: words on each side of an aspect's name that may judge it
WINDOW_WORDS = 6
#: words a quote may reach past the judged window to end where its phrase ends
QUOTE_REACH = 6
_PHRASE_END = re.compile(r"[,;:.!?()]")
#: VADER's compound score from which a part is positive (and negative below its negative)
POSITIVE_AT = 0.05
#: the learned model (step 5), chosen on MAMS val (benchmarks/train_en_model.py, docs/benchmarks.md):
#: the share of an aspect's probability its likeliest polarity must hold for the model to decide it
DECIDE_AT = 0.7
#: the model unsure, the rules' polarity stands when it is the middle or VADER's score of the
#: aspect's words is at least this strong (else the mention is undecided: the LLM's)
RULES_STAND_AT = 0.4
#: the probability that a sentence speaks of an aspect the rules did not name from which it is a
#: mention (the model sure of its polarity); higher for a neutral one: MAMS's sentences nearly all
#: speak of the food, and the model's prior for it would make a neutral taste of any sentence
PRESENT_AT = 0.6
NEUTRAL_PRESENT_AT = 0.8
#: the product's aspects MAMS counts under one it labels (its service is also the wait and the
#: delivery, its food the portion, its place the cleanliness and the parking)
FOLDED = {"서비스": {"배달", "대기시간", "덤"}, "맛": {"양"}, "분위기": {"청결", "주차"}}

_CONTRAST = re.compile(r"\b(?:but|however|although|though|while|whereas|yet|except)\b|;", re.IGNORECASE)
_JOINS = re.compile(r"\band\b|,|\bwith\b|\bplus\b|&|\s[-–—]+\s|\bwhich\b|\bwho\b|\bwhen\b|\bso\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


@lru_cache(maxsize=1)
def _analyzer():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.lexicon.update(DOMAIN_VALENCE)
    for word in (*NOT_JUDGEMENTS, *MIDDLE_WORDS):  # the middle words are read as the middle, not as praise
        analyzer.lexicon.pop(word, None)
    return analyzer


@lru_cache(maxsize=1)
def _segmenter():
    import pysbd

    return pysbd.Segmenter(language="en", clean=False, char_span=False)


@lru_cache(maxsize=1)
def _anchor_pattern() -> tuple[re.Pattern, dict[str, str]]:
    owner = {t: a for a, terms in ASPECT_TERMS.items() for t in terms}
    words = sorted(owner, key=len, reverse=True)
    alternation = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    return re.compile(rf"\b({alternation})(?:s|es)?\b", re.IGNORECASE), owner


def sentences(text: str) -> list[tuple[int, str]]:
    """(offset, sentence) of ``text`` by pysbd; offsets found in order (its pieces are substrings)."""
    out, pos = [], 0
    for piece in _segmenter().segment(text):
        stripped = piece.strip()
        if not stripped:
            continue
        at = text.find(stripped, pos)
        if at < 0:  # defensive: a segmenter that altered the text; fall back to the rest as one piece
            rest = text[pos:].strip()
            return out + ([(text.index(rest, pos), rest)] if rest else [])
        out.append((at, stripped))
        pos = at + len(stripped)
    return out


def parts(text: str) -> list[tuple[int, str, bool]]:
    """(offset, part, after a contrast) of every sentence's parts (module docstring, step 1)."""
    return [p for off, sentence in sentences(text) for p in _sentence_parts(off, sentence)]


def _sentence_parts(off: int, sentence: str) -> list[tuple[int, str, bool]]:
    out, pos, after = [], 0, False
    for m in list(_CONTRAST.finditer(sentence)) + [None]:
        end = m.start() if m else len(sentence)
        piece = sentence[pos:end]
        stripped = piece.strip(" ,.!?-–—:()\"'")
        if stripped and _WORD.search(stripped):
            out.append((off + pos + piece.index(stripped), stripped, after))
        if m:
            pos, after = m.end(), True
    return out


def _groups(part: str) -> list[tuple[str, int, int, list[tuple[int, int]]]]:
    """(aspect, start, end, anchors) of the part's divisions between its aspects (module docstring,
    step 3); an aspect named again after another one gets a second division."""
    rx, owner = _anchor_pattern()
    anchors = []
    for m in rx.finditer(part):
        key = " ".join(m.group(1).lower().split())
        aspect = owner.get(key)
        if aspect:
            anchors.append((m.start(), m.end(), aspect))
    if not anchors:
        return []
    runs: list[list] = []  # [aspect, first start, last end, anchors]
    for s, e, a in anchors:
        if runs and runs[-1][0] == a:
            runs[-1][2] = e
            runs[-1][3].append((s, e))
        else:
            runs.append([a, s, e, [(s, e)]])
    cuts = [0]
    for left, right in zip(runs, runs[1:]):
        joins = list(_JOINS.finditer(part, left[2], right[1]))
        if joins:
            cuts.append(joins[-1].start())
        else:  # midway, at the space nearest the middle (never inside a word)
            middle = (left[2] + right[1]) // 2
            spaces = [left[2] + m.start() for m in re.finditer(r"\s", part[left[2] : right[1]])]
            cuts.append(min(spaces, key=lambda x: abs(x - middle)) if spaces else left[2])
    cuts.append(len(part))
    return [(aspect, start, end, found) for (aspect, _, _, found), start, end in zip(runs, cuts, cuts[1:])]


def _window(part: str, start: int, end: int, anchors: list[tuple[int, int]]) -> tuple[int, int]:
    """The stretch of a division within :data:`WINDOW_WORDS` words of its anchors: the words that
    judge an aspect stand near its name ("great food", "the food was great"), the rest of a long
    sentence is about something else."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(part, start, end)]
    if not words:
        return start, end
    at = [i for i, (s, e) in enumerate(words) if any(s < ae and as_ < e for as_, ae in anchors)]
    if not at:
        return start, end
    lo, hi = max(0, min(at) - WINDOW_WORDS), min(len(words) - 1, max(at) + WINDOW_WORDS)
    return words[lo][0], words[hi][1]


def _trimmed(part: str, start: int, end: int) -> tuple[str, int]:
    """``part[start:end]`` without the punctuation and the joining word at its edges, and its offset."""
    piece = part[start:end]
    stripped = piece.strip(" ,.;:!?-–—&")
    if stripped.lower().startswith(("and ", "with ", "plus ")):
        stripped = stripped.split(" ", 1)[1].strip()
    return stripped, (start + piece.index(stripped) if stripped else start)


def _phrase_bounds(part: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    """The window ``start:end`` widened to the phrase boundaries around it (punctuation, or the
    division ``lo:hi`` of its aspect) when they are at most :data:`QUOTE_REACH` words away: a quote
    ends where its phrase does ("We waited 25 minutes for a table even with a reservation", not "...
    even with"); the judgement stays the window's."""
    after = _PHRASE_END.search(part, end, hi)
    stop = after.start() if after else hi
    if len(_WORD.findall(part, end, stop)) <= QUOTE_REACH:
        end = stop
    before = [m.end() for m in _PHRASE_END.finditer(part, lo, start)]
    begin = before[-1] if before else lo
    if len(_WORD.findall(part, begin, start)) <= QUOTE_REACH:
        start = begin
    return start, end


def _reasons(span: str, sign: int) -> tuple[str, ...]:
    """The span's judging words of ``sign`` (a negated one as "not X"), each once, in order."""
    lexicon = _analyzer().lexicon
    words = [w.lower() for w in _WORD.findall(span)]
    out = []
    for i, w in enumerate(words):
        valence = lexicon.get(w)
        if not valence or w in MIDDLE_WORDS or w in NOT_REASONS:
            continue
        negated = any(en_model.negates(x) for x in words[max(0, i - 3) : i])
        s = (valence > 0) - (valence < 0)
        if negated:
            s = -s
        if s == sign:
            out.append(f"not {w}" if negated else w)
    return tuple(dict.fromkeys(out))


def describing_words(text: str) -> list[str]:
    """What an English text says a thing is like: its judging words (VADER's lexicon with the
    domain's words) and :data:`DESCRIBING_WORDS`, lower-cased, each once, in order. The English side
    of ``reasons.predicates`` (a summary's "spicy" is a claim some count must give)."""
    lexicon = _analyzer().lexicon
    words = (w.lower() for w in _WORD.findall(text))
    return list(dict.fromkeys(w for w in words if (w in lexicon or w in DESCRIBING_WORDS) and w not in NOT_REASONS))


def _idioms_read(span: str) -> str:
    """``span`` with each idiom replaced by the word it means (:data:`PHRASES`)."""
    for rx, word in _PHRASES:
        span = rx.sub(word, span)
    return span


def _compound(span: str) -> float:
    """VADER's compound score of ``span`` (its lexicon with the domain's words); 0 without a word."""
    return _analyzer().polarity_scores(span)["compound"] if _WORD.search(span) else 0.0


def vader_compound(span: str) -> float:
    """VADER's compound score of ``span`` with the domain's words (the idioms read as their word)."""
    return _compound(_idioms_read(span))


def _judgement(span: str) -> tuple[str | None, tuple[str, ...]]:
    """(polarity, reasons) of one aspect's words (module docstring, step 4)."""
    span = _idioms_read(span)
    phrases = [m.group(0).lower() for m in _MIDDLE_PHRASES.finditer(span)]
    rest = _MIDDLE_PHRASES.sub(" ", span)  # "nothing special" is the middle, not a negated praise
    compound = _compound(rest)
    if compound >= POSITIVE_AT and not phrases:
        return "positive", _reasons(rest, +1)
    if compound <= -POSITIVE_AT:
        return "negative", _reasons(rest, -1)
    words = [w.lower() for w in _WORD.findall(rest)]
    middle = phrases + [w for w in words if w in MIDDLE_WORDS]
    return ("neutral", tuple(dict.fromkeys(middle))) if middle else (None, ())


def _own_phrase(part: str, start: int, end: int, anchors: list[tuple[int, int]]) -> str:
    """The comma-delimited phrase of the window that holds the aspect's first name: judged first
    ("the service was awful, even surely": the words after the comma do not cancel it)."""
    first = anchors[0][0]
    lo = part.rfind(",", start, first) + 1 or start
    hi = part.find(",", anchors[0][1], end)
    return part[max(lo, start) : hi if hi >= 0 else end].strip(" ,")


def _of_the_whole(part: str, anchors: list[tuple[int, int]], reasons: tuple[str, ...]) -> bool:
    """The aspect is named by "place" / "spot" alone and judged by a verdict alone ("love this place",
    "this place is amazing", "highly recommend this spot"): said of the restaurant as a whole."""
    named = {" ".join(part[s:e].lower().split()).removesuffix("s") for s, e in anchors}
    return bool(reasons) and named <= WHOLE_PLACE and all(r in VERDICTS for r in reasons)


def _weak(anchor: str) -> bool:
    word = " ".join(anchor.lower().split())
    return word in WEAK_ANCHORS or word.rstrip("s") in WEAK_ANCHORS or word.removesuffix("es") in WEAK_ANCHORS


Span = tuple[str, str | None, int, str, bool, tuple[str, ...]]


def rule_spans(text: str) -> list[Span]:
    """The rule reading alone (steps 1-4): (aspect, polarity, offset, quote, after a contrast,
    reasons) of every aspect of every part, in order; the quote is the aspect's division of its
    part, a substring of ``text``. The learned model's features are read from it."""
    return [span for off, sentence in sentences(text) for span in _sentence_rule_spans(off, sentence)]


def english_spans(text: str) -> list[Span]:
    """:func:`rule_spans` with each sentence's modelled aspects read by the learned model (step 5)."""
    out = []
    for off, sentence in sentences(text):
        out += _learned(off, sentence, _sentence_rule_spans(off, sentence))
    return out


def _sentence_rule_spans(sentence_off: int, sentence: str) -> list[Span]:
    out = []
    for off, part, after in _sentence_parts(sentence_off, sentence):
        found = []
        for aspect, lo, hi, anchors in _groups(part):
            start, end = _window(part, lo, hi, anchors)
            stripped, at = _trimmed(part, start, end)
            if not stripped:
                continue
            at += off
            own = _own_phrase(part, at - off, at - off + len(stripped), anchors)
            pol, reasons = _judgement(own) if own else (None, ())
            if pol is None:
                pol, reasons = _judgement(stripped)
            if pol is None and all(_weak(part[s:e]) for s, e in anchors):
                continue  # a dish or a place named without a judgement says nothing of the aspect
            if _of_the_whole(part, anchors, reasons):
                continue  # "Love this place": the restaurant as a whole, not its room
            quote, quote_at = _trimmed(part, *_phrase_bounds(part, start, end, lo, hi))
            if quote and stripped in quote:  # the quote a reader sees: whole phrases, the judged words in it
                stripped, at = quote, off + quote_at
            found.append((aspect, pol, at, stripped, after, reasons))
        out += _wait_of_delivery(_time_of_the_food(found), part, off)
    return out


def _time_of_the_food(found: list) -> list:
    """The food judged by its time alone ("our food took forever to come out", "the food came out
    fast") is the wait's, as in the Korean reading ("음식이 늦게 나왔어요"); its temperature or its
    taste stays the food's."""
    named = {f[0] for f in found}
    return [
        ("대기시간", *f[1:]) if f[0] == "맛" and f[5] and set(f[5]) <= TIME_WORDS and "대기시간" not in named else f
        for f in found
    ]


def _learned(off: int, sentence: str, found: list[Span]) -> list[Span]:
    """Step 5: for each aspect the model knows (``en_model.MODELLED``), the model's reading of the
    sentence.

    - Named once by the rules: the model's polarity when it is sure of it (:data:`DECIDE_AT`);
      unsure, the rules' polarity stands when they are sure (a middle word, VADER's strong score
      :data:`RULES_STAND_AT`, or the aspect alone in its sentence), else the mention is undecided
      (the LLM's). MAMS labels an aspect that borrows the judging words of another one in its
      sentence neutral, and the model reads it so; an aspect alone in its sentence has no other's
      words to borrow: the model's neutral does not overrule its judgement ("Great value for money").
    - Named twice or more (judged both ways across a contrast): the rules' polarities stand.
    - Not named by the rules: a mention of the whole sentence when the model finds the aspect
      spoken of (:data:`PRESENT_AT`, :data:`NEUTRAL_PRESENT_AT`) and is sure of its polarity ("we
      waited 40 minutes for a table", "they forgot our drinks"), unless the rules named one of the
      product's finer aspects that MAMS counts under it (:data:`FOLDED`: the delivery is not also
      the staff's)."""
    out = list(found)
    named = {f[0] for f in found}
    for aspect in en_model.MODELLED:
        mine, vader, feats = model_input(sentence, aspect, found)
        p = en_model.probabilities(feats)
        present = 1.0 - p["absent"]
        label = max(("positive", "negative", "neutral"), key=p.__getitem__)
        sure = label if present > 0 and p[label] / present >= DECIDE_AT else None
        if len(mine) == 1:
            a, pol, at, quote, after, _reasons = found[mine[0]]
            alone = len(found) == 1  # the only aspect the sentence names: no other's words to borrow
            if pol is not None and sure is None and (alone or pol == "neutral" or abs(vader) >= RULES_STAND_AT):
                continue  # the model unsure, the rules sure
            if pol in ("positive", "negative") and sure == "neutral" and alone:
                continue  # a judged aspect alone in its sentence is not spoken of "without a judgement"
            if sure != pol:
                out[mine[0]] = (a, sure, at, quote, after, _model_reasons(quote, sure))
        elif (
            not mine
            and sure
            and present >= (NEUTRAL_PRESENT_AT if sure == "neutral" else PRESENT_AT)
            and not (named & FOLDED.get(aspect, set()))
        ):
            out.append((aspect, sure, off, sentence, False, _model_reasons(sentence, sure)))
    return sorted(out, key=lambda f: f[2])


def model_input(sentence: str, aspect: str, found: list[Span]) -> tuple[list[int], float | None, list[str]]:
    """The model's input for ``aspect`` in ``sentence`` from the rules' spans of it (``found``): the
    indices of the spans of the aspect (read coarsely), VADER's score of the first (None: the rules
    named it nowhere) and the features (``en_model.features``). The one place training
    (``benchmarks/train_en_model.py``) and reading build them."""
    mine = [i for i, f in enumerate(found) if COARSE.get(f[0], f[0]) == aspect]
    quotes = [found[i][3] for i in mine]
    vader = vader_compound(quotes[0]) if quotes else None
    return mine, vader, en_model.features(sentence, aspect, quotes, vader)


def _model_reasons(quote: str, pol: str | None) -> tuple[str, ...]:
    """The judging words of the model's polarity in the quote (none for neutral or undecided)."""
    return _reasons(quote, +1 if pol == "positive" else -1) if pol in ("positive", "negative") else ()


def _wait_of_delivery(found: list, part: str, off: int) -> list:
    """A wait named with the delivery in one part is the delivery's ("we waited an hour for the
    delivery"), as in the Korean reading: the delivery takes the wait's judgement and words."""
    by = {f[0]: f for f in found}
    if "배달" not in by or "대기시간" not in by:
        return found
    wait, delivery = by["대기시간"], by["배달"]
    if delivery[1] is None and wait[1] is not None:
        start = min(wait[2], delivery[2])
        end = max(wait[2] + len(wait[3]), delivery[2] + len(delivery[3]))
        merged = ("배달", wait[1], start, part[start - off : end - off], delivery[4], wait[5])
        found = [merged if f is delivery else f for f in found]
    return [f for f in found if f[0] != "대기시간"]
