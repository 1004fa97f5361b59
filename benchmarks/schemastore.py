"""The SchemaStore corpus (``../shared/schemastore``): real-world schemas and their instances.

Shared by ``tests/test_schemastore.py`` and ``benchmarks/bench_realworld.py`` (benchmark
code: the package does not ship it). The corpus is looked up as
``<repo>/../shared/schemastore`` (or one folder further up, for a worktree);
``SATYA_ADAPT_SCHEMASTORE`` overrides it.

Cross-file references name other schemas of the corpus by URL
(``https://json.schemastore.org/<name>.json``) or by a relative name (``<name>.json``).
:meth:`Corpus.resources` gives each schema exactly the documents it reaches, transitively,
under every URI a reference may resolve to: the absolute URL against the schema's base and
the bare relative name (a draft-7 ``$ref`` makes its sibling ``$id`` ignored, so a relative
reference next to it resolves against no base). Passing the whole corpus to every schema
would serialise 39 MB per compile.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urljoin

__all__ = ["CORPUS", "Corpus", "find_corpus"]

ROOT = Path(__file__).resolve().parent.parent
#: Hosts under which SchemaStore serves its own schemas.
HOSTS = ("https://json.schemastore.org/", "https://www.schemastore.org/", "http://json.schemastore.org/")


def find_corpus() -> Path:
    """``$SATYA_ADAPT_SCHEMASTORE``, else the checkout's sibling ``shared/schemastore``."""
    env = os.environ.get("SATYA_ADAPT_SCHEMASTORE")
    if env:
        return Path(env)
    for parent in (ROOT.parent, ROOT.parent.parent):
        if (parent / "shared" / "schemastore").is_dir():
            return parent / "shared" / "schemastore"
    return ROOT.parent / "shared" / "schemastore"


CORPUS = find_corpus()


def _refs(doc: Any) -> Iterator[str]:
    """Every ``$ref`` string in ``doc`` (iteratively: schemas nest deeply)."""
    stack = [doc]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, sub in value.items():
                if key == "$ref" and isinstance(sub, str):
                    yield sub
                else:
                    stack.append(sub)
        elif isinstance(value, list):
            stack.extend(value)


class Corpus:
    """Schemas by name (the file stem), their resources and their instances."""

    def __init__(self, root: Path = CORPUS) -> None:
        self.root = root
        self.names = sorted(p.stem for p in (root / "schemas").glob("*.json"))

    def present(self) -> bool:
        return (self.root / "schemas").is_dir()

    @functools.cache  # noqa: B019 (one corpus per process)
    def schema(self, name: str) -> Any:
        with open(self.root / "schemas" / f"{name}.json", encoding="utf-8") as fh:
            return json.load(fh)

    def base_uri(self, name: str) -> str:
        """The URL SchemaStore serves ``name`` under (its retrieval URI)."""
        return f"https://json.schemastore.org/{name}.json"

    def _target(self, uri: str) -> str | None:
        """The corpus schema a reference's absolute document URI names, if any."""
        for host in HOSTS:
            if uri.startswith(host):
                stem = uri[len(host) :]
                stem = stem[:-5] if stem.endswith(".json") else stem
                return stem if stem in self._known else None
        return None

    @functools.cached_property
    def _known(self) -> frozenset[str]:
        return frozenset(self.names)

    @functools.cache  # noqa: B019
    def resources(self, name: str) -> dict[str, Any]:
        """URI -> document for every corpus schema ``name`` reaches through references."""
        out: dict[str, Any] = {}
        todo, seen = [name], {name}
        while todo:
            current = todo.pop()
            doc = self.schema(current)
            bases = {self.base_uri(current)}
            if isinstance(doc, dict):
                for key in ("$id", "id"):
                    if isinstance(doc.get(key), str) and "://" in doc[key]:
                        bases.add(doc[key])
            for ref in _refs(doc):
                part, _ = urldefrag(ref)
                if not part:
                    continue
                for base in sorted(bases):
                    target = self._target(urljoin(base, part))
                    if target is None:
                        continue
                    out[urljoin(base, part)] = self.schema(target)
                    if "://" not in part:
                        out[part] = self.schema(target)
                    if target not in seen:
                        seen.add(target)
                        todo.append(target)
        return out

    def retrieve(self, uri: str) -> Any:
        """A jsonschema-rs ``retriever``: corpus schemas only, nothing fetched."""
        target = self._target(uri) or self._target(urljoin("https://json.schemastore.org/", uri))
        if target is None:
            raise ValueError(f"not in the corpus: {uri}")
        return self.schema(target)

    def instances(self, name: str, kind: str) -> list[tuple[str, Any]]:
        """(file name, document) of ``valid`` or ``invalid`` instances of ``name``, sorted."""
        folder = self.root / kind / name
        if not folder.is_dir():
            return []
        out = []
        for path in sorted(folder.glob("*.json")):
            with open(path, encoding="utf-8") as fh:
                out.append((path.name, json.load(fh)))
        return out

    def with_instances(self) -> list[str]:
        """Names of schemas with at least one instance (valid or invalid)."""
        have = {p.name for kind in ("valid", "invalid") for p in (self.root / kind).iterdir() if p.is_dir()}
        return [n for n in self.names if n in have]
