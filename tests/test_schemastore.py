"""The real-world corpus: SchemaStore's schemas and their valid/invalid test instances.

Three claims, each per schema, each with its exceptions listed below by reason:

1. every schema compiles (``COMPILE_EXCEPTIONS``: look-around regexes, references to
   documents that are not in the corpus, a reference loop);
2. every instance in ``valid/`` is valid and every one in ``invalid/`` is invalid, through the
   dict path and the JSON path, which agree record by record (``INSTANCE_EXCEPTIONS``);
3. satya-adapt agrees with jsonschema-rs (``is_valid``, formats asserted) on every instance
   and on mutated copies of it (seeded: a key dropped, a value retyped, a number or string
   perturbed, an unknown key added, an array element duplicated or removed)
   (``DIFFERENTIAL_EXCEPTIONS``).

An exception that stops holding fails its test (the lists are exact, not allowances).
``conftest.py`` prints the counts (schemas compiled,
instances agreeing, differential agreement).

The corpus is ``<repo>/../shared/schemastore`` (``SATYA_ADAPT_SCHEMASTORE`` overrides it);
how references are registered is in ``benchmarks/schemastore.py``.
"""

from __future__ import annotations

import copy
import functools
import json
import random
import zlib
from typing import Any, Callable

import jsonschema_rs
import pytest
from schemastore import Corpus

from revisit_helpers import outcomes, remembering_every_visit
from satya_adapt import SchemaError, Validator

CORPUS = Corpus()
PRESENT = CORPUS.present()
#: Starts as conftest.SHARED_MISSING: the summary says loudly that these did not run, and
#: .ci/run (SATYA_ADAPT_REQUIRE_SHARED=1) fails.
MISSING = f"shared test data not found: SchemaStore corpus at {CORPUS.root} (set SATYA_ADAPT_SCHEMASTORE)"
needs_corpus = pytest.mark.skipif(not PRESENT, reason=MISSING)

# -- 1. schemas that do not compile, by reason -----------------------------------------------

_STUB = "the schema is a stub whose `$ref` names a document hosted outside SchemaStore, not in the corpus"
_EXTERNAL = "references a document hosted outside SchemaStore (not in the corpus)"
_LEFT_OUT = "references a SchemaStore schema left out of the corpus (see its README)"
_LOOP = (
    "`definitions/nodeTypeCloudifyAzureNodesComputeWindowsVirtualMachineProperties` holds an `allOf`"
    " whose first branch is a `$ref` to itself: a loop that never descends into the value, refused"
    " at compile time"
)

_STUB_SCHEMAS = """
block circleciconfig databricks-asset-bundles declarative-automation-bundles gitversion
golangci-lint haxelib ksp-avc ksp-ckan markdownlint neoload ogen problem_package_generators
renovate renovate-global-schema renovate-inherited-schema semgrep taskfile theme-v1 xunit-2.2
xunit-2.3 xunit.runner.schema
""".split()
_EXTERNAL_SCHEMAS = """
openapi-3.X openapi-arazzo-1.X openapi-overlay-1.X sarif-external-property-file-2.1.0 toolinfo.1.1.0
""".split()
_LEFT_OUT_SCHEMAS = """
grunt-jshint-task package podman-desktop-extension podman-desktop-extension-1.27 pre-commit-config
tsbuild
""".split()

#: Schema name -> why it does not compile (a `SchemaError` is expected).
COMPILE_EXCEPTIONS: dict[str, str] = {
    **dict.fromkeys(_STUB_SCHEMAS, _STUB),
    **dict.fromkeys(_EXTERNAL_SCHEMAS, _EXTERNAL),
    **dict.fromkeys(_LEFT_OUT_SCHEMAS, _LEFT_OUT),
    "cloudify": _LOOP,
}

#: The words each reason's `SchemaError` message must contain.
_MESSAGE = {
    _STUB: "cannot resolve `$ref`",
    _EXTERNAL: "cannot resolve `$ref`",
    _LEFT_OUT: "cannot resolve `$ref`",
    _LOOP: "loops back to itself",
}

# -- 2. instances whose expected verdict satya-adapt does not give, by reason ------------------

