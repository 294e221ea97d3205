"""Screen layout: fit a USSD screen into 160 octets without losing what matters."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from afiya.domain.messaging.sms_encoding import fits_ussd, fold_to_gsm7

ELLIPSIS: Final = "..."


class LineKind(StrEnum):
    """How a screen line may give way when the screen is too long."""

    FIXED = "fixed"  # hints, prompts, dates, choices: shown whole
    SHRINK = "shrink"  # names: shortened with "...", removed as a last resort
    DROP = "drop"  # entries of a list: the last ones are dropped first


@dataclass(frozen=True, slots=True)
class Line:
    text: str
    kind: LineKind = LineKind.FIXED


_MIN_SHRUNK = 8  # characters kept of a shortened name, before "..."


def fit_lines(lines: Sequence[Line]) -> tuple[str, int]:
    """Join ``lines`` into one screen that fits USSD; also count the list entries kept.

    List entries go first (from the end), then names are shortened (longest first)
    and finally removed; if fixed lines alone are still too long the text is cut.
    """
    # A month name such as "août" would otherwise turn a French screen into UCS-2 and
    # cut its room from 182 to 80 characters; Arabic screens are left as they are.
    work = [Line(fold_to_gsm7(line.text), line.kind) for line in lines if line.text]

    def build() -> str:
        return fold_to_gsm7("\n".join(line.text for line in work))

    text = build()
    while not fits_ussd(text):
        drops = [i for i, line in enumerate(work) if line.kind is LineKind.DROP]
        shrinks = [i for i, line in enumerate(work) if line.kind is LineKind.SHRINK]
        if drops:
            del work[drops[-1]]
        elif shrinks:
            index = max(shrinks, key=lambda i: len(work[i].text))
            current = work[index].text
            if len(current) > _MIN_SHRUNK + len(ELLIPSIS):
                cut = max(len(current) - len(ELLIPSIS) - 4, _MIN_SHRUNK)
                work[index] = Line(current[:cut].rstrip() + ELLIPSIS, LineKind.SHRINK)
            else:
                del work[index]
        else:
            # Nothing may give way politely: cut rather than overflow the network.
            while text and not fits_ussd(text):
                text = text[:-1]
            return text, 0
        text = build()
    return text, sum(1 for line in work if line.kind is LineKind.DROP)


def fit_screen(head: Sequence[str], items: Sequence[str], footer: Sequence[str]) -> str:
    """Fixed ``head`` lines, droppable list ``items``, fixed ``footer`` lines, fitted."""
    lines = [
        *(Line(t) for t in head),
        *(Line(t, LineKind.DROP) for t in items),
        *(Line(t) for t in footer),
    ]
    return fit_lines(lines)[0]
