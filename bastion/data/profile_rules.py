"""Rules learned from a version's training-data profile (stored by monitoring at registration).

A numeric feature's training range — from the profile's sorted sample — widened by
``tolerance`` of its span on each side; a categorical feature's categories, when training
saw no others. Each learned rule is named ``profile.<field>`` (its reason code).
"""

from __future__ import annotations

from bastion.data.rules import Rule
from bastion.monitoring import ReferenceProfile


def profile_rules(profile: ReferenceProfile, tolerance: float) -> tuple[Rule, ...]:
    rules: list[Rule] = []
    for feature in profile.features:
        name = f"profile.{feature.name}"
        if feature.kind == "numeric" and feature.sample:
            low, high = feature.sample[0], feature.sample[-1]
            pad = (high - low) * tolerance
            rules.append(Rule(name, feature.name, "range", low - pad, high + pad, learned=True))
        elif feature.kind == "categorical" and feature.categories:
            other = feature.counts[-2] if len(feature.counts) >= 2 else 0
            if other == 0:
                allowed = frozenset(feature.categories)
                rules.append(Rule(name, feature.name, "categories", allowed=allowed, learned=True))
    return tuple(rules)
