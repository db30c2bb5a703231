"""A delivery-app style export, as owner centres and crawls write it: a menu column of ordered items
(`item/qty,item/qty`, options in brackets), three per-aspect star columns beside the total, Korean and
relative dates; written as CSV and as the same rows in a workbook."""

from __future__ import annotations

import csv
from pathlib import Path

HEADER = ["가게", "작성자", "리뷰", "별점", "맛", "양", "배달", "작성일", "주문메뉴"]

ROWS = [
    [
        "교촌 역삼점",
        "u1",
        "양념치킨 진짜 맛있어요 배달도 빨랐어요",
        "5",
        "5",
        "5",
        "5",
        "2024년 3월 2일",
        "양념치킨/1,콜라 1.25L/1",
    ],
    [
        "교촌 역삼점",
        "u2",
        "배달이 너무 늦게 와서 다 식었어요",
        "2",
        "4",
        "4",
        "1",
        "2024년 3월 3일",
        "후라이드(순살, 뼈 변경)/1",
    ],
    [
        "교촌 역삼점",
        "u3",
        "양념치킨이 너무 짜요. 양은 많아요",
        "3",
        "2",
        "5",
        "4",
        "3일 전",
        "양념치킨(소스 추가/1,치즈볼 5개/2",
    ],
    [
        "교촌 역삼점",
        "u4",
        "양이 적어요 가격에 비해",
        "2",
        "3",
        "1",
        "4",
        "어제",
        "반반치킨（양념(순한맛), 후라이드）/1",
    ],
    ["교촌 역삼점", "u5", "맛있어요 또 시킬게요", "5", "5", "5", "5", "2024년 2월 28일", "양념치킨/1"],
    [
        "두끼 강남점",
        "u1",
        "떡볶이 맛있고 사장님 친절해요",
        "5",
        "5",
        "4",
        "5",
        "2024년 3월 1일",
        "떡볶이 2인분/1,튀김/1",
    ],
    ["두끼 강남점", "u6", "별로예요", "1 star rating", "1", "2", "3", "2024년 3월 4일", "떡볶이/1"],
]

SOURCES = """sources:
  - name: baemin-owner
    files: "baemin/*"
    columns: {restaurant_id: 가게, text: 리뷰, rating: 별점, created_at: 작성일}
    review_id_from: [가게, 작성자, 주문메뉴, 리뷰]
    menu: 주문메뉴
    aspect_ratings: {맛: 맛, 양: 양, 배달: 배달}
    as_of: 2024-03-10T12:00:00
"""


def write_csv(path: Path, rows=ROWS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def write_xlsx(path: Path, rows=ROWS, title_rows: int = 0, numbers: bool = True) -> Path:
    """The same rows in a workbook (stars as numbers where they are numbers, as a spreadsheet holds them;
    ``title_rows``: lines above the header, as owner-centre downloads have)."""
    import xlsxwriter

    path.parent.mkdir(parents=True, exist_ok=True)
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("리뷰")
    if title_rows:
        ws.write(0, 0, "리뷰 관리 (2024.02.01 ~ 2024.03.10)")
    for i, row in enumerate([HEADER, *rows]):
        for j, v in enumerate(row):
            if numbers and i and v.isdigit():
                ws.write_number(title_rows + i, j, int(v))
            else:
                ws.write_string(title_rows + i, j, v)
    wb.close()
    return path


def planted_rows(n: int = 60, seed: int = 3) -> list[list[str]]:
    """A restaurant's export with known answers: 떡볶이 is the trailing dish (its reviews complain of
    taste: 짜다), the other items rarely; delivery complaints are 2/3 late and 1/3 cold; sub-ratings
    follow the text (a complaint about the taste gets a taste star of 1 or 2)."""
    import random

    rng = random.Random(seed)
    rows = []
    for i in range(n):
        item = ["떡볶이", "순대", "튀김", "김밥"][i % 4]
        taste_bad = item == "떡볶이" and i % 8 != 0 or (item != "떡볶이" and i % 13 == 0)
        parts, taste, delivery = [], 5, 5
        if taste_bad:
            parts.append(f"{item}가 너무 짜요")
            taste = rng.choice([1, 2])
        else:
            parts.append(f"{item} 맛있어요")
        if i % 5 == 0:
            parts.append("배달이 너무 늦게 왔어요" if i % 3 else "음식이 다 식어서 왔어요")
            delivery = 1
        elif i % 5 == 1:
            parts.append("배달이 빨라요")
        total = min(taste, delivery) if (taste_bad or delivery == 1) else 5
        menu = f"{item}(보통맛)/1,콜라 1.25L/1" if i % 2 else f"{item}/1"
        rows.append(
            [
                "분식왕 신촌점",
                f"p{i}",
                " ".join(parts),
                str(total),
                str(taste),
                "4",
                str(delivery),
                f"2024년 {1 + i % 3}월 {1 + i % 27}일",
                menu,
            ]
        )
    return rows
