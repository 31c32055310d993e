"""The schema.org vocabulary, read from the npm package schema-dts (Google's typings of
every schema.org type and property, installed by `make setup` into node_modules, not
committed): which types exist, their parents, and the properties each may carry.
Tests check our JSON-LD against it, so a misspelt type or property fails."""

from __future__ import annotations

import re
from functools import cache

from yatri import PROJECT_ROOT

TYPINGS = PROJECT_ROOT / "node_modules" / "schema-dts" / "dist" / "schema.d.ts"
_BASE = re.compile(r"^interface (\w+)Base extends ([^{]+)\{$")
_LEAF = re.compile(r"^export interface (\w+)Leaf extends ([^{]+)\{$")
_PROPERTY = re.compile(r'^    "(\w+)"\??:')
_SCHEMA = "https://schema.org/"


class Vocabulary:
    def __init__(self, text: str) -> None:
        self.bases: dict[str, list[str]] = {}  # "TouristTripBase" -> ["TripBase"]
        self.properties: dict[str, set[str]] = {}  # "TripBase" -> {"itinerary", ...}
        self.types: dict[str, list[str]] = {}  # "TouristTrip" -> ["TouristTripBase"]
        current = None
        for line in text.splitlines():
            if match := _BASE.match(line):
                current = match[1] + "Base"
                self.bases[current] = _names(match[2])
                self.properties[current] = set()
            elif match := _LEAF.match(line):
                current = None
                self.types[match[1]] = _names(match[2])
            elif line.startswith("}"):
                current = None
            elif current and (match := _PROPERTY.match(line)):
                self.properties[current].add(match[1])
        self.enum_values = set(re.findall(r'"https://schema\.org/(\w+)"', text))

    def allowed(self, type_name: str) -> set[str]:
        """Every property a node of this type may have (its own and its ancestors')."""
        seen, stack, found = set(), list(self.types[type_name]), set()
        while stack:
            base = stack.pop()
            if base in seen or base not in self.properties:
                continue
            seen.add(base)
            found |= self.properties[base]
            stack.extend(self.bases[base])
        return found

    def is_a(self, type_name: str, ancestor: str) -> bool:
        seen, stack = set(), list(self.types.get(type_name, []))
        while stack:
            base = stack.pop()
            if base == ancestor + "Base":
                return True
            if base not in seen:
                seen.add(base)
                stack.extend(self.bases.get(base, []))
        return False

    def problems(self, node, where: str = "$") -> list[str]:
        """What in a JSON-LD node (and the nodes inside it) the vocabulary does not define."""
        if isinstance(node, list):
            return [p for n, item in enumerate(node) for p in self.problems(item, f"{where}[{n}]")]
        if isinstance(node, str):
            if node.startswith(_SCHEMA) and node[len(_SCHEMA):] not in self.enum_values | set(self.types):
                return [f"{where}: {node} is not a schema.org value"]
            return []
        if not isinstance(node, dict):
            return []
        type_name = node.get("@type")
        if type_name not in self.types:
            return [f"{where}: @type {type_name!r} is not a schema.org type"]
        allowed = self.allowed(type_name)
        found = [f"{where}: {type_name} has no property {key!r}" for key in node if not key.startswith("@") and key not in allowed]
        for key, value in node.items():
            if not key.startswith("@"):
                found += self.problems(value, f"{where}.{key}")
        return found


def _names(extends: str) -> list[str]:
    return re.findall(r"\b(\w+Base)\b", extends)


@cache
def vocabulary() -> Vocabulary:
    return Vocabulary(TYPINGS.read_text(encoding="utf-8"))
