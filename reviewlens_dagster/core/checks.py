"""What an asset check found, computed in core and turned into a Dagster check result by the
shell (``defs/common.py: check_results``): one shape for every stage's checks."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    metadata: dict = field(default_factory=dict)
    #: metadata keys whose text is markdown (a table of examples)
    markdown: tuple[str, ...] = ()
