"""`restaurant_report`: one self-contained HTML page per restaurant that an owner reads on a phone,
and an index of every restaurant (no Dagster here).

What a page shows, in the reviews' language (Korean for Korean reviews): the review count and
rating; strengths, weaknesses and complaints, each with its prevalence, a quote and links to its
evidence reviews (listed at the bottom of the page, each with an anchor); the aspect shares
against the comparison group; a trend chart per aspect (the share of reviews that complain about
it per month, with its Wilson interval, and the detected change marked); the overall summary, with
a line saying which parts were counted and which were written by a model, on how many reviews.

Self-contained: the charts are inline SVG (matplotlib, text kept as text so the page's declared
Korean fonts render it), the style is inline, nothing loads from the network. Review text is
untrusted: every value goes through Jinja2's autoescaping.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from html import escape
from pathlib import Path

import pandas as pd
from jinja2 import Environment, select_autoescape

from .analysis.dishes import DishRule
from .analysis.prompts import language_mix, restaurant_language
from .analysis.reasons import reason_label, reason_name, top_reasons
from .analysis.trends import wilson
from .aspects import aspect_name
from .report import percent_text

FONT_STACK = '"Noto Sans KR", "NanumGothic", "Nanum Gothic", "Apple SD Gothic Neo", "Malgun Gothic", sans-serif'
WORDS = {
    "ko": {
        "reviews": "리뷰",
        "rating": "평균 별점",
        "strengths": "장점",
        "weaknesses": "단점",
        "complaints": "일부 손님의 불만",
        "none": "없음",
        "group": "비교 그룹 대비 긍정 비율",
        "aspect": "측면",
        "own": "이 가게",
        "group_median": "그룹 중앙값",
        "percentile": "그룹 내 위치",
        "trends": "월별 불만 비율 추이",
        "changes": "최근 변화",
        "no_change": "최근 3개월에 뚜렷한 변화는 없습니다.",
        "summary": "요약",
        "languages": "리뷰 언어: 한국어 {ko:,}개, 영어 {en:,}개 (각 리뷰를 그 언어로 읽었습니다)",
        "evidence": "근거 리뷰",
        "counted": "장점·단점·불만과 비율은 리뷰 {n}개를 세어 구했습니다 ({how}).",
        "written_llm": "요약 문장은 언어 모델({model})이 이 수치와 리뷰 {k}개의 표본을 보고 썼습니다.",
        "written_template": "요약 문장도 수치로 만든 문장입니다 (언어 모델 미사용).",
        "undated": "날짜가 없는 리뷰 {n}개는 추이에서 제외했습니다.",
        "index_title": "가게별 리뷰 분석",
        "back": "전체 목록",
        "rose": "증가",
        "fell": "감소",
        "months": "개월",
        "fix_first": "먼저 살펴볼 점",
        "fix_reason": "{aspect} 불만 이유 '{reason}': 리뷰 {count}개 (이 측면 부정 언급 {mentions}개 중 {share})",
        "fix_dish": "{item}: 맛·양 불만 {share} (리뷰 {n}개), 다른 메뉴는 {others} (리뷰 {others_n}개), q={q}",
        "fix_group": "{aspect}: 긍정 비율 {own}, 비교 그룹 중앙값 {median}, 그룹 내 하위 {pct} (가게 {size}곳)",
        "nothing_to_fix": "두 번 이상 나온 구체적인 불만 이유, 다른 메뉴보다 뒤처지는 메뉴, 그룹 하위 25% 측면이 없습니다.",
        "reasons": "이유별 언급 수",
        "reasons_note": "초록: 칭찬한 이유, 빨강: 불만 이유 (리뷰 수). 같은 뜻의 표현은 합쳐 셉니다.",
        "dishes": "메뉴별",
        "dish_headers": ["메뉴", "리뷰", "평균 별점", "맛 불만", "양 불만", "주요 불만 이유", "다른 메뉴 대비"],
        "trails": "불만 많음",
        "leads": "불만 적음",
        "in_line": "비슷함",
        "no_dishes": "메뉴 정보가 없거나 리뷰 {n}개 이상인 메뉴가 없습니다.",
        "top_strength": "대표 장점",
        "top_complaint": "대표 불만",
    },
    "en": {
        "reviews": "reviews",
        "rating": "average rating",
        "strengths": "Strengths",
        "weaknesses": "Weaknesses",
        "complaints": "Complaints of a minority",
        "none": "none",
        "group": "Positive share against the comparison group",
        "aspect": "aspect",
        "own": "this restaurant",
        "group_median": "group median",
        "percentile": "rank in group",
        "trends": "Share of reviews complaining, per month",
        "changes": "Recent changes",
        "no_change": "No clear change in the last 3 months.",
        "summary": "Summary",
        "languages": "Review languages: {en:,} English, {ko:,} Korean (each review read in its own language)",
        "evidence": "Evidence reviews",
        "counted": "Strengths, weaknesses, complaints and their shares were counted over {n} reviews ({how}).",
        "written_llm": "The summary sentences were written by a language model ({model}) from these figures and a sample "
        "of {k} reviews.",
        "written_template": "The summary sentences are built from the figures too (no language model).",
        "undated": "{n} reviews without a date are left out of the trends.",
        "index_title": "Review analysis per restaurant",
        "back": "all restaurants",
        "rose": "rose",
        "fell": "fell",
        "months": "months",
        "fix_first": "What to fix first",
        "fix_reason": "{aspect} complaint '{reason}': {count} reviews ({share} of the {mentions} negative mentions)",
        "fix_dish": "{item}: food complaints in {share} of its {n} reviews, the other items {others} of {others_n}, q={q}",
        "fix_group": "{aspect}: {own} positive, comparison group median {median}, bottom {pct} of {size} restaurants",
        "nothing_to_fix": "No specific complaint reason given twice, no item trailing the others, no aspect in the "
        "group's bottom quarter.",
        "reasons": "Reasons per aspect",
        "reasons_note": "Green: reasons for praise, red: reasons for complaints (reviews). Words that mean the same "
        "are counted together.",
        "dishes": "Per dish",
        "dish_headers": [
            "item",
            "reviews",
            "average rating",
            "taste complaints",
            "quantity complaints",
            "top reasons",
            "against other items",
        ],
        "trails": "more complaints",
        "leads": "fewer complaints",
        "in_line": "in line",
        "no_dishes": "No ordered items, or no item with at least {n} reviews.",
        "top_strength": "top strength",
        "top_complaint": "top complaint",
    },
}

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))
_PAGE = _ENV.from_string(
    """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ name }}</title>
