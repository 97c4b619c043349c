"""Gateway API traffic for the canary: the HTTPRoute's backend weights, read, judged, edited.

``--traffic gateway``: the two colours are Services of their own (``SERVICE-blue``,
``SERVICE-green``) behind one Gateway API v1 ``HTTPRoute`` (``--route``, default the
service's name) whose rules list both as ``backendRefs`` with a ``weight`` each
(0..1,000,000, proportional; written explicitly). A step of ``p%`` writes the weights
``p`` and ``100 - p`` in every rule, byte-exact (the digits are spliced and the file
re-read to prove only they changed). Refused with exit 2 naming ``file:line``: no
such route, a rule without both backends, a weight that is missing, not a whole
number or outside 0..1,000,000.

After each sync the route's status must say ``Accepted`` and ``ResolvedRefs`` for
every parent, at the route's generation (:func:`route_ready`).

Reading and editing files only; no git, no network.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml import nodes

from gitops_guard import errors
from gitops_guard.manifests import tree, yamledit

MAX_WEIGHT = 1_000_000
HINT = (
    "Route the colours through one HTTPRoute whose rules list backendRefs SERVICE-blue and "
    "SERVICE-green, each with an explicit weight (0..1000000); see docs/canary.md."
)


@dataclass(frozen=True)
class WeightSite:
    """Where one backend's weight lives."""

    file: str
    doc: int
    rule: int
    ref: int
    line: int
    colour: str
    value: int


@dataclass(frozen=True)
class Route:
    """The HTTPRoute of a canary, as Git has it."""

    name: str
    file: str
    line: int
    weights: tuple[WeightSite, ...]

    def weight(self, colour: str) -> int:
        """The colour's weight in the first rule."""
        return next(w.value for w in self.weights if w.colour == colour)

    def share(self, colour: str) -> int:
        """The colour's share of the first rule's weights, in whole percent."""
        total = sum(w.value for w in self.weights if w.rule == self.weights[0].rule)
        return round(100 * self.weight(colour) / total) if total else 0


def _scalar(node: nodes.Node | None) -> str | None:
    return str(node.value) if isinstance(node, nodes.ScalarNode) else None


def read(
    root: Path,
    *,
    route: str,
    backends: Mapping[str, str],
    paths: Sequence[str] = (),
    prefix: str = "",
) -> Route:
    """The route ``route`` under ``root``; ``backends`` maps colour -> Service name."""
    problems: list[str] = []
    found: Route | None = None
    by_name = {v: k for k, v in backends.items()}
    for rel in tree.discover(root, paths):
        try:
            text = (root / rel).read_text(encoding="utf-8").removeprefix("\ufeff")
            docs = yamledit.compose(text)
        except (OSError, UnicodeDecodeError, yamledit.NotYaml):
            continue
        for index, doc in enumerate(docs):
            meta = yamledit.mapping_get(doc, "metadata")
            if (
                _scalar(yamledit.mapping_get(doc, "kind")) != "HTTPRoute"
                or _scalar(yamledit.mapping_get(meta, "name")) != route
            ):
                continue
            line = yamledit.line_of(doc) if doc is not None else 1
            where = f"{prefix}{rel}"
            rules = yamledit.mapping_get(yamledit.mapping_get(doc, "spec"), "rules")
            sites: list[WeightSite] = []
            if not isinstance(rules, nodes.SequenceNode) or not rules.value:
                problems.append(f"{where}:{line}: HTTPRoute {route} has no rules")
            for r, rule in enumerate(rules.value if isinstance(rules, nodes.SequenceNode) else []):
                refs = yamledit.mapping_get(rule, "backendRefs")
                seen: dict[str, WeightSite] = {}
                flagged: set[str] = set()
                items = refs.value if isinstance(refs, nodes.SequenceNode) else []
                for i, ref in enumerate(items):
                    colour = by_name.get(_scalar(yamledit.mapping_get(ref, "name")) or "")
                    if colour is None:
                        continue
                    weight = yamledit.mapping_get(ref, "weight")
                    ref_line = yamledit.line_of(weight if weight is not None else ref)
                    value = _scalar(weight)
                    if weight is None:
                        flagged.add(colour)
                        problems.append(
                            f"{where}:{ref_line}: backendRef {backends[colour]} has no weight; "
                            "write it explicitly"
                        )
                        continue
                    if (
                        value is None
                        or weight.tag != "tag:yaml.org,2002:int"
                        or not value.isdigit()
                        or int(value) > MAX_WEIGHT
                    ):
                        flagged.add(colour)
                        problems.append(
                            f"{where}:{ref_line}: backendRef {backends[colour]} weight "
                            f"{value!r} is not a whole number in 0..{MAX_WEIGHT}"
                        )
                        continue
                    seen[colour] = WeightSite(rel, index, r, i, ref_line, colour, int(value))
                lacking = [backends[c] for c in backends if c not in seen and c not in flagged]
                if lacking:
                    rule_line = yamledit.line_of(rule) if rule is not None else line
                    problems.append(
                        f"{where}:{rule_line}: rule {r + 1} of HTTPRoute {route} lacks the "
                        f"backend {', '.join(lacking)}: a canary route needs both colours"
                    )
                sites.extend(seen[c] for c in backends if c in seen)
            found = Route(route, rel, line, tuple(sites))
    if found is None and not problems:
        problems.append(f"{prefix}{paths[0] if paths else '.'}: no HTTPRoute {route}")
    if problems:
        first = problems[0].split(": ", 1)
        message = (
            first[1]
            if len(problems) == 1
            else f"the canary route has {len(problems)} problems:\n"
            + "\n".join(f"  {p}" for p in problems)
        )
        raise errors.InputError(message, source=first[0], hint=HINT)
    assert found is not None
    return found


