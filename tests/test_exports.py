"""Delivery-app exports: menus, per-aspect sub-ratings, rating strings as scrapers write them, workbooks."""

import json
import re

import duckdb
import pytest

from reviewlens_dagster.core import staging
from reviewlens_dagster.core.ingest import parse_rating
from reviewlens_dagster.core.ingest.menu import menu_items
from reviewlens_dagster.core.ingest.readers import read_review_file
from reviewlens_dagster.core.sources import SourcesFileError, load_sources
from tests.exports import ROWS, SOURCES, write_csv, write_xlsx


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("양념치킨/1,콜라 1.25L/1", ["양념치킨", "콜라"]),
        ("후라이드(순살, 뼈 변경)/1,치즈볼 5개/2", ["후라이드", "치즈볼"]),
        ("반반치킨（양념(순한맛), 후라이드）/1, 떡볶이 2인분/1", ["반반치킨", "떡볶이"]),
        ("김치찌개(공기밥 추가,콜라/1,계란말이/1", ["김치찌개", "계란말이"]),  # an unclosed option
        ("[인기]마라탕(1단계/1,꿔바로우(소)/1", ["마라탕", "꿔바로우"]),
        ("치킨 x2/1,콜라/1,콜라/2", ["치킨", "콜라"]),  # each dish once
        ("【세트】 족발(대) 【막국수 추가】/1", ["족발"]),
        ("(추가)/1", []),
        ("", []),
    ],
)
def test_menu_cells_give_the_dishes(cell, expected):
    assert menu_items(cell) == expected


def test_menu_format_is_configurable():
    assert menu_items("짜장면 x 1 | 탕수육(소) x 1", item_separator="|", quantity_separator="x") == ["짜장면", "탕수육"]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("5 star rating", 5.0),
        ("1-star rating", 1.0),
        ("4.5 out of 5", 4.5),
        ("Rated 4 of 5", 4.0),
        ("Rating: 4.5/5", 4.5),
        ("4 stars", 4.0),
        ("별점 4점", 4.0),
        ("평점: 3", 3.0),
        ("별점 ★★★☆☆", 3.0),
        ("8 out of 10", 4.0),
    ],
)
def test_rating_strings_as_exports_write_them(raw, expected):
    assert parse_rating(raw) == expected


@pytest.mark.parametrize("raw", ["five stars", "4 out of 7", "rating", "great food"])
def test_strings_that_are_not_ratings(raw):
    with pytest.raises(ValueError):
        parse_rating(raw)


def test_unknown_aspect_in_a_sub_rating_mapping_is_named(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES.replace("맛: 맛,", "taste: 맛,"), encoding="utf-8")
    with pytest.raises(SourcesFileError, match="unknown aspect"):
        load_sources(path)


def _staged(tmp_path, writer, name):
    incoming = tmp_path / name
    writer(incoming / "baemin" / f"export.{'csv' if writer is write_csv else 'xlsx'}")
    (tmp_path / f"{name}.yaml").write_text(SOURCES, encoding="utf-8")
    store = staging.StagingStore(duckdb.connect())
    report = store.stage(incoming, load_sources(tmp_path / f"{name}.yaml"))
    return store, report


def test_a_delivery_export_as_csv_and_as_a_workbook_stages_the_same(tmp_path):
    """One sources.yaml entry reads the CSV and the same rows as .xlsx: ids, ratings ("1 star rating"
    included), dates, dishes and sub-ratings are the same."""
    csv_store, _ = _staged(tmp_path, write_csv, "csv")
    xlsx_store, _ = _staged(tmp_path, write_xlsx, "xlsx")
    cols = ["review_id", "restaurant_id", "text", "rating", "created_at", "menu_items", "aspect_ratings"]
    a, b = csv_store.all_reviews()[cols], xlsx_store.all_reviews()[cols]
    assert len(a) == len(ROWS) and a.equals(b)
    by_text = a.set_index("text")
    first = by_text.loc["배달이 너무 늦게 와서 다 식었어요"]
    assert json.loads(first["menu_items"]) == ["후라이드"]
    assert json.loads(first["aspect_ratings"]) == {"맛": 4.0, "양": 4.0, "배달": 1.0}
    assert by_text.loc["별로예요", "rating"] == 1.0
    assert json.loads(by_text.loc["양념치킨이 너무 짜요. 양은 많아요", "menu_items"]) == ["양념치킨", "치즈볼"]
    assert a["created_at"].notna().all()  # Korean and relative dates (as_of) read
    assert csv_store.rejected().empty


