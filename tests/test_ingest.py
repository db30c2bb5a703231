"""Ingestion: the bad-input corpus, cleaning, encodings, deduplication, the sample generator."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from reviewlens_dagster.core.config import PARTITION_KEY_PATTERN
from reviewlens_dagster.core.ingest import clean_text, decode_bytes, read_review_file
from reviewlens_dagster.core.staging import scan_folder
from reviewlens_dagster.synthetic import generate, write_sample

from .bad_inputs import cases, write_corpus


def test_corpus_has_at_least_20_cases():
    assert len(cases()) >= 20


@pytest.mark.parametrize("case", cases(), ids=lambda c: c.name)
def test_each_bad_file(tmp_path, case):
    path = tmp_path / case.name
    path.write_bytes(case.content)
    result = read_review_file(path)  # must never raise
    ids = set(result.rows["review_id"])
    # duplicates are resolved across the folder, not per file
    if case.name != "duplicates.jsonl":
        assert ids == case.valid_ids, case.why
        assert len(result.errors) == case.rejected, [r.reason for r in result.errors]
    assert len(result.warnings) == case.warnings, [r.reason for r in result.warnings]
    assert bool(result.fatal) == case.fatal
    for rej in result.rejections:
        assert rej.reason and rej.source_file.split(":")[0] == case.name
        assert len(rej.raw) <= 600
    # every partition key is safe for SQL literals and paths, whatever the source wrote
    assert result.rows["restaurant_id"].map(lambda k: PARTITION_KEY_PATTERN.fullmatch(k) is not None).all()


def test_corpus_folder_scan_loses_nothing(tmp_path):
    corpus = write_corpus(tmp_path / "incoming")
    scan = scan_folder(tmp_path / "incoming")
    expected_ids = set().union(*(c.valid_ids for c in corpus))
    assert set(scan.reviews["review_id"]) == expected_ids
    errors = scan.rejected[scan.rejected["severity"] == "rejected"]
    assert len(errors) == sum(c.rejected for c in corpus)
    assert (scan.rejected["severity"] == "warning").sum() == sum(c.warnings for c in corpus)
    assert scan.rejected["reason"].notna().all() and (scan.rejected["reason"].str.len() > 0).all()
    # every quarantined row names its file (or archive member) and row
    assert scan.rejected["source_file"].str.split(":").str[0].isin([c.name for c in corpus]).all()
    whole_files = set(scan.rejected.loc[scan.rejected["source_row"] == 0, "source_file"])
    assert whole_files == {c.name for c in corpus if c.fatal} | {"odd.zip:readme.md"}
    # no silent loss: every data row is a review, a rejected row, or a superseded duplicate
    assert scan.report.rows_read == len(scan.reviews) + int((errors["source_row"] > 0).sum()) - int(
        errors["reason"].str.contains("malformed CSV|expected .* fields|invalid JSON|JSON line").sum()
    )
    # the newest duplicate wins
    d1 = scan.reviews.set_index("review_id").loc["d1"]
    assert d1["text"] == "최신 버전"
    dup_reasons = scan.rejected[scan.rejected["review_id"] == "d1"]["reason"]
    assert len(dup_reasons) == 2 and dup_reasons.str.contains("superseded").all()


def test_cleaning_keeps_emoji_and_strips_html():
    assert clean_text("<p>맛있어요&nbsp;<b>최고</b></p>  😊\r\n") == "맛있어요 최고 😊"
    assert clean_text("a\x00b\tc") == "a b c"


def test_encodings_detected():
    text = "리뷰,맛있어요"
    assert decode_bytes(text.encode("cp949")) == (text, "cp949")
    assert decode_bytes(text.encode("utf-8-sig"))[1] == "utf-8-sig"
    with pytest.raises(ValueError, match="binary"):
        decode_bytes(b"\x00\x01\x02junk")


def test_values_are_typed(tmp_path):
    write_corpus(tmp_path)
    scan = scan_folder(tmp_path)
    df = scan.reviews
    assert df["rating"].dtype == "float64"
    assert str(df["created_at"].dtype).startswith("datetime64")
    assert df.loc[df.review_id == "dt3", "created_at"].iloc[0] == pd.Timestamp("2024-05-06 01:00:00")
    assert df.loc[df.review_id == "101", "helpful_count"].iloc[0] == 3
    assert df.loc[df.review_id == "t1", "text"].iloc[0] == "정말 맛있어요 & 친절"
    assert df.loc[df.review_id == "l2", "text"].iloc[0] == "여러 줄 리뷰"


def test_scan_is_deterministic(tmp_path):
    write_corpus(tmp_path)
    a, b = scan_folder(tmp_path), scan_folder(tmp_path)
    pd.testing.assert_frame_equal(a.reviews, b.reviews)
    pd.testing.assert_frame_equal(a.rejected, b.rejected)


def test_sample_generator_is_deterministic_and_realistic(tmp_path):
    reviews, truth = generate(seed=7)
    again, _ = generate(seed=7)
    assert reviews == again
    per = pd.DataFrame(reviews).groupby("restaurant_id").size()
    # 24-150 drawn per restaurant, plus the complaint-only reviews that realize a planted complaint
    # (up to 10 % more) and the planted shift's 14
    assert len(per) >= 30 and per.min() >= 20 and per.max() <= 180
    assert per.to_dict() == {rid: r["n_reviews"] for rid, r in truth["restaurants"].items()}
    df = pd.DataFrame(reviews)
    assert df["category"].nunique() >= 4 and df["area"].nunique() >= 3
    # ratings follow the text: positive reviews rate higher than negative ones
    sent = df["review_id"].map(lambda r: truth["reviews"][r]["sentiment"])
    assert df[sent == "positive"]["rating"].mean() > 4.0 > 2.0 > df[sent == "negative"]["rating"].mean()
    assert set(sent) == {"positive", "negative", "neutral"}
    assert df["text"].str.contains("[A-Za-z]{4,}", regex=True).sum() >= 5  # a few English reviews
    assert df["text"].str.len().max() > 300  # a few long ones
    assert df["text"].str.contains("😊|👍|😞").any()
    for r in truth["restaurants"].values():
        assert r["strengths"] and r["weaknesses"] and not set(r["strengths"]) & set(r["weaknesses"])
    counts = write_sample(tmp_path)
    scan = scan_folder(tmp_path, files=sorted(tmp_path.glob("reviews_*")))
    assert len(scan.reviews) == sum(counts.values()) == len(reviews)
    assert scan.rejected.empty
    assert json.loads((tmp_path / "ground_truth.json").read_text())["seed"] == 7


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("4점", 4.0),
        ("4.5 점", 4.5),
        ("4,5", 4.5),
        ("★★★★☆", 4.0),
        ("★☆☆☆☆", 1.0),
        ("4/5", 4.0),
        ("8/10", 4.0),
        ("80/100", 4.0),
        (3, 3.0),
    ],
)
def test_korean_rating_notations(raw, expected):
    from reviewlens_dagster.core.ingest import parse_rating

    assert parse_rating(raw) == expected


@pytest.mark.parametrize("raw", ["abc", "별 네 개", True, "4/7", "-1"])
def test_rating_notations_that_stay_invalid(raw):
    from reviewlens_dagster.core.ingest import parse_rating

    with pytest.raises(ValueError):
        parse_rating(raw)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("2021년 7월 3일", "2021-07-03"),
        ("2021년7월3일 14:05", "2021-07-03 14:05"),
        ("2021.07.03", "2021-07-03"),
        ("21.07.03.", "2021-07-03"),
        ("2024-05-06T10:00:00+09:00", "2024-05-06T10:00:00+09:00"),
        ("3일 전", "3일 전"),
    ],
)
def test_korean_date_notations(raw, expected):
    from reviewlens_dagster.core.ingest import normalize_date

    assert normalize_date(raw) == expected


def test_relative_dates_count_back_from_the_file_time(tmp_path):
    import os

    from reviewlens_dagster.core.ingest import normalize_date, read_review_file

    as_of = pd.Timestamp("2026-11-26 10:30", tz="UTC")
    assert normalize_date("3일 전", as_of) == "2026-11-23T10:30:00+00:00"
    assert normalize_date("2시간 전", as_of) == "2026-11-26T08:30:00+00:00"
    assert normalize_date("어제", as_of) == "2026-11-25T00:00:00+00:00"
    assert normalize_date("3일 전") == "3일 전"  # no reference time: left as it is (then NULL with a warning)
    # the forms a real delivery-app export carries besides "N일 전" (a month is 30 days, a year 365)
    assert normalize_date("일주일 전", as_of) == "2026-11-19T00:00:00+00:00"
    assert normalize_date("2주 전", as_of) == "2026-11-12T10:30:00+00:00"
    assert normalize_date("한 달 전", as_of) == normalize_date("1달 전", as_of) == "2026-10-27T10:30:00+00:00"
    assert normalize_date("두 달 전", as_of) == "2026-09-27T10:30:00+00:00"
    assert normalize_date("작년", as_of) == "2025-11-26T00:00:00+00:00"
    assert normalize_date("3 days ago", as_of) == "2026-11-23T10:30:00+00:00"
    assert normalize_date("a month ago", as_of) == "2026-10-27T10:30:00+00:00"
    assert normalize_date("한참 전", as_of) == "한참 전"  # not a date: NULL with a warning downstream
    f = tmp_path / "app.csv"
    f.write_text(
        "review_id,restaurant_id,text,created_at\nx1,r1,좋아요,3일 전\nx2,r1,좋아요,1개월 전\n", encoding="utf-8"
    )
    os.utime(f, (as_of.timestamp(), as_of.timestamp()))
    rows = dict(zip(*read_review_file(f).rows[["review_id", "created_at"]].T.values))
    assert rows == {"x1": pd.Timestamp("2026-11-23 10:30"), "x2": pd.Timestamp("2026-10-27 10:30")}


def test_column_cleaning_equals_clean_text():
    """clean_texts (pyarrow, the staging path) gives what clean_text gives, character for character."""
    import random

    import pyarrow as pa

    from reviewlens_dagster.core.ingest import clean_texts

    rnd = random.Random(3)
    alphabet = (
        list("가나다 맛있어요abc")
        + ["\u11a8", "\u302e", "\u212b", "\ufe0f", "  ", "Å", "ｒ", "\u0958"]
        + [
            "\t",
            "\n",
            "\r",
            "\x00",
            "\x1c",
            "\x1f",
            "\x7f",
            "\xa0",
            "\u3000",
            "\u2028",
            "\x85",
            "\u1100\u1161",
            "e\u0301",
            "😊",
            "<b>",
            "&amp;",
            "<",
            "</p>",
            "<BR/>",
            "<div class=x>",
            "<a href='y'>",
            "< b>",
            "&lt;",
            "&am",
            "p;",
            ">",
            "<!-- c -->",
        ]
    )
    values = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 12))) for _ in range(6000)] + [None, ""]
    got = clean_texts(pa.array(values, pa.string())).to_pylist()
    assert got == [None if v is None else clean_text(v) for v in values]


def test_fast_csv_reader_equals_the_exact_reader(tmp_path, monkeypatch):
    """Large well-formed CSVs go through pyarrow's reader; the result equals the line-by-line reader's."""
    import csv as _csv

    from reviewlens_dagster.core import ingest

    path = tmp_path / "big.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = _csv.writer(fh)
        w.writerow(["review_id", "restaurant_id", "text", "rating", "created_at", "helpful_count"])
        for i in range(3000):
            w.writerow(
                [
                    f"b{i}",
                    ["교촌치킨-홍대점", "Pizza Hut", "r1"][i % 3],
                    f'맛있어요, "정말" {i} <b>굿</b>',
                    ["5", "4점", "abc", ""][i % 4],
                    ["2024-01-02", "3일 전", "nope"][i % 3],
                    ["1", "-1", ""][i % 3],
                ]
            )
    fast = read_review_file(path)
    monkeypatch.setattr(ingest.csvread, "FAST_CSV_MIN_CHARS", 10**12)
    exact = read_review_file(path)
    pd.testing.assert_frame_equal(fast.rows, exact.rows)
    assert fast.rejections == exact.rejections and len(fast.warnings) > 1000
    # a quoted line break sends the file to the exact reader (its line numbers must be exact)
    monkeypatch.setattr(ingest.csvread, "FAST_CSV_MIN_CHARS", 0)
    path.write_text('review_id,restaurant_id,text\nq1,r1,"두 줄\n리뷰"\nq2,r1,\n', encoding="utf-8")
    res = read_review_file(path)
    assert list(res.rows["review_id"]) == ["q1"] and [r.source_row for r in res.errors] == [4]


def test_archives_are_size_capped(tmp_path, monkeypatch):
    import gzip
    import zipfile

    from reviewlens_dagster.core import ingest

    monkeypatch.setattr(ingest.decode, "MAX_FILE_BYTES", 10_000)
    body = ("review_id,restaurant_id,text\n" + "".join(f"z{i},r1,{'아' * 50}\n" for i in range(200))).encode()
    (tmp_path / "bomb.csv.gz").write_bytes(gzip.compress(body))
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.csv", body)
    for name in ("bomb.csv.gz", "bomb.zip"):
        res = read_review_file(tmp_path / name)
        assert res.fatal and ("exceeds" in res.fatal or "decompressed" in res.fatal), res.fatal
        assert res.rows.empty


def test_documented_source_mappings_validate():
    """docs/data.md's sources.yaml example and docs/sources.example.yaml load (keys cannot drift)."""
    import re
    from pathlib import Path

    import yaml

    from reviewlens_dagster.core.sources import SourcesFile, load_sources

    root = Path(__file__).resolve().parents[1]
    assert load_sources(root / "docs" / "sources.example.yaml").sources[0].name == "delivery-export"
    readme = (root / "docs" / "data.md").read_text(encoding="utf-8")
    crawl, scrape = re.findall(r"```yaml\n(sources:.*?)```", readme, flags=re.S)  # every example validates
    spec = SourcesFile.model_validate(yaml.safe_load(crawl)).sources[0]
    assert spec.review_id_from == ["Restaurant", "UserID", "Menu", "Review"]
    english = SourcesFile.model_validate(yaml.safe_load(scrape)).sources[0]
    assert english.name == "yelp" and english.review_id_from[0] == "business_name"