def set_weights(base: Path, route: Route, weights: Mapping[str, int]) -> list[str]:
    """Write ``weights`` (colour -> weight) into every rule; the files written."""
    path = base / route.file
    text = path.read_text(encoding="utf-8")
    docs = yamledit.compose(text)
    edits: list[tuple[int, int, str]] = []
    for site in route.weights:
        rule = yamledit.item(
            yamledit.mapping_get(yamledit.mapping_get(docs[site.doc], "spec"), "rules"), site.rule
        )
        ref = yamledit.item(yamledit.mapping_get(rule, "backendRefs"), site.ref)
        node = yamledit.mapping_get(ref, "weight")
        assert isinstance(node, nodes.ScalarNode)
        wanted = str(weights[site.colour])
        if node.value != wanted:
            edits.append((int(node.start_mark.index), int(node.end_mark.index), wanted))
    if not edits:
        return []
    new = text
    for start, end, value in sorted(edits, reverse=True):
        new = new[:start] + value + new[end:]
    before: list[Any] = list(yaml.safe_load_all(text))
    after: list[Any] = list(yaml.safe_load_all(new))
    for site in route.weights:
        refs = before[site.doc]["spec"]["rules"][site.rule]["backendRefs"]
        refs[site.ref]["weight"] = weights[site.colour]
    if before != after:
        raise errors.GitopsGuardError(
            f"setting the weights of HTTPRoute {route.name} in {route.file} did not re-read "
            "as intended"
        )
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(new)
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return [route.file]


def route_ready(obj: Mapping[str, Any]) -> tuple[bool, bool, str]:
    """(ready, hopeless, message) from an HTTPRoute's status, per the Gateway API v1 CRD."""
    generation = int((obj.get("metadata") or {}).get("generation") or 0)
    parents = (obj.get("status") or {}).get("parents") or []
    if not parents:
        return False, False, "no Gateway has reported on the route yet"
    for parent in parents:
        conditions = {c.get("type"): c for c in parent.get("conditions") or []}
        for kind in ("Accepted", "ResolvedRefs"):
            cond = conditions.get(kind)
            if cond is None or int(cond.get("observedGeneration") or 0) < generation:
                return False, False, f"{kind} not yet reported for generation {generation}"
            if cond.get("status") != "True":
                return (
                    False,
                    True,
                    f"{kind} is {cond.get('status')} ({cond.get('reason')}): "
                    f"{cond.get('message', '')}".rstrip(": "),
                )
    return True, False, "the route is Accepted and its references resolved"
