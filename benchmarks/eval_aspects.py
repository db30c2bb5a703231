"""Aspect polarity on labelled clauses: the project's own Korean set and MAMS (English).

- `benchmarks/data/absa_ko.tsv`: short review clauses written for this project in the style of
  delivery-app and map reviews (typos, 존댓말/반말, emoji, ㅋㅋ), each labelled with one aspect and
  its polarity, and the kind of difficulty it carries (variant, stem, duration, contrast, neutral,
  value, multi, negation, crossclause, plain, english). A third of the items (sha1 of text and
  aspect, mod 3 == 0) is **held out**: never looked at while tuning; the rest is the development
  part.
- MAMS (`../shared/data/mams/`, Apache-2.0): English restaurant sentences with two or more aspects
  of different polarities; mapped food -> 맛, service/staff -> 서비스, price -> 가격,
  ambience/place -> 분위기 (menu, miscellaneous left out). Tune on train/val, report test.

An item is right end to end when the labelled aspect is found and its polarity equals the label;
an aspect not found, or found but undecided by the lexicon, counts as wrong there (the LLM's
second opinion on the undecided is reported separately when it runs).

    python benchmarks/eval_aspects.py [--split dev|heldout|both] [--mams val|test] [--show-errors]
"""

from __future__ import annotations

import argparse
import hashlib
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLAUSES = ROOT / "benchmarks" / "data" / "absa_ko.tsv"
MAMS = ROOT.parent / "shared" / "data" / "mams"
MAMS_ASPECT = {
    "food": "맛",
    "service": "서비스",
    "staff": "서비스",
    "price": "가격",
    "ambience": "분위기",
    "place": "분위기",
}
LABELS = ("positive", "negative", "neutral")


def split_of(text: str, aspect: str) -> str:
    return "heldout" if int(hashlib.sha1(f"{text}\t{aspect}".encode()).hexdigest(), 16) % 3 == 0 else "dev"


def load_clauses() -> list[dict]:
    rows = []
    for line in CLAUSES.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip():
            continue
        text, aspect, polarity, kind = line.split("\t")
        rows.append(
            {"text": text, "aspect": aspect, "polarity": polarity, "kind": kind, "split": split_of(text, aspect)}
        )
    return rows


def mams_sentences(part: str) -> list[tuple[str, dict[str, tuple[str, str]]]]:
    """(sentence, {aspect: (polarity, MAMS category)}) of every sentence of a MAMS part, its
    categories read as the product's aspects (:data:`MAMS_ASPECT`; service and staff, ambience and
    place are one aspect each: its first label); a sentence with none of them has an empty dict."""
    out = []
    for s in ET.parse(MAMS / f"acsa_{part}.xml").getroot().iter("sentence"):
        labels: dict[str, tuple[str, str]] = {}
        for c in s.iter("aspectCategory"):
            aspect = MAMS_ASPECT.get(c.get("category"))
            if aspect and aspect not in labels:
                labels[aspect] = (c.get("polarity"), c.get("category"))
        out.append((s.findtext("text") or "", labels))
    return out


def load_mams(part: str) -> list[dict]:
    """One item per (sentence, aspect) of a MAMS part (a sentence repeated in the part: once)."""
    seen, out = set(), []
    for text, labels in mams_sentences(part):
        for aspect, (polarity, category) in labels.items():
            if (text, aspect) not in seen:
                seen.add((text, aspect))
                out.append({"text": text, "aspect": aspect, "polarity": polarity, "kind": category})
    return out


