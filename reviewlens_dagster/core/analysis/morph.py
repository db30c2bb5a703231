"""Korean aspect mentions from a morphological analysis (Kiwi), not from surface strings.

Why: a polarity word is a stem in any of its conjugations ("빨랐어요", "빠르게 왔어요" are 빠르/VA),
spelling slips are corrected by the analyzer ("맛잇어요" -> 맛있/VA, Kiwi's ``typos="basic"``), and
clause boundaries, negation and contrast come from the analysis (endings -지만/-는데/-으나, 안/못,
-지 않다/-지 못하다, "... 편은 아니다").

How a review is read (:func:`korean_mentions`):
1. Kiwi splits it into morphemes; a **clause** ends at sentence punctuation or a sentence-final
   ending (a ``sentence`` boundary), a contrastive ending (``contrast``: -지만, -는데, -으나, ...)
   or another connective ending (``link``: -고, -어서, -니까, ...).
2. Aspect terms are lemmas (nouns, and a few verbs such as 기다리): :data:`ASPECT_TERMS`.
   Some predicates carry their aspect (친절 = 서비스, 푸짐 = 양, 비싸 = 가격): :data:`CUES`.
3. A polarity cue (a lemma of :data:`CUES`; its sign may depend on the aspect: 많 is good for
   양, bad for 대기시간) belongs to the nearest aspect before it in the clause that is its
   subject or topic (the noun carries 이/가/은/는/도: "양이 가격에 비해 적어요" is about 양), else
   the nearest before it, else the nearest after it ("친절한 사장님"), else the last aspect of the
   previous clause when the two are joined by a non-contrastive ending ("배달이 늦어서 다 식었어요").
   A cue right after 안/못, or followed by -지 않/-지 못 or "... 편/것 + 아니", is negated.
4. Durations are cues for 배달 / 대기시간 (:data:`SLOW_MINUTES`): 50 minutes or more ("1시간 10분
   만에", "80분이나 걸렸어요") is negative, a duration stressed with 이나 is negative, 30 minutes or
   less followed by 만에 or 컷 is positive, a plain duration in between is neutral; waiting in the
   restaurant (대기시간: 웨이팅, 기다리다, 나오다) has its own bounds (:data:`WAIT_SLOW_MINUTES`: 30
   and 10 minutes). A time word
   with no aspect in a review about a delivery (오다, 받다, 도착) is the delivery's ("생각보다 빨리
   도착했어요").
5. **Neutral** (docs/analysis.md "Neutral, defined"): a judgement of the middle (보통, 평범, 무난, 적당,
   그럭저럭, 쏘쏘, 나쁘지 않다) with no positive or negative cue for the same aspect. A mention with no
   judgement at all ("가격은 2만원이에요") is **undecided** (the LLM's to decide), not neutral.
6. The polarity of an aspect in a clause is the sign of the sum of its cues; cues that cancel,
   or none, leave it undecided.

The quote of a mention is its clause, cut from the review (a substring by construction).
Cost: ~0.7 ms per review on this 2-vCPU machine (`make eval` prints it: "Cost of the reading per review").
"""

from __future__ import annotations

from dataclasses import dataclass

from .ko_lexicon import (
    ASPECT_TERMS,
    ASPECT_VERBS,
    CHANGED_FROM_BEFORE,
    CUE_TAGS,
    CUES,
    DELIVERY_VERBS,
    FOOD_TERMS,
    FOREIGN_OBJECTS,
    FREEBIE_VERBS,
    HEAD_NOUNS,
    LIKE_PARTICLES,
    MISHAP_CUES,
    NEUTRAL,
    NO_RETURN,
    PAST_REFERENCES,
    QUICK_MINUTES,
    SERVED_FOOD,
    SLOW_MINUTES,
    SUBJECT_TAKES,
    SURFACE_CUES,
    TEMPERATURE_CUES,
    TIME_ASPECTS,
    TIME_CUES,
    TOO,
    TOO_MUCH,
    TURN_CONJUNCTIONS,
    VALUE_TAKERS,
    WAIT_QUICK_MINUTES,
    WAIT_SLOW_MINUTES,
)
from .ko_tokens import (
    SUBJECT_PARTICLES,
    Tok,
    cue_of,
    cue_sign,
    durations_in,
    is_negated,
    joined_by_do,
    kiwi,
    paired_negation,
    read_tokens,
    split_clauses,
    subject_marker,
)

