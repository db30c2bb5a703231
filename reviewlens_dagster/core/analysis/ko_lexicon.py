"""The Korean lexicon the morphological reading uses (:mod:`.morph`): aspect terms as lemmas,
polarity cues (a lemma's sign, possibly per aspect), the slang matched on the surface, the cue
classes (time, mishap, temperature) and the thresholds of durations. Data only: how it is
applied is in :mod:`.morph`; what counts as neutral is in docs/analysis.md "Neutral, defined"."""

from __future__ import annotations

#: lemma -> aspect (nouns, and verbs that name the aspect itself)
ASPECT_TERMS: dict[str, str] = {
    **dict.fromkeys(
        [
            "맛",
            "간",
            "국물",
            "양념",
            "소스",
            "식감",
            "육수",
            "풍미",
            "음식",
            "요리",
            "육즙",
            "튀김옷",
            "간맛",
            "재료",
            "불맛",
        ],
        "맛",
    ),
    **dict.fromkeys(["양", "곱빼기", "양도"], "양"),
    **dict.fromkeys(["가격", "값", "가격대", "금액", "배달비", "배달료"], "가격"),
    # value for money: the price as the reference of what one gets (the price as a standard of a
    # comparison is read as this one too: :meth:`.morph._ClauseReading._standard`)
    **dict.fromkeys(["가성비", "가격대비", "돈", "가심비"], "가성비"),
    # free extras (서비스 said of something given is one too: :data:`FREEBIE_VERBS`)
    **dict.fromkeys(["덤", "사은품"], "덤"),
    **dict.fromkeys(
        [
            "서비스",
            "직원",
            "사장",
            "사장님",
            "알바",
            "점원",
            "종업원",
            "응대",
            "매니저",
            "직원분",
            "이모님",
            "요청사항",
        ],
        "서비스",
    ),
    **dict.fromkeys(["청결", "위생", "화장실", "청소", "주방"], "청결"),
    **dict.fromkeys(["분위기", "인테리어", "뷰", "음악", "매장", "조명", "간격"], "분위기"),
    **dict.fromkeys(["배달", "포장", "배송", "라이더", "기사", "기사님", "배달원", "용기"], "배달"),
    **dict.fromkeys(["웨이팅", "대기", "줄", "기다림", "기다리", "회전"], "대기시간"),
    **dict.fromkeys(["주차", "발렛", "주차장"], "주차"),
}
#: 서비스 said of something given is a free extra (덤), not the staff: "서비스로 음료 주셨어요", "서비스도
#:많이 주시고", "서비스 안 왔어요"; with 로 after it, or a noun of what was given ("서비스 음료")
FREEBIE_VERBS = frozenset({"주", "오", "받", "챙기", "넣", "빠지", "빼", "많이", "많"})

#: aspect terms that are verbs (any other term is a noun: 줄었다 is 줄/VV, not the queue 줄)
ASPECT_VERBS = frozenset({"기다리"})
#: words that place a judgement in the past ("예전엔 맛있었는데", "전이랑 달라요"): a change is judged
#: against them (:meth:`.morph._ClauseReading.changes`)
PAST_REFERENCES = frozenset(
    {"예전", "전", "원래", "처음", "옛날", "작년", "평소", "저번", "지난번", "이전", "항상", "늘", "매번"}
)
#: predicates that say something is not as it was: a complaint of the aspect they are said of, with
#: a past reference in the clause ("전이랑 맛이 달라요", "예전 맛이 아니에요")
CHANGED_FROM_BEFORE = frozenset({"다르", "아니"})
#: a foreign object or spoilage: the hygiene's complaint, and the food's when said of food or of what
#: came out of it ("음식에서 머리카락 나왔어요")
FOREIGN_OBJECTS = frozenset(
    {"머리카락", "머리털", "이물질", "벌레", "비닐", "플라스틱", "철수세미", "수세미", "털", "파리", "바퀴벌레"}
)
#: conjunctions that open a sentence turning against the one before ("맛있어요. 근데 양이 적어요"):
#: the sentence's judgement stands, as after a contrastive ending
TURN_CONJUNCTIONS = frozenset({"근데", "그런데", "하지만", "그러나", "그렇지만", "다만", "그치만", "허나"})
#: a reviewer who will not order again: what they called the middle is a complaint ("맛은 그냥
#: 그래요. 다신 안 시킬 듯")
NO_RETURN = (
    "다신 안",
    "다시는 안",
    "다시 안 시",
    "다시 안시",
    "다신 안시",
    "재주문은 안",
    "재주문 안",
    "재주문은 없",
    "재주문 의사 없",
    "재주문의사 없",
    "재구매는 안",
    "재구매 안",
    "재구매 의사 없",
    "재방문 의사 없",
    "재방문은 안",
    "이제 안시",
    "이제 안 시",
    "또 시킬 정도는 아니",
    "또 시킬 정도는 아",
    "굳이 또",
    "다른 데서 시킬",
    "다른데서 시킬",
)