def judge(items: list[dict], coarse: bool = False, wide: bool = False) -> tuple[list[dict], float]:
    """Each item with the lexicon's polarity of its aspect (``found``: the aspect was detected;
    ``pred``: its polarity, None = undecided; ``mention``: the mention read, for the LLM's request);
    and the lexicon's ms per item. ``coarse``: the items
    are labelled in a vocabulary without 가성비 and 덤 (MAMS's price and service): read them as 가격
    and 서비스 (``aspects.COARSE``); ``wide`` (MAMS): also the aspects its categories hold
    (``en_reading.FOLDED``: the wait and the delivery are its service, the portion its food, ...)."""
    from reviewlens_dagster.core.analysis.en_reading import FOLDED
    from reviewlens_dagster.core.analysis.lexicon import detect_many
    from reviewlens_dagster.core.aspects import COARSE

    read_as = dict(COARSE)
    if wide:  # MAMS's categories are wider: its service is also the wait and the delivery, ...
        coarse = True
        read_as |= {fine: category for category, fines in FOLDED.items() for fine in fines}

    detect_many(["맛있어요"])  # the analyzer's one-time load is not the per-item cost
    t0 = time.perf_counter()
    found = detect_many([r["text"] for r in items])
    ms = (time.perf_counter() - t0) * 1000 / max(1, len(items))
    out = []
    for r, mentions in zip(items, found):
        by = {}
        for m in mentions:  # coarse: the first decided of the aspects read as one
            a = read_as.get(m.aspect, m.aspect) if coarse else m.aspect
            if a not in by or by[a].polarity is None:
                by[a] = m
        m = by.get(r["aspect"])
        out.append({**r, "found": m is not None, "pred": m.polarity if m else None, "mention": m})
    return out, ms


def _acc(rows: list[dict], key: str = "pred") -> tuple[float | None, int]:
    return (sum(r[key] == r["polarity"] for r in rows) / len(rows) if rows else None), len(rows)


def table(title: str, rows: list[dict], extra: list[tuple[str, float | None, int]] = ()) -> str:
    """Prints the table; returns its headline (end to end, decided, right when decided, with n)."""
    print(f"\n### {title}")
    print("| metric | value | n |\n|---|---:|---:|")

    def line(name, v, n):
        print(f"| {name} | {'n/a' if v is None else f'{v:.3f}'} | {n} |")

    line("polarity right, end to end (aspect found, polarity right)", *_acc(rows))
    line("aspect found", sum(r["found"] for r in rows) / len(rows) if rows else None, len(rows))
    decided = [r for r in rows if r["pred"] is not None]
    line("lexicon decided (share of items)", len(decided) / len(rows) if rows else None, len(rows))
    line("right when the lexicon decided", *_acc(decided))
    for pol in LABELS:
        line(f"right on {pol} items", *_acc([r for r in rows if r["polarity"] == pol]))
    by_aspect = defaultdict(list)
    for r in rows:
        by_aspect[r["aspect"]].append(r)
    for a, rs in sorted(by_aspect.items(), key=lambda kv: -len(kv[1])):
        line(f"right on {a}", *_acc(rs))
    for name, v, n in extra:
        line(name, v, n)
    e2e, n = _acc(rows)
    right, n_decided = _acc(decided)
    return (
        f"end to end {e2e:.3f} (n {n}), decided {n_decided / max(1, n):.3f}, "
        f"right when decided {'n/a' if right is None else f'{right:.3f}'} (n {n_decided})"
    )


#: where every look at a held-out part is recorded (docs/benchmarks.md's last section)
LOOKS = ROOT / "docs" / "benchmarks.md"
LOOKS_HEADING = "## Held-out looks"


def record_look(what: str, figures: str) -> None:
    """Append one look at a sealed held-out part to docs/benchmarks.md, dated: no rule may be chosen
    by looking at these figures, and the record shows how often they were seen."""
    text = LOOKS.read_text(encoding="utf-8")
    if LOOKS_HEADING not in text:
        text = text.rstrip("\n") + (
            f"\n\n{LOOKS_HEADING}\n\nEach run that printed a held-out part (`make eval EVAL_ARGS=--heldout`), "
            "appended by the run itself. Rules are chosen on the development parts only.\n"
        )
    line = f"- {time.strftime('%Y-%m-%d %H:%M')} {what}: {figures}\n"
    LOOKS.write_text(text.rstrip("\n") + "\n" + line, encoding="utf-8")


