"""The plain line beside the picture for patients (explorer.ui.page.picture_line)."""

from __future__ import annotations

from explorer.conditions.simulate import simulate
from explorer.content import reading_grade
from explorer.ui.page import picture_line


def test_a_picture_with_the_bladder_and_bowel_nerves_squeezed_says_so_calmly() -> None:
    """A massive central disc squeezes the sacral roots (Lavy 2009; GIRFT 2023): the calm summary
    beside it must not read as ordinary sciatica."""
    line = picture_line(simulate("herniation", {"level": "L4-L5", "zone": "central", "severity": "severe"}))
    assert "bladder" in line and "straight away" in line
    assert reading_grade(line.replace("**", "")) <= 8


def test_ordinary_sciatica_gets_no_emergency_sentence() -> None:
    line = picture_line(simulate("herniation", {"level": "L4-L5", "zone": "paracentral", "side": "left",
                                                "severity": "moderate"}))
    assert "bladder" not in line and "L5" in line
