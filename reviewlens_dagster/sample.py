"""Deterministic generator of realistic Korean restaurant reviews, with ground truth.

    python -m reviewlens_dagster.sample [--out data/sample] [--seed 7] [--restaurants 32]

Each restaurant gets planted strengths and weaknesses over the aspect vocabulary; each review
mentions 1-3 aspects, leaning on the planted ones, and its star rating follows its text. Some
reviews are mixed or neutral, some carry slang, typos and emoji, a few are English, a few long.
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

POS = {
    "맛": ["음식이 정말 맛있어요", "맛이 진짜 최고예요", "간이 딱 맞고 맛있습니다", "존맛탱 ㄹㅇ", "국물이 끝내줘요", "고기가 부드럽고 맛있어요"],
    "양": ["양이 엄청 많아요", "양 푸짐하게 주세요", "배 터지게 먹었어요", "곱빼기 안 시켜도 충분해요"],
    "가격": ["가격이 착해요", "가성비 최고입니다", "이 가격에 이 퀄리티면 대박", "가격 대비 훌륭해요"],
    "서비스": ["사장님이 너무 친절하세요", "직원분들이 친절해요", "서비스로 음료도 주셨어요", "응대가 정말 친절했습니다"],
    "청결": ["매장이 깨끗해요", "테이블이랑 화장실까지 청결해요", "위생 관리가 잘 되어 있어요"],
    "분위기": ["분위기가 아늑하고 좋아요", "인테리어가 예뻐서 사진 찍기 좋아요", "데이트하기 좋은 분위기예요", "조용해서 대화하기 좋아요"],
    "배달": ["배달이 빨라요", "배달 왔는데 아직 따뜻했어요", "포장이 꼼꼼해서 하나도 안 샜어요"],
    "대기시간": ["웨이팅 없이 바로 들어갔어요", "음식이 금방 나와요", "주문하고 10분 만에 나왔어요"],
    "주차": ["주차 공간이 넓어요", "주차하기 편해요", "건물 주차장 무료라 좋아요"],
}
NEG = {
    "맛": ["맛이 별로예요", "너무 짜서 못 먹겠어요", "간이 하나도 안 맞아요", "맛이 예전 같지 않네요", "고기가 질겨요"],
    "양": ["양이 너무 적어요", "양이 좀 아쉬워요", "이 양이면 두 그릇은 먹어야 해요"],
    "가격": ["가격이 너무 비싸요", "가성비는 별로예요", "양에 비해 비싸요"],
    "서비스": ["직원이 불친절해요", "주문을 계속 잊어버리세요", "응대가 너무 무성의했어요", "사장님이 퉁명스러워요"],
    "청결": ["테이블이 끈적거려요", "위생이 좀 걱정돼요", "화장실이 더러워요"],
    "분위기": ["너무 시끄러워요", "좁고 답답해요", "분위기는 좀 어수선해요"],
    "배달": ["배달이 한 시간 넘게 걸렸어요", "배달 와서 다 식어 있었어요", "국물이 다 새서 왔어요"],
    "대기시간": ["웨이팅이 너무 길어요", "음식 나오는 데 40분 걸렸어요", "줄이 길어서 한참 기다렸어요"],
    "주차": ["주차할 곳이 없어요", "주차가 너무 불편해요", "주차 자리가 없어서 한참 돌았어요"],
}
NEUTRAL = {
    "맛": ["맛은 무난해요", "맛은 평범합니다"],
    "양": ["양은 보통이에요"],
    "가격": ["가격은 주변이랑 비슷해요"],
    "서비스": ["서비스는 그냥 보통이에요"],
    "청결": ["청결은 보통"],
    "분위기": ["분위기는 평범해요"],
    "배달": ["배달은 보통 속도였어요"],
    "대기시간": ["대기는 조금 있었어요"],
    "주차": ["주차는 근처 공영주차장 이용했어요"],
}
EN_POS = {"맛": "The food was delicious", "양": "Huge portions", "가격": "Great value for money", "서비스": "Super friendly staff",
          "청결": "Very clean place", "분위기": "Lovely atmosphere", "배달": "Delivery was fast", "대기시간": "No waiting at all", "주차": "Easy parking"}
EN_NEG = {"맛": "The food was bland", "양": "Portions were tiny", "가격": "Way too expensive", "서비스": "Rude staff",
          "청결": "The tables were dirty", "분위기": "Too noisy", "배달": "Delivery took forever", "대기시간": "We waited almost an hour", "주차": "Parking was impossible"}
OPENERS = ["", "", "", "친구랑 갔어요. ", "점심에 방문했어요. ", "재방문입니다. ", "처음 가봤는데 ", "회식으로 갔는데 ", "배달로 시켰어요. "]
POS_CLOSERS = ["", " 또 올게요!", " 재방문 의사 있어요 😊", " 강추합니다 👍", " ㅋㅋㅋ 최고", " 단골 될 듯", " 👍👍"]
NEG_CLOSERS = ["", " 다신 안 갈 듯", " 실망했어요 😞", " 비추합니다", " 아쉽네요 ㅠㅠ", " 돈 아까워요"]
MIX_CLOSERS = ["", " 장단점이 있네요", " 그럭저럭이에요", " 한 번쯤은 괜찮아요"]
LONG_INTRO = ("주말 저녁에 가족들이랑 다 같이 방문했습니다. 예약은 따로 안 하고 갔고, 블로그 후기를 보고 기대를 많이 하고 갔어요. "
              "메뉴는 대표 메뉴 위주로 여러 개 시켜서 나눠 먹었습니다. ")
TYPOS = [("맛있어요", "맛잇어요"), ("있어요", "잇어요"), ("좋아요", "조아요"), ("친절해요", "친절해여"), ("많아요", "만아요"), ("했어요", "햇어요")]


def _sentence(rng: random.Random, aspect: str, polarity: int) -> str:
    bank = POS if polarity > 0 else NEG if polarity < 0 else NEUTRAL
    return rng.choice(bank[aspect])


def _rating(score: float, rng: random.Random) -> int:
    # score in [-1, 1] from the text; ratings follow it with a little noise
    base = 3 + 2 * score
    return int(min(5, max(1, round(base + rng.uniform(-0.45, 0.45)))))


def generate(seed: int = 7, n_restaurants: int = 32) -> tuple[list[dict], dict]:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    reviews: list[dict] = []
    truth: dict = {"seed": seed, "aspects": list(ASPECTS), "restaurants": {}, "reviews": {}}
    review_no = 0
    for i in range(n_restaurants):
        category = CATEGORIES[i % len(CATEGORIES)]
        area = AREAS[(i * 5 + i // len(CATEGORIES)) % len(AREAS)]
        rid = f"r{i + 1:03d}"
        name = f"{rng.choice(NAME_PARTS[category])} {area}점"
        aspects = list(ASPECTS)
        if category != "카페" and category != "고깃집":
            pool = aspects
        else:
            pool = [a for a in aspects if a != "배달"]
        strengths = rng.sample(pool, 2)
        weaknesses = rng.sample([a for a in pool if a not in strengths], rng.choice([1, 2]))
        quality = rng.uniform(-0.2, 0.4)  # baseline for aspects nobody planted
        n_reviews = rng.randint(20, 150)
        truth["restaurants"][rid] = {
            "restaurant_name": name, "category": category, "area": area,
            "strengths": strengths, "weaknesses": weaknesses, "n_reviews": n_reviews,
        }
        for _ in range(n_reviews):
            review_no += 1
            k = rng.choice([1, 1, 2, 2, 2, 3])
            mentioned: list[str] = []
            weights = [4 if a in strengths else 3 if a in weaknesses else 1 for a in pool]
            while len(mentioned) < k:
                a = rng.choices(pool, weights)[0]
                if a not in mentioned:
                    mentioned.append(a)
            polarities = []
            for a in mentioned:
                if a in strengths:
                    p = 1 if rng.random() < 0.85 else rng.choice([0, -1])
                elif a in weaknesses:
                    p = -1 if rng.random() < 0.85 else rng.choice([0, 1])
                else:
                    r = rng.random() + quality
                    p = 1 if r > 0.7 else -1 if r < 0.25 else 0
                polarities.append(p)
            score = sum(polarities) / len(polarities)
            english = rng.random() < 0.04
            if english:
                parts = [(EN_POS if p >= 0 else EN_NEG)[a] for a, p in zip(mentioned, polarities)]
                text = ". ".join(parts) + "."
                if score > 0:
                    text += rng.choice(["", " Will come back!", " Highly recommend 👍"])
            else:
                parts = [_sentence(rng, a, p) for a, p in zip(mentioned, polarities)]
                joiner = rng.choice([". ", ", ", "! ", " ㅎㅎ "])
                text = rng.choice(OPENERS) + joiner.join(parts)
                if score > 0.3:
                    text += rng.choice(POS_CLOSERS)
                elif score < -0.3:
                    text += rng.choice(NEG_CLOSERS)
                else:
                    text += rng.choice(MIX_CLOSERS)
                if rng.random() < 0.12:
                    a, b = rng.choice(TYPOS)
                    text = text.replace(a, b)
                if rng.random() < 0.03:  # a long, detailed review
                    extra = [_sentence(rng, a, 1 if a in strengths else -1 if a in weaknesses else 0) for a in pool]
                    text = LONG_INTRO + text + " 자세히 적어보면, " + ". ".join(extra) + ". 전체적으로 " + (
                        "만족스러운 방문이었습니다." if score > 0 else "아쉬움이 남는 방문이었습니다.")
            sentiment = "positive" if score > 0.3 else "negative" if score < -0.3 else "neutral"
            rating = _rating(score, rng)
            created = start + timedelta(days=rng.randint(0, 600), minutes=rng.randint(0, 1439))
            review_id = f"rv{review_no:06d}"
            reviews.append({
                "review_id": review_id, "restaurant_id": rid, "restaurant_name": name,
                "category": category, "area": area, "rating": rating, "text": text,
                "created_at": created.strftime("%Y-%m-%d %H:%M"),
                "helpful_count": max(0, int(rng.expovariate(0.4))),
            })
            truth["reviews"][review_id] = {
                "sentiment": sentiment, "aspects": dict(zip(mentioned, polarities)), "restaurant_id": rid,
            }
    return reviews, truth


FIELDS = ["review_id", "restaurant_id", "restaurant_name", "category", "area", "rating", "text", "created_at", "helpful_count"]


def write_sample(out: Path, seed: int = 7, n_restaurants: int = 32) -> dict[str, int]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reviews, truth = generate(seed, n_restaurants)
    ids = sorted({r["restaurant_id"] for r in reviews})
    third = len(ids) // 3
    groups = {"a": set(ids[:third]), "b": set(ids[third: 2 * third]), "c": set(ids[2 * third:])}
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
