"""The Dagster UI in a real browser: `dagster dev` (the `make ui` settings) on 127.0.0.1 and headless
Debian Chromium driven by Playwright (no browser download).

Flow: open the asset graph and expand every group, launch a materialization of one `reviews`
partition from the asset page's launch dialog, wait for the run to succeed, then read the
partition's metadata and the asset checks in the UI. Screenshots land in artifacts/ui/
(REVIEWLENS_TEST_ARTIFACTS). The server is stopped by its process group id.

Needs /usr/bin/chromium (CHROMIUM): `.ci/run` installs Debian's package and sets
REVIEWLENS_REQUIRE_UI=1, so a missing browser fails there instead of skipping.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import time
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect, sync_playwright

from reviewlens_dagster.core.config import Settings
from reviewlens_dagster.core.staging import StagingStore
from reviewlens_dagster.definitions import build_defs
from reviewlens_dagster.defs.automation import PIPELINE_JOB, range_tags
from reviewlens_dagster.defs.partitions import LLM_OUTPUTS
from reviewlens_dagster.devserver import ROOT, dagster_dev

pytestmark = pytest.mark.ui

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("REVIEWLENS_TEST_ARTIFACTS", ROOT / "artifacts")) / "ui"
ROWS = [  # a menu column, as delivery-app exports have: ua's 양념치킨 has 5 reviews, a row of the dish table
    ("ua-0", "ua", "바삭하고 맛있어요", 5, "치킨", "강남", "2026-05-01", "양념치킨/1,콜라 1.25L/1"),
    ("ua-1", "ua", "배달이 빨라요", 4, "치킨", "강남", "2026-05-02", "양념치킨(순한맛)/1"),
    ("ua-2", "ua", "양념이 맛있어요 배달도 빨라요", 5, "치킨", "강남", "2026-04-11", "양념치킨/1"),
    ("ua-3", "ua", "튀김이 맛있고 양도 많아요", 5, "치킨", "강남", "2026-04-20", "양념치킨/1,치즈볼/1"),
    ("ua-4", "ua", "배달이 너무 늦었어요", 2, "치킨", "강남", "2026-03-15", "양념치킨/1"),
    ("ub-0", "ub", "분위기가 좋아요", 5, "카페", "홍대", "2026-05-03", ""),
]
#: the per-restaurant assets the fixture materializes before the browser opens (no LLM)
PIPELINE = {
    "review_embeddings",
    "restaurant_vectors",
    "top_k_contexts",
    "aspect_mentions",
    "aspect_prevalence",
    "highlights",
    "summaries",
    "comparisons",
    "aspect_trends",
    "aspect_changes",
    "aspect_reasons",
    "dish_insights",
    "summary_facts",
    "restaurant_report",
}
#: every asset of the code location (the catalog must show each one)
ASSETS = sorted(k.to_user_string() for k in build_defs().resolve_asset_graph().get_all_asset_keys())
REVIEW_CHECKS = [
    "rejected_share_below_threshold",
    "reviews_rating_in_range",
    "reviews_text_not_empty",
    "reviews_unique_review_id",
]


@pytest.fixture
def dev_server(workdir):
    if not Path(CHROMIUM).exists():
        if os.environ.get("REVIEWLENS_REQUIRE_UI") == "1":
            pytest.fail(f"{CHROMIUM} not found (install Debian's chromium package)")
        pytest.skip(f"{CHROMIUM} not found: install Debian's chromium package to run the browser test")
    home, data = workdir / "dagster_home", workdir / "data"
    (data / "incoming").mkdir(parents=True)
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    with open(data / "incoming" / "ui.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "restaurant_id", "text", "rating", "category", "area", "created_at", "menu"])
        w.writerows(ROWS)
    # the folder is staged outside Dagster, the partitions exist and sensors start stopped: the only run
    # is the one launched in the browser
    con = duckdb.connect(str(data / "warehouse.duckdb"))
    try:
        StagingStore(con).stage(data / "incoming")
    finally:
        con.close()
    env = {"REVIEWLENS_DATA_DIR": str(data), "REVIEWLENS_AUTOMATION": "off", "REVIEWLENS_LLM_PRESET": "tiny"}
    with dg.DagsterInstance.from_config(str(home)) as inst:
        inst.add_dynamic_partitions("restaurants", ["ua", "ub"])
        inst.report_runless_asset_event(dg.AssetMaterialization("staged_reviews"))
        # the counting layer (no LLM) of both restaurants, so the UI shows the analyses' metadata
        defs = build_defs(Settings.from_env({**os.environ, **env}))
        skip = {dg.AssetKey(k) for k in (*LLM_OUTPUTS, "reviews")}
        counting = [k for k in defs.resolve_asset_graph().get_all_asset_keys() if k not in skip]
        assert (
            defs.resolve_job_def(PIPELINE_JOB)
            .execute_in_process(
                instance=inst,
                tags=range_tags(["ua", "ub"]),
                asset_selection=[dg.AssetKey("reviews"), *[k for k in counting if k.to_user_string() in PIPELINE]],
            )
            .success
        )
    with dagster_dev(home, env, workdir / "dagster_dev.log") as (url, proc):
        yield url, proc


def _dismiss_welcome(page) -> None:
    """A fresh instance greets the first visitor with a community dialog; skip it when it shows."""
    skip = page.get_by_role("button", name="Skip")
    try:
        skip.wait_for(state="visible", timeout=4000)
    except PlaywrightTimeout:
        return  # not shown
    skip.click()


def test_materialize_partition_from_the_ui(dev_server, workdir):
    url, proc = dev_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1800, "height": 1100})
        page.set_default_timeout(30_000)

        # the asset graph, every group expanded
        page.goto(f"{url}/asset-groups", wait_until="networkidle")
        _dismiss_welcome(page)
        for group in ("ingest", "vectors", "analysis", "llm_serving"):
            expect(page.locator("foreignObject").get_by_text(group, exact=True).first).to_be_visible()
        unfold = page.locator("foreignObject [aria-label=unfold_more]")
        for _ in range(8):
            if not unfold.count():
                break
            unfold.first.click()
            page.wait_for_timeout(500)
        assert unfold.count() == 0
        # the expanded groups are remembered: a reload lays out and fits the whole graph
        page.reload(wait_until="networkidle")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "1_asset_graph.png"))
        expect(page.locator("foreignObject").get_by_text("comparisons", exact=True).first).to_be_attached()

        # every asset is in the catalog
        page.goto(f"{url}/assets", wait_until="networkidle")
        for asset in ASSETS:
            expect(page.get_by_text(asset, exact=True).first).to_be_visible()

        # launch `reviews` for partition ua from the asset page
        page.goto(f"{url}/assets/reviews", wait_until="networkidle")
        page.get_by_role("button", name="Materialize…").click()
        dialog = page.locator(".dagster-dialog")
        expect(dialog.get_by_text("Launch runs to materialize reviews")).to_be_visible()
        dialog.get_by_text("Select a partition or create one").click()
        popover = page.locator(".dagster-popover")
        popover.get_by_role("textbox").fill("ua")
        popover.locator("span", has_text="ua").first.click()
        page.keyboard.press("Escape")
        expect(dialog.get_by_text("1 partition", exact=True)).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "2_launch_dialog.png"))
        dialog.get_by_role("button", name=re.compile(r"^Launch")).click()
        expect(page.get_by_text(re.compile(r"Launched run [0-9a-f]{8}"))).to_be_visible()

        # the daemon dequeues and runs it (the only run of this instance): wait for its final status
        deadline = time.monotonic() + 180
        status = None
        while status is None and time.monotonic() < deadline:
            page.goto(f"{url}/runs", wait_until="networkidle")
            expect(page.get_by_text("partition: ua").first).to_be_visible()
            # two runs: the fixture's counting run (succeeded) and the launched one
            if page.get_by_text("Success", exact=True).count() >= 2:
                status = "Success"
            for final in ("Failure", "Canceled"):
                if page.get_by_text(final, exact=True).count():
                    status = final
            assert proc.poll() is None, "dagster dev died"
            page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "3_runs.png"))
        assert status == "Success", status

        # metadata of the materialized partition
        page.goto(f"{url}/assets/reviews?partition=ua", wait_until="networkidle")
        expect(page.get_by_text("Latest materialization")).to_be_visible()
        for key in ("preview", "rejected_share", "reviews_per_restaurant", "dagster/partition_row_count"):
            expect(page.get_by_text(key, exact=True).first).to_be_visible()
        expect(page.get_by_text("바삭하고 맛있어요").first).to_be_visible()  # the markdown preview, rendered
        page.screenshot(path=str(ARTIFACTS / "4_asset_metadata.png"), full_page=True)

        # the asset checks and their results
        page.goto(f"{url}/assets/reviews?view=checks", wait_until="networkidle")
        for name in REVIEW_CHECKS:
            expect(page.get_by_text(name, exact=True).first).to_be_visible()
        expect(page.get_by_text("Succeeded")).to_have_count(len(REVIEW_CHECKS))
        expect(page.get_by_text("Passed").first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "5_asset_checks.png"), full_page=True)
        # the counting layer: every restaurant counted without the LLM, saying so, with complaints and the
        # comparison group's distribution
        page.goto(f"{url}/assets/aspect_prevalence?partition=ua", wait_until="networkidle")
        expect(page.get_by_text("decided_by").first).to_be_visible()
        expect(page.get_by_text("lexicon", exact=True).first).to_be_visible()
        expect(page.get_by_text("restaurants_read_by_llm", exact=True).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "6_aspect_prevalence.png"), full_page=True)
        page.goto(f"{url}/assets/highlights?partition=ua", wait_until="networkidle")
        expect(page.get_by_text("complaints", exact=True).first).to_be_visible()
        page.goto(f"{url}/assets/comparisons?partition=ua", wait_until="networkidle")
        for key in ("group_median", "percentile"):
            expect(page.get_by_text(key).first).to_be_visible()
        expect(page.get_by_text("aspect_chart", exact=True).first).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "7_comparisons.png"), full_page=True)
        # the owner's report: the index, sortable, then one restaurant's page (a file, no server)
        page.goto((workdir / "data" / "reports" / "index.html").as_uri())
        expect(page.locator("#restaurants a")).to_have_count(2)
        page.locator("th").nth(1).click()  # sort by review count, ascending: ub (3) before ua (5)
        expect(page.locator("#restaurants tbody tr").first).to_contain_text("ub")
        page.screenshot(path=str(ARTIFACTS / "8_report_index.png"), full_page=True)
        page.locator("#restaurants a[href='ua.html']").click()
        expect(page.locator("h1")).to_have_text("ua")
        expect(page.locator("#trend-chart svg")).to_have_count(1)  # the chart is inline SVG
        # Korean renders: a Hangul glyph is not drawn as the missing-glyph box. Two unassigned code points
        # draw the same box (the method can see tofu); a Hangul syllable must draw something else.
        drawn = page.evaluate(
            """() => { const draw = (t) => { const c = document.createElement('canvas'); c.width = 64; c.height = 64;
                const x = c.getContext('2d'); x.font = '40px ' + getComputedStyle(document.body).fontFamily;
                x.fillText(t, 8, 48); return Array.from(x.getImageData(0, 0, 64, 64).data).join(','); };
              return [draw('장'), draw('\\u0378'), draw('\\u0379')]; }"""
        )
        assert drawn[1] == drawn[2], "unassigned code points should draw the same missing-glyph box"
        assert drawn[0] != drawn[1], "Hangul is drawn as the missing-glyph box (no Korean font)"
        expect(page.get_by_text("장점", exact=True)).to_be_visible()
        # why and which dish: the reasons chart (inline SVG, its Hangul text kept as text), the dish table,
        # and what to fix first leading the page with the complaint reason and its evidence sentence
        expect(page.locator("#reasons-chart svg")).to_have_count(1)
        expect(page.locator("#reasons-chart svg text").filter(has_text="빠르다").first).to_be_attached()
        expect(page.locator("#dishes")).to_contain_text("양념치킨")
        expect(page.locator("#fix-first")).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "9_report.png"), full_page=True)
        # an evidence link lands on the review it cites, listed in the page
        link = page.locator(".ev a").first
        target = link.get_attribute("href")
        link.click()
        assert page.url.endswith(target)
        expect(page.locator(target)).to_be_in_viewport()
        browser.close()
