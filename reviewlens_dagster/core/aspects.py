"""The aspect vocabulary shared by the sample data, the lexicon, prompts, strengths and evaluation.

Which words name each aspect lives in ``analysis/lexicon.py``.
"""

from __future__ import annotations

ASPECTS: tuple[str, ...] = ("맛", "양", "가격", "서비스", "청결", "분위기", "배달", "대기시간", "주차")
