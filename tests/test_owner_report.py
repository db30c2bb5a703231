"""restaurant_report's pages (core): content, escaping, evidence links, the index."""

import json
import re

import pandas as pd

from reviewlens_dagster.core.analysis.extract import lexicon_mentions, resolve_polarities
from reviewlens_dagster.core.analysis.prevalence import aspect_prevalence, highlights
from reviewlens_dagster.core.analysis.trends import detect_changes, monthly_trends
from reviewlens_dagster.core.owner_report import ReportInputs, render_page, write_pages


def _inputs(lang_texts=None) -> ReportInputs:
    texts = lang_texts or (["배달이 빨라요 맛있어요"] * 12 + ["배달이 너무 늦어요 <script>alert(1)</script>"] * 3)
    rev = pd.DataFrame(
        {
            "restaurant_id": "r",
            "review_id": [f"v{i}" for i in range(len(texts))],
            "text": texts,
            "rating": [5.0] * 12 + [1.0] * (len(texts) - 12),
            "created_at": [pd.Timestamp(f"2026-0{1 + i % 5}-10") for i in range(len(texts) - 1)] + [pd.NaT],
            "restaurant_name": "바삭치킨 강남점",
        }
    )
    men = resolve_polarities(lexicon_mentions(rev)[0])
    prev = aspect_prevalence(men, {"r": len(rev)})
    hl = highlights(prev, men)
    trends, _ = monthly_trends(rev, men)
    summaries = pd.DataFrame(
        [{"restaurant_id": "r", "kind": "overall", "text": "배달이 빠르다는 평이 많습니다.", "source": "template"}]
    )
    comps = pd.DataFrame(
        [
            {
                "aspect": "배달",
                "positive_share": 0.8,
                "group_median": 0.6,
                "percentile": 0.9,
                "group_definition": "category=치킨",
                "group_size": 5,
            }
        ]
    )
    return ReportInputs(
        "r", "바삭치킨 강남점", "ko", rev, prev, hl, comps, trends, detect_changes(rev, men), summaries, 0, None
    )


def test_a_page_has_the_figures_evidence_links_charts_and_no_injected_markup(tmp_path):
    html, headline, md = render_page(_inputs())
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html  # review text is escaped
    assert 'lang="ko"' in html and "리뷰 15" in html and "장점" in html and "일부 손님의 불만" in html
    assert "<svg" in html and "http://" not in html.split("<svg", 1)[0]  # nothing loads from the network
    links = set(re.findall(r'href="#review-([^"]+)"', html))
    anchors = set(re.findall(r'id="review-([^"]+)"', html))
    assert links and links <= anchors  # every evidence link lands on a listed review
    assert "리뷰 15개를 세어" in html and "언어 모델 미사용" in html  # who wrote what, on how many reviews
    assert "날짜가 없는 리뷰 1개" in html  # undated reviews are said, not placed in a month
    assert headline["strengths"] >= 1 and headline["reviews"] == 15 and md.startswith("## 바삭치킨 강남점")
    pages = write_pages(tmp_path, {"r": (html, headline)})
    assert pages == [tmp_path / "r.html"] and json.loads((tmp_path / "r.json").read_text())["name"] == "바삭치킨 강남점"
    index = (tmp_path / "index.html").read_text()
    assert 'href="r.html"' in index and "<script>" in index and "http" not in index


def test_an_english_restaurant_gets_an_english_page():
    inp = _inputs(["Great food, fast delivery"] * 12 + ["Slow delivery"] * 3)
    inp.lang = "en"
    html, _, _ = render_page(inp)
    assert 'lang="en"' in html and "Strengths" in html and "reviews" in html


def test_an_english_restaurant_names_no_aspect_in_korean():
    """Issue 29: the English page (prevalence texts, comparison table, charts, what to fix first), the
    template summary and the CLI block of an English restaurant name every aspect in English."""
    from reviewlens_dagster.core.analysis.reasons import aspect_reasons
    from reviewlens_dagster.core.analysis.summarize import template_parts
    from reviewlens_dagster.core.aspects import ASPECTS

    texts = ["Great food, fast delivery"] * 12 + ["Slow delivery, the food was cold"] * 3
    rev = pd.DataFrame(
        {
            "restaurant_id": "e",
            "review_id": [f"e{i}" for i in range(len(texts))],
            "text": texts,
            "rating": [5.0] * 12 + [1.0] * 3,
            "created_at": [pd.Timestamp(f"2026-0{1 + i % 5}-10") for i in range(len(texts))],
            "restaurant_name": "Dumpling House",
        }
    )
    men = resolve_polarities(lexicon_mentions(rev)[0])
    prev = aspect_prevalence(men, {"e": len(rev)})
    hl = highlights(prev, men, lang_by_restaurant={"e": "en"})
    trends, _ = monthly_trends(rev, men)
    comps = pd.DataFrame(
        [
            {
                "aspect": "배달",
                "positive_share": 0.1,
                "group_median": 0.6,
                "percentile": 0.1,
                "group_definition": "all",
                "group_size": 8,
            }
        ]
    )
    summaries = pd.DataFrame([{"restaurant_id": "e", "kind": "overall", "text": "x", "source": "template"}])
    inp = ReportInputs(
        "e",
        "Dumpling House",
        "en",
        rev,
        prev,
        hl,
        comps,
        trends,
        detect_changes(rev, men),
        summaries,
        0,
        None,
        reasons=aspect_reasons(rev, men),
    )
    html, headline, md = render_page(inp)
    visible = re.sub(r"<[^>]+>", " ", html)
    from reviewlens_dagster.core.analysis.facts import facts_from_frame
    from reviewlens_dagster.core.analysis.summarize import restaurant_facts

    no_dishes = pd.DataFrame(columns=["restaurant_id", "position"])
    sheet = facts_from_frame(restaurant_facts(rev, hl, aspect_reasons(rev, men), no_dishes))
    assert any(f.reasons for f in sheet)  # the English reading's reasons ("fast", "slow", "cold")
    parts = template_parts("e", hl, len(rev), "en", sheet)
    for text in (visible, md, *[t for t, _ in parts.values()], *hl["prevalence"]):
        found = [a for a in ASPECTS if re.search(rf"(?<![가-힣]){a}(?![가-힣])", text)]
        assert not found, (found, text[:200])
        # nor a Korean reason: the reasons are counted under Korean lemmas (늦다, 식다) and named in English
        assert not re.search("[가-힣]", text), re.findall(".{0,30}[가-힣]+.{0,30}", text)[:3]
    assert "delivery" in visible and "taste" in visible
    assert 'id="languages"' not in html  # one language: nothing to say
    mixed = ReportInputs(
        **{
            **inp.__dict__,
            "reviews": pd.concat([rev, rev.head(2).assign(text="배달이 빨라요", review_id=["k1", "k2"])]),
        }
    )
    html, _, md = render_page(mixed)
    assert "Review languages: 15 English, 2 Korean" in html and "15 English, 2 Korean" in md
