"""docs/reference.md is generated from the registry (scripts/gen_reference.py) and current."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import netsonde
from netsonde import _core

ROOT = Path(__file__).resolve().parents[1]


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_reference", ROOT / "scripts" / "gen_reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_reference_page_is_current() -> None:
    page = ROOT / "docs" / "reference.md"
    assert page.read_text() == generator().render(), "run: python scripts/gen_reference.py"


def test_the_reference_page_lists_every_field_protocol_attribute_event_and_risk() -> None:
    text = generator().render()
    protocols, apps, attributes, events, risks = _core.registry()
    for name in netsonde.FIELD_NAMES:
        assert f"| `{name}` |" in text
    for _, name, _, _ in protocols:
        assert f"| {name} |" in text
    for _, name, _ in apps:
        assert f"| {name} |" in text
    for name, *_ in attributes:
        assert f"| `{name}` |" in text
    for name, *_ in events:
        assert f"| `{name}` |" in text
    for name, _ in risks:
        assert f"| `{name}` |" in text


def test_every_field_is_declared_with_a_known_type_and_a_description() -> None:
    assert [name for name, _, _ in _core.FIELDS] == list(netsonde.FIELD_NAMES)
    types = generator().FIELD_TYPES
    for name, kind, description in _core.FIELDS:
        assert kind in types, name
        assert description.strip(), name
