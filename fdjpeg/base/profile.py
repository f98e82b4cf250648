"""The ``baseline-hw`` hardware profile: its name, limits, and the rules that an encoder's settings can
break (spec/hardware-profile.md). The validator judges whole files against it (validator/profile.py).
"""

from __future__ import annotations

from .layout import SUBSAMPLING
from .markers import MAX_SEGMENT_PAYLOAD

#: The hardware-safe profile's name, as ``encode(..., profile=...)`` and ``check --profile`` take it.
HARDWARE_PROFILE = "baseline-hw"

#: Largest total size of APPn payloads the hardware profile admits: one segment's worth. A
#: conservative fdjpeg choice (hardware parsers buffer the header), not a documented hardware limit.
HW_MAX_APP_BYTES = MAX_SEGMENT_PAYLOAD

HW_SUBSAMPLINGS = ("4:4:4", "4:2:2", "4:2:0")


def hardware_settings_problem(profile, rgb: bool, subsampling: str, app_segments) -> str | None:
    """Why ``encode`` settings fall outside the profile (a message naming the argument), or None.

    ``app_segments``: the complete APPn segments the encoder will write (EXIF, ICC chunks).
    """
    if not isinstance(profile, str) or profile != HARDWARE_PROFILE:
        return f"profile must be None or {HARDWARE_PROFILE!r}, got {profile!r}"
    if not rgb and subsampling != "4:4:4":
        return (
            f"subsampling={subsampling!r} on a grayscale image writes sampling factors "
            f"{'x'.join(map(str, SUBSAMPLING[subsampling]))}, outside profile {HARDWARE_PROFILE!r} "
            "(grayscale must be 1x1): leave subsampling out or pass '4:4:4'"
        )
    if rgb and subsampling not in HW_SUBSAMPLINGS:
        return (
            f"subsampling={subsampling!r} is outside profile {HARDWARE_PROFILE!r}: hardware decoders are "
            f"documented to take {', '.join(HW_SUBSAMPLINGS)} or grayscale (nvJPEG's hardware backend "
            "rejects 4:1:0 and 4:1:1; see spec/hardware-profile.md)"
        )
    app_bytes = sum(len(seg) - 4 for seg in app_segments)
    if app_bytes > HW_MAX_APP_BYTES:
        return (
            f"exif/icc_profile add {app_bytes} bytes of APPn data; profile {HARDWARE_PROFILE!r} allows at most "
            f"{HW_MAX_APP_BYTES} (one segment's worth; see spec/hardware-profile.md)"
        )
    return None