def test_workbook_header_below_a_title_row_and_sheet_by_name(tmp_path):
    path = write_xlsx(tmp_path / "a.xlsx", title_rows=2)
    spec = load_sources(_yaml(tmp_path, SOURCES.replace("baemin/*", "*.xlsx") + "    sheet: 리뷰\n")).sources[0]
    res = read_review_file(path, spec=spec)
    assert res.fatal is None and len(res.rows) == len(ROWS)
    assert res.rows.sort_values("source_row")["source_row"].iloc[0] == 4  # Excel's row number under the header


def _yaml(tmp_path, text):
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    return p


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"PK\x03\x04" + b"\x00garbage" * 20, "unreadable workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le"), "encrypted"),
    ],
)
def test_a_broken_or_encrypted_workbook_is_quarantined_with_its_reason(tmp_path, content, reason):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "owner.xlsx").write_bytes(content)
    (tmp_path / "in" / "ok.csv").write_text("review_id,restaurant_id,text\na1,ra,좋아요\n", encoding="utf-8")
    store = staging.StagingStore(duckdb.connect())
    store.stage(tmp_path / "in")
    rej = store.rejected()
    assert len(store.all_reviews()) == 1  # the other file's review is kept
    (row,) = rej[rej["source_file"] == "owner.xlsx"].itertuples()
    assert row.source_row == 0 and reason in row.reason


def test_a_missing_sheet_and_an_empty_sheet_are_named(tmp_path):
    import xlsxwriter

    path = write_xlsx(tmp_path / "a.xlsx")
    spec = load_sources(_yaml(tmp_path, SOURCES.replace("baemin/*", "*.xlsx") + "    sheet: 주문\n")).sources[0]
    assert "sheet '주문' does not exist" in read_review_file(path, spec=spec).fatal
    wb = xlsxwriter.Workbook(str(tmp_path / "empty.xlsx"))
    wb.add_worksheet("Sheet1")
    wb.close()
    assert read_review_file(tmp_path / "empty.xlsx").fatal


def test_unreadable_sub_ratings_and_empty_menus_are_warnings_not_losses(tmp_path):
    rows = [ROWS[0][:4] + ["x", "7", "", ROWS[0][7], "(추가)/1"]]
    csv_path = write_csv(tmp_path / "in" / "baemin" / "e.csv", rows)
    spec = load_sources(_yaml(tmp_path, SOURCES)).sources[0]
    res = read_review_file(csv_path, spec=spec)
    assert len(res.rows) == 1 and res.rows["aspect_ratings"].isna().all() and res.rows["menu_items"].isna().all()
    reasons = sorted(w.reason for w in res.warnings)
    assert any("맛 rating 'x' is not a rating" in r for r in reasons)
    assert any("양 rating '7' is out of range" in r for r in reasons)
    assert any("a menu with no dish" in r for r in reasons)