#: aspect terms the analyzer reads with their 도 glued on ("양도 그렇네요": 양도/NNG)
ASPECT_TERMS_WITH_DO = frozenset(t for t in ASPECT_TERMS if t.endswith("도") and len(t) > 1)


def _clause_mentions(
    toks: list[Tok], carried: str | None, surface: str = "", delivery: bool = False
) -> tuple[dict[str, tuple[str | None, tuple[str, ...]]], str | None]:
    """(aspect -> (polarity or None, reasons), the clause's last aspect) for one clause. ``surface``:
    the clause's text (slang the analyzer splits); ``delivery``: the review is about a delivery. The
    reasons are the judgements that decided the polarity (:meth:`_ClauseReading.reasons_of`)."""
    reading = _ClauseReading(toks, carried, surface, delivery)
    reading.exceptions()
    reading.lemma_cues()
    reading.middle_phrases()
    reading.changes()
    reading.meh()
    reading.food_safety()
    reading.surface_cues()
    reading.durations()
    found = reading.polarities()
    # the clause's last aspect that is a mention (not the anchor of a predicate that judged another)
    return found, next((a for _, a, _ in reversed(reading.aspects) if a in found), None)


class _ClauseReading:
    """One clause: its aspects, and the cues each kind of evidence adds to them."""

    def __init__(self, toks: list[Tok], carried: str | None, surface: str, delivery: bool) -> None:
        self.toks, self.carried, self.surface, self.delivery = toks, carried, surface, delivery
        self.anchors: set[int] = set()  # token indices of dishes (FOOD_TERMS): the taste's when judged
        # "A지도 B지도 않다" in the clause: what it negates is the middle, not the opposite
        self.neither_nor = any(
            t.form == "지"
            and t.tag == "EC"
            and k + 1 < len(toks)
            and toks[k + 1].form == "도"
            and paired_negation(toks[k + 2 : k + 8])
            for k, t in enumerate(toks)
        )
        self.value_standard = False  # the price is the reference of a comparison ("가격 대비"): the value's
        self.compared_to_price = False  # another aspect is the reference and the price is judged against it
        self.aspects = self._aspects()  # (token index, aspect, subject/topic)
        self.score: dict[str, int] = {a: 0 for _, a, _ in self.aspects}
        self.cues_of: dict[str, int] = {a: 0 for _, a, _ in self.aspects}
        self.neutral: set[str] = set()
        self.excepted: set[str] = set()  # "가격만 빼면": only its own complaint counts
        self.redirected: set[int] = set()  # taste terms whose judgement went to 양 / 배달
        self.reasons: dict[str, list[tuple[int, str]]] = {}  # aspect -> (sign, what judged it), in order

    def _aspects(self) -> list[tuple[int, str, bool]]:
        toks, aspects = self.toks, []
        for i, t in enumerate(toks):
            noun = t.tag in ("NNG", "NNP", "NNB", "XR", "SL") or (t.tag == "VV" and t.form in ASPECT_VERBS)
            a = ASPECT_TERMS.get(t.form) if noun else None
            if t.form == "양" and t.tag == "MM":  # "양 개적음": read as 兩 (both) before a glued word
                a = "양"
            if t.form in HEAD_NOUNS and i > 0 and toks[i - 1].form in ASPECT_TERMS:
                a = ASPECT_TERMS[toks[i - 1].form]  # "배달 요청사항": the delivery's requests
            if a == "서비스" and t.form == "서비스" and self._freebie(i):
                a = "덤"  # "서비스로 음료 주셨어요": the free extra, not the staff
            if a == "가격" and self._standard(i):
                a = "가성비"  # "가격 대비 맛있어요", "이 가격에 이 맛이면": the price as a reference is the value
            if a == "가성비" and t.form != "가성비":
                self.value_standard = True
            if a is not None and a != "가성비" and self._standard(i):
                self.compared_to_price = True  # "양에 비해 비싸요": the price against what one gets
            own = a is not None
            if a is None and t.tag in ("NNG", "XR", "SL", "IC", "VA", "VV", "MAG"):
                cue = cue_of(CUES, t.form)
                a = cue[0] if isinstance(cue, tuple) else None
            word_start = i == 0 or toks[i - 1].end < t.start  # 면 of 퀄리티면, 회 of 2회: not a dish
            # ... nor the second noun of a compound ("서비스 음료" is the freebie)
            compound = i > 0 and toks[i - 1].tag == "NNG" and toks[i - 1].form in ASPECT_TERMS
            if a is None and t.tag == "NNG" and t.form in FOOD_TERMS and word_start and not compound:
                a, own = "맛", True
                self.anchors.add(i)
            if a is not None:
                j = i + 1
                # a compound names the same aspect: 주차 공간이, 배달 시간은, 직원분들이
                while (
                    own and j < len(toks) and toks[j].tag in ("NNG", "NNB", "XSN") and toks[j].form not in ASPECT_TERMS
                ):
                    j += 1
                nxt = toks[j] if j < len(toks) else None
                aspects.append((i, a, own and bool(nxt and nxt.tag in SUBJECT_PARTICLES)))
        for word, cue in SURFACE_CUES.items():
            if word in self.surface and isinstance(cue, tuple) and cue[0] not in [a for _, a, _ in aspects]:
                aspects.append((len(toks), cue[0], False))
        return aspects

    def target_of(self, i: int, cue, dishes: bool = True, idiom: bool = False) -> str | None:
        """The aspect a cue at ``i`` judges (module docstring, step 3); ``dishes``: a dish may be
        it; ``idiom``: the cue is a phrase with its own subject ("기가 막히다")."""
        return self._target(i, cue, dishes, idiom)[0]

    def _target(self, i: int, cue, dishes: bool = True, idiom: bool = False) -> tuple[str | None, int | None]:
        """(aspect, the index of the token that names it, when one does)."""
        aspects = self.aspects if dishes else [x for x in self.aspects if x[0] not in self.anchors]
        before = [x for x in aspects if x[0] < i]
        if isinstance(cue, tuple):
            # a predicate that names an aspect judges the subject before it when that is an aspect
            # ("기사님이 친절하세요" is the delivery's, "주차 공간이 넉넉해요" the parking's), else its own
            takers = SUBJECT_TAKES | VALUE_TAKERS.get(self.toks[i].form, set())
            subjects = [x for x in before if x[1] in takers and (x[2] or x is before[-1])]
            return (subjects[-1][1], subjects[-1][0]) if subjects else (cue[0], None)
        subjects = [x for x in before if x[2]]
        after = [x for x in aspects if x[0] > i]
        chosen = subjects[-1] if subjects else before[-1] if before else after[0] if after else None
        if chosen is not None and chosen[2] and chosen[0] < i and not idiom and self._other_subject(chosen[0], i):
            return None, None  # "맛이 좋다는 평이 많아요": 많다 is said of 평, not of the taste
        if chosen is not None:
            return chosen[1], chosen[0]
        if self.carried is not None:
            return self.carried, None
        form = self.toks[i].form
        if form in TIME_CUES and self._has("나오"):
            return "대기시간", None
        if self.delivery and (form in TIME_CUES or form in MISHAP_CUES or form in TEMPERATURE_CUES):
            return "배달", None  # "따뜻하게 잘 왔어요", "다 쏟아져서 왔어요": how it arrived
        return None, None

    def _standard(self, j: int) -> bool:
        """The aspect at ``j`` is what something is compared with ("가격에 비해", "가격 대비", "가격 치고",
        "이 가격에 이 퀄리티면", "이 가격이면")."""
        toks = self.toks
        nxt = [t.form for t in toks[j + 1 : j + 3]]
        if nxt[:1] in (["대비"], ["치고"]) or nxt[:2] in (["에", "비하"], ["에", "비교하"], ["이", "면"]):
            return True
        # "이 가격에 ...": the price one pays, as the condition of a judgement of what one gets
        this = j > 0 and toks[j - 1].form in ("이", "그") and toks[j - 1].tag == "MM"
        return this and nxt[:1] in (["에"], ["이면"], ["면"])

    def _freebie(self, i: int) -> bool:
        """서비스 at ``i`` names a free extra: 로 after it ("서비스로"), a noun of what was given after it
        ("서비스 음료"), or a verb of giving or receiving after it in the clause ("서비스도 주시고")."""
        toks = self.toks
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if nxt is not None and (
            (nxt.form == "로" and nxt.tag == "JKB") or (nxt.tag == "NNG" and nxt.start == toks[i].end + 1)
        ):
            return True
        for k in range(i + 1, len(toks)):
            t = toks[k]
            if t.form not in FREEBIE_VERBS or t.tag not in ("VV", "VX", "VA", "MAG"):
                continue
            # an auxiliary 주다 gives only after a verb of giving ("챙겨 주셨어요"; "보여 줍니다" shows)
            if t.tag == "VX" and not any(
                x.form in FREEBIE_VERBS and x.tag == "VV" for x in toks[max(i + 1, k - 3) : k]
            ):
                continue
            return True
        return False

    def _other_subject(self, a: int, i: int) -> bool:
        """Between the aspect at ``a`` and the predicate at ``i``, another noun with a subject
        particle that is not part of the aspect's compound ("배달 시간이" is the delivery's)."""
        toks, compound = self.toks, True
        for k in range(a + 1, i):
            if toks[k].tag not in ("NNG", "NNB", "XSN"):
                compound = False
            elif not compound and toks[k].tag == "NNG" and k + 1 < i and subject_marker(toks[k + 1]):
                return toks[k].form not in ASPECT_TERMS and k not in self.anchors
        return False

    def _has(self, *forms: str) -> bool:
        return any(t.form in forms for t in self.toks)

    def _middle(self, aspect: str, reason: str | None = None) -> None:
        self.score.setdefault(aspect, 0)
        self.neutral.add(aspect)
        if reason:
            self.reasons.setdefault(aspect, []).append((0, reason))

    def _add(self, aspect: str, sign: int, reason: str | None = None) -> None:
        if aspect in self.excepted:
            return
        self.score[aspect] = self.score.get(aspect, 0) + sign
        self.cues_of[aspect] = self.cues_of.get(aspect, 0) + 1
        if reason:
            self.reasons.setdefault(aspect, []).append((sign, reason))

    def lemma(self, i: int, negated: bool = False) -> str:
        """The cue at ``i`` in dictionary form, as a reason: a predicate with 다 (늦다, 맛있다), a root or
        noun with the suffix that makes it one (친절하다, 만족하다, 고급스럽다), a negative prefix kept
        (불친절하다), 안 before a negated one (안 맵다); a noun or adverb as it is (최고, 금방)."""
        toks, t = self.toks, self.toks[i]
        form = t.form
        if i > 0 and toks[i - 1].tag == "XPN" and toks[i - 1].form in ("불", "비", "무", "미"):
            form = toks[i - 1].form + form
        if t.tag in ("VA", "VV", "VX"):
            form += "다"
        elif i + 1 < len(toks) and toks[i + 1].tag in ("XSA", "XSV"):
            form += toks[i + 1].form + "다"
        return f"안 {form}" if negated else form

    def exceptions(self) -> None:
        """ "가격만 빼면 다 좋아요": the aspect excepted is the one complained about, and the praise
        that follows is not its."""
        toks = self.toks
        for entry in list(self.aspects):
            j, a, _ = entry
            rest = [t.form for t in toks[j + 1 : j + 4]]
            if rest[:1] == ["만"] and any(f in ("빼", "빼놓", "제외") for f in rest[1:]):
                self._add(a, -1, "유일한 아쉬움")
                self.aspects.remove(entry)
                self.excepted.add(a)

    def lemma_cues(self) -> None:
        """Polarity cues that are lemmas (:data:`.ko_lexicon.CUES`), negated where the analysis says so."""
        toks = self.toks
        for i, t in enumerate(toks):
            if t.tag not in ("VA", "VV", "XR", "NNG", "MAG", "IC", "SL", "VX", "NNP"):
                continue
            cue = cue_of(CUES, t.form)
            if t.form in TOO_MUCH and t.tag == "VA" and i > 0 and toks[i - 1].form in TOO:
                cue = ("맛", -1)  # 너무 달아요, 넘 매워요
            if i + 1 < len(toks) and toks[i + 1].tag in ("XSA", "XSV") and (t.form + "하") in CUES:
                predicate = CUES[t.form + "하"]  # 청결+하다: the predicate, not the noun
                # ... keeping the aspect the noun names (친절 + 하다 is still the service's)
                cue = (cue[0], cue_sign(predicate, cue[0])) if isinstance(cue, tuple) else predicate
            if cue is None or (t.form in CUE_TAGS and t.tag not in CUE_TAGS[t.form] and not self._right_after(i, cue)):
                continue
            target = self._cue_target(i, cue)
            if target is not None:
                self._judge(i, cue, target)

    def _right_after(self, i: int, cue) -> bool:
        """The cue's lemma read with another part of speech ("가격 싸고": 싸 as 'to wrap'), right
        after the aspect it names: taken as the cue."""
        aspect = next((a for j, a, _ in self.aspects if i - 2 <= j < i), None)
        # only a cue that names its aspect: "간이 되어 있어요" keeps 있 the auxiliary it is
        return isinstance(cue, tuple) and aspect == cue[0]

    def _cue_target(self, i: int, cue) -> str | None:
        t, aspects = self.toks[i], [a for _, a, _ in self.aspects]
        if isinstance(cue, dict) and cue.get("덤") and "덤" in aspects:
            return "덤"  # "서비스로 음료도 주셨어요": giving is said of the free extra, not of the drink
        # there is / there is none of a dish says nothing of its taste ("밥이 없어요": missing)
        target, named_at = self._target(i, cue, dishes=t.form not in ("있", "없"))
        if named_at is not None and named_at >= len(self.toks):
            named_at = None  # an aspect of the clause's slang, with no token of its own
        dish = named_at is not None and (named_at in self.anchors or self.toks[named_at].form in SERVED_FOOD)
        if target == "맛" and self.delivery and (t.form in MISHAP_CUES or t.form in TEMPERATURE_CUES):
            if named_at is not None:
                self.redirected.add(named_at)
            return "배달"  # what happened to the food on the way: "국물이 다 새서 왔어요", "식어서 왔어요"
        standard = named_at is not None and self._standard(named_at)
        if standard and target in ("가격", "가성비") and isinstance(cue, dict) and cue.get("양") and "가격" not in cue:
            return "양"  # "가격에 비해 너무 적어요": what is compared with the price is the quantity
        if dish and target == "맛" and isinstance(cue, dict) and cue.get("양") and "맛" not in cue:
            self.redirected.add(named_at)  # the sauce named is the quantity's here, not a taste mention
            target = "양"  # a quantity predicate of a dish or a sauce: "소스가 적게 왔어요", "고기가 많아요"
        if target is None and isinstance(cue, dict) and cue.get("양") and self._has("먹"):
            target = "양"  # "둘이 먹기엔 부족해요": enough to eat is the quantity
        if t.form in TIME_CUES and target not in (*TIME_ASPECTS, None):
            # "음식이 금방 나와요": how fast is about the wait (or the delivery), not the food
            target = "대기시간" if self._has("나오") else "배달" if self.delivery else None
        if target is not None and t.form in TEMPERATURE_CUES and ("배달" in aspects or self.carried == "배달"):
            target = "배달"  # "배달 와서 다 식어 있었어요": arrived cold
        return target

    def _judge(self, i: int, cue, target: str) -> None:
        toks, t = self.toks, self.toks[i]
        if target == "가격" and self.compared_to_price:
            target = "가성비"  # "양에 비해 비싸요": expensive for what one gets is the value
        sign = cue_sign(cue, target)
        negated = is_negated(toks, i)
        prefixed = i > 0 and toks[i - 1].tag == "XPN" and toks[i - 1].form in ("불", "비", "무", "미")
        # the reason keeps the prefix in its lemma (불친절하다): only a negation after it is 안
        reason = self.lemma(i, is_negated(toks[i:], 0) if prefixed else negated)
        if (prefixed and negated and is_negated(toks[i:], 0)) or sign == NEUTRAL or (t.form == "나쁘" and negated):
            self._middle(target, reason)  # 불친절하지 않다, 보통, 나쁘지 않다: the middle, not praise
            return
        if negated and self.neither_nor:
            self._middle(target, reason)  # 많지도 적지도 않다, 친절하지도 불친절하지도 않다: neither, the middle
            return
        if not sign:
            return
        # "맛도 양도 가격도 다 만족": a generic judgement after aspects joined by 도 judges each of them
        joined = [a for j, a, _ in self.aspects if j < i and joined_by_do(toks, j)]
        for a in joined if len(joined) >= 2 and not isinstance(cue, tuple) else [target]:
            self._add(a, -sign if negated else sign, reason)
        if self.value_standard and target not in ("가성비", "가격"):
            # "가격 대비 맛있어요", "가격에 비해 양이 적어요": what one gets for the price is the value's too
            self._add("가성비", -sign if negated else sign, reason)

    def middle_phrases(self) -> None:
        """그냥 그렇다, 그저 그렇다; the same as the others ("다른 곳이랑 같아요"): the middle."""
        toks = self.toks
        for i, t in enumerate(toks):
            plain = t.form == "그렇" and i > 0 and toks[i - 1].form in ("그냥", "그저")
            like_others = t.form == "같" and t.tag == "VA" and i > 0 and toks[i - 1].form in LIKE_PARTICLES
            if plain or like_others:
                target = self.target_of(i, 0)
                if target is not None:
                    self._middle(target, "그저 그렇다" if plain else "다른 곳과 같다")

    def changes(self) -> None:
        """Not as it was: "전이랑 맛이 달라요", "예전 맛이 아니에요" (a past reference in the clause and a
        predicate of difference) is a complaint of the aspect it is said of; 변하다 / 달라지다 are cues
        of their own (:data:`.ko_lexicon.CUES`)."""
        toks = self.toks
        if not any(t.form in PAST_REFERENCES and t.tag in ("NNG", "MAG") for t in toks):
            return
        for i, t in enumerate(toks):
            if t.form in CHANGED_FROM_BEFORE and t.tag in ("VA", "VCN"):
                target = self.target_of(i, -1)
                if target is not None:
                    self._add(target, -1, "예전과 다르다")

    def meh(self) -> None:
        """Meh said without a judgement word: "맛도 그렇네요" (도 + 그렇다: also not good), "그닥이에요",
        "그다지였어요" (not really, with nothing after it) are complaints of the aspect they are said of."""
        toks = self.toks
        for i, t in enumerate(toks):
            also = (
                t.form == "그렇"
                and t.tag.startswith("VA")
                and i > 0
                # 도 as a particle, or glued into the term by the analyzer ("양도" is one noun)
                and ((toks[i - 1].form == "도" and toks[i - 1].tag == "JX") or toks[i - 1].form in ASPECT_TERMS_WITH_DO)
                and not any(x.form in ("그냥", "그저") for x in toks[max(0, i - 3) : i])
            )
            hedge = t.form in ("그닥", "그다지") and t.tag == "MAG"
            if not (also or hedge):
                continue
            target = self.target_of(i, -1)
            if target is not None and (also or not self.cues_of.get(target)):
                self._add(target, -1, "별로")

    def food_safety(self) -> None:
        """A foreign object or spoilage said of food, or come out of it ("음식에서 머리카락 나왔어요"):
        the food's complaint (the hygiene's is the object's own cue)."""
        toks = self.toks
        found = next((t.form for t in toks if t.form in FOREIGN_OBJECTS and t.tag == "NNG"), None)
        if found is None:
            return
        food = self.anchors or any(t.form in SERVED_FOOD or ASPECT_TERMS.get(t.form) == "맛" for t in toks)
        if food or self._has("나오"):
            self._add("맛", -1, "이물질")

    def surface_cues(self) -> None:
        """Slang the analyzer splits or misreads (:data:`.ko_lexicon.SURFACE_CUES`), negated by 안/못
        right before it ("하나도 안 들어주셨네요")."""
        for word, cue in SURFACE_CUES.items():
            at = self.surface.find(word)
            if at >= 0:
                target = cue[0] if isinstance(cue, tuple) else self.target_of(len(self.toks) - 1, cue, idiom=True)
                if target is None:
                    continue
                before = self.surface[:at].rstrip()
                negated = before.endswith(("안", "못")) and (len(before) == 1 or not "가" <= before[-2] <= "힣")
                if cue == NEUTRAL:
                    self._middle(target, word)
                else:
                    sign = cue_sign(cue, target)
                    self._add(target, -sign if negated else sign, f"안 {word}" if negated else word)

    def durations(self) -> None:
        """Delivery and waiting times against their thresholds (module docstring, step 4)."""
        for _i, minutes, stressed, within in durations_in(self.toks):
            target = self._time_target()
            if target is None:
                continue
            self.cues_of[target] = self.cues_of.get(target, 0) + 1
            slow, quick = (SLOW_MINUTES, QUICK_MINUTES) if target == "배달" else (WAIT_SLOW_MINUTES, WAIT_QUICK_MINUTES)
            if minutes >= slow or stressed:
                self.score[target] = self.score.get(target, 0) - 1
                bucket = f"{slow}분 이상" if minutes >= slow else "오래 걸리다"  # "40분이나": stressed, not the bound
                self.reasons.setdefault(target, []).append((-1, bucket))
            elif within and minutes <= quick:
                self.score[target] = self.score.get(target, 0) + 1
                self.reasons.setdefault(target, []).append((+1, f"{quick}분 이내"))
            else:  # a plain duration between the two: the middle
                self._middle(target, f"{quick}-{slow}분")

    def _time_target(self) -> str | None:
        named = next((a for _, a, _ in self.aspects if a in TIME_ASPECTS), None)
        if named or self.carried in TIME_ASPECTS:
            return named or self.carried
        if self._has("나오", "기다리"):
            return "대기시간"
        if self.delivery or self._has("오", "받", "도착", "걸리"):
            return "배달"
        return None

    def reasons_of(self, aspect: str, polarity: str | None) -> tuple[str, ...]:
        """What decided ``aspect``'s ``polarity``: its cues of that sign, each once, in order ("늦게 와서
        다 식었어요": 늦다, 식다; "맛있는데 짜요", negative: 짜다), the middle judgements for neutral;
        none when undecided."""
        want = {"positive": 1, "negative": -1, NEUTRAL: 0}.get(polarity)
        if want is None:
            return ()
        return tuple(dict.fromkeys(r for sign, r in self.reasons.get(aspect, []) if (sign > 0) - (sign < 0) == want))

    def polarities(self) -> dict[str, tuple[str | None, tuple[str, ...]]]:
        """The sign of each aspect's cues; cancelling cues or a middle judgement: neutral; none:
        undecided; each with the reasons that decided it (:meth:`reasons_of`)."""
        out: dict[str, tuple[str | None, tuple[str, ...]]] = {}
        named = {
            a
            for j, a, _ in self.aspects
            if j < len(self.toks) and self.toks[j].form in ASPECT_TERMS and j not in self.redirected
        }
        for a, sc in self.score.items():
            if a not in named and not sc and a not in self.neutral and not self.cues_of.get(a):
                continue  # an anchor of a predicate that judged another aspect: not a mention
            # cues that cancel ("많지도 적지도 않아요") are the middle too
            middle = a in self.neutral or self.cues_of.get(a, 0) >= 2
            polarity = "positive" if sc > 0 else "negative" if sc < 0 else NEUTRAL if middle else None
            out[a] = (polarity, self.reasons_of(a, polarity))
        return out