#: dishes and ingredients: not a mention by themselves ("치킨 시켰어요" says nothing of the taste),
#: but a judgement of one is the taste's ("떡볶이가 너무 달아요", "치킨이 퍽퍽해요"), or, with a
#: quantity predicate, the quantity's ("고기가 적어요")
FOOD_TERMS = frozenset(
    [
        "치킨",
        "피자",
        "떡볶이",
        "순대",
        "튀김",
        "김밥",
        "라면",
        "짜장면",
        "짜장",
        "짬뽕",
        "탕수육",
        "족발",
        "보쌈",
        "햄버거",
        "버거",
        "감자튀김",
        "파스타",
        "초밥",
        "회",
        "고기",
        "삼겹살",
        "국밥",
        "찌개",
        "밥",
        "면",
        "빵",
        "디저트",
        "케이크",
        "반찬",
        "김치",
        "치즈",
        "닭",
        "닭발",
        "곱창",
        "돈까스",
        "돈가스",
        "샐러드",
        "쌀국수",
        "마라탕",
        "우동",
        "만두",
        "닭강정",
        "찜닭",
        "냉면",
        "덮밥",
        "카레",
        "스테이크",
        "커피",
        "음료",
        "떡",
        "어묵",
        "새우",
        "오징어",
        "밀가루",
        "패티",
    ]
)
NEUTRAL = "neutral"
#: lemma -> sign (+1 / -1 / "neutral"), or (aspect it names, sign), or {aspect: sign, None: default}
CUES: dict[str, object] = {
    # generic praise
    **dict.fromkeys(
        [
            "좋",
            "최고",
            "훌륭",
            "만족",
            "굿",
            "짱",
            "추천",
            "대박",
            "괜찮",
            "편하",
            "편리",
            "감동",
            "완벽",
            "예술",
            "기막히",
            "인정",
            "강추",
            "따뜻",
            "꼼꼼",
            "깔끔",
            "신선",
            "착하",
            "넓",
            "예쁘",
            "이쁘",
            "부드럽",
            "감사",
            "최강",
            "신속",
            "세심",
            "친절하",
            "빠르",
            "금방",
            "든든",
            "알차",
            "훈훈",
        ],
        +1,
    ),
    # generic complaints
    **dict.fromkeys(
        [
            "별로",
            "별루",
            "최악",
            "실망",
            "아쉽",
            "불편",
            "짜증",
            "엉망",
            "후회",
            "비추",
            "그닥",
            "노답",
            "좁",
            "늦",
            "느리",
            "불만",
            "애매",
            "엉터리",
            "성의없",
            "차갑",
            "미지근",
            "엉성",
            "실수",
            "누락",
            "쏟",
            "쏟아지",
            "터지",
        ],
        -1,
    ),
    # the middle: neutral (docs/analysis.md "Neutral, defined")
    **dict.fromkeys(["보통", "평범", "무난", "그럭저럭", "쏘쏘", "적당", "그냥저냥", "평타"], NEUTRAL),
    # predicates that name their aspect
    **{
        w: ("맛", +1)
        for w in [
            "존맛",
            "존맛탱",
            "JMT",
            "jmt",
            "꿀맛",
            "맛있",
            "맛나",
            "고소",
            "담백",
            "바삭",
            "바삭바삭",
            "촉촉",
            "쫄깃",
            "얼큰",
            "칼칼",
            "진하",
            "감칠맛",
            "풍부",
        ]
    },
    **{
        w: ("맛", -1)
        for w in [
            "맛없",
            "노맛",
            "싱겁",
            "느끼",
            "비리",
            "질기",
            "눅눅",
            "퍽퍽",
            "텁텁",
            "밍밍",
            "짜",
            "짭짤하",
            "식",
            "붇",
            "불",
            "잡내",
            "누린내",
            "비린내",
            "기름지",
            "딱딱",
            "마르",
        ]
    },
    **{w: ("양", +1) for w in ["푸짐", "넉넉", "배부르", "두둑"]},
    **{w: ("양", -1) for w in ["쥐꼬리"]},
    **{w: ("맛", -1) for w in ["설익", "덜익"]},
    **{w: ("가격", +1) for w in ["저렴", "싸"]},
    **{w: ("가격", -1) for w in ["비싸"]},
    **{w: ("가성비", +1) for w in ["혜자"]},
    **{w: ("가성비", -1) for w in ["창렬", "아깝"]},
    **{w: ("서비스", +1) for w in ["친절", "상냥"]},
    **{w: ("서비스", -1) for w in ["불친절", "퉁명", "무뚝뚝", "불쾌", "무성의", "싸가지", "무시"]},
    **{w: ("청결", +1) for w in ["깨끗"]},
    **{w: ("청결", -1) for w in ["더럽", "지저분", "끈적", "찝찝", "머리카락", "벌레"]},
    **{w: ("분위기", +1) for w in ["아늑", "조용"]},
    **{w: ("분위기", -1) for w in ["시끄럽", "어수선", "답답"]},
    # signs that depend on the aspect
    "많": {"양": +1, "대기시간": -1, "분위기": -1, "덤": +1, None: 0},  # 서비스 많이 주셨어요: freebies
    "적": {"양": -1, "대기시간": +1, None: 0},
    "작": {"양": -1, None: 0},
    "부족": {"양": -1, None: -1},  # of a dish or a sauce: its quantity ("소스가 부족해요")
    "넘치": {"양": +1, "배달": -1, None: 0},  # 양이 넘쳐요; 국물이 넘쳐서 왔어요 (on the way)
    "맞추": {"배달": +1, "맛": +1, None: 0},  # 시간 맞춰 왔어요, 간을 잘 맞췄어요
    "오": {"덤": +1, None: 0},  # 서비스 (a freebie) 안 왔어요: negated
    "많이": {"덤": +1, "대기시간": -1, None: 0},  # 서비스 많이 주셨어요; 많이 기다렸어요
    "주": {"덤": +1, None: 0},  # 서비스로 음료 주셨어요 (안 주셨어요: negated)
    "반영": +1,  # 요청사항 반영이 안 됐어요: negated
    "허술": -1,
    "돈값": ("가성비", +1),  # 돈값은 하다: worth the price (돈값 못 하다: negated)
    "값어치": ("가성비", +1),
    "화내": -1,
    "사과하": +1,  # 사장님이 사과하셨어요 (an apology; 사과 alone may be the fruit)
    "화나": -1,
    "타": {"맛": -1, None: 0},  # 고기가 다 탔어요 (타다 is also to ride: only of food)
    "이상하": -1,  # 맛이 이상해요 (이상 alone is "more than": 10분 이상)
    "없": {"대기시간": +1, "맛": -1, "주차": -1, None: 0},
    "없이": {"대기시간": +1, None: 0},
    "있": {"맛": +1, "주차": +1, None: 0},
    "오래": {"대기시간": -1, "배달": -1, None: 0},
    "한참": {"대기시간": -1, "배달": -1, None: -1},
    "나쁘": -1,
    "쎄": {"가격": -1, None: 0},
    "세": {"가격": -1, "맛": -1, None: 0},
    "사악": {"가격": -1, None: -1},
    "부담": {"가격": -1, None: -1},
    "부담스럽": {"가격": -1, None: -1},
    "줄": {"양": -1, "대기시간": 0, None: 0},
    "오르": {"가격": -1, None: 0},
    "미치": {"가격": +1, "맛": +1, "양": +1, None: 0},
    "갑": {"가격": +1, "맛": +1, "양": +1, None: 0},
    "꽝": -1,
    "실하": {"양": +1, None: +1},
    "총알": {"배달": +1, None: 0},
    "빨리": +1,
    "일찍": +1,
    "지연": -1,
    "늦게": -1,
    "합리": {"가격": +1, None: +1},
    "합리적": {"가격": +1, None: +1},
    "비슷": NEUTRAL,
    "평균": NEUTRAL,
    "컷": {"배달": +1, "대기시간": +1, None: 0},
    "크": {"분위기": -1, "양": +1, None: 0},
    "제대로": +1,
    "걱정": -1,
    "떠들": -1,
    "챙기": +1,
    "지키": +1,
    "채우": +1,
    "사고": {"배달": -1, None: 0},
    "찢어지": -1,
    "터지": -1,
    "조금": {"양": -1, None: 0},
    "길": {"대기시간": -1, "배달": -1, None: 0},
    "맞": {"맛": +1, None: 0},
    "충분": {"양": +1, None: +1},
    "뒷전": -1,
    "어둡": {"분위기": -1, None: 0},
    "새": {"배달": -1, None: 0},
    "빠지": {"배달": -1, "서비스": -1, None: 0},
    "청결하": ("청결", +1),
    "위생적": ("청결", +1),
    "미지근": -1,
    "끝내주": +1,
    "생각나": +1,
    "멀쩡": +1,
    "튼튼": +1,
    "자국": ("청결", -1),
    # change over time: said of an aspect, it is a complaint (not as it was)
    "변하": -1,
    "달라지": -1,
    # meh said without a judgement word: not really, bland, no character, vague
    "밋밋": ("맛", -1),
    "심심": {"맛": -1, None: 0},
    "애매": {"맛": -1, "양": -1, None: 0},
    "확실": {"맛": +1, None: 0},
    # spoilage and food safety: the food's complaint
    "상하": {"맛": -1, None: 0},
    "쉬": {"맛": -1, None: 0},
    "배탈": ("맛", -1),
    "설사": ("맛", -1),
    "식중독": ("맛", -1),
}
#: cues only with these tags (불 "불어서" is a verb, 불맛's 불 is not)
CUE_TAGS = {
    "타": {"VV"},
    "있": {"VA", "VV"},  # not the auxiliary: "간이 (안) 되어 있어요"
    "없": {"VA", "VV"},
    "불": {"VV"},
    "식": {"VV"},
    "짜": {"VA"},
    "싸": {"VA"},
    "적": {"VA"},
    "작": {"VA"},
    "줄": {"VV"},
    "세": {"VA"},
    "쉬": {"VV"},
    "상하": {"VV"},
}
#: slang Kiwi splits or misreads, matched on the clause's surface before the analysis's lemmas
SURFACE_CUES: dict[str, object] = {
    "평타": NEUTRAL,
    "존맛": ("맛", +1),
    "노맛": ("맛", -1),
    "꿀맛": ("맛", +1),
    "괜춘": +1,
    "ㄱㅊ": +1,
    "가성비 갑": ("가성비", +1),
    "창렬": ("가성비", -1),
    "성의 없": -1,
    "성의없": -1,
    "기가 막히": +1,
    "기가 막혀": +1,
    "예전 같지 않": -1,
    "예전만 못": -1,
    "잘 되": +1,
    "잘 해주": +1,
    "잘 해 주": +1,
    "잘해주": +1,
    "호불호": NEUTRAL,  # divisive: neither
    "특별한 건 없": NEUTRAL,  # nothing special: the middle
    "특별한 거 없": NEUTRAL,
    "특별한 것은 없": NEUTRAL,
    "특별할 건 없": NEUTRAL,
    "특별하진 않": NEUTRAL,
    "특별하지는 않": NEUTRAL,
    "기대 이하": -1,
    "기대이하": -1,
    "기대 이상": +1,
    "기대이상": +1,
    "들어주": +1,  # 요청사항 다 들어주셨어요
    "들어 주": +1,
    "간이 안 돼": ("맛", -1),  # unseasoned
    "간이 안 되": ("맛", -1),
    "간이 하나도 안": ("맛", -1),
    "간이 잘 돼": ("맛", +1),
    "간이 잘 되": ("맛", +1),
    "반도 안 되": ("양", -1),
    "반도 안 돼": ("양", -1),
    "성의가 없": ("서비스", -1),
    "그만한 가치": ("가성비", +1),  # worth the price
    "사과도 없": ("서비스", -1),
    "사과 한마디 없": ("서비스", -1),
    "가격이 좀 있": ("가격", -1),  # pricey: said of the price itself (재방문 의사 있어요 is not)
    "가격대가 있": ("가격", -1),
    "가격대가 좀 있": ("가격", -1),
    "가격이 있는 편": ("가격", -1),
    "냄새가 나": ("맛", -1),
    "냄새 나": ("맛", -1),
    "냄새나": ("맛", -1),
    "잘 돼": +1,
    "무성의": ("서비스", -1),
    "반밖에": ("양", -1),
    # food safety
    "쉰내": ("맛", -1),
    "쉰 내": ("맛", -1),
    "비린내": ("맛", -1),
    "유통기한 지난": ("맛", -1),
    "유통기한 지났": ("맛", -1),
    "유통기한이 지난": ("맛", -1),
    "덜 익": ("맛", -1),
    "덜익": ("맛", -1),
    "신선하지 않": ("맛", -1),
    "신선하지않": ("맛", -1),
    # the taste as it was is missing: "예전 그 맛이 안 나요"
    "그 맛이 안": ("맛", -1),
    "그맛이 안": ("맛", -1),
    "특색이 없": -1,
    "특색 없": -1,
    "특색없": -1,
}
#: cues that name no aspect: the delivery's in a review about a delivery (오다/받다/도착) — its
#: time, and what goes wrong on the way (spilt, torn, missing) — or, with 나오다 ("음식이 금방
#: 나왔어요"), the restaurant's waiting time
TIME_CUES = {"빠르", "빨리", "일찍", "금방", "늦", "늦게", "느리", "오래", "한참", "지연", "총알", "바로"}
MISHAP_CUES = {"새", "쏟", "쏟아지", "터지", "찢어지", "빠지", "누락", "넘치"}
#: temperature: the delivery's when the clause (or the one it continues) is about the delivery
TEMPERATURE_CUES = {"식", "미지근", "차갑", "따뜻"}
DELIVERY_VERBS = {"오", "받", "도착", "배달"}
#: delivery or waiting time at or above this many minutes is a complaint; at or below
#: ``QUICK_MINUTES`` followed by 만에 ("30분 만에 왔어요") it is praise
SLOW_MINUTES, QUICK_MINUTES = 50, 30
#: waiting for a table or for the food in the restaurant: shorter bounds
WAIT_SLOW_MINUTES, WAIT_QUICK_MINUTES = 30, 10
TIME_ASPECTS = ("배달", "대기시간")
#: aspects whose subject takes a predicate that names another aspect: the rider's manner
#: ("기사님이 친절하세요") is the delivery's, the parking space's size ("주차 공간이 넉넉해요") the parking's
SUBJECT_TAKES = {"배달", "주차"}
#: aspect terms that take the aspect of a noun before them ("배달 요청사항" is the delivery's)
HEAD_NOUNS = frozenset({"요청사항"})
#: value words judge the quantity when it is what they follow ("양 혜자", "양이 창렬"), else the value
VALUE_TAKERS = {"혜자": {"양"}, "창렬": {"양"}}
#: taste terms that are things served (a quantity predicate of them is about the quantity)
SERVED_FOOD = frozenset({"음식", "요리", "소스", "양념", "국물", "육수", "재료", "튀김옷"})
LIKE_PARTICLES = {"랑", "이랑", "와", "과", "하고"}  # 다른 곳이랑 같다: like the others
#: tastes that are a complaint when there is too much of them ("너무 달아요", "넘 매워요"), else no judgement
TOO_MUCH = frozenset({"달", "맵", "시", "쓰"})
TOO = frozenset({"너무", "넘", "너무너무"})