def test_staging_tables_of_an_older_release_gain_the_export_columns(tmp_path):
    """A staging table created before menus and sub-ratings existed keeps its rows and gains the columns;
    the content hash of a review without them is unchanged (no re-embedding after the upgrade)."""
    con = duckdb.connect()
    store = staging.StagingStore(con)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("review_id,restaurant_id,text\na1,ra,좋아요\n", encoding="utf-8")
    store.stage(tmp_path / "in")
    before = store.all_reviews()["content_hash"].tolist()
    for table in ("staged_rows", "staged_reviews"):
        con.execute(f"alter table {store.s}.{table} drop column menu_items")
        con.execute(f"alter table {store.s}.{table} drop column aspect_ratings")
    store.ensure_tables()
    assert store.all_reviews()["content_hash"].tolist() == before
    (tmp_path / "in" / "b.csv").write_text("review_id,restaurant_id,text,menu\nb1,rb,굿,짜장면/1\n", encoding="utf-8")
    store.stage(tmp_path / "in")
    got = store.all_reviews().set_index("review_id")
    assert got.loc["a1", "content_hash"] == before[0] and json.loads(got.loc["b1", "menu_items"]) == ["짜장면"]


def test_a_delivery_export_through_the_graph_gives_reasons_dishes_and_sub_ratings(workdir, instance):
    """A delivery-app workbook with a menu column and three per-aspect star columns, through one
    sources.yaml entry and the whole counting layer (no LLM): the reasons, the trailing dish, the
    sub-ratings beside the shares and their agreement check, and the report showing them."""
    import dagster as dg

    from reviewlens_dagster.definitions import build_defs
    from reviewlens_dagster.defs.automation import PIPELINE_JOB, range_tags
    from reviewlens_dagster.defs.partitions import LLM_OUTPUTS
    from tests.conftest import make_settings, read_table, stage
    from tests.exports import planted_rows

    settings = make_settings(workdir)
    write_xlsx(settings.incoming_dir / "baemin" / "owner.xlsx", ROWS + planted_rows())
    settings.sources_path.write_text(SOURCES, encoding="utf-8")
    defs = build_defs(settings)
    stage(defs, instance)
    keys = instance.get_dynamic_partitions("restaurants")
    graph = defs.resolve_asset_graph()
    counting = [
        k
        for k in graph.get_all_asset_keys()
        if graph.get(k).is_partitioned and k not in {dg.AssetKey(x) for x in LLM_OUTPUTS}
    ]
    result = defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
        instance=instance, tags=range_tags(keys), asset_selection=counting, raise_on_error=False
    )
    assert result.success
    shop = next(k for k in keys if "분식왕" in k)

    reasons = read_table(settings, "aspect_reasons")
    own = reasons[reasons["restaurant_id"] == shop].set_index(["aspect", "polarity", "reason"])
    assert own.loc[("맛", "negative", "짜다"), "count"] >= 10
    late, cold = own.loc[("배달", "negative", "늦다"), "count"], own.loc[("배달", "negative", "식다"), "count"]
    assert late > cold > 0  # planted 2/3 late, 1/3 cold
    row = own.loc[("맛", "negative", "짜다")]
    assert row["evidence"][row["evidence_start"] : row["evidence_end"]] in row["evidence"]
    assert "짜" in row["evidence"]

    dishes = read_table(settings, "dish_insights").set_index(["restaurant_id", "item"])
    assert dishes.loc[(shop, "떡볶이"), "position"] == "trails"
    assert (dishes.loc[shop, "position"] == "trails").sum() == 1  # no false alarm among the other items
    assert "콜라" in dishes.loc[shop].index  # sizes stripped: one item for every "콜라 1.25L"

    prev = read_table(settings, "aspect_prevalence").set_index(["restaurant_id", "aspect"])
    assert prev.loc[(shop, "배달"), "subrating_n"] > 0 and prev.loc[(shop, "맛"), "subrating_low_share"] > 0.1
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    agreement = checks["lexicon_agrees_with_subratings"].metadata
    assert agreement["n"].value > 20

    page = (settings.reports_dir / f"{shop}.html").read_text(encoding="utf-8")
    assert 'id="reasons-chart"><svg' in page and 'id="dishes"' in page and "떡볶이" in page
    fix = page.split('id="fix-first">')[1].split("</div>\n<h2>")[0]
    assert "짜다" in fix and "<mark>" in fix
    index = (settings.reports_dir / "index.html").read_text(encoding="utf-8")
    assert "맛: 짜다" in index


