"""The knowledge base the engine uses: the national YAML release merged with the local
rules pharmacists stored through the API (``prescribing_local_rule``).

Local rules are parsed, validated and self-tested by the same loader as files in a local
directory (``YamlKnowledgeLoader(local_dirs=...)``): the stored documents are written to
a temporary directory for the load, so a rule added through the API obeys exactly the
rules of a rule added by hand. A built knowledge base is kept per set of rule versions:
the load (about 60 ms) happens once per change, not once per prescription.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from tempfile import TemporaryDirectory

from afiya.adapters.knowledge import FORMULARY_FILE, SAFETY_DIR, YamlKnowledgeLoader
from afiya.domain.prescribing.ports import LocalRule
from afiya.domain.prescribing.safety.knowledge_base import KnowledgeBase

_KEEP = 4


class CachedKnowledgeBuilder:
    """:class:`~afiya.domain.prescribing.ports.KnowledgeBuilder` over the YAML loader."""

    def __init__(self, safety_dir: Path = SAFETY_DIR, formulary_file: Path = FORMULARY_FILE):
        self._safety_dir = safety_dir
        self._formulary_file = formulary_file
        self._cache: OrderedDict[tuple[tuple[str, int, str], ...], KnowledgeBase] = OrderedDict()
        self._lock = threading.Lock()

    def build(self, local_rules: Sequence[LocalRule]) -> KnowledgeBase:
        ordered = sorted(local_rules, key=lambda r: r.rule_id)
        key = tuple((r.rule_id, r.version, str(r.id)) for r in ordered)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        kb = self._load(ordered)
        with self._lock:
            self._cache[key] = kb
            while len(self._cache) > _KEEP:
                self._cache.popitem(last=False)
        return kb

    def _load(self, rules: Sequence[LocalRule]) -> KnowledgeBase:
        if not rules:
            return YamlKnowledgeLoader(self._safety_dir, self._formulary_file).load()
        with TemporaryDirectory(prefix="afiya-local-rules-") as folder:
            for n, rule in enumerate(rules):
                # JSON is YAML: the loader reads the stored document as a local file
                name = f"{n:04d}-{rule.rule_type}.yaml"
                (Path(folder) / name).write_text(
                    json.dumps(rule.document, ensure_ascii=False), encoding="utf-8"
                )
            loader = YamlKnowledgeLoader(
                self._safety_dir, self._formulary_file, local_dirs=[Path(folder)]
            )
            return loader.load()
