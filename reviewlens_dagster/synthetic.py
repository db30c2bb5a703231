"""Deterministic generator of realistic Korean restaurant reviews, with ground truth.

    python -m reviewlens_dagster.synthetic [--out data/sample] [--seed 7] [--restaurants 32]

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

from .core.aspects import SAMPLE_ASPECTS
from .synthetic_phrases import (
    AREAS,
    CATEGORIES,
    DISHES,
    EN_NEG,
    EN_POS,
    GENERIC,
    JOINERS,
    LONG_INTRO,
    LONG_MIDDLE,
    MIX_CLOSERS,
    NAME_PARTS,
    NEG,
    NEG_CLOSERS,
    NEUTRAL,
    OPENERS,
    POS,
    POS_CLOSERS,
    REASON_PHRASES,
    TYPOS,
)

#: the sample data's defaults (`make sample`, `make run`, the tests and the evaluation)
SEED, RESTAURANTS = 7, 32


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


def _reason_plan(seed: int, i: int, pool: list[str]) -> dict[str, dict[str, float]]:
    """Planted reason mixes (the first third of the restaurants: the delivery-app style file): for each
    aspect of :data:`REASON_PHRASES` the restaurant has, its complaints give one reason in a share of
    0.5, 2/3 or 0.8 and the other reason in the rest ("delivery complaints 2/3 late, 1/3 cold").
    Its own random stream."""
    r = random.Random(seed * 613 + i)
    plan = {}
    for aspect, _ in REASON_PHRASES:
        if aspect in pool:
            names = sorted(REASON_PHRASES[(aspect, -1)])
            r.shuffle(names)
            first = r.choice([0.5, 2 / 3, 0.8])
            plan[aspect] = {names[0]: round(first, 3), names[1]: round(1 - first, 3)}
    return plan


def _planted_phrase(r: random.Random, mix: dict[str, float], aspect: str) -> tuple[str, str]:
    """(a complaint phrase, the reason it gives), the reason drawn by the planted mix."""
    reasons = sorted(mix)
    reason = r.choices(reasons, [mix[x] for x in reasons])[0]
    return r.choice(REASON_PHRASES[(aspect, -1)][reason]), reason


def _complaint_phrase(r: random.Random, truth: dict, restaurant_id: str, aspect: str) -> tuple[str, str | None]:
    """A complaint about ``aspect``: by the restaurant's planted reason mix where it has one (counted
    in the ground truth), else any phrase of the bank."""
    planted = truth["restaurants"][restaurant_id].get("reasons", {}).get(aspect)
    if not planted:
        return r.choice(NEG[aspect]), None
    phrase, reason = _planted_phrase(r, planted["planted"], aspect)
    planted["realized"][reason] = planted["realized"].get(reason, 0) + 1
    return phrase, reason


def generate(seed: int = SEED, n_restaurants: int = RESTAURANTS) -> tuple[list[dict], dict]:
    """(reviews, ground truth). Long (~100 lines) on purpose: one pass that draws from one random
    stream in a fixed order; every figure measured on the sample (docs/benchmarks.md) depends on
    that order, so it is kept in one place rather than spread over helpers that could reorder it."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 1)
    reviews: list[dict] = []
    # the sample is written in the coarse vocabulary (aspects.SAMPLE_ASPECTS): its draws never change
    truth: dict = {"seed": seed, "aspects": list(SAMPLE_ASPECTS), "restaurants": {}, "reviews": {}}
    review_no = 0
    truth["shifts"] = {}
    for i in range(n_restaurants):
        category = CATEGORIES[i % len(CATEGORIES)]
        area = AREAS[(i * 5 + i // len(CATEGORIES)) % len(AREAS)]
        restaurant_id = f"r{i + 1:03d}"
        name = f"{rng.choice(NAME_PARTS[category])} {area}점"
        pool = [a for a in SAMPLE_ASPECTS if not (a == "배달" and category in ("카페", "고깃집"))]
        strengths, weaknesses, plan = _plant(rng, pool)
        n_reviews = rng.randint(24, 150)
        complaints = _plant_complaint(seed, i, n_reviews, strengths, plan)
        realized = {a: {"mentions": 0, "positive": 0, "negative": 0, "neutral": 0} for a in pool}
        reason_plan = _reason_plan(seed, i, pool) if i < n_restaurants // 3 else {}
        rr = random.Random(seed * 92821 + i)  # the planted phrases' own stream: the main draws are unchanged
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
        if reason_plan:
            truth["restaurants"][restaurant_id]["reasons"] = {
                a: {"planted": mix, "realized": {}} for a, mix in reason_plan.items()
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
            reasons: dict[str, str] = {}
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
                for k, (a, p) in enumerate(zip(mentioned, polarities)):
                    if p < 0 and a in reason_plan:
                        parts[k], reasons[a] = _complaint_phrase(rr, truth, restaurant_id, a)
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
                reasons,
            )
        for aspect, share in complaints.items():
            place = (restaurant_id, name, category, area)
            review_no = _realize_complaint(seed, place, aspect, share, start, review_no, reviews, truth)
        if not truth["shifts"] and n_reviews >= SHIFT_MIN_REVIEWS and "배달" in pool and "배달" not in weaknesses:
            review_no = _plant_shift(seed, (restaurant_id, name, category, area), review_no, reviews, truth)
    return reviews, truth


def _add(reviews, truth, review_no, place, rating, text, created, helpful, sentiment, aspects, reasons=None) -> None:
    """One review row and its ground truth; ``place``: restaurant id, name, category, area;
    ``reasons``: aspect -> the planted reason of its complaint."""
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
    if reasons:
        truth["reviews"][review_id]["reasons"] = reasons


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
        opener = r.choice(OPENERS)  # drawn first, as before reasons were planted: the other restaurants unchanged
        phrase, reason = _complaint_phrase(r, truth, restaurant_id, aspect)
        text = opener + phrase + r.choice(NEG_CLOSERS)
        created = start + timedelta(days=r.randint(0, 600), minutes=r.randint(0, 1439))
        why = {aspect: reason} if reason else None
        _add(reviews, truth, review_no, place, r.choice([1, 2]), text, created, 0, "negative", {aspect: -1}, why)
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
        opener = r.choice(OPENERS)
        phrase, reason = _complaint_phrase(r, truth, restaurant_id, "배달")
        text = opener + phrase + r.choice(NEG_CLOSERS)
        created = SHIFT_FROM + timedelta(days=r.randint(0, 80), minutes=r.randint(0, 1439))
        why = {"배달": reason} if reason else None
        _add(reviews, truth, review_no, place, r.choice([1, 2]), text, created, 0, "negative", {"배달": -1}, why)
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


#: the delivery-app style file's own columns (reviews_a.csv): ordered items and per-aspect stars
EXPORT_FIELDS = ["menu", "taste_rating", "quantity_rating", "delivery_rating"]
#: a restaurant of that file with at least this many taste complaints has a dish that draws them (fewer
#: complaints cannot make any dish trail the others measurably)
TRAILING_MIN_COMPLAINTS = 8


def _star(r: random.Random, polarity: int | None, rating: int) -> int:
    """A reviewer's star for one aspect: low for a complaint, high for praise, 3 for the middle, near
    the total where the text does not say."""
    if polarity is None:
        return rating
    return r.choice([1, 2]) if polarity < 0 else r.choice([4, 5, 5]) if polarity > 0 else 3


def add_export_columns(reviews: list[dict], truth: dict, seed: int, restaurant_ids: set[str]) -> None:
    """The delivery-app style columns for the reviews of ``restaurant_ids`` (:data:`EXPORT_FIELDS`):
    1-2 dishes of the category's menu per review (options in brackets, a drink with its size), a
    planted trailing dish where the restaurant has :data:`TRAILING_MIN_COMPLAINTS` taste complaints (80 %
    of them ordered it, 12 % of the other reviews: ``trailing_dish`` in the ground truth), and stars per aspect
    that follow the review's own judgements. Its own random streams: texts and ratings are unchanged."""
    by_restaurant: dict[str, list[dict]] = {}
    for row in reviews:
        if row["restaurant_id"] in restaurant_ids:
            by_restaurant.setdefault(row["restaurant_id"], []).append(row)
    for rid, rows in sorted(by_restaurant.items()):
        x, i = truth["restaurants"][rid], int(rid[1:]) - 1
        r = random.Random(seed * 48611 + i)
        dishes = DISHES[x["category"]]
        trailing = dishes[0] if x["realized"].get("맛", {}).get("negative", 0) >= TRAILING_MIN_COMPLAINTS else None
        if trailing:
            x["trailing_dish"] = trailing
        for row in rows:
            aspects = truth["reviews"][row["review_id"]]["aspects"]
            others = [d for d in dishes if d != trailing]
            chance = 0.8 if aspects.get("맛") == -1 else 0.12
            main = trailing if trailing and r.random() < chance else r.choice(others)
            items = [main] + ([r.choice([d for d in others if d != main])] if r.random() < 0.3 else [])
            cells = [f"{d}(보통맛)/1" if r.random() < 0.3 else f"{d}/1" for d in items]
            if r.random() < 0.4:
                cells.append("콜라 1.25L/1")
            row["menu"] = ",".join(cells)
            row["taste_rating"] = _star(r, aspects.get("맛"), row["rating"])
            row["quantity_rating"] = _star(r, aspects.get("양"), row["rating"])
            row["delivery_rating"] = _star(r, aspects.get("배달"), row["rating"]) if "배달" in x["planted"] else ""


def write_sample(out: Path, seed: int = SEED, n_restaurants: int = RESTAURANTS) -> dict[str, int]:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    reviews, truth = generate(seed, n_restaurants)
    ids = sorted({r["restaurant_id"] for r in reviews})
    third = len(ids) // 3
    groups = {"a": set(ids[:third]), "b": set(ids[third : 2 * third]), "c": set(ids[2 * third :])}
    counts = {}
    add_export_columns(reviews, truth, seed, groups["a"])  # the delivery-app style file
    part = [r for r in reviews if r["restaurant_id"] in groups["a"]]
    with open(out / "reviews_a.csv", "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS + EXPORT_FIELDS)
        w.writeheader()
        w.writerows(part)
    counts["reviews_a.csv"] = len(part)
    part = [r for r in reviews if r["restaurant_id"] in groups["b"]]
    with open(out / "reviews_b.jsonl", "w", encoding="utf-8") as fh:
        for r in part:
            fh.write(json.dumps({k: r[k] for k in FIELDS}, ensure_ascii=False) + "\n")
    counts["reviews_b.jsonl"] = len(part)
    part = [r for r in reviews if r["restaurant_id"] in groups["c"]]
    # CP949 cannot encode emoji: the CP949 file drops them (as legacy exports do).
    with open(out / "reviews_c.csv", "w", encoding="cp949", errors="ignore", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(part)
    counts["reviews_c.csv"] = len(part)
    with open(out / "ground_truth.json", "w", encoding="utf-8") as fh:
        json.dump(truth, fh, ensure_ascii=False, indent=1, sort_keys=True)
    return counts


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="data/sample")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--restaurants", type=int, default=RESTAURANTS)
    args = ap.parse_args(argv)
    counts = write_sample(Path(args.out), args.seed, args.restaurants)
    for name, n in counts.items():
        print(f"{args.out}/{name}: {n} reviews")


if __name__ == "__main__":
    main()
