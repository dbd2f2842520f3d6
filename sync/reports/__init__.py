"""What organizers ask of the archive.

    missing     missing_report: past talks with no watchable recording, and why
    decisions   record_decision: an organizer's pin or reject, applied at once
"""
from .decisions import DecisionOutcome, record_decision
from .missing import missing_report

__all__ = ["DecisionOutcome", "missing_report", "record_decision"]
