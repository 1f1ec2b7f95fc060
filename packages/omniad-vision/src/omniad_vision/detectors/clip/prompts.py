"""The compositional prompt ensemble of WinCLIP: state words x templates (plain Python).

A single prompt such as "a photo of a damaged screw" is brittle; averaging the text
embeddings of every combination of a state phrase and a photo template gives one robust
"normal" and one robust "anomalous" direction. Lists as given in the WinCLIP paper's
appendix; ``{}`` is the object name, then the state phrase.
"""

from __future__ import annotations

NORMAL_STATES = (
    "{}",
    "flawless {}",
    "perfect {}",
    "unblemished {}",
    "{} without flaw",
    "{} without defect",
    "{} without damage",
)
ANOMALOUS_STATES = ("damaged {}", "{} with flaw", "{} with defect", "{} with damage")
TEMPLATES = tuple(
    f"a {adjective}photo of {article} {{}}{suffix}."
    for adjective, suffix in (
        ("cropped ", ""), ("close-up ", ""), ("bright ", ""), ("dark ", ""), ("jpeg corrupted ", ""),
        ("blurry ", ""), ("", ""), ("", " for visual inspection"), ("", " for anomaly detection"),
    )
    for article in ("a", "the")
) + tuple(f"a photo of {article} {size} {{}}." for size in ("small", "large") for article in ("a", "the"))


def prompt_ensemble(
    object_name: str,
    normal_states: tuple[str, ...] = NORMAL_STATES,
    anomalous_states: tuple[str, ...] = ANOMALOUS_STATES,
    templates: tuple[str, ...] = TEMPLATES,
) -> tuple[list[str], list[str]]:
    """(normal prompts, anomalous prompts): every state filled into every template."""

    def fill(states: tuple[str, ...]) -> list[str]:
        return [t.format(s.format(object_name)) for s in states for t in templates]

    return fill(normal_states), fill(anomalous_states)
