"""Parser quality as the loghub benchmark measures it: grouping accuracy (GA) and parsing accuracy (PA).

GA (loghub's ``get_accuracy``, Zhu et al. ICSE-SEIP 2019): a message is correct when the
predicted group it landed in holds exactly the messages of its true group — no more, no
fewer — so splitting one event in two or merging two events costs every message involved.
PA (loghub-2.0, Jiang et al. ISSTA 2024): a message is correct when its predicted template
text equals the true one, after the same normalisation of both (``normalize_template``).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Sequence

from omniad.errors import DataError

_DELIMITERS = re.compile(r"(\s|,|!|;|:|=|\||\"|'|\[|\]|\(|\)|\{|\}|\.|-|\+|@|#|\$|%|&)")
_DIGITS = re.compile(r"^\d+$")
_WITH_VARIABLE = re.compile(r"^[^\s/]*<\*>[^\s/]*$")


def _check(truth: Sequence, predicted: Sequence, where: str) -> None:
    for name, value in (("truth", truth), ("predicted", predicted)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            raise DataError(f"{where}: {name} must be a sequence with one entry per message, got {type(value).__name__}")
    if len(truth) != len(predicted):
        raise DataError(
            f"{where}: {len(truth)} true and {len(predicted)} predicted entries; give one of each per message"
        )
    if not truth:
        raise DataError(f"{where}: no messages; accuracy of an empty log is undefined")


def grouping_accuracy(truth: Sequence[Hashable], predicted: Sequence[Hashable]) -> float:
    """Share of messages whose predicted group has exactly the members of their true group."""
    _check(truth, predicted, "grouping_accuracy")
    true_size = Counter(truth)
    members: dict[Hashable, list[Hashable]] = defaultdict(list)
    for t, p in zip(truth, predicted, strict=True):
        members[p].append(t)
    correct = 0
    for group in members.values():
        first = group[0]
        if len(group) == true_size[first] and all(t == first for t in group):
            correct += len(group)
    return correct / len(truth)


def normalize_template(template: str) -> str:
    """loghub-2.0's template correction, so ``blk_<*>``, ``<*>.<*>.<*>.<*>`` and ``<*>`` compare as variables.

    Rules (``correct_single_template``): collapse whitespace; split on delimiters; a token of
    digits is a variable; a token holding ``<*>`` (and no ``/``) is a variable; then repeated
    variables joined by ``.``, by nothing, or by ``:`` ``#`` ``/`` ``@`` become one.
    """
    if not isinstance(template, str):
        raise DataError(f"normalize_template: a template must be a str, got {type(template).__name__}")
    text = re.sub(r"\s+", " ", template.strip())
    tokens = _DELIMITERS.split(text)
    out = []
    for token in tokens:
        if _DIGITS.match(token) or (_WITH_VARIABLE.match(token) and token != "<*>/<*>"):
            token = "<*>"
        out.append(token)
    text = "".join(out)
    for joint in ("<*>.<*>", "<*><*>", "<*>:<*>", "<*>#<*>", "<*>/<*>", "<*>@<*>"):
        while joint in text:
            text = text.replace(joint, "<*>")
    return text


def parsing_accuracy(truth_templates: Sequence[str], predicted_templates: Sequence[str]) -> float:
    """Share of messages whose predicted template equals the true one after ``normalize_template``."""
    _check(truth_templates, predicted_templates, "parsing_accuracy")
    cache: dict[str, str] = {}

    def norm(t: str) -> str:
        v = cache.get(t)
        if v is None:
            v = cache[t] = normalize_template(t)
        return v

    correct = sum(norm(t) == norm(p) for t, p in zip(truth_templates, predicted_templates, strict=True))
    return correct / len(truth_templates)