def test_reasons_merge_synonyms_and_an_llm_decided_mention_takes_its_clause_adjective():
    import pandas as pd

    from reviewlens_dagster.core.analysis.extract import lexicon_mentions, resolve_polarities
    from reviewlens_dagster.core.analysis.reasons import aspect_reasons

    texts = [
        "배달이 너무 느려요",
        "배달이 한참 늦었어요",
        "배달 와서 다 식었어요",
        "배달이 빨라요",
        "배달은 좀 미지근했어요",
    ]
    rv = pd.DataFrame({"restaurant_id": "r", "review_id": [f"v{i}" for i in range(5)], "text": texts})
    lex, _ = lexicon_mentions(rv)
    assert lex.set_index("review_id").loc["v0", "reasons"] == ["느리다"]  # the cue's lemma, dictionary form
    llm = pd.DataFrame(
        [
            {
                "restaurant_id": "r",
                "review_id": "v4",
                "aspect": "배달",
                "llm_polarity": "negative",
                "model": "m",
                "prompt_version": "p",
            }
        ]
    )
    men = resolve_polarities(lex.assign(polarity=lex["polarity"].where(lex["review_id"] != "v4", None)), llm)
    got = aspect_reasons(rv, men).set_index(["polarity", "reason"])
    late = got.loc[("negative", "늦다")]
    assert late["count"] == 2 and late["variants"] == ["느리다", "늦다", "한참"]  # synonyms merged
    assert got.loc[("negative", "식다"), "count"] == 2  # 식다, and 미지근하다 from the clause the LLM decided
    assert got.loc[("negative", "늦다"), "share"] == pytest.approx(2 / 4)
    assert got.loc[("positive", "빠르다"), "count"] == 1


def test_a_reason_is_named_in_the_restaurants_language_and_its_name_reads_back():
    """Reasons are counted under one canonical lemma whichever language gave them ("slow" and 느리다
    are 늦다); an English restaurant reads them in English, and a summary that repeats the English
    name is checked against the same count."""
    from reviewlens_dagster.core.analysis.reasons import (
        ENGLISH_REASONS,
        SYNONYMS,
        canonical_reason,
        reason_label,
        reason_name,
    )

    assert set(ENGLISH_REASONS) == set(SYNONYMS)  # every canonical reason has an English name
    for reason, name in ENGLISH_REASONS.items():
        assert not re.search("[가-힣]", name) and canonical_reason(name) == reason
    assert canonical_reason("slow") == canonical_reason("느리다") == "늦다"
    assert reason_name("늦다", "en") == "slow" and reason_name("늦다", "ko") == "늦다"
    assert reason_name("50분 이상", "en") == "50+ minutes" and canonical_reason("50+ minutes") == "50분 이상"
    assert reason_name("overcooked", "en") == "overcooked"  # an English review's own word stays itself
    assert (
        reason_label("맛: 싱겁다 2", "en") == "taste: bland 2" and reason_label("맛: 싱겁다 2", "ko") == "맛: 싱겁다 2"
    )


def test_the_ui_reasons_table_names_an_english_restaurants_aspects_and_reasons_in_english():
    import pandas as pd

    from reviewlens_dagster.core.analysis.reasons import reasons_markdown

    rows = pd.DataFrame(
        {
            "restaurant_id": ["en", "ko"],
            "aspect": ["배달", "배달"],
            "polarity": ["negative", "negative"],
            "reason": ["늦다", "늦다"],
            "generic": [False, False],
            "count": [4, 7],
        }
    )
    md = reasons_markdown(rows, ["en", "ko"], lang_by={"en": "en", "ko": "ko"})
    english, korean = md.split("**ko**")
    assert "| delivery | - | slow 4 |" in english and not re.search("[가-힣]", english)
    assert "| 배달 | - | 늦다 7 |" in korean