_DRAFT4_CONST = (
    "a draft-04 schema that uses `const` (a draft-6 keyword, an annotation under draft 4), so"
    " `oneOf` branches told apart only by `const` all match; jsonschema-rs agrees, and under"
    " draft 6 the instance is valid"
)
_NO_OFFSET = (
    "`endTime` `2018-12-14T10:00:00` has no UTC offset, so it is not an RFC 3339 `date-time`;"
    " jsonschema-rs agrees"
)

_FUNCTION_VALID = """
BlobTrigger EventHubTrigger ExternalFileTrigger ExternalTable FaceLocator GenericWebHook
GitHubCommenter GitHubWebHook HttpGET(CRUD) HttpPOST(CRUD) HttpPUT(CRUD) HttpTrigger ImageResizer
Kusto ManualTrigger MySql QueueTrigger SasToken ScheduledMail SendGrid ServiceBusQueueTrigger
ServiceBusTopicTrigger Sql TimerTrigger function
""".split()

_KEY_BOM = (
    "the file's first key is `\\ufeffversion` (a byte order mark inside the key, left by a"
    " conversion), so the required `version` is missing; jsonschema-rs agrees"
)

#: ``<schema>/<valid|invalid>/<file>`` -> why satya-adapt's verdict differs from the folder's.
INSTANCE_EXCEPTIONS: dict[str, str] = {
    **{f"function/valid/{f}.json": _DRAFT4_CONST for f in _FUNCTION_VALID},
    "web-manifest/valid/W3C Example 1.json": _DRAFT4_CONST,
    "es6importsorterrc/valid/es6importsorterrc-test.json": _DRAFT4_CONST,
    "webjob-publish-settings/valid/scheduled.json": _NO_OFFSET,
    **{f"venvironment-schema-v{v}/valid/unicode-1.json": _KEY_BOM for v in ("2.2.0", "3.2.0", "4.0.0")},
}

# -- 3. differential disagreements with jsonschema-rs, by reason -------------------------------

_CONTENT = (
    "jsonschema-rs asserts `contentMediaType: application/json` on `createOptions` (an empty"
    " string); satya-adapt reads `content*` as annotations, as drafts 7 and later allow"
)
_UUID_DRAFT7 = (
    "`uuid` is a format of 2019-09 and later: jsonschema-rs ignores it under draft 7, satya-adapt"
    " asserts it in every draft (the mutation broke a UUID)"
)
_RS_URI = "jsonschema-rs refuses a `$ref` whose fragment holds `<`/`>` (an invalid URI reference)"
_RS_EAGER = (
    "jsonschema-rs resolves every reference of `base.json`, including one to `osi-license`, which"
    " is not in the corpus; satya-adapt resolves only the references it reaches"
)

#: Schemas jsonschema-rs does not compile (satya-adapt does): no differential for them.
REFERENCE_EXCEPTIONS: dict[str, str] = {
    "vector": _RS_URI,
    "vega-lite": _RS_URI,
    "clasp": _RS_EAGER,
    "base-04": _RS_EAGER,
}

_AZURE = "azure-iot-edge-deployment-template-1.0/valid/deployment.template.json"

#: Record id (``<schema>/<kind>/<file>`` plus ``~<mutation>`` for a mutated copy) -> why the
#: verdicts of satya-adapt and jsonschema-rs differ.
DIFFERENTIAL_EXCEPTIONS: dict[str, str] = {
    **{f"{_AZURE}{m}": _CONTENT for m in ("", "~drop-key", "~number", "~string", "~unknown-key", "~array")},
}

# -- helpers ----------------------------------------------------------------------------------


@functools.cache
def _validator(name: str) -> Validator:
    return Validator(CORPUS.schema(name), adapt=False, resources=CORPUS.resources(name))


@functools.cache
def _reference(name: str) -> Any:
    return jsonschema_rs.validator_for(
        CORPUS.schema(name), validate_formats=True, retriever=CORPUS.retrieve, base_uri=CORPUS.base_uri(name)
    )


def _instances(name: str) -> list[tuple[str, Any, bool]]:
    """(record id, document, expected verdict) of every instance of ``name``."""
    return [
        (f"{name}/{kind}/{file}", doc, kind == "valid")
        for kind in ("valid", "invalid")
        for file, doc in CORPUS.instances(name, kind)
    ]