@dataclass(frozen=True)
class Span:
    """One aspect in one clause: polarity (None = undecided) and the clause's offsets in the text."""

    aspect: str
    polarity: str | None
    start: int
    end: int
    #: the clause follows a contrastive ending (-지만, -는데): its judgement is the one that stands
    after_contrast: bool = False
    #: the judgements that decided the polarity, normalized (늦다, 안 맵다, 50분 이상); none when undecided
    reasons: tuple[str, ...] = ()


def korean_spans(text: str, analysed=None) -> list[Span]:
    """Aspect mentions of each clause of a Korean review, in order (``analysed``: Kiwi's tokens of
    ``text``, when the caller analysed a batch)."""
    toks = read_tokens(analysed if analysed is not None else kiwi().tokenize(text, typos="basic"), text)
    delivery = any(t.form in DELIVERY_VERBS and t.tag in ("VV", "NNG") for t in toks)
    received = any(t.form in ("받", "도착", "배달") for t in toks)
    spans: list[Span] = []
    carried: str | None = None
    after_contrast = False
    for clause, boundary in split_clauses(toks):
        if clause and clause[0].tag == "MAJ" and clause[0].form in TURN_CONJUNCTIONS:
            after_contrast = True  # "맛있어요. 근데 양이 적어요": the turn stands, as after -지만
        if clause:
            start, end = clause[0].start, clause[-1].end
            found, last = _clause_mentions(clause, carried, text[start:end], delivery)
            # the clause as the reviewer wrote it: trailing punctuation and laughter are not the quote
            while end > start and not text[end - 1].isalnum():
                end -= 1
            for aspect, (pol, reasons) in found.items():
                if aspect == "대기시간" and received:  # "두 시간 기다려서 받았어요": the delivery's wait
                    aspect = "배달"
                spans.append(Span(aspect, pol, start, max(end, start + 1), after_contrast, reasons))
        else:
            found, last = {}, None
        # "배달 왔는데 아직 따뜻했어요": a -는데 clause that only sets the scene (no judgement) is continued
        # ("처음 가봤는데 ...": a -는데 clause with no aspect is no contrast either)
        scene = boundary == "contrast" and all(p is None for p, _ in found.values())
        carried = (last or carried) if boundary == "link" or scene else None
        # the judgement after a contrast stands through the clauses linked to it ("... 맛있었는데 먹다
        # 보니 느끼해요"), until the sentence ends
        after_contrast = (boundary == "contrast" and not scene) or (boundary == "link" and after_contrast)
    if any(phrase in text for phrase in NO_RETURN):
        # the food called the middle, then "다신 안 시킬 듯": what follows makes it a complaint (a reorder
        # is decided by the food; the middle of another aspect stays the middle)
        spans = [
            Span(sp.aspect, "negative", sp.start, sp.end, sp.after_contrast, (*sp.reasons, "재주문 안 함"))
            if sp.polarity == NEUTRAL and sp.aspect == "맛"
            else sp
            for sp in spans
        ]
    return spans


def analyse_many(texts: list[str]):
    """Kiwi's tokens of many texts at once (faster than one call each)."""
    return list(kiwi().tokenize(texts, typos="basic"))
