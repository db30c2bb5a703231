"""Deterministic generator of realistic Korean restaurant reviews, with ground truth.

    python -m reviewlens_dagster.sample [--out data/sample] [--seed 7] [--restaurants 32]

Each restaurant gets planted strengths (aspects mentioned by 25-45 % of its reviews, 80-95 %
positive), weaknesses (mentioned by only 12-20 % of its reviews, 80-95 % negative: the minority
opinions a centroid hides) and mixed background aspects; restaurants with at least
``COMPLAINT_MIN_REVIEWS`` reviews also get a minority complaint (3-10 % of all their reviews speak
badly of one of their strengths, which stays a strength; complaint-only reviews are added where the
random draws realized fewer); each review mentions 0-3 aspects in
varied phrasings, and its star rating follows its text. Some reviews are mixed or neutral, some
carry slang, typos and emoji, a few are English, a few long. The ground truth holds, per review,
its sentiment and aspect polarities and, per restaurant, the planted and the realized counts per
aspect (mentions, positive, negative, neutral), so the evaluation can score prevalence.
Writes ``reviews_a.csv`` (UTF-8 with BOM), ``reviews_b.jsonl`` (UTF-8), ``reviews_c.csv`` (CP949)
and ``ground_truth.json`` (per-review sentiment, per-restaurant planted aspects).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from .core.aspects import ASPECTS

CATEGORIES = ["한식", "치킨", "카페", "일식", "중식", "분식", "피자", "고깃집"]
AREAS = ["강남", "홍대", "성수", "잠실", "판교", "해운대"]
NAME_PARTS = {
    "한식": ["할매손맛", "시골밥상", "정갈한상", "엄마집밥"],
    "치킨": ["바삭치킨", "황금닭", "치킨공방", "꼬꼬하우스"],
    "카페": ["카페 온도", "블루문커피", "오후세시", "빈스토리"],
    "일식": ["스시하나", "라멘야", "돈카츠명가", "우동집"],
    "중식": ["홍콩반점", "만리장성", "짬뽕명가", "북경"],
    "분식": ["떡볶이연구소", "김밥천국", "순대나라", "분식왕"],
    "피자": ["피자굽는집", "나폴리", "화덕피자", "피자마을"],
    "고깃집": ["숯불갈비", "삼겹살공장", "한우명가", "돼지굴"],
}

# Several phrasings per aspect and polarity, written as people write them (not one template per
# aspect): the evaluation must not reward a model, or a lexicon, for parroting one sentence.
POS = {
    "맛": [
        "음식이 정말 맛있어요",
        "맛이 진짜 최고예요",
        "간이 딱 맞고 맛있습니다",
        "존맛탱 ㄹㅇ",
        "국물이 끝내줘요",
        "고기가 부드럽고 맛있어요",
        "소스가 자꾸 생각나는 맛이에요",
        "튀김옷이 바삭하고 속은 촉촉해요",
        "재료가 신선한 게 느껴져요",
        "이 집 김치찌개는 인생 맛집 인정",
    ],
    "양": [
        "양이 엄청 많아요",
        "양 푸짐하게 주세요",
        "배 터지게 먹었어요",
        "곱빼기 안 시켜도 충분해요",
        "둘이서 2인분 시켰는데 다 못 먹고 남겼어요",
        "반찬도 계속 리필해 주시고 양이 넉넉해요",
        "한 그릇이면 배불러요",
    ],
    "가격": [
        "가격이 착해요",
        "가성비 최고입니다",
        "이 가격에 이 퀄리티면 대박",
        "가격 대비 훌륭해요",
        "만원 한 장으로 배부르게 먹었어요",
        "요즘 물가에 이 가격이면 혜자예요",
        "점심 특선이 저렴해서 자주 와요",
    ],
    "서비스": [
        "사장님이 너무 친절하세요",
        "직원분들이 친절해요",
        "서비스로 음료도 주셨어요",
        "응대가 정말 친절했습니다",
        "아이 의자도 먼저 챙겨주시고 세심하세요",
        "물 떨어지기 전에 채워주시더라고요",
        "사장님 입담이 재밌고 상냥하세요",
    ],
    "청결": [
        "매장이 깨끗해요",
        "테이블이랑 화장실까지 청결해요",
        "위생 관리가 잘 되어 있어요",
        "주방이 오픈형인데 엄청 깔끔해요",
        "수저랑 컵도 반짝반짝해요",
        "새로 생긴 곳이라 그런지 깨끗하네요",
    ],
    "분위기": [
        "분위기가 아늑하고 좋아요",
        "인테리어가 예뻐서 사진 찍기 좋아요",
        "데이트하기 좋은 분위기예요",
        "조용해서 대화하기 좋아요",
        "창가 자리 뷰가 예술이에요",
        "음악 선곡이 좋아서 오래 있고 싶었어요",
    ],
    "배달": [
        "배달이 빨라요",
        "배달 왔는데 아직 따뜻했어요",
        "포장이 꼼꼼해서 하나도 안 샜어요",
        "예상 시간보다 일찍 도착했어요",
        "기사님이 친절하고 빨리 오셨어요",
        "용기가 튼튼해서 국물도 멀쩡히 왔어요",
    ],
    "대기시간": [
        "웨이팅 없이 바로 들어갔어요",
        "음식이 금방 나와요",
        "주문하고 10분 만에 나왔어요",
        "피크 시간인데도 회전이 빨라요",
        "자리 안내가 빨라서 오래 안 기다렸어요",
        "점심시간에도 바로 앉았어요",
    ],
    "주차": [
        "주차 공간이 넓어요",
        "주차하기 편해요",
        "건물 주차장 무료라 좋아요",
        "발렛 돼서 차 가져가기 편해요",
        "전용 주차장이 있어서 좋았어요",
    ],
}
NEG = {
    "맛": [
        "맛이 별로예요",
        "너무 짜서 못 먹겠어요",
        "간이 하나도 안 맞아요",
        "맛이 예전 같지 않네요",
        "고기가 질겨요",
        "튀김이 눅눅해서 실망했어요",
        "국물이 밍밍하고 아무 맛이 안 나요",
        "기름 냄새가 심하고 느끼했어요",
        "면이 다 불어서 나왔어요",
    ],
    "양": [
        "양이 너무 적어요",
        "양이 좀 아쉬워요",
        "이 양이면 두 그릇은 먹어야 해요",
        "사진이랑 다르게 양이 반밖에 안 돼요",
        "먹고 나와서 편의점 갔어요 양이 적어서",
        "고기 몇 점 없어요",
    ],
    "가격": [
        "가격이 너무 비싸요",
        "가성비는 별로예요",
        "양에 비해 비싸요",
        "이 돈이면 다른 데 가요",
        "가격이 또 올랐더라고요 부담돼요",
        "관광지 가격이라 돈 아까워요",
    ],
    "서비스": [
        "직원이 불친절해요",
        "주문을 계속 잊어버리세요",
        "응대가 너무 무성의했어요",
        "사장님이 퉁명스러워요",
        "불러도 대답이 없어요",
        "직원끼리 수다 떠느라 손님은 뒷전이에요",
        "계산할 때 표정이 너무 안 좋으셨어요",
    ],
    "청결": [
        "테이블이 끈적거려요",
        "위생이 좀 걱정돼요",
        "화장실이 더러워요",
        "음식에서 머리카락 나왔어요",
        "바닥이 미끄럽고 지저분해요",
        "컵에 립스틱 자국이 남아 있었어요",
    ],
    "분위기": [
        "너무 시끄러워요",
        "좁고 답답해요",
        "분위기는 좀 어수선해요",
        "테이블 간격이 너무 붙어 있어서 불편해요",
        "조명이 너무 어두워요",
        "옆 테이블 소리 때문에 대화가 안 돼요",
    ],
    "배달": [
        "배달이 한 시간 넘게 걸렸어요",
        "배달 와서 다 식어 있었어요",
        "국물이 다 새서 왔어요",
        "배달 시간이 예상보다 40분 늦었어요",
        "포장이 엉망이라 다 섞여서 왔어요",
        "주문한 메뉴 하나가 빠져서 왔어요",
    ],
    "대기시간": [
        "웨이팅이 너무 길어요",
        "음식 나오는 데 40분 걸렸어요",
        "줄이 길어서 한참 기다렸어요",
        "주문하고 30분 넘게 안 나왔어요",
        "예약했는데도 20분 기다렸어요",
        "회전이 너무 느려요",
    ],
    "주차": [
        "주차할 곳이 없어요",
        "주차가 너무 불편해요",
        "주차 자리가 없어서 한참 돌았어요",
        "골목이라 차 대기가 힘들어요",
        "근처에 주차장이 없어서 불법주차했어요",
    ],
}
NEUTRAL = {
    "맛": ["맛은 무난해요", "맛은 평범합니다", "맛은 그냥 그래요"],
    "양": ["양은 보통이에요", "양은 딱 1인분이에요"],
    "가격": ["가격은 주변이랑 비슷해요", "가격은 무난한 편"],
    "서비스": ["서비스는 그냥 보통이에요", "직원분들은 무난했어요"],
    "청결": ["청결은 보통", "위생은 평범한 수준이에요"],
    "분위기": ["분위기는 평범해요", "인테리어는 무난해요"],
    "배달": ["배달은 보통 속도였어요", "배달은 딱 예상 시간에 왔어요"],
    "대기시간": ["대기는 조금 있었어요", "웨이팅은 보통 10분 정도"],
    "주차": ["주차는 근처 공영주차장 이용했어요", "주차는 가능은 해요"],
}
GENERIC = {
    1: ["잘 먹었습니다", "또 올게요", "만족스러운 한 끼였어요", "친구들한테 추천했어요"],
    0: ["그냥 한 끼 때우기 괜찮아요", "평범한 동네 식당이에요", "무난했어요"],
    -1: ["다시는 안 갈 것 같아요", "기대 이하였어요", "실망스러웠어요"],
}
EN_POS = {
    "맛": "The food was delicious",
    "양": "Huge portions",
    "가격": "Great value for money",
    "서비스": "Super friendly staff",
    "청결": "Very clean place",
    "분위기": "Lovely atmosphere",
    "배달": "Delivery was fast",
    "대기시간": "No waiting at all",
    "주차": "Easy parking",
}
EN_NEG = {
    "맛": "The food was bland",
    "양": "Portions were tiny",
    "가격": "Way too expensive",
    "서비스": "Rude staff",
    "청결": "The tables were dirty",
    "분위기": "Too noisy",
    "배달": "Delivery took forever",
    "대기시간": "We waited almost an hour",
    "주차": "Parking was impossible",
}
OPENERS = [
    "",
    "",
    "",
    "친구랑 갔어요. ",
    "점심에 방문했어요. ",
    "재방문입니다. ",
    "처음 가봤는데 ",
    "회식으로 갔는데 ",
    "퇴근길에 들렀어요. ",
    "가족 외식으로 왔어요. ",
]
POS_CLOSERS = ["", " 또 올게요!", " 재방문 의사 있어요 😊", " 강추합니다 👍", " ㅋㅋㅋ 최고", " 단골 될 듯", " 👍👍"]
NEG_CLOSERS = ["", " 다신 안 갈 듯", " 실망했어요 😞", " 비추합니다", " 아쉽네요 ㅠㅠ"]
MIX_CLOSERS = ["", " 장단점이 있네요", " 그럭저럭이에요", " 한 번쯤은 괜찮아요"]
JOINERS = [". ", ", ", "! ", " ㅎㅎ ", "\n", " 그리고 "]
LONG_INTRO = (
    "주말 저녁에 가족들이랑 다 같이 방문했습니다. 예약은 따로 안 하고 갔고, 블로그 후기를 보고 기대를 많이 하고 갔어요. "
    "메뉴는 대표 메뉴 위주로 여러 개 시켜서 나눠 먹었습니다. "
)
LONG_MIDDLE = (
    "아이들도 같이 갔는데 각자 먹고 싶은 메뉴를 하나씩 골라서 나눠 먹었고, 어른들은 반주도 한잔 곁들였습니다. "
    "다 먹고 나서는 근처 공원을 한 바퀴 산책하고 돌아왔어요. 다음에는 다른 메뉴도 먹어볼 생각입니다."
)
TYPOS = [
    ("맛있어요", "맛잇어요"),
    ("있어요", "잇어요"),
    ("좋아요", "조아요"),
    ("친절해요", "친절해여"),
    ("많아요", "만아요"),
    ("했어요", "햇어요"),
]


def _sentence(rng: random.Random, aspect: str, polarity: int) -> str:
    bank = POS if polarity > 0 else NEG if polarity < 0 else NEUTRAL
    return rng.choice(bank[aspect])


def _rating(score: float, rng: random.Random) -> int:
    # score in [-1, 1] from the text; ratings follow it with a little noise
    base = 3 + 2 * score
    return int(min(5, max(1, round(base + rng.uniform(-0.45, 0.45)))))


def _plant(rng: random.Random, pool: list[str]) -> tuple[list[str], list[str], dict]:
    """Planted strengths (common, mostly praised), weaknesses (a minority of 12-20 % of reviews,
    mostly complaints: the opinions a centroid hides) and mixed background aspects.
    Returns (strengths, weaknesses, aspect -> {mention_rate, positive, negative})."""
    strengths = rng.sample(pool, 2)
    weaknesses = rng.sample([a for a in pool if a not in strengths], rng.choice([1, 2]))
    plan = {}
    for a in pool:
        if a in strengths:
            pos = rng.uniform(0.8, 0.95)
            plan[a] = {"mention_rate": rng.uniform(0.25, 0.45), "positive": pos, "negative": (1 - pos) / 2}
        elif a in weaknesses:
            neg = rng.uniform(0.8, 0.95)
            plan[a] = {"mention_rate": rng.uniform(0.12, 0.20), "positive": (1 - neg) / 2, "negative": neg}
        else:
            pos = rng.uniform(0.3, 0.55)
            plan[a] = {"mention_rate": rng.uniform(0.03, 0.10), "positive": pos, "negative": rng.uniform(0.1, 0.3)}
    return strengths, weaknesses, plan


#: one restaurant (the first with at least this many reviews that delivers and whose delivery is not
#: a weakness) gets a planted shift: delivery complaints rise in its last 3 months (``SHIFT_REVIEWS``
#: extra negative delivery reviews dated then), for the change detection's evaluation
SHIFT_MIN_REVIEWS, SHIFT_REVIEWS, SHIFT_FROM = 100, 14, datetime(2026, 6, 1)

#: restaurants this large get a planted minority complaint (3 % of fewer reviews is under 2 reviews)
COMPLAINT_MIN_REVIEWS = 60


def _plant_complaint(seed: int, i: int, n_reviews: int, strengths: list[str], plan: dict) -> dict:
    """A minority complaint on one strength: 3-10 % of all reviews speak badly of it; the strength is
    mentioned often enough that it stays mostly praised. Its own random stream: the reviews of
    restaurants without a complaint are the same as without this step. Returns {aspect: share}."""
    if n_reviews < COMPLAINT_MIN_REVIEWS:
        return {}
    r = random.Random(seed * 1000 + i)
    aspect = r.choice(strengths)
    share = r.uniform(0.03, 0.10)
    rate = r.uniform(0.5, 0.6)
    negative = share / rate
    plan[aspect] = {"mention_rate": rate, "positive": 1 - negative - 0.02, "negative": negative}
    return {aspect: round(share, 3)}


def generate(seed: int = 7, n_restaurants: int = 32) -> tuple[list[dict], dict]:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    reviews: list[dict] = []
    truth: dict = {"seed": seed, "aspects": list(ASPECTS), "restaurants": {}, "reviews": {}}
    review_no = 0
    truth["shifts"] = {}
    for i in range(n_restaurants):
        category = CATEGORIES[i % len(CATEGORIES)]
        area = AREAS[(i * 5 + i // len(CATEGORIES)) % len(AREAS)]
        restaurant_id = f"r{i + 1:03d}"
        name = f"{rng.choice(NAME_PARTS[category])} {area}점"
        pool = [a for a in ASPECTS if not (a == "배달" and category in ("카페", "고깃집"))]
        strengths, weaknesses, plan = _plant(rng, pool)
        n_reviews = rng.randint(24, 150)
        complaints = _plant_complaint(seed, i, n_reviews, strengths, plan)
        realized = {a: {"mentions": 0, "positive": 0, "negative": 0, "neutral": 0} for a in pool}
        truth["restaurants"][restaurant_id] = {
            "restaurant_name": name,
            "category": category,
            "area": area,
            "strengths": strengths,
            "weaknesses": weaknesses,
            "complaints": complaints,
            "n_reviews": n_reviews,
            "planted": {a: {k: round(v, 3) for k, v in p.items()} for a, p in plan.items()},
            "realized": realized,
        }
        for _ in range(n_reviews):
            review_no += 1
            mentioned = [a for a in pool if rng.random() < plan[a]["mention_rate"]]
            rng.shuffle(mentioned)
            mentioned = mentioned[:3]
            polarities = []
            for a in mentioned:
                r = rng.random()
                p = 1 if r < plan[a]["positive"] else -1 if r < plan[a]["positive"] + plan[a]["negative"] else 0
                polarities.append(p)
                realized[a]["mentions"] += 1
                realized[a][{1: "positive", -1: "negative", 0: "neutral"}[p]] += 1
            english = rng.random() < 0.04
            if not mentioned:
                g = rng.choice([1, 1, 1, 0, -1])
                score = float(g)
                text = (
                    rng.choice(OPENERS) + rng.choice(GENERIC[g])
                    if not english
                    else {1: "Nice place, will come back.", 0: "It was okay.", -1: "Not worth it."}[g]
                )
            elif english:
                score = sum(polarities) / len(polarities)
                parts = [(EN_POS if p >= 0 else EN_NEG)[a] for a, p in zip(mentioned, polarities)]
                text = ". ".join(parts) + "."
                if score > 0:
                    text += rng.choice(["", " Will come back!", " Highly recommend 👍"])
            else:
                score = sum(polarities) / len(polarities)
                parts = [_sentence(rng, a, p) for a, p in zip(mentioned, polarities)]
                text = rng.choice(OPENERS) + parts[0]
                for part in parts[1:]:
                    text += rng.choice(JOINERS) + part
                if score > 0.3:
                    text += rng.choice(POS_CLOSERS)
                elif score < -0.3:
                    text += rng.choice(NEG_CLOSERS)
                else:
                    text += rng.choice(MIX_CLOSERS)
                if rng.random() < 0.12:
                    a, b = rng.choice(TYPOS)
                    text = text.replace(a, b)
                if rng.random() < 0.03:  # a long, detailed review: the same opinions, told at length
                    text = (
                        LONG_INTRO
                        + text
                        + ". "
                        + LONG_MIDDLE
                        + " 전체적으로 "
                        + ("만족스러운 방문이었습니다." if score > 0 else "아쉬움이 남는 방문이었습니다.")
                    )
            sentiment = "positive" if score > 0.3 else "negative" if score < -0.3 else "neutral"
            rating = _rating(score, rng)
            created = start + timedelta(days=rng.randint(0, 600), minutes=rng.randint(0, 1439))
            place = (restaurant_id, name, category, area)
            helpful = max(0, int(rng.expovariate(0.4)))
            _add(
                reviews,
                truth,
                review_no,
                place,
                rating,
                text,
                created,
                helpful,
                sentiment,
                dict(zip(mentioned, polarities)),
            )
        for aspect, share in complaints.items():
            place = (restaurant_id, name, category, area)
            review_no = _realize_complaint(seed, place, aspect, share, start, review_no, reviews, truth)
        if not truth["shifts"] and n_reviews >= SHIFT_MIN_REVIEWS and "배달" in pool and "배달" not in weaknesses:
            review_no = _plant_shift(seed, (restaurant_id, name, category, area), review_no, reviews, truth)
    return reviews, truth


def _add(reviews, truth, review_no, place, rating, text, created, helpful, sentiment, aspects) -> None:
    """One review row and its ground truth; ``place``: restaurant id, name, category, area."""
    restaurant_id, name, category, area = place
    review_id = f"rv{review_no:06d}"
    reviews.append(
        {
            "review_id": review_id,
            "restaurant_id": restaurant_id,
            "restaurant_name": name,
            "category": category,
            "area": area,
            "rating": rating,
            "text": text,
            "created_at": created.strftime("%Y-%m-%d %H:%M"),
            "helpful_count": helpful,
        }
    )
    truth["reviews"][review_id] = {"sentiment": sentiment, "aspects": aspects, "restaurant_id": restaurant_id}


def _realize_complaint(seed, place, aspect, share, start, review_no, reviews, truth) -> int:
    """The random draws may realize fewer complaints than planted (even none on a small restaurant):
    complaint-only reviews are added, dated across the restaurant's range, until at least
    ``share`` of its reviews (and 2) complain about ``aspect`` (its own random stream)."""
    restaurant_id = place[0]
    x = truth["restaurants"][restaurant_id]
    real = x["realized"][aspect]
    target = max(2, round(share * x["n_reviews"]))
    r = random.Random(seed * 104729 + int(restaurant_id[1:]))
    while real["negative"] < target:
        review_no += 1
        text = r.choice(OPENERS) + r.choice(NEG[aspect]) + r.choice(NEG_CLOSERS)
        created = start + timedelta(days=r.randint(0, 600), minutes=r.randint(0, 1439))
        _add(reviews, truth, review_no, place, r.choice([1, 2]), text, created, 0, "negative", {aspect: -1})
        x["n_reviews"] += 1
        real["mentions"] += 1
        real["negative"] += 1
        target = max(2, round(share * x["n_reviews"]))
    return review_no


def _plant_shift(seed, place, review_no, reviews, truth) -> int:
    """``SHIFT_REVIEWS`` reviews complaining about delivery, dated in the restaurant's last 3 months
    (its own random stream: the other restaurants are unchanged)."""
    restaurant_id = place[0]
    r = random.Random(seed * 7919 + int(restaurant_id[1:]))
    truth["shifts"][restaurant_id] = {"aspect": "배달", "direction": "rose", "from": SHIFT_FROM.strftime("%Y-%m")}
    for _ in range(SHIFT_REVIEWS):
        review_no += 1
        text = r.choice(OPENERS) + r.choice(NEG["배달"]) + r.choice(NEG_CLOSERS)
        created = SHIFT_FROM + timedelta(days=r.randint(0, 80), minutes=r.randint(0, 1439))
        _add(reviews, truth, review_no, place, r.choice([1, 2]), text, created, 0, "negative", {"배달": -1})
        truth["restaurants"][restaurant_id]["n_reviews"] += 1
        real = truth["restaurants"][restaurant_id]["realized"]["배달"]
        real["mentions"] += 1
        real["negative"] += 1
    return review_no


FIELDS = [
    "review_id",
    "restaurant_id",
    "restaurant_name",
    "category",
    "area",
    "rating",
    "text",
    "created_at",
    "helpful_count",
]


def write_sample(out: Path, seed: int = 7, n_restaurants: int = 32) -> dict[str, int]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reviews, truth = generate(seed, n_restaurants)
    ids = sorted({r["restaurant_id"] for r in reviews})
    third = len(ids) // 3
    groups = {"a": set(ids[:third]), "b": set(ids[third : 2 * third]), "c": set(ids[2 * third :])}
    counts = {}
    part = [r for r in reviews if r["restaurant_id"] in groups["a"]]
    with open(out / "reviews_a.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(part)
    counts["reviews_a.csv"] = len(part)
    part = [r for r in reviews if r["restaurant_id"] in groups["b"]]
    with open(out / "reviews_b.jsonl", "w", encoding="utf-8") as fh:
        for r in part:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts["reviews_b.jsonl"] = len(part)
    part = [r for r in reviews if r["restaurant_id"] in groups["c"]]
    # CP949 cannot encode emoji: the CP949 file drops them (as legacy exports do).
    with open(out / "reviews_c.csv", "w", encoding="cp949", errors="ignore", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(part)
    counts["reviews_c.csv"] = len(part)
    with open(out / "ground_truth.json", "w", encoding="utf-8") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=1, sort_keys=True)
    return counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="data/sample")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--restaurants", type=int, default=32)
    args = ap.parse_args(argv)
    counts = write_sample(Path(args.out), args.seed, args.restaurants)
    for name, n in counts.items():
        print(f"{args.out}/{name}: {n} reviews")


if __name__ == "__main__":
    main()