def _verdicts(v: Validator, docs: list[Any]) -> list[bool]:
    """Verdicts through the dict path, after checking the JSON path gives the same errors,
    and that the verdicts alone (``errors=False``, decided by the fused walk for most failing
    JSON records) are the same ones."""
    by_dict = v.validate_batch(docs)
    text = json.dumps(docs).encode()
    by_json = v.validate_json(text)
    assert by_json.valid == by_dict.valid
    assert v.validate_json(text, errors=False).valid == by_dict.valid
    lines = b"".join(json.dumps(d).encode() + b"\n" for d in docs)
    assert v.validate_ndjson(lines, errors=False).valid == by_dict.valid
    assert [(e.index, e.path, e.keyword, e.message) for e in by_json.errors] == [
        (e.index, e.path, e.keyword, e.message) for e in by_dict.errors
    ]
    return list(by_dict.valid)


# -- mutations --------------------------------------------------------------------------------

MUTATIONS = ("drop-key", "retype", "number", "string", "unknown-key", "array")
#: Spots (nodes) of a document considered for a mutation.
MAX_SPOTS = 10_000


def _spots(doc: Any) -> list[tuple[tuple[Any, ...], Any]]:
    """(path, value) of the nodes of ``doc``, the root first (iteratively)."""
    out: list[tuple[tuple[Any, ...], Any]] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), doc)]
    while stack and len(out) < MAX_SPOTS:
        path, value = stack.pop()
        out.append((path, value))
        if isinstance(value, dict):
            stack.extend((path + (k,), v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((path + (i,), v) for i, v in enumerate(value))
    return out


def _replaced(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(doc)
    at = out
    for token in path[:-1]:
        at = at[token]
    at[path[-1]] = value
    return out


def _retyped(value: Any) -> Any:
    """A value of another JSON type."""
    if isinstance(value, bool):
        return "true" if value else 0
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return 7 if value else None
    if value is None:
        return 0
    if isinstance(value, list):
        return {"0": value[0]} if value else {}
    return list(value.values())[:2]


def mutate(doc: Any, kind: str, rng: random.Random) -> Any:
    """``doc`` with one change of ``kind`` at a spot ``rng`` picks, or ``None`` when no spot fits."""
    spots = _spots(doc)
    fits: dict[str, Callable[[tuple[Any, ...], Any], bool]] = {
        "drop-key": lambda p, v: isinstance(v, dict) and bool(v),
        "retype": lambda p, v: bool(p),
        "number": lambda p, v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "string": lambda p, v: isinstance(v, str),
        "unknown-key": lambda p, v: isinstance(v, dict),
        "array": lambda p, v: isinstance(v, list) and bool(v),
    }
    candidates = [(p, v) for p, v in spots if fits[kind](p, v)]
    if not candidates:
        return None
    path, value = rng.choice(candidates)
    if kind == "drop-key":
        value = dict(value)
        del value[rng.choice(sorted(value))]
    elif kind == "retype":
        value = _retyped(value)
    elif kind == "number":
        value = rng.choice([-value - 1, value + 1, value * 1000 + 7, value + 0.5])
    elif kind == "string":
        options = ["", value + " x", (value or "s") * 3, value.upper(), "-" + value]
        value = rng.choice([o for o in options if o != value])
    elif kind == "unknown-key":
        value = {**value, "zz-unknown-key": rng.choice([1, "x", None, [], {}])}
    else:
        value = value + [copy.deepcopy(value[0])] if rng.random() < 0.5 else value[:-1]
    return _replaced(doc, path, value)


def mutants(record_id: str, doc: Any) -> list[tuple[str, Any]]:
    """One mutated copy of ``doc`` per mutation that fits, seeded by the record id."""
    rng = random.Random(zlib.crc32(record_id.encode()))
    out = []
    for kind in MUTATIONS:
        changed = mutate(doc, kind, rng)
        if changed is not None:
            out.append((f"{record_id}~{kind}", changed))
    return out


# -- tests ------------------------------------------------------------------------------------

NAMES = CORPUS.names if PRESENT else []
WITH_INSTANCES = CORPUS.with_instances() if PRESENT else []


@needs_corpus
def test_corpus_is_present_and_the_lists_name_real_entries() -> None:
    assert len(NAMES) == 925
    assert len(WITH_INSTANCES) == 669
    assert set(COMPILE_EXCEPTIONS) <= set(NAMES)
    assert set(REFERENCE_EXCEPTIONS) <= set(NAMES) - set(COMPILE_EXCEPTIONS)
    known = {rid for n in WITH_INSTANCES for rid, _, _ in _instances(n)}
    assert set(INSTANCE_EXCEPTIONS) <= known
    assert {rid.split("~")[0] for rid in DIFFERENTIAL_EXCEPTIONS} <= known


@needs_corpus
@pytest.mark.parametrize("name", NAMES)
def test_schema_compiles(name: str, record_property: Any) -> None:
    reason = COMPILE_EXCEPTIONS.get(name)
    if reason is None:
        _validator(name)
        record_property("schemastore:compiled", 1)
        return
    with pytest.raises(SchemaError) as info:
        _validator(name)
    assert _MESSAGE[reason] in str(info.value), f"{name}: listed as {reason!r}, raised {info.value}"
    record_property("schemastore:compile exceptions", 1)


@needs_corpus
@pytest.mark.parametrize("name", WITH_INSTANCES)
def test_instances_get_their_expected_verdict(name: str, record_property: Any) -> None:
    if name in COMPILE_EXCEPTIONS:
        pytest.skip(f"the schema does not compile: {COMPILE_EXCEPTIONS[name]}")
    cases = _instances(name)
    got = _verdicts(_validator(name), [doc for _, doc, _ in cases])
    wrong = {rid for (rid, _, want), ok in zip(cases, got) if ok != want}
    listed = {rid for rid in INSTANCE_EXCEPTIONS if rid.startswith(f"{name}/")}
    assert wrong == listed, f"unexpected: {sorted(wrong - listed)}; listed but now right: {sorted(listed - wrong)}"
    record_property("schemastore:instances", len(cases))
    record_property("schemastore:instances agreeing", len(cases) - len(wrong))


@needs_corpus
@pytest.mark.parametrize("name", WITH_INSTANCES)
def test_agrees_with_jsonschema_rs_on_instances_and_mutated_copies(name: str, record_property: Any) -> None:
    if name in COMPILE_EXCEPTIONS or name in REFERENCE_EXCEPTIONS:
        reason = COMPILE_EXCEPTIONS.get(name) or REFERENCE_EXCEPTIONS[name]
        pytest.skip(f"no differential: {reason}")
    records: list[tuple[str, Any]] = []
    for rid, doc, _ in _instances(name):
        records.append((rid, doc))
        records.extend(mutants(rid, doc))
    ours = _verdicts(_validator(name), [doc for _, doc in records])
    reference = _reference(name)
    differ = {rid for (rid, doc), ok in zip(records, ours) if reference.is_valid(doc) != ok}
    listed = {rid for rid in DIFFERENTIAL_EXCEPTIONS if rid.startswith(f"{name}/")}
    assert differ == listed, f"unexpected: {sorted(differ - listed)}; listed but now agreeing: {sorted(listed - differ)}"
    record_property("schemastore:differential records", len(records))
    record_property("schemastore:differential agreeing", len(records) - len(differ))


@needs_corpus
@pytest.mark.parametrize("name", WITH_INSTANCES)
def test_remembering_every_visit_changes_no_outcome(name: str) -> None:
    # A walk remembers the verdicts of shared nodes only past thousands of visits in one
    # record: compiled to remember all of them, the corpus must give the same outcomes.
    if name in COMPILE_EXCEPTIONS:
        pytest.skip(f"does not compile: {COMPILE_EXCEPTIONS[name]}")
    docs = []
    for rid, doc, _ in _instances(name):
        docs.append(doc)
        docs.extend(doc for _, doc in mutants(rid, doc))
    every = remembering_every_visit(
        lambda: Validator(CORPUS.schema(name), adapt=False, resources=CORPUS.resources(name))
    )
    assert outcomes(every, docs) == outcomes(_validator(name), docs)


def test_mutations_are_deterministic_and_change_the_document() -> None:
    doc = {"name": "app", "port": 80, "tags": ["a", "b"], "nested": {"on": True}}
    first, second = mutants("x/valid/a.json", doc), mutants("x/valid/a.json", doc)
    assert first == second
    assert [rid for rid, _ in first] == [f"x/valid/a.json~{m}" for m in MUTATIONS]
    assert all(changed != doc for _, changed in first)
    assert doc == {"name": "app", "port": 80, "tags": ["a", "b"], "nested": {"on": True}}
    assert mutate({}, "drop-key", random.Random(0)) is None
    assert mutate([], "array", random.Random(0)) is None
    assert mutate({"a": 1}, "unknown-key", random.Random(0)) is not None
