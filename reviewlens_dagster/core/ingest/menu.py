"""The ordered items of a delivery-app export's menu cell, normalized to the names an owner recognizes.

Exports write the order as ``item/qty,item/qty``: ``양념치킨/1,콜라 1.25L/1``. Options come in
brackets, full-width or ASCII, sometimes nested, sometimes left unclosed, and hold commas of their
own (``후라이드(순살, 뼈 변경)/1``); sizes and counts are part of the written name (``콜라 1.25L``,
``떡볶이 2인분``, ``치킨 x2``). What the product counts is the dish: ``양념치킨``, ``콜라``, ``떡볶이``.

:func:`menu_items` splits the cell at the item separator outside brackets (an unclosed bracket
ends at the next ``/qty`` + separator, where exports end an item), then strips from each item
the options in brackets, the quantity suffix and sizes or counts written in the name. An item that
is nothing but an option or a size is dropped. Each dish is listed once per review, in order.
"""

from __future__ import annotations

import re

#: opening -> closing bracket, ASCII and full-width (what Korean exports use for options)
BRACKETS = {
    "(": ")",
    "[": "]",
    "{": "}",
    "（": "）",
    "［": "］",
    "【": "】",
    "「": "」",
    "『": "』",
    "〈": "〉",
    "<": ">",
}
_CLOSING = set(BRACKETS.values())

#: a size or a count written in an item's name: 1.25L, 500ml, 300g, 2인분, 2마리, 3조각, 2개, x2, *2, 2P
_SIZES = re.compile(
    r"(?<![가-힣A-Za-z])\d+(?:\.\d+)?\s*(?:ml|mL|ML|l|L|리터|g|kg|KG|인분|인|마리|조각|개입|개|판|p|P|pcs|ea|EA|"
    r"oz|cm|호|사이즈|size)(?![A-Za-z])|[xX×*]\s*\d+\b|\b\d+\s*[xX×*]"
)

#: what an item may still hold after stripping that is not a name: separators, dashes, stray brackets
_JUNK = re.compile(r"[\s\-_·•|:;/,+]+")


def _split_outside_brackets(cell: str, separator: str) -> tuple[list[str], bool]:
    """(items split at ``separator`` outside brackets, whether a bracket was left unclosed)."""
    items, depth, start, i = [], [], 0, 0
    while i < len(cell):
        ch = cell[i]
        if ch in BRACKETS:
            depth.append(BRACKETS[ch])
        elif ch in _CLOSING:
            if depth and depth[-1] == ch:
                depth.pop()
            elif ch in depth:  # a bracket closed out of order: close up to it
                while depth and depth.pop() != ch:
                    pass
        elif not depth and cell.startswith(separator, i):
            items.append(cell[start:i])
            start = i + len(separator)
            i = start
            continue
        i += 1
    items.append(cell[start:])
    return items, bool(depth)


def _strip_brackets(item: str) -> str:
    """The item without its bracketed options (nested ones too); an unclosed bracket's text to the end goes with it."""
    out, depth = [], []
    for ch in item:
        if ch in BRACKETS:
            depth.append(BRACKETS[ch])
        elif ch in _CLOSING and ch in depth:
            while depth and depth.pop() != ch:
                pass
        elif not depth and ch not in _CLOSING:
            out.append(ch)
    return "".join(out)


def normalize_item(item: str, quantity_separator: str = "/") -> str:
    """One ordered item's dish name: options, quantity suffix, sizes and counts stripped."""
    name = _strip_brackets(item)
    q = re.escape(quantity_separator)
    name = re.sub(rf"{q}\s*\d+\s*(?:개|EA|ea)?\s*$", "", name.strip())
    name = _SIZES.sub(" ", name)
    name = _JUNK.sub(" ", name).strip()
    return " ".join(name.split())


def menu_items(cell: str | None, item_separator: str = ",", quantity_separator: str = "/") -> list[str]:
    """The distinct dishes of a menu cell, in order (module docstring). Empty for an empty cell."""
    if cell is None:
        return []
    cell = str(cell).strip()
    if not cell:
        return []
    raw, unclosed = _split_outside_brackets(cell, item_separator)
    if unclosed:
        # an unclosed bracket swallowed what follows it: exports end an item with "/qty" + separator
        boundary = re.compile(rf"({re.escape(quantity_separator)}\s*\d+)\s*{re.escape(item_separator)}")
        raw = [piece for r in raw for piece in boundary.sub("\\1\x00", r).split("\x00")]
    names = (normalize_item(r, quantity_separator) for r in raw)
    return list(dict.fromkeys(n for n in names if n and not n.isdigit()))
