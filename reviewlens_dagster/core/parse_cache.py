"""Parsed review files by content, so each file is parsed and validated once.

Every `reviews` run (one per changed restaurant when the sensor fires), every `rejected_reviews`
run and the sensor itself read the whole incoming folder. The cache maps the sha256 of a file's
bytes (plus its name, the text limit and the parser version) to what `read_review_file`
produced, stored as JSON; a changed byte, a renamed file or a new parser version is a miss.
Entries of files that left the folder are pruned after a full scan. A missing, unreadable or
corrupt entry is a miss (the file is parsed again), never an error.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from .ingest import FileResult, Rejection, file_fingerprint, read_review_file

log = logging.getLogger(__name__)

#: bump when read_review_file / validate_record change what they produce for the same bytes
PARSER_VERSION = "2026-11-26.2"  # Korean rating, date and relative-date notations
_SUFFIX = ".parsed.json"


def _encode(value):
    if isinstance(value, pd.Timestamp):
        return {"__timestamp__": value.isoformat()}
    return value


def _decode(value):
    if isinstance(value, dict) and "__timestamp__" in value:
        return pd.Timestamp(value["__timestamp__"])
    return value


class ParsedFileCache:
    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0
        self.seen: set[str] = set()

    def load(self, path: Path, source_name: str, max_text_chars: int = 5000) -> FileResult:
        """``read_review_file`` through the cache (the drop-in used by scan_folder and the sensor)."""
        key = self.key(path, source_name, max_text_chars)
        self.seen.add(key)
        result = self.get(key)
        if result is None:
            result = read_review_file(path, source_name, max_text_chars)
            try:
                self.put(key, result)
            except OSError as exc:  # a full disk must not stop ingestion: the next scan parses again
                log.warning("cannot write parse-cache entry for %s: %s", source_name, exc)
        return result

    @staticmethod
    def key(path: Path, source_name: str, max_text_chars: int) -> str:
        ident = json.dumps([file_fingerprint(path), source_name, max_text_chars, PARSER_VERSION], ensure_ascii=False)
        return hashlib.sha256(ident.encode("utf-8")).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}{_SUFFIX}"

    def get(self, key: str) -> FileResult | None:
        p = self._path(key)
        try:
            doc = json.loads(p.read_text(encoding="utf-8"))
            result = FileResult(
                doc["source_file"],
                [{k: _decode(v) for k, v in row.items()} for row in doc["rows"]],
                [Rejection(**r) for r in doc["rejections"]],
                doc.get("encoding"), doc.get("fatal"),
            )
        except FileNotFoundError:
            self.misses += 1
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:  # corrupt or foreign entry: parse again
            log.warning("ignoring unreadable parse-cache entry %s: %s", p, exc)
            self.misses += 1
            return None
        self.hits += 1
        return result

    def put(self, key: str, result: FileResult) -> None:
        """Atomic write (temp file + rename): concurrent writers of one key write the same content."""
        self.folder.mkdir(parents=True, exist_ok=True)
        doc = {
            "source_file": result.source_file,
            "rows": [{k: _encode(v) for k, v in row.items()} for row in result.rows],
            "rejections": [asdict(r) for r in result.rejections],
            "encoding": result.encoding, "fatal": result.fatal, "parser_version": PARSER_VERSION,
        }
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-", suffix=_SUFFIX)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(doc, fh, ensure_ascii=False)
            os.replace(tmp, self._path(key))
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def prune(self, keep: set[str]) -> int:
        """Delete entries whose key is not in ``keep``; returns how many were deleted."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for p in self.folder.glob(f"*{_SUFFIX}"):
            if p.name[: -len(_SUFFIX)] not in keep and not p.name.startswith(".tmp-"):
                p.unlink(missing_ok=True)
                removed += 1
        return removed
