"""The bad-input corpus: files users really drop, each with what must come out of it.

Each case writes one file and states the review ids that must be ingested, how many rows
must be quarantined, and whether the whole file must be quarantined.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

HEADER = "review_id,restaurant_id,text,rating,created_at\n"


@dataclass
class Case:
    name: str
    content: bytes
    valid_ids: set[str] = field(default_factory=set)
    rejected: int = 0
    warnings: int = 0  # rows kept with an optional field set to NULL (or helpful_count to 0)
    fatal: bool = False
    why: str = ""


def _csv(rows: list[str], header: str = HEADER, encoding: str = "utf-8", newline: str = "\n") -> bytes:
    text = header + "".join(r + "\n" for r in rows)
    return text.replace("\n", newline).encode(encoding)


def _jsonl(objs: list) -> bytes:
    return "".join((o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)) + "\n" for o in objs).encode()


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def cases() -> list[Case]:
    big = "정말 맛있어요 " * 8000  # ~ 100 KB
    return [
        Case(
            "cp949.csv",
            _csv(["c1,r_enc,김치찌개가 맛있어요,5,2024-01-01", "c2,r_enc,양이 적어요,2,2024-01-02"], encoding="cp949"),
            {"c1", "c2"},
            why="CP949 detected",
        ),
        Case("euckr.csv", _csv(["e1,r_enc,서비스가 친절합니다,4,"], encoding="euc-kr"), {"e1"}, why="EUC-KR detected"),
        Case(
            "bom.csv",
            _csv(["b1,r_bom,분위기 좋아요 😊,5,2024-02-01"], encoding="utf-8-sig"),
            {"b1"},
            why="UTF-8 BOM; emoji kept",
        ),
        Case(
            "crlf.csv",
            _csv(["l1,r_crlf,배달이 빨라요,5,2024-03-01", 'l2,r_crlf,"여러 줄\r\n리뷰",4,'], newline="\r\n"),
            {"l1", "l2"},
            why="CRLF line endings, quoted newline",
        ),
        Case(
            "missing_columns.csv",
            b"review_id,rating\nx1,5\n",
            fatal=True,
            rejected=1,
            why="no restaurant_id/text columns",
        ),
        Case("empty.csv", b"", fatal=True, rejected=1, why="0 bytes"),
        Case("whitespace.jsonl", b"   \n\n  \n", fatal=True, rejected=1, why="only whitespace"),
        Case("junk.csv", os.urandom(64) + b"\x00\x00" + os.urandom(64), fatal=True, rejected=1, why="binary junk"),
        Case(
            "junk.parquet", b"PAR1 this is not parquet" + os.urandom(32), fatal=True, rejected=1, why="corrupt parquet"
        ),
        Case("notes.txt", "그냥 메모".encode(), fatal=True, rejected=1, why="unsupported type"),
        Case(
            "bad_ratings.csv",
            _csv(
                [
                    "br1,r_rate,좋아요,abc,",
                    "br2,r_rate,좋아요,7,",
                    "br3,r_rate,좋아요,0,",
                    "br4,r_rate,좋아요,-1,",
                    "br5,r_rate,좋아요,4.5,",
                    "br6,r_rate,좋아요,,",
                    "br7,r_rate,좋아요,NaN,",
                ]
            ),
            {"br1", "br2", "br3", "br4", "br5", "br6", "br7"},
            warnings=5,
            why="an unreadable or out-of-range rating is NULL with a warning, the review is kept",
        ),
        Case(
            "duplicates.jsonl",
            _jsonl(
                [
                    {"review_id": "d1", "restaurant_id": "r_dup", "text": "첫 버전", "created_at": "2024-01-01"},
                    {"review_id": "d1", "restaurant_id": "r_dup", "text": "최신 버전", "created_at": "2024-03-01"},
                    {"review_id": "d1", "restaurant_id": "r_dup", "text": "중간 버전", "created_at": "2024-02-01"},
                    {"review_id": "d2", "restaurant_id": "r_dup", "text": "다른 리뷰"},
                ]
            ),
            {"d1", "d2"},
            rejected=2,
            why="duplicate ids: newest wins, the others quarantined",
        ),
        Case(
            "huge.csv", _csv([f"h1,r_big,{big},5,", "h2,r_big,짧은 리뷰,4,"]), {"h2"}, rejected=1, why="100 KB review"
        ),
        Case(
            "sql_ids.csv",
            _csv(
                [
                    's1,"r1\'; DROP TABLE reviews;--",맛있어요,5,',
                    's2,"r1""x",맛있어요,5,',
                    "\"s3' OR '1'='1\",r_sql,맛있어요,5,",
                    "s4,r_sql,정상 리뷰,5,",
                ]
            ),
            {"s1", "s2", "s4"},
            rejected=1,
            why="quotes and SQL in restaurant ids get a safe key; in review ids rejected",
        ),
        Case(
            "weird..name...csv",
            _csv(["p1,../../etc/passwd,리뷰,5,", "p2,r_path,정상,5,", "p3,..,리뷰,3,"]),
            {"p1", "p2", "p3"},
            why="'../' in restaurant ids gets a safe key; dots in the file name are fine",
        ),
        Case(
            "mixed_types.jsonl",
            _jsonl(
                [
                    {
                        "review_id": 101,
                        "restaurant_id": "r_mixed",
                        "text": "숫자 id",
                        "rating": "5",
                        "helpful_count": "3",
                    },
                    {"review_id": "m2", "restaurant_id": "r_mixed", "text": ["리스트"], "rating": 4},
                    {"review_id": "m3", "restaurant_id": "r_mixed", "text": "불리언 별점", "rating": True},
                    {"review_id": "m4", "restaurant_id": "r_mixed", "text": 12345, "rating": 3.0},
                    {"review_id": "m5", "restaurant_id": "r_mixed", "text": "음수 도움", "helpful_count": -2},
                ]
            ),
            {"101", "m3", "m4", "m5"},
            rejected=1,
            warnings=2,
            why="numbers as ids and text, lists, booleans",
        ),
        Case(
            "bad_json.jsonl",
            _jsonl(
                [
                    '{"review_id": "j1", "restaurant_id": "r_json", "text": "좋아요"',
                    '["not", "an", "object"]',
                    {"review_id": "j3", "restaurant_id": "r_json", "text": "정상"},
                ]
            ),
            {"j3"},
            rejected=2,
            why="truncated JSON, array line",
        ),
        Case(
            "html.csv",
            _csv(['t1,r_html,"<p>정말 <b>맛있어요</b> &amp; 친절</p>",5,', 't2,r_html,"<br><br>",3,']),
            {"t1"},
            rejected=1,
            why="HTML stripped; HTML-only text is empty",
        ),
        Case(
            "ragged.csv",
            _csv(["g1,r_rag,좋아요,5,2024-01-01,extra", "g2,r_rag,좋아요", "g3,r_rag,정상,5,2024-01-01"]),
            {"g3"},
            rejected=2,
            why="too many / too few fields",
        ),
        Case(
            "missing_values.csv",
            _csv([",r_miss,리뷰,5,", "n2,,리뷰,5,", "n3,r_miss,   ,5,", "n4,r_miss,정상,,"]),
            {"n4"},
            rejected=3,
            why="empty ids and whitespace text",
        ),
        Case(
            "bad_dates.csv",
            _csv(
                [
                    "dt1,r_date,리뷰,5,yesterday-ish",
                    "dt2,r_date,리뷰,5,2024-13-45",
                    "dt3,r_date,리뷰,5,2024-05-06T10:00:00+09:00",
                ]
            ),
            {"dt1", "dt2", "dt3"},
            warnings=2,
            why="unparseable dates: NULL with a warning",
        ),
        Case(
            "korean_notations.csv",
            _csv(
                [
                    "kn1,r_kn,별점 표기,4점,2021년 7월 3일",
                    "kn2,r_kn,별 표기,★★★★☆,21.07.03.",
                    "kn3,r_kn,점 날짜,8/10,2021.07.03 14:05",
                    "kn4,r_kn,틀린 별점,7점,2021.07.03",
                    "kn5,r_kn,틀린 날짜,4점,2021년 13월 40일",
                ]
            ),
            {"kn1", "kn2", "kn3", "kn4", "kn5"},
            warnings=2,
            why="Korean rating and date notations; out-of-range ones NULL with a warning",
        ),
        Case(
            "relative_dates.csv",
            _csv(
                [
                    "rd1,r_rel,배달앱,5,3일 전",
                    "rd2,r_rel,배달앱,4,어제",
                    "rd3,r_rel,배달앱,5,방금",
                    "rd4,r_rel,배달앱,5,3일전에",
                    "rd5,r_rel,배달앱,5,일주일 전",
                    "rd6,r_rel,배달앱,4,2주 전",
                    "rd7,r_rel,배달앱,5,한 달 전",
                    "rd8,r_rel,배달앱,5,두 달 전",
                    "rd9,r_rel,배달앱,3,작년",
                    "rd10,r_rel,delivery,5,3 days ago",
                ]
            ),
            {"rd1", "rd2", "rd3", "rd4", "rd5", "rd6", "rd7", "rd8", "rd9", "rd10"},
            warnings=1,
            why="relative dates count back from the file's modification time",
        ),
        Case(
            "aliases.csv",
            _csv(["a1,r_alias,별점 별칭 테스트,4,2024-01-01"], header="ID,Store_ID,Review,Stars,Date\n"),
            {"a1"},
            why="common column aliases",
        ),
        Case(
            "korean_header.csv",
            _csv(["k1,r_kor,한글 헤더,5,2024-01-01"], header="리뷰id,식당id,내용,별점,작성일\n"),
            {"k1"},
            why="Korean column names",
        ),
        Case("tabs.tsv", "review_id\trestaurant_id\ttext\nv1\tr_tsv\t탭 구분\n".encode(), {"v1"}, why="TSV"),
        Case(
            "good.parquet",
            _parquet(
                pd.DataFrame(
                    {
                        "review_id": ["q1", "q2"],
                        "restaurant_id": ["r_pq", "r_pq"],
                        "text": ["파케이 리뷰", None],
                        "rating": [5.0, 9.0],
                    }
                )
            ),
            {"q1"},
            rejected=1,
            why="parquet with a null text",
        ),
        Case(
            "unclosed_quote.csv",
            _csv(["u1,r_quote,정상,5,", 'u2,r_quote,"닫히지 않은 따옴표,5,']),
            {"u1"},
            rejected=1,
            why="unterminated quote",
        ),
        Case("header_only.csv", HEADER.encode(), why="no rows: nothing to ingest, nothing lost"),
        Case(
            "hangul_ids.csv",
            _csv(
                [
                    "hg1,교촌치킨-홍대점,바삭해요,5,2024-01-01",
                    "hg2,Pizza Hut Gangnam,치즈가 많아요,4,",
                    'hg3,"BBQ, 강남역점",양념이 맛있어요,5,',
                    "hg4,  ,빈 id,3,",
                ]
            ),
            {"hg1", "hg2", "hg3"},
            rejected=1,
            why="Hangul, spaces and commas in restaurant ids: safe partition keys",
        ),
        Case(
            "semicolon.csv",
            "review_id;restaurant_id;text;rating\nsc1;r_semi;세미콜론, 쉼표도 있어요;5\n".encode(),
            {"sc1"},
            why="semicolon-delimited export (sniffed)",
        ),
        Case(
            "pipe.csv",
            "review_id|restaurant_id|text\npp1|r_pipe|파이프 구분\npp2|r_pipe|두 번째\n".encode(),
            {"pp1", "pp2"},
            why="pipe-delimited export (sniffed)",
        ),
        Case(
            "utf16le.csv", _csv(["w1,r_u16,유니코드 16,5,"], encoding="utf-16-le"), {"w1"}, why="UTF-16 LE without BOM"
        ),
        Case("utf16be.csv", _csv(["w2,r_u16,빅 엔디언,4,"], encoding="utf-16-be"), {"w2"}, why="UTF-16 BE without BOM"),
        Case(
            "stray_nul.csv",
            _csv(
                [f"nul{i},r_nul,정상 리뷰 {i},5," for i in range(50)]
                + ["nulx,r_nul,널\x00바이트,4,", "nul\x00y,r_nul,id에 널,4,"]
            ),
            {f"nul{i}" for i in range(50)} | {"nulx"},
            rejected=1,
            why="a NUL byte is the row's problem, not the file's",
        ),
        Case(
            "reviews.csv.gz",
            gzip.compress(_csv(["gz1,r_gz,압축 파일,5,2024-01-01", "gz2,r_gz,두 번째,4,"])),
            {"gz1", "gz2"},
            why="gzip-compressed CSV",
        ),
        Case("bad.csv.gz", b"\x1f\x8b\x08\x00 not really gzip", fatal=True, rejected=1, why="corrupt gzip"),
        Case(
            "export.zip",
            _zip(
                {
                    "a.csv": _csv(["z1,r_zip,압축 첫 파일,5,"]),
                    "b.jsonl": _jsonl([{"review_id": "z2", "restaurant_id": "r_zip", "text": "둘째"}]),
                }
            ),
            {"z1", "z2"},
            why="a .zip of a CSV and a JSONL",
        ),
        Case(
            "odd.zip",
            _zip({"readme.md": b"# notes", "c.csv": _csv(["z3,r_zip2,정상,5,"])}),
            {"z3"},
            rejected=1,
            why="a member of an unsupported type is quarantined, the others are read",
        ),
    ]


def write_corpus(folder: Path) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    out = cases()
    for c in out:
        (folder / c.name).write_bytes(c.content)
    return out