def test_a_file_that_vanishes_mid_staging_is_neither_lost_nor_fatal(tmp_path, monkeypatch):
    """Hashing fails for a file (removed or locked between listing and reading): the run goes on, the
    file's staged reviews stay, and the next run looks at it again."""
    import duckdb

    from reviewlens_dagster.core import staged_files, staging

    (tmp_path / "a.csv").write_text("review_id,restaurant_id,text\na1,ra,좋아요\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("review_id,restaurant_id,text\nb1,rb,맛있어요\n", encoding="utf-8")
    store = staging.StagingStore(duckdb.connect())
    store.stage(tmp_path)
    (tmp_path / "a.csv").write_text("review_id,restaurant_id,text\na1,ra,정말 좋아요\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("review_id,restaurant_id,text\nb1,rb,아주 맛있어요\n", encoding="utf-8")
    real = staged_files.file_sha256
    monkeypatch.setattr(
        staged_files, "file_sha256", lambda p: (_ for _ in ()).throw(OSError("gone")) if p.name == "a.csv" else real(p)
    )
    report = store.stage(tmp_path, on_deleted="drop")
    assert report.parsed == ["b.csv"] and report.deleted == []
    assert dict(zip(*store.all_reviews()[["review_id", "text"]].T.values)) == {"a1": "좋아요", "b1": "아주 맛있어요"}
    monkeypatch.setattr(staged_files, "file_sha256", real)
    assert store.stage(tmp_path).parsed == ["a.csv"]


def test_batched_small_csvs_equal_file_by_file_reading(tmp_path, sample_dir, monkeypatch):
    """read_many (small CSVs with one header parsed together) gives what read_parts gives file by file:
    the corpus, the sample and generated files, some of which send their group back to one-by-one."""
    import os as _os

    from reviewlens_dagster.core.ingest import read_many, read_parts, validate_parts

    corpus = write_corpus(tmp_path)
    for f in sample_dir.glob("reviews_*"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    header = "review_id,restaurant_id,text,rating,created_at\n"
    for i in range(30):
        rows = [
            f"g{i}-{j},교촌-{i % 4},리뷰 {j} <b>굿</b>,{['5', '4점', 'x'][j % 3]},{['3일 전', '2024-01-0' + str(j % 9 + 1)][j % 2]}"
            for j in range(12)
        ]
        (tmp_path / f"g{i:02d}.csv").write_text(header + "\n".join(rows) + ("\n" if i % 2 else ""), encoding="utf-8")
        _os.utime(tmp_path / f"g{i:02d}.csv", (1.7e9 + i, 1.7e9 + i))
    (tmp_path / "g_bad.csv").write_text(header + 'b1,r1,"두 줄\n리뷰",5,\n', encoding="utf-8")  # a quoted line break
    (tmp_path / "h1.csv").write_text("review_id;restaurant_id;text\nh1;r9;세미콜론\n", encoding="utf-8")
    (tmp_path / "h2.csv").write_text("review_id;restaurant_id;text\nh2;r9;또 세미콜론\nh3;r9\n", encoding="utf-8")
    items = [(p, p.name, None) for p in sorted(tmp_path.iterdir())]
    from reviewlens_dagster.core import ingest

    calls, real = [], ingest.csvread._arrow_csv
    monkeypatch.setattr(ingest.csvread, "_arrow_csv", lambda *a, **k: calls.append(1) or real(*a, **k))
    one_by_one = [read_parts(*item) for item in items]
    alone = len(calls)
    batched = read_many(items)
    # the 30 generated files go through a few calls (halved around the file with a line break in a value)
    assert len(calls) - alone <= alone - 15, (alone, len(calls) - alone)
    for a, b in zip(one_by_one, batched):
        assert [(p.source_file, p.fatal, p.source_rows, p.rejections) for p in a] == [
            (p.source_file, p.fatal, p.source_rows, p.rejections) for p in b
        ]
    va = validate_parts([p for g in one_by_one for p in g])
    vb = validate_parts([p for g in batched for p in g])
    assert va.reviews.equals(vb.reviews) and va.rejections.equals(vb.rejections)
    assert len(va.reviews) > 2500 and len(corpus) > 30  # the sample (2,385) plus the generated files
