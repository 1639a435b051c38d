"""Where the ffmpeg binary is: every room that pipes audio through it asks here."""

from __future__ import annotations

import shutil


def ffmpeg_exe() -> str:
    """The ffmpeg binary: the imageio-ffmpeg wheel's, or the system's as a fallback."""
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError):
        system = shutil.which("ffmpeg")
        if system is None:  # a broken installation, not bad audio: retried, then failed
            raise RuntimeError("ffmpeg not found: install imageio-ffmpeg or ffmpeg") from None
        return system
