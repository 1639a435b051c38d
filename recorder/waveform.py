"""The waveform document the player draws: peaks per channel, labelled by speaker."""

from __future__ import annotations

from recorder.audio import PEAK_SCALE, PEAKS_PER_SECOND, AudioReport


def waveform_document(report: AudioReport, channel_layout: str) -> dict[str, object]:
    """Peaks per channel, labelled agent/customer when the layout says which is which."""
    if report.channels == 2 and channel_layout in ("agent-left", "agent-right"):
        roles = ["agent", "customer"] if channel_layout == "agent-left" else ["customer", "agent"]
    else:
        roles = ["mixed"] if report.channels == 1 else ["left", "right"]
    return {
        "peaks_per_second": PEAKS_PER_SECOND,
        "scale": PEAK_SCALE,
        "channels": [
            {"role": role, "peaks": peaks} for role, peaks in zip(roles, report.peaks, strict=True)
        ],
    }
