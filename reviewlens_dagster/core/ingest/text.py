"""Review text cleaning: HTML to text, control characters, whitespace, NFC; one value at a time (:func:`clean_text`) and vectorized over an Arrow column (:func:`clean_texts`, same result, tested)."""

from __future__ import annotations

import html
import json
import math
import re
import unicodedata
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

RAW_PREVIEW_CHARS = 500


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):  # line breaks become spaces
        if tag in {"br", "p", "div", "li"}:
            self.parts.append(" ")


_TAG_HINT = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")


_SIMPLE_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?:\s[^<>\"']*)?/?>")


_BREAKS = {"br", "p", "div", "li"}


def _tag_space(m: re.Match) -> str:
    """A line-breaking start tag becomes a space (as _TextExtractor does), any other tag nothing."""
    return " " if not m.group(1) and m.group(2).lower() in _BREAKS else ""


CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Strip HTML tags and entities, drop control characters, NFC-normalize, fold whitespace.

    Emoji and every other printable character are kept.
    """
    text = value
    if "<" in text and text.count("<") == len(_SIMPLE_TAG.findall(text)):
        # every '<' opens a plain tag: what the parser below does, without it (5x faster)
        text = html.unescape(html.unescape(_SIMPLE_TAG.sub(_tag_space, text)))
    elif "&" in text and "<" not in text:  # entities only: likewise
        text = html.unescape(html.unescape(text))
    elif ("<" in text and _TAG_HINT.search(text)) or "&" in text:
        parser = _TextExtractor()
        parser.feed(text)
        parser.close()
        text = html.unescape("".join(parser.parts))
    text = " ".join(CONTROL_CHARS.sub(" ", text).split())  # str.split() folds what re's \s matches
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def raw_preview(raw) -> str:
    if isinstance(raw, (dict, list)):
        raw = json.dumps(raw, ensure_ascii=False, default=str)
    text = str(raw)
    return (
        text
        if len(text) <= RAW_PREVIEW_CHARS
        else text[:RAW_PREVIEW_CHARS] + f"… (+{len(text) - RAW_PREVIEW_CHARS} chars)"
    )


def _as_str(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def as_text(value) -> tuple[str | None, bool]:
    """A JSON / Parquet value as the text a CSV would hold: (text or None when missing, wrong type).
    Lists and objects are a wrong type; booleans are kept as text (``True``) and refused where a
    number is expected."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, False
    if isinstance(value, str):
        return value, False
    if isinstance(value, (list, dict, tuple, bytes)):
        return None, True
    try:
        if pd.isna(value):
            return None, False
    except (TypeError, ValueError):
        return None, True
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat(), False
    return _as_str(value), False


# Python's str.isspace() set and the control characters clean_text replaces, for RE2 (pyarrow)
_WS = r"[\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"


_CTRL = r"[\x{00}-\x{08}\x{0b}\x{0c}\x{0e}-\x{1f}\x{7f}]"


def strip_texts(arr: pa.Array) -> pa.Array:
    """``str.strip()`` over a string column (Unicode white space)."""
    return pc.utf8_trim_whitespace(arr)


# whitespace other than a single inner space: the rows whose whitespace needs folding
_WS_TO_FOLD = r"[\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]|  |^ | $"


# rows made only of characters that are NFC whatever follows or precedes them (checked against
# unicodedata: combining class 0, never the second half of a composition): ASCII, Latin-1,
# punctuation, CJK symbols (not the tone marks U+302A-302F), Hangul compatibility jamo and
# syllables, CJK ideographs, fullwidth forms, emoji. Korean reviews need no normalization pass.
_NFC_STABLE = (
    r"^[\x{20}-\x{7e}\x{a0}-\x{ff}\x{2010}-\x{2027}\x{3000}-\x{3029}\x{3030}-\x{303f}\x{3130}-\x{318f}"
    r"\x{ac00}-\x{d7a3}\x{4e00}-\x{9fff}\x{ff01}-\x{ff60}\x{1f300}-\x{1faff}]*$"
)


def _where(arr: pa.Array, mask: pa.Array, fn) -> pa.Array:
    """``fn`` applied to the rows of ``mask`` only (a column operation on a few rows is cheap)."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return arr
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask)))


def clean_texts(arr: pa.Array) -> pa.Array:
    """:func:`clean_text` over a string column: column operations on the rows that need each step,
    and Python only for the rows with markup (``<`` or ``&``)."""
    out = _where(arr, pc.match_substring_regex(arr, _CTRL), lambda a: pc.replace_substring_regex(a, _CTRL, " "))
    out = _where(
        out,
        pc.match_substring_regex(out, _WS_TO_FOLD),
        lambda a: pc.utf8_trim(pc.replace_substring_regex(a, f"{_WS}+", " "), " "),
    )
    out = _where(out, pc.invert(pc.match_substring_regex(out, _NFC_STABLE)), lambda a: pc.utf8_normalize(a, "NFC"))
    markup = pc.fill_null(pc.match_substring_regex(arr, "[<&]"), False)
    if pc.any(markup).as_py():
        fixed = [clean_text(v) for v in arr.filter(markup).to_pylist()]
        out = pc.replace_with_mask(out, markup, pa.array(fixed, pa.string()))
    return out


def clean_labels(arr: pa.Array, limit: int = 200) -> pa.Array:
    """Cleaned (``clean_text``, at most ``limit`` characters, empty -> NULL) by distinct value:
    names, categories and areas repeat on every row of a restaurant."""
    enc = pc.dictionary_encode(arr)
    values = [None if v is None else (clean_text(v)[:limit] or None) for v in enc.dictionary.to_pylist()]
    return pc.take(pa.array(values, pa.string()), enc.indices)
