"""One parsed page (or embed-code fragment) and what the rules share about it."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from ..models import Detection, Markup, Target
from ..platforms.base import Platform
from ._links import target_at_start
from ._scope import Scope
from ._survey import Survey, survey
from ._tree import STRING_CONTAINERS, Element, nearest

_HOST = re.compile(r"(?:https?:)?//([^/?#:\s]+)", re.IGNORECASE)

Found = tuple[Element, Detection]


def host_of(url: str) -> str | None:
    m = _HOST.match(url.strip())
    return m.group(1).lower().removeprefix("www.") if m else None


@dataclass
class Page:
    """The tree, the registry, and the elements already taken by an embed."""

    root: Element
    registry: tuple[Platform, ...]
    #: Whether only the article counts (False for embed code parsed on its own).
    scoped: bool
    #: The page's own site (from its canonical URL): links and frames to it are the site's
    #: navigation, teasers and own player, never an embedded post.
    own_host: str | None = None

    scope: Scope | None = field(init=False)
    #: The subtrees the rules read: the article region, or the whole page.
    walks: list[Element] = field(init=False)
    seen: Survey = field(init=False)
    facts: _Facts = field(init=False)
    #: Claimed elements and everything inside them.
    claimed: set[Element] = field(default_factory=set)
    _targets: dict[str, Target | None] = field(default_factory=dict)
    _named_targets: dict[str, Target | None] = field(default_factory=dict)
    _fallback_targets: dict[str, Target | None] = field(default_factory=dict)
    _containers: dict[Element, Element | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.scope = Scope(self.root) if self.scoped else None
        self.walks = self.scope.walks(self.root) if self.scope else [self.root]
        self.seen = survey(self.walks, self.registry, self.scope)
        self.facts = _facts(self.registry)

    def target(self, value: str) -> Target | None:
        """The post an attribute value or href *is*, unless it points at the page's own site."""
        if value not in self._targets:
            if self.own_host and host_of(value) == self.own_host:
                self._targets[value] = None
            else:
                self._targets[value] = target_at_start(value, self.registry)
        return self._targets[value]

    def named_target(self, value: str) -> Target | None:
        """``target(value)`` when it is a named platform's post, else None: the platforms after
        the last named one are not asked (they could only give an unnamed answer)."""
        facts = self.facts
        return self._target_of(value, facts.named_registry, facts.named, self._named_targets)

    def fallback_target(self, value: str) -> Target | None:
        """``target(value)`` when it is the post of a platform with screenshot fallbacks."""
        facts = self.facts
        return self._target_of(
            value, facts.fallback_registry, facts.fallbacks, self._fallback_targets
        )

    def _target_of(
        self,
        value: str,
        registry: tuple[Platform, ...],
        names: frozenset[str],
        cache: dict[str, Target | None],
    ) -> Target | None:
        if value not in cache:
            found = None
            if not (self.own_host and host_of(value) == self.own_host):
                found = target_at_start(value, registry)
            cache[value] = found if found and found.platform in names else None
        return cache[value]

    def id_platforms(self, tag: Element) -> list[Platform]:
        """The platforms, in registry order, one of whose embed-id attributes the tag has."""
        id_attrs = self.facts.id_attrs
        names = tag.keys()
        if id_attrs.keys().isdisjoint(names):
            return []
        present = {p.name for name in names for p in id_attrs.get(name, ())}
        return [p for p in self.registry if p.name in present] if present else []

    def in_container(self, tag: Element) -> bool:
        """``_tree.in_container``, each element's answer kept (a nest of thousands of
        ``<textarea>`` would walk up from each)."""
        parent = tag.getparent()
        return parent is not None and (
            nearest(parent, self._containers, _string_container) is not None
        )

    def content(self, tag: Element) -> bool:
        return self.scope is None or self.scope.contains(tag)

    def claim(self, tag: Element) -> None:
        if tag not in self.claimed:
            self.claimed.update(tag.iter())

    def is_claimed(self, tag: Element) -> bool:
        return tag in self.claimed


@dataclass(frozen=True)
class _Facts:
    """What the rules derive from a registry: the same for every page, so built once."""

    #: Platforms with an embed-id attribute, by attribute name.
    id_attrs: dict[str, tuple[Platform, ...]]
    #: The platforms with their own embed widget or hosts ("named", as against the generic
    #: video one), and those with screenshot fallbacks (an embed widget): each with the
    #: registry cut after the last of them.
    named: frozenset[str]
    fallbacks: frozenset[str]
    named_registry: tuple[Platform, ...]
    fallback_registry: tuple[Platform, ...]
    #: Each platform by its name (the first, should two share one).
    by_name: dict[str, Platform]


@functools.lru_cache(maxsize=16)
def _facts(registry: tuple[Platform, ...]) -> _Facts:
    id_attrs: dict[str, tuple[Platform, ...]] = {}
    for p in registry:
        for attr in p.embed_id_attrs:
            id_attrs[attr] = (*id_attrs.get(attr, ()), p)
    named = frozenset(p.name for p in registry if p.hosts or p.embed_classes or p.amp_markers)
    fallbacks = frozenset(p.name for p in registry if p.embed_classes or p.amp_markers)
    return _Facts(
        id_attrs=id_attrs,
        named=named,
        fallbacks=fallbacks,
        named_registry=_cut_after_last(registry, named),
        fallback_registry=_cut_after_last(registry, fallbacks),
        by_name={p.name: p for p in reversed(registry)},
    )


def _cut_after_last(registry: tuple[Platform, ...], names: frozenset[str]) -> tuple[Platform, ...]:
    """The registry up to its last platform in ``names``: asking the ones after it can only
    give a target outside ``names`` (or none), so an answer inside ``names`` is the same."""
    last = max((i for i, p in enumerate(registry) if p.name in names), default=-1)
    return registry[: last + 1]


def _string_container(node: Element) -> Element | None:
    return node if node.tag in STRING_CONTAINERS else None


def detection(target: Target, markup: Markup, **fields: object) -> Detection:
    return Detection(
        platform=target.platform,
        kind=target.kind,
        markup=markup,
        offset=0,
        url=target.url,
        id=target.id,
        **fields,  # type: ignore[arg-type]
    )