<style>
body { font-family: {{ fonts|safe }}; margin: 0 auto; max-width: 760px; padding: 12px; line-height: 1.5; color: #222; }
h1 { font-size: 1.4em; margin: 0.2em 0; } h2 { font-size: 1.1em; border-bottom: 1px solid #ddd; margin-top: 1.4em; }
.figures { color: #555; } .item { margin: 0.5em 0; } .quote { color: #555; font-style: italic; }
.ev a { font-size: 0.85em; margin-right: 0.4em; } table { border-collapse: collapse; width: 100%; font-size: 0.9em; }
td, th { border-bottom: 1px solid #eee; padding: 4px; text-align: left; } .chart svg { max-width: 100%; height: auto; }
.review { border-bottom: 1px solid #eee; padding: 6px 0; } .review:target { background: #fff3c4; }
.note { color: #666; font-size: 0.85em; } .rose { color: #b00020; font-weight: bold; } .fell { color: #1b5e20; }
.fix { background: #fff8f0; border-left: 3px solid #b00020; padding: 4px 8px; margin: 6px 0; } mark { background: #ffe08a; }
.trails { color: #b00020; font-weight: bold; } .leads { color: #1b5e20; }
</style></head><body>
<p><a href="index.html">← {{ w.back }}</a></p>
<h1>{{ name }}</h1>
<p class="figures" id="figures">{{ w.reviews }} {{ "{:,}".format(n_reviews) }}{% if rating %} · {{ w.rating }} {{ rating }}{% endif %}</p>
{% if languages %}<p class="note" id="languages">{{ languages }}</p>{% endif %}
<h2>{{ w.fix_first }}</h2>
<div id="fix-first">{% if not fix %}<p>{{ w.nothing_to_fix }}</p>{% endif %}
{% for f in fix %}<div class="fix">{{ f.text }}{% if f.evidence %}<div class="quote">“{{ f.evidence[0] }}<mark>{{ f.evidence[1] }}</mark>{{ f.evidence[2] }}”{% if f.review_id %} <a href="#review-{{ f.review_id }}">{{ w.evidence }}</a>{% endif %}</div>{% endif %}</div>{% endfor %}</div>
<h2>{{ w.summary }}</h2>
<p id="summary">{{ summary }}</p>
<p class="note" id="provenance">{{ provenance }}</p>
{% for title, items in sections %}
<h2>{{ title }}</h2>
{% if not items %}<p>{{ w.none }}</p>{% endif %}
{% for it in items %}<div class="item"><div>{{ it.prevalence }}</div>
{% if it.quote %}<div class="quote">“{{ it.quote }}”</div>{% endif %}
<div class="ev">{% for rid in it.review_ids %}<a href="#review-{{ rid }}">{{ w.evidence }} {{ loop.index }}</a>{% endfor %}</div></div>
{% endfor %}{% endfor %}
<h2>{{ w.reasons }}</h2>
<p class="note">{{ w.reasons_note }}</p>
<div class="chart" id="reasons-chart">{{ reasons_svg|safe }}</div>
<h2>{{ w.dishes }}</h2>
{% if dishes %}<table id="dishes"><tr>{% for h in w.dish_headers %}<th>{{ h }}</th>{% endfor %}</tr>
{% for d in dishes %}<tr><td>{{ d.item }}</td><td>{{ d.reviews }}</td><td>{{ d.rating }}</td><td>{{ d.taste }}</td><td>{{ d.quantity }}</td><td>{{ d.reasons }}</td><td class="{{ d.position }}">{{ d.position_text }}</td></tr>{% endfor %}
</table>{% else %}<p id="dishes">{{ no_dishes }}</p>{% endif %}
<h2>{{ w.changes }}</h2>
{% if changes %}{% for c in changes %}<p class="{{ c.status }}">{{ c.text }}</p>{% endfor %}{% else %}<p>{{ changes_note }}</p>{% endif %}
<h2>{{ w.trends }}</h2>
{% if undated %}<p class="note">{{ undated }}</p>{% endif %}
<div class="chart" id="trend-chart">{{ trend_svg|safe }}</div>
<h2>{{ w.group }}</h2>
<table id="comparison"><tr><th>{{ w.aspect }}</th><th>{{ w.own }}</th><th>{{ w.group_median }}</th><th>{{ w.percentile }}</th><th></th></tr>
{% for c in comparison %}<tr><td>{{ c.aspect }}</td><td>{{ c.own }}</td><td>{{ c.median }}</td><td>{{ c.percentile }}</td><td>{{ c.group }}</td></tr>{% endfor %}
</table>
<h2>{{ w.evidence }}</h2>
{% for r in evidence %}<div class="review" id="review-{{ r.review_id }}"><span class="note">{{ r.review_id }}{% if r.rating %} · ★{{ r.rating }}{% endif %}{% if r.date %} · {{ r.date }}{% endif %}</span><br>{{ r.text }}</div>{% endfor %}
</body></html>
"""
)
_INDEX = _ENV.from_string(
    """<!doctype html>
<html lang="{{ lang }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ w.index_title }}</title>
<style>body { font-family: {{ fonts|safe }}; margin: 0 auto; max-width: 960px; padding: 12px; }
table { border-collapse: collapse; width: 100%; font-size: 0.9em; } td, th { border-bottom: 1px solid #eee; padding: 4px; }
th { cursor: pointer; background: #f5f5f5; text-align: left; }</style></head><body>
<h1>{{ w.index_title }}</h1>
<table id="restaurants"><thead><tr>{% for h in headers %}<th data-col="{{ loop.index0 }}">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for r in rows %}<tr><td><a href="{{ r.href }}">{{ r.name }}</a></td><td data-v="{{ r.reviews }}">{{ r.reviews }}</td>
<td data-v="{{ r.rating or 0 }}">{{ r.rating or "-" }}</td><td data-v="{{ r.strengths }}">{{ r.strengths }}</td>
<td data-v="{{ r.weaknesses }}">{{ r.weaknesses }}</td><td data-v="{{ r.complaints }}">{{ r.complaints }}</td>
<td data-v="{{ r.changes }}">{{ r.changes }}</td><td>{{ r.top_strength or "-" }}</td>
<td data-v="{{ r.top_complaint_count or 0 }}">{{ r.top_complaint or "-" }}</td></tr>{% endfor %}</tbody></table>
<script>
// sortable columns, no library and nothing from the network
document.querySelectorAll("th").forEach(function (th) {
  th.addEventListener("click", function () {
    var col = +th.dataset.col, body = document.querySelector("tbody"), asc = th.dataset.asc !== "1";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].dataset.v || a.cells[col].textContent, y = b.cells[col].dataset.v || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    th.dataset.asc = asc ? "1" : "0";
  });
});
</script></body></html>
"""
)


@dataclass
class ReportInputs:
    """One restaurant's tables (rows of that restaurant only)."""

    restaurant_id: str
    name: str
    lang: str
    reviews: pd.DataFrame
    prevalence: pd.DataFrame
    strengths: pd.DataFrame
    comparisons: pd.DataFrame
    trends: pd.DataFrame
    changes: pd.DataFrame
    summaries: pd.DataFrame
    llm_reviews: int
    model: str | None
    reasons: pd.DataFrame | None = None
    dishes: pd.DataFrame | None = None


def trend_svg(trends: pd.DataFrame, changes: pd.DataFrame, lang: str) -> str:
    """Per aspect, the share of the month's reviews that complain about it with its 95 % Wilson
    interval as a band; a detected change is marked (the recent window shaded)."""
    if trends.empty:
        return ""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    aspects = trends.groupby("aspect")["mentions"].sum().sort_values(ascending=False).index.tolist()[:6]
    months = sorted(trends["month"].unique())
    fig, axes = plt.subplots(
        len(aspects), 1, figsize=(7, 1.35 * len(aspects) + 0.4), dpi=72, sharex=True, squeeze=False
    )
    status = dict(zip(changes["aspect"], changes["status"])) if len(changes) else {}
    recent = (
        changes["recent_months"].dropna().iloc[0] if len(changes) and changes["recent_months"].notna().any() else None
    )
    for ax, aspect in zip(axes[:, 0], aspects):
        g = trends[trends["aspect"] == aspect].set_index("month").reindex(months)
        x = list(range(len(months)))
        # the share of the month's reviews that complain, and its Wilson interval (the same quantity)
        band = [
            wilson(int(k), int(n)) if n == n and n else (0.0, 0.0, 0.0)
            for k, n in zip(g["negative"].fillna(0), g["reviews"])
        ]
        share = [b[0] for b in band]
        ax.fill_between(x, [b[1] for b in band], [b[2] for b in band], color="#f3c4c4", alpha=0.6, lw=0)
        ax.plot(x, share, color="#b00020", marker="o", ms=2.5, lw=1.2)
        mark = status.get(aspect)
        if mark in ("rose", "fell") and recent:
            start = months.index(recent.split("..")[0]) if recent.split("..")[0] in months else len(months) - 3
            ax.axvspan(start - 0.5, len(months) - 0.5, color="#ffe08a" if mark == "rose" else "#c8e6c9", alpha=0.5)
        name = aspect_name(aspect, lang)
        label = f"{name} ({WORDS[lang][mark]})" if mark in ("rose", "fell") else name
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=6)
    step = max(1, len(months) // 8)
    axes[-1, 0].set_xticks(list(range(0, len(months), step)), months[::step], fontsize=6)
    fig.tight_layout()
    plt.rcParams["svg.fonttype"] = "none"  # text stays text: the page's Korean fonts draw it
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg") :]


def reasons_svg(reasons: pd.DataFrame, lang: str = "ko", k: int = 3, max_aspects: int = 6) -> str:
    """Per aspect (the most reasoned first), its ``k`` most given specific reasons for praise (green,
    right of the axis) and for complaints (red, left), in reviews: a diverging bar chart as inline SVG,
    written directly (text stays text, so the page's Korean fonts draw it; no plotting library needed
    for bars and labels)."""
    if reasons is None or reasons.empty:
        return ""
    specific = reasons[~reasons["generic"].astype(bool) & reasons["polarity"].isin(["positive", "negative"])]
    if specific.empty:
        return ""
    order = specific.groupby("aspect")["count"].sum().sort_values(ascending=False).index.tolist()[:max_aspects]
    panels = []
    for aspect in order:
        g = specific[specific["aspect"] == aspect]
        neg = [(r, -n) for r, n in top_reasons(g, aspect, "negative", k, lang=lang)]
        pos = [(r, n) for r, n in top_reasons(g, aspect, "positive", k, lang=lang)]
        panels.append((aspect_name(aspect, lang), neg + pos))
    span = max(abs(v) for _, bars in panels for _, v in bars) or 1
    width, mid, reach, row = 640, 400, 170, 18
    parts, y = [], 4
    for name, bars in panels:
        parts.append(f'<text x="4" y="{y + 13}" font-size="13" font-weight="bold">{escape(name)}</text>')
        y += row
        for label, v in bars:
            w = max(2, round(reach * abs(v) / span))
            x, color = (mid - w, "#b00020") if v < 0 else (mid, "#2e7d32")
            tx, anchor = (x - 4, "end") if v < 0 else (x + w + 4, "start")
            parts.append(f'<rect x="{x}" y="{y + 3}" width="{w}" height="{row - 6}" fill="{color}"/>')
            parts.append(
                f'<text x="{tx}" y="{y + 13}" font-size="12" text-anchor="{anchor}">{escape(label)} {abs(v)}</text>'
            )
            y += row
        y += 6
    axis = f'<line x1="{mid}" y1="0" x2="{mid}" y2="{y}" stroke="#999" stroke-width="1"/>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {y}" width="{width}" height="{y}" '
        f'role="img">{axis}{"".join(parts)}</svg>'
    )


def _marked(evidence: str, start: int, end: int) -> tuple[str, str, str]:
    start, end = max(0, int(start)), min(len(evidence), int(end))
    return evidence[:start], evidence[start:end], evidence[end:]


#: what a page leads with: the complaint reasons given at least this often, at most this many of them
FIX_MIN_COUNT, FIX_REASONS = 2, 3
#: an aspect in this bottom share of its comparison group is something to fix
BOTTOM_QUARTER = 0.25


def fix_first(inp: ReportInputs, w: dict) -> list[dict]:
    """What an owner should look at first, each with its figures: the most given specific complaint
    reasons (with a whole sentence as evidence, the clause marked), the dishes that trail the others,
    and the aspects in the bottom quarter of the comparison group."""
    out = []
    reasons = inp.reasons if inp.reasons is not None else pd.DataFrame()
    if len(reasons):
        neg = reasons[(reasons["polarity"] == "negative") & ~reasons["generic"].astype(bool)]
        neg = neg[neg["count"] >= FIX_MIN_COUNT].sort_values(["count", "share"], ascending=False, kind="stable")
        for r in neg.head(FIX_REASONS).itertuples():
            text = w["fix_reason"].format(
                aspect=aspect_name(r.aspect, inp.lang),
                reason=reason_name(r.reason, inp.lang),
                count=r.count,
                mentions=r.mentions,
                share=percent_text(r.share),
            )
            out.append(
                {
                    "text": text,
                    "evidence": _marked(r.evidence, r.evidence_start, r.evidence_end),
                    "review_id": r.evidence_review_id,
                }
            )
    dishes = inp.dishes if inp.dishes is not None else pd.DataFrame()
    if len(dishes):
        for d in dishes[dishes["position"] == "trails"].itertuples():
            text = w["fix_dish"].format(
                item=d.item,
                share=percent_text(d.complaint_share),
                n=d.reviews,
                others=percent_text(d.others_complaint_share),
                others_n=d.others_reviews,
                q=f"{d.q_value:.3f}",
            )
            out.append({"text": text, "evidence": None, "review_id": None})
    comp = inp.comparisons
    if len(comp) and "percentile" in comp.columns:
        low = comp[comp["percentile"].notna() & (comp["percentile"] <= BOTTOM_QUARTER)]
        for c in low.sort_values("percentile", kind="stable").itertuples():
            text = w["fix_group"].format(
                aspect=aspect_name(c.aspect, inp.lang),
                own=percent_text(c.positive_share),
                median=percent_text(c.group_median),
                pct=percent_text(c.percentile),
                size=c.group_size,
            )
            out.append({"text": text, "evidence": None, "review_id": None})
    return out


def _dish_rows(dishes: pd.DataFrame | None, w: dict, lang: str = "ko") -> list[dict]:
    if dishes is None or dishes.empty:
        return []
    order = {"trails": 0, "in_line": 1, "leads": 2}
    ranked = dishes.assign(_o=dishes["position"].map(order)).sort_values(["_o", "reviews"], ascending=[True, False])
    return [
        {
            "item": d.item,
            "reviews": d.reviews,
            "rating": "-" if pd.isna(d.mean_rating) else f"{d.mean_rating:.2f}",
            "taste": percent_text(d.taste_complaint_share),
            "quantity": percent_text(d.quantity_complaint_share),
            "reasons": ", ".join(reason_label(x, lang) for x in d.top_reasons) or "-",
            "position": d.position,
            "position_text": w[d.position]
            + ("" if pd.isna(d.others_complaint_share) else f" ({percent_text(d.others_complaint_share)})"),
        }
        for d in ranked.itertuples()
    ]


def _headline_reasons(inp: ReportInputs, sections: list) -> dict:
    """The index's top strength (its aspect and most given reason) and top complaint (the most given
    specific complaint reason, with its count)."""
    reasons = inp.reasons if inp.reasons is not None else pd.DataFrame()
    strengths = inp.strengths[inp.strengths["polarity"] == "strength"]
    top_strength = None
    if len(strengths):
        aspect = strengths["aspect"].iloc[0]
        why = top_reasons(reasons, aspect, "positive", 1, lang=inp.lang) if len(reasons) else []
        name = aspect_name(aspect, inp.lang)
        top_strength = f"{name}: {why[0][0]}" if why else name
    top_complaint, count = None, 0
    if len(reasons):
        neg = reasons[(reasons["polarity"] == "negative") & ~reasons["generic"].astype(bool)]
        if len(neg):
            best = neg.sort_values(["count", "reason"], ascending=[False, True], kind="stable").iloc[0]
            name = aspect_name(best["aspect"], inp.lang)
            reason = reason_name(best["reason"], inp.lang)
            top_complaint, count = f"{name}: {reason} ({int(best['count'])})", int(best["count"])
    return {"top_strength": top_strength, "top_complaint": top_complaint, "top_complaint_count": count}


def _provenance(inp: ReportInputs, source: str | None, w: dict) -> str:
    how = "lexicon" if not inp.llm_reviews else f"lexicon + LLM {inp.llm_reviews}"
    text = w["counted"].format(n=f"{len(inp.reviews):,}", how=how)
    if source == "llm":
        return text + " " + w["written_llm"].format(model=inp.model or "LLM", k=inp.llm_reviews)
    return text + " " + w["written_template"]


def _changes(moved: pd.DataFrame, w: dict, lang: str = "ko") -> list[dict]:
    return [
        {
            "status": r.status,
            "text": f"{aspect_name(r.aspect, lang)}: {percent_text(r.previous_share)} → {percent_text(r.recent_share)} "
            f"({w[r.status]}; {r.previous_months} n={r.previous_reviews}, {r.recent_months} n={r.recent_reviews})",
        }
        for r in moved.itertuples()
    ]


def _comparison_rows(comparisons: pd.DataFrame, lang: str = "ko") -> list[dict]:
    return [
        {
            "aspect": aspect_name(r.aspect, lang),
            "own": percent_text(r.positive_share),
            "median": percent_text(r.group_median),
            "percentile": percent_text(r.percentile),
            "group": f"{r.group_definition} (n={r.group_size})",
        }
        for r in comparisons.itertuples()
    ]


def _evidence(reviews: pd.DataFrame) -> list[dict]:
    return [
        {
            "review_id": r.review_id,
            "text": r.text,
            "rating": None if r.rating != r.rating or r.rating is None else f"{r.rating:g}",
            "date": None if pd.isna(r.created_at) else str(pd.Timestamp(r.created_at).date()),
        }
        for r in reviews.itertuples()
    ]


def render_page(inp: ReportInputs) -> tuple[str, dict, str]:
    """(HTML page, headline figures for the index, the same content as markdown)."""
    w = WORDS[inp.lang]
    rating = inp.reviews["rating"].dropna()
    rating_text = f"{rating.mean():.2f}" if len(rating) else None
    overall = inp.summaries[inp.summaries["kind"] == "overall"]
    summary = overall["text"].iloc[0] if len(overall) else ""
    source = overall["source"].iloc[0] if len(overall) else None
    sections = []
    for pol, key in (("strength", "strengths"), ("weakness", "weaknesses"), ("complaint", "complaints")):
        items = inp.strengths[inp.strengths["polarity"] == pol]
        sections.append(
            (
                w[key],
                [
                    {"prevalence": r.prevalence, "quote": r.quote, "review_ids": list(r.review_ids)}
                    for r in items.itertuples()
                ],
            )
        )
    moved = inp.changes[inp.changes["status"].isin(["rose", "fell"])]
    changes = _changes(moved, w, inp.lang)
    notes = inp.changes["note"].dropna()
    changes_note = notes.iloc[0] if len(notes) else w["no_change"]
    comparison = _comparison_rows(inp.comparisons, inp.lang)
    fix = fix_first(inp, w)
    cited = {i for _, items in sections for it in items for i in it["review_ids"]}
    cited |= {i for ids in moved["evidence_review_ids"] for i in list(ids)}
    cited |= {f["review_id"] for f in fix if f["review_id"]}
    evidence = _evidence(inp.reviews[inp.reviews["review_id"].isin(cited)])
    undated = int(inp.reviews["created_at"].isna().sum())
    mix = language_mix(inp.reviews["text"].fillna("").tolist())
    languages = w["languages"].format(ko=mix.get("ko", 0), en=mix.get("en", 0)) if len(mix) > 1 else None
    html = _PAGE.render(
        languages=languages,
        lang=inp.lang,
        fonts=FONT_STACK,
        w=w,
        name=inp.name,
        n_reviews=len(inp.reviews),
        rating=rating_text,
        summary=summary,
        provenance=_provenance(inp, source, w),
        sections=sections,
        changes=changes,
        changes_note=changes_note,
        trend_svg=trend_svg(inp.trends, inp.changes, inp.lang),
        undated=w["undated"].format(n=undated) if undated else None,
        comparison=comparison,
        evidence=evidence,
        fix=fix,
        reasons_svg=reasons_svg(inp.reasons, inp.lang),
        dishes=_dish_rows(inp.dishes, w, inp.lang),
        no_dishes=w["no_dishes"].format(n=DishRule().min_reviews),
    )
    headline = {
        "restaurant_id": inp.restaurant_id,
        "name": inp.name,
        "reviews": len(inp.reviews),
        "rating": rating_text,
        **{key: len(items) for (_, items), key in zip(sections, ("strengths", "weaknesses", "complaints"))},
        "changes": len(changes),
        "lang": inp.lang,
        **_headline_reasons(inp, sections),
    }
    md = [
        f"## {inp.name}",
        f"{w['reviews']} {len(inp.reviews):,}" + (f" · {w['rating']} {rating_text}" if rating_text else ""),
    ]
    if languages:
        md.append(languages)
    md.append(f"**{w['fix_first']}**: " + ("; ".join(f["text"] for f in fix) or w["nothing_to_fix"]))
    md += [f"**{w['summary']}**: {summary}", f"_{_provenance(inp, source, w)}_"]
    for title, items in sections:
        md.append(f"**{title}**: " + ("; ".join(it["prevalence"] for it in items) or w["none"]))
    md.append(f"**{w['changes']}**: " + ("; ".join(c["text"] for c in changes) or changes_note))
    return html, headline, "\n\n".join(md)


#: the report index table's columns (one row per restaurant with a page)
INDEX_COLUMNS = (
    "restaurant_id",
    "name",
    "reviews",
    "rating",
    "strengths",
    "weaknesses",
    "complaints",
    "changes",
    "lang",
    "top_strength",
    "top_complaint",
    "top_complaint_count",
    "path",
)
_COUNTS = ("reviews", "strengths", "weaknesses", "complaints", "changes", "top_complaint_count")


def render_reports(
    keys: list[str],
    reviews: pd.DataFrame,
    tables: dict[str, pd.DataFrame],
    llm_read: dict[str, int],
    model: str | None,
    folder: Path,
    markdown_pages: int = 5,
    progress=None,
) -> tuple[dict[str, tuple[str, dict]], pd.DataFrame, list[str]]:
    """(pages by restaurant, the index table, the first ``markdown_pages`` pages as markdown) for
    the restaurants of ``keys`` with reviews. ``tables``: prevalence, strengths, comparisons,
    trends, changes, summaries (any restaurants); ``llm_read``: reviews the LLM read per restaurant."""
    pages, rows, md = {}, [], []
    by_restaurant = {n: dict(tuple(t.groupby("restaurant_id"))) for n, t in tables.items()}
    for i, key in enumerate(keys, start=1):
        own = reviews[reviews["restaurant_id"] == key]
        if not own.empty:
            names = own["restaurant_name"].dropna()
            inp = ReportInputs(
                restaurant_id=key,
                name=str(names.iloc[0]) if len(names) else str(own["source_restaurant_id"].iloc[0] or key),
                lang=restaurant_language(own["text"]),
                reviews=own,
                **{n: t.get(key, tables[n].iloc[0:0]) for n, t in by_restaurant.items()},
                llm_reviews=llm_read.get(key, 0),
                model=model if llm_read.get(key) else None,
            )
            html, headline, text = render_page(inp)
            pages[key] = (html, headline)
            rows.append({**headline, "path": str(folder / f"{key}.html")})
            if len(md) < markdown_pages:
                md.append(text)
        if progress and (i % 50 == 0 or i == len(keys)):
            progress(f"reports {i}/{len(keys)}")
    index = pd.DataFrame(rows, columns=list(INDEX_COLUMNS)).astype({c: "int64" for c in _COUNTS})
    return pages, index, md


def write_pages(folder: Path, pages: dict[str, tuple[str, dict]]) -> list[Path]:
    """Write ``<key>.html`` and ``<key>.json`` (headline) per restaurant, then the index from every
    restaurant's headline in the folder (restaurants of earlier runs included). Returns the pages."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for key, (html, headline) in pages.items():
        page = folder / f"{key}.html"
        page.write_text(html, encoding="utf-8")
        (folder / f"{key}.json").write_text(json.dumps(headline, ensure_ascii=False), encoding="utf-8")
        out.append(page)
    write_index(folder)
    return out


def write_index(folder: Path) -> Path:
    heads = sorted(
        (json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*.json")), key=lambda h: h["restaurant_id"]
    )
    lang = "ko" if sum(h.get("lang") == "ko" for h in heads) * 2 >= len(heads) else "en"
    w = WORDS[lang]
    headers = [
        w["index_title"],
        w["reviews"],
        w["rating"],
        w["strengths"],
        w["weaknesses"],
        w["complaints"],
        w["changes"],
        w["top_strength"],
        w["top_complaint"],
    ]
    rows = [{**h, "href": f"{h['restaurant_id']}.html"} for h in heads]
    index = folder / "index.html"
    index.write_text(_INDEX.render(lang=lang, fonts=FONT_STACK, w=w, headers=headers, rows=rows), encoding="utf-8")
    return index