def kinds(rows: list[dict]) -> None:
    by = defaultdict(list)
    for r in rows:
        by[r["kind"]].append(r)
    print("| kind | right | n |\n|---|---:|---:|")
    for k, rs in sorted(by.items()):
        v, n = _acc(rs)
        print(f"| {k} | {v:.3f} | {n} |")


def llm_second_opinion(judged: list[dict], preset: str, tune: bool, splits=("dev",), clause_only: bool = False) -> None:
    """The LLM on every clause item, two designs: the clause with the aspect named (one label, decided
    on its log-probabilities: the product's design) and the whole text with one field per aspect (the
    previous design, generated label). The calibration is tuned on the development part only."""
    from reviewlens_dagster.core.analysis.extract import LabelCalibration, aspect_request, extraction_request
    from reviewlens_dagster.core.analysis.schemas import extract_validator
    from reviewlens_dagster.core.config import Settings
    from reviewlens_dagster.core.llm.factory import LLMConfig, build_engine
    from reviewlens_dagster.core.llm.models import get_preset

    engine = build_engine(LLMConfig(preset=preset, model_cache_dir=Settings.from_env().model_cache_dir))
    designs = {
        "clause, aspect named": [aspect_request(f"c{i}", r["text"], r["aspect"]) for i, r in enumerate(judged)],
        "whole text, a field per aspect": [
            extraction_request(f"r{i}", r["text"], [r["aspect"]]) for i, r in enumerate(judged)
        ],
    }
    if clause_only:  # the product's design alone (half the time)
        designs.pop("whole text, a field per aspect")
    answers = {}
    for name, reqs in designs.items():
        validators = {
            q.request_id: extract_validator(q.json_schema["properties"].get("aspects", {}).get("required", []))
            for q in reqs
        }
        t0 = time.perf_counter()
        res = engine.run(reqs, validators)
        wall = time.perf_counter() - t0
        computed = sum(r.prompt_tokens - (r.cached_prompt_tokens or 0) for r in res)
        out_tokens = sum(r.output_tokens for r in res)
        answers[name] = res
        print(
            f"{name}: {len(res)} requests in {wall:.0f} s, computed prompt tokens per request "
            f"{computed / len(res):.1f}, output tokens per request {out_tokens / len(res):.1f}"
        )
    engine.close()
    clause = answers["clause, aspect named"]
    whole = answers.get("whole text, a field per aspect") or [None] * len(clause)
    for r, c, w in zip(judged, clause, whole):
        r["lp"] = c.choice_logprobs
        r["llm_generated"] = c.parsed.label
        r["llm_whole"] = w.parsed.aspects.get(r["aspect"]) if w is not None else None
    dev = [r for r in judged if r["split"] == "dev"]
    preset_cal = get_preset(preset).aspect_calibration
    cal = LabelCalibration(*preset_cal) if preset_cal else None
    if tune:
        grid = [(b, m) for b in (-2, -1, -0.5, 0, 0.5, 1, 2) for m in (-3, -2, -1, -0.5, 0, 0.5, 1, 2, 99)]

        def score(bm):
            # balanced: the mean of each true label's accuracy, so a lean toward the common label
            # (positive) does not pay; ties by plain accuracy
            c = LabelCalibration(*bm)
            per = [
                [c.decide(r["lp"]) == r["polarity"] for r in dev if r["lp"] and r["polarity"] == lab] for lab in LABELS
            ]
            balanced = sum(sum(x) / len(x) for x in per if x) / max(1, sum(1 for x in per if x))
            return balanced, sum(sum(x) for x in per)

        best = max(grid, key=score)
        print(
            f"tuned on the development part (n={len(dev)}, balanced accuracy {score(best)[0]:.3f}): "
            f"bias {best[0]}, neutral margin {best[1]}"
        )
        cal = LabelCalibration(*best)
    for r in judged:
        r["llm"] = cal.decide(r["lp"]) if cal and r["lp"] else r["llm_generated"]
        r["product"] = r["pred"] if r["pred"] is not None else (r["llm"] if r["found"] else None)
    print(f"calibration: {cal or 'none (the generated label)'}")
    for split in splits:
        rows = [r for r in judged if r["split"] == split]
        und = [r for r in rows if r["found"] and r["pred"] is None]
        print(f"\n#### LLM second opinion, {'development part' if split == 'dev' else 'held-out third'}")
        print("| metric | value | n |\n|---|---:|---:|")
        figures = [
            ("LLM alone, clause design (calibrated)", *_acc(rows, "llm")),
            ("LLM alone, clause design (generated label)", *_acc(rows, "llm_generated")),
            ("LLM alone, whole-text design", *_acc(rows, "llm_whole")),
            ("on the items the lexicon left undecided, clause design", *_acc(und, "llm")),
            ("on the items the lexicon left undecided, whole-text design", *_acc(und, "llm_whole")),
            ("end to end: lexicon, else the LLM (clause design)", *_acc(rows, "product")),
        ]
        for name, v, n in [f for f in figures if not (clause_only and "whole-text" in f[0])]:
            print(f"| {name} | {'n/a' if v is None else f'{v:.3f}'} | {n} |")
        for pol in LABELS:
            v, n = _acc([r for r in rows if r["polarity"] == pol], "product")
            print(f"| end to end, {pol} items | {v:.3f} | {n} |")
        for pol in LABELS:  # the LLM's lean: how it decides each true polarity
            v, n = _acc([r for r in rows if r["polarity"] == pol and r["lp"]], "llm")
            print(f"| LLM alone (calibrated), {pol} items | {'n/a' if v is None else f'{v:.3f}'} | {n} |")
        if split == "heldout":
            v, n = _acc(rows, "product")
            record_look(f"Korean clauses, held-out third, reading + LLM ({preset})", f"end to end {v:.3f} (n {n})")


