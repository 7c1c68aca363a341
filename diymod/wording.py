"""The words and the intensity rule that both feed (text markers) and imaging (pictures) show.

feed depends on imaging (it requests the image jobs), so what both apps share lives here, in the
project package, rather than in either app. The text-only wording (the rewrite note, cleaning
a warning, the "does it name the topic" check) is in `feed/wording.py`, which builds on this.
"""

from __future__ import annotations

# The one default warning: the overlay card's text whenever no better one is safe, and the
# line of the image warning card. It names no topic (CONTRACT.md section 4).
DEFAULT_WARNING = "You asked not to see some of this"
IMAGE_CARD_TITLE = "Sensitive content"

# Intensity -> (text intervention, image intervention). Text: CONTRACT.md section 4 (1-2 blur
# the words, 3 overlay with a warning, 4-5 rewrite); pictures mirror it (blur, warning card,
# cartoon). The highest intensity among the matching filters picks.
INTERVENTIONS_BY_INTENSITY: dict[int, tuple[str, str]] = {
    1: ("blur", "blur"),
    2: ("blur", "blur"),
    3: ("overlay", "warning"),
    4: ("rewrite", "cartoon"),
    5: ("rewrite", "cartoon"),
}


def interventions_for(intensity: int) -> tuple[str, str]:
    """The row of `intensity`; one outside 1-5 (filters hold 1-5) takes the nearest."""
    return INTERVENTIONS_BY_INTENSITY[min(max(intensity, 1), 5)]