def mams_with_llm(rows: list[dict], preset: str, part: str = "test") -> None:
    """MAMS end to end as the product reads an English review: the English reading's polarity, else
    (an aspect it found but left undecided) the LLM's clause request with the aspect named, decided
    with the preset's calibration (tuned on the Korean development clauses, never on MAMS test)."""
    from reviewlens_dagster.core.analysis.extract import LabelCalibration, aspect_request
    from reviewlens_dagster.core.analysis.schemas import extract_validator
    from reviewlens_dagster.core.config import Settings
    from reviewlens_dagster.core.llm.factory import LLMConfig, build_engine
    from reviewlens_dagster.core.llm.models import get_preset

    # the product's request: the undecided mention's clause, its own aspect named (가성비 for MAMS's price)
    asked = [r for r in rows if r["found"] and r["pred"] is None]
    reqs = [aspect_request(f"m{i}", r["mention"].quote, r["mention"].aspect) for i, r in enumerate(asked)]
    engine = build_engine(LLMConfig(preset=preset, model_cache_dir=Settings.from_env().model_cache_dir))
    t0 = time.perf_counter()
    res = engine.run(reqs, {q.request_id: extract_validator([]) for q in reqs}) if reqs else []
    wall = time.perf_counter() - t0
    engine.close()
    cal_args = get_preset(preset).aspect_calibration
    cal = LabelCalibration(*cal_args) if cal_args else None
    for r, a in zip(asked, res):
        r["llm"] = cal.decide(a.choice_logprobs) if cal and a.choice_logprobs else a.parsed.label
    for r in rows:
        r["product"] = r["pred"] if r["pred"] is not None else r.get("llm")
    print(f"\n### MAMS {part} end to end: English reading, else the LLM ({preset}); {time.strftime('%Y-%m-%d')}")
    print(f"{len(reqs)} clause requests in {wall:.0f} s")
    print("| metric | value | n |\n|---|---:|---:|")
    for name, (v, n) in [
        ("end to end (reading, else the LLM)", _acc(rows, "product")),
        ("the LLM on the items the reading left undecided", _acc(asked, "llm")),
        *[(f"end to end, {pol} items", _acc([r for r in rows if r["polarity"] == pol], "product")) for pol in LABELS],
    ]:
        print(f"| {name} | {'n/a' if v is None else f'{v:.3f}'} | {n} |")
    if part == "test":
        v, n = _acc(rows, "product")
        w, m = _acc(asked, "llm")
        record_look(
            f"MAMS test, English reading + LLM ({preset})",
            f"end to end {v:.3f} (n {n}); the LLM on the undecided {'n/a' if w is None else f'{w:.3f}'} (n {m})",
        )


def reading_cost() -> None:
    """ms per review of each language's reading on the sample (the same process, the analyzers loaded)."""
    from reviewlens_dagster.core.analysis.lexicon import detect_many
    from reviewlens_dagster.core.analysis.prompts import language_of
    from reviewlens_dagster.core.staging import scan_folder

    texts = [t or "" for t in scan_folder(ROOT / "data" / "sample").reviews["text"]]
    by = {lang: [t for t in texts if language_of([t]) == lang] for lang in ("ko", "en")}
    detect_many(["맛있어요", "Great food"])  # one-time loads are not the per-review cost
    print("\n### Cost of the reading per review (sample, one process)")
    print("| reading | reviews | ms per review | ms per 100 characters |\n|---|---:|---:|---:|")
    for lang, name in (("ko", "Korean (Kiwi)"), ("en", "English (pysbd + VADER)")):
        batch = by[lang] * max(1, 2000 // max(1, len(by[lang])))  # at least ~2,000 reviews timed
        t0 = time.perf_counter()
        detect_many(batch)
        ms = (time.perf_counter() - t0) * 1000
        chars = sum(len(t) for t in batch)
        print(f"| {name} | {len(by[lang])} | {ms / len(batch):.3f} | {ms * 100 / max(1, chars):.3f} |")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument(
        "--split", choices=("dev", "heldout", "both"), default="dev", help="heldout / both: a recorded look"
    )
    ap.add_argument("--mams", choices=("train", "val", "test", "none"), default="val", help="test: a recorded look")
    ap.add_argument(
        "--llm", default=None, help="also run the LLM's second opinion (Korean clauses, MAMS) with this preset (small)"
    )
    ap.add_argument("--tune", action="store_true", help="tune the clause calibration on the development part")
    ap.add_argument("--clause-only", action="store_true", help="the LLM's clause design only (the product's)")
    ap.add_argument(
        "--show-errors", action="store_true", help="print the development part's errors (never the held-out)"
    )
    ap.add_argument("--no-clauses", action="store_true", help="MAMS only (not the Korean clauses)")
    args = ap.parse_args(argv)
    judged, ms = judge(load_clauses())
    for split in () if args.no_clauses else ("dev", "heldout") if args.split == "both" else (args.split,):
        rows = [r for r in judged if r["split"] == split]
        name = "development part (tuned on)" if split == "dev" else "held-out third (never tuned on)"
        headline = table(f"Korean clauses, {name}", rows, [("lexicon ms per clause", ms, len(judged))])
        if split == "heldout":
            record_look("Korean clauses, held-out third (reading alone)", headline)
        kinds(rows)
        if args.show_errors and split == "dev":
            for r in rows:
                if r["pred"] != r["polarity"]:
                    print(f"  {r['kind']:<11} {r['aspect']} want {r['polarity']:<8} got {r['pred']!s:<8} {r['text']}")
    if args.llm and not args.no_clauses:
        splits = ("dev", "heldout") if args.split == "both" else (args.split,)
        llm_second_opinion(judged, args.llm, args.tune, splits, args.clause_only)
    if args.mams != "none" and MAMS.exists():
        rows, mams_ms = judge(load_mams(args.mams), wide=True)
        headline = table(
            f"MAMS {args.mams} (English), the English reading alone ({time.strftime('%Y-%m-%d')})",
            rows,
            [("reading ms per sentence", mams_ms, len(rows))],
        )
        if args.mams == "test":
            record_look("MAMS test (English reading alone)", headline)
        if args.llm:
            mams_with_llm(rows, args.llm, args.mams)
    reading_cost()


if __name__ == "__main__":
    main()
