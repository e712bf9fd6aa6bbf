"""Standard camera properties (INDI::CCD primary chip) (layer indi/).

Must not import protocol/, seestar/, devices/ or sim/.
"""

from __future__ import annotations

from collections.abc import Sequence

from indi_seestar.indi.model import (
    BlobMember,
    BlobVector,
    NumberVector,
    Perm,
    Rule,
    SwitchVector,
    TextVector,
)
from indi_seestar.indi.standard._build import (
    CONTROLS,
    GENERAL_INFO,
    IMAGE_INFO,
    IMAGE_SETTINGS,
    MAIN_CONTROL,
    OPTIONS,
    abort_button,
    choice,
    numbers,
    one_number,
    switches,
    texts,
)


def ccd_exposure(
    device: str, min_s: float = 0.01, max_s: float = 3600, value_s: float = 1.0
) -> NumberVector:
    """CCD_EXPOSURE: CCD_EXPOSURE_VALUE (s)."""
    member = one_number("CCD_EXPOSURE_VALUE", "Duration (s)", "%5.2f", min_s, max_s, 1.0, value_s)
    return numbers(device, "CCD_EXPOSURE", "Expose", MAIN_CONTROL, [member])


def ccd_abort_exposure(device: str) -> SwitchVector:
    """CCD_ABORT_EXPOSURE (AtMostOne button): ABORT."""
    return abort_button(device, "CCD_ABORT_EXPOSURE", "Abort", MAIN_CONTROL)


def ccd1(device: str) -> BlobVector:
    """CCD1 (ro BLOB) with the single element CCD1 (PHD2 requires both names)."""
    return BlobVector(device, "CCD1", "Image Data", IMAGE_INFO, [BlobMember("CCD1", "Image")])


def ccd_info(
    device: str,
    max_x_px: int,
    max_y_px: int,
    pixel_size_um: float,
    bits_per_pixel: int,
    pixel_size_x_um: float | None = None,
    pixel_size_y_um: float | None = None,
) -> NumberVector:
    """CCD_INFO (ro): CCD_MAX_X, CCD_MAX_Y, CCD_PIXEL_SIZE, CCD_PIXEL_SIZE_X, CCD_PIXEL_SIZE_Y,
    CCD_BITSPERPIXEL (in this order: clients read it by index)."""
    size_x = pixel_size_um if pixel_size_x_um is None else pixel_size_x_um
    size_y = pixel_size_um if pixel_size_y_um is None else pixel_size_y_um
    members = [
        one_number("CCD_MAX_X", "Max. Width", "%.f", 1, 16000, 0, max_x_px),
        one_number("CCD_MAX_Y", "Max. Height", "%.f", 1, 16000, 0, max_y_px),
        one_number("CCD_PIXEL_SIZE", "Pixel size (um)", "%.2f", 1, 40, 0, pixel_size_um),
        one_number("CCD_PIXEL_SIZE_X", "Pixel size X", "%.2f", 1, 40, 0, size_x),
        one_number("CCD_PIXEL_SIZE_Y", "Pixel size Y", "%.2f", 1, 40, 0, size_y),
        one_number("CCD_BITSPERPIXEL", "Bits per pixel", "%.f", 8, 64, 0, bits_per_pixel),
    ]
    return numbers(device, "CCD_INFO", "CCD Information", IMAGE_INFO, members, perm=Perm.RO)


def ccd_frame(device: str, width_px: int, height_px: int) -> NumberVector:
    """CCD_FRAME: X, Y, WIDTH, HEIGHT in unbinned pixels, full frame."""
    members = [
        one_number("X", "Left ", "%4.0f", 0, width_px - 1, 1, 0),
        one_number("Y", "Top", "%4.0f", 0, height_px - 1, 1, 0),
        one_number("WIDTH", "Width", "%4.0f", 1, width_px, 1, width_px),
        one_number("HEIGHT", "Height", "%4.0f", 1, height_px, 1, height_px),
    ]
    return numbers(device, "CCD_FRAME", "Frame", IMAGE_SETTINGS, members)


def ccd_binning(device: str, max_bin: int = 4) -> NumberVector:
    """CCD_BINNING: HOR_BIN, VER_BIN (1..max_bin)."""
    members = [
        one_number("HOR_BIN", "X", "%2.0f", 1, max_bin, 1, 1),
        one_number("VER_BIN", "Y", "%2.0f", 1, max_bin, 1, 1),
    ]
    return numbers(device, "CCD_BINNING", "Binning", IMAGE_SETTINGS, members)


FRAME_TYPES = (
    ("FRAME_LIGHT", "Light"),
    ("FRAME_BIAS", "Bias"),
    ("FRAME_DARK", "Dark"),
    ("FRAME_FLAT", "Flat"),
)


def ccd_frame_type(device: str) -> SwitchVector:
    """CCD_FRAME_TYPE: FRAME_LIGHT (On), FRAME_BIAS, FRAME_DARK, FRAME_FLAT."""
    return choice(device, "CCD_FRAME_TYPE", "Type", IMAGE_SETTINGS, FRAME_TYPES, 0)


def ccd_frame_reset(device: str) -> SwitchVector:
    """CCD_FRAME_RESET (wo): RESET."""
    return switches(
        device,
        "CCD_FRAME_RESET",
        "Frame Values",
        IMAGE_SETTINGS,
        Rule.ONE_OF_MANY,
        [("RESET", "Reset", False)],
        perm=Perm.WO,
        timeout_s=0,
    )


def ccd_cfa(device: str, cfa_type: str = "", offset_x: int = 0, offset_y: int = 0) -> TextVector:
    """CCD_CFA: CFA_OFFSET_X, CFA_OFFSET_Y, CFA_TYPE (RGGB/GRBG/GBRG/BGGR), in this order."""
    members = [
        ("CFA_OFFSET_X", "X Offset", str(offset_x)),
        ("CFA_OFFSET_Y", "Y Offset", str(offset_y)),
        ("CFA_TYPE", "Filter", cfa_type),
    ]
    return texts(device, "CCD_CFA", "Bayer Info", IMAGE_INFO, members)


def ccd_temperature(device: str, value_c: float = 0.0, *, perm: Perm = Perm.RO) -> NumberVector:
    """CCD_TEMPERATURE: CCD_TEMPERATURE_VALUE (deg C); ro for an uncooled sensor."""
    member = one_number("CCD_TEMPERATURE_VALUE", "Temperature (C)", "%5.2f", -50, 50, 0, value_c)
    return numbers(device, "CCD_TEMPERATURE", "Temperature", MAIN_CONTROL, [member], perm=perm)


def ccd_gain(
    device: str, min_gain: float, max_gain: float, step: float, value: float
) -> NumberVector:
    """CCD_GAIN: GAIN."""
    member = one_number("GAIN", "value", "%.f", min_gain, max_gain, step, value)
    return numbers(device, "CCD_GAIN", "Gain", MAIN_CONTROL, [member])


def ccd_controls_gain(
    device: str, min_gain: float, max_gain: float, step: float, value: float
) -> NumberVector:
    """CCD_CONTROLS with the one element Gain, as indi_asi_ccd names it (group "Controls")."""
    member = one_number("Gain", "Gain", "%g", min_gain, max_gain, step, value,
                        whole_numbers=True)  # shown as indi_asi_ccd does; the gain is whole
    return numbers(device, "CCD_CONTROLS", "Controls", CONTROLS, [member])


def ccd_compression(device: str) -> SwitchVector:
    """CCD_COMPRESSION: INDI_ENABLED "Enabled", INDI_DISABLED "Disabled" (On), as libindi."""
    options = [("INDI_ENABLED", "Enabled"), ("INDI_DISABLED", "Disabled")]
    return choice(device, "CCD_COMPRESSION", "Compression", IMAGE_SETTINGS, options, 1)


def ccd_capture_format(
    device: str, formats: Sequence[tuple[str, str]], current: int = 0
) -> SwitchVector:
    """CCD_CAPTURE_FORMAT: the driver's (name, label) formats; clients select by label."""
    return choice(device, "CCD_CAPTURE_FORMAT", "Format", IMAGE_SETTINGS, formats, current)


def ccd_transfer_format(device: str, native: bool = True) -> SwitchVector:
    """CCD_TRANSFER_FORMAT: FORMAT_FITS "FITS" (On)[, FORMAT_NATIVE "Native"]."""
    options = [("FORMAT_FITS", "FITS")] + ([("FORMAT_NATIVE", "Native")] if native else [])
    return choice(device, "CCD_TRANSFER_FORMAT", "Encode", IMAGE_SETTINGS, options, 0)


def upload_mode(device: str) -> SwitchVector:
    """UPLOAD_MODE: UPLOAD_CLIENT (On), UPLOAD_LOCAL, UPLOAD_BOTH."""
    options = [("UPLOAD_CLIENT", "Client"), ("UPLOAD_LOCAL", "Local"), ("UPLOAD_BOTH", "Both")]
    return choice(device, "UPLOAD_MODE", "Upload", OPTIONS, options, 0, timeout_s=0)


def upload_settings(device: str, upload_dir: str = "", prefix: str = "IMAGE_XXX") -> TextVector:
    """UPLOAD_SETTINGS: UPLOAD_DIR, UPLOAD_PREFIX (XXX -> index, ISO8601 -> time)."""
    members = [("UPLOAD_DIR", "Dir", upload_dir), ("UPLOAD_PREFIX", "Prefix", prefix)]
    return texts(device, "UPLOAD_SETTINGS", "Upload Settings", OPTIONS, members)


def ccd_file_path(device: str) -> TextVector:
    """CCD_FILE_PATH (ro): FILE_PATH of the last image saved on the server."""
    return texts(
        device, "CCD_FILE_PATH", "Filename", IMAGE_INFO, [("FILE_PATH", "Path", "")], perm=Perm.RO
    )


def fits_header(device: str) -> TextVector:
    """FITS_HEADER (wo): KEYWORD_NAME, KEYWORD_VALUE, KEYWORD_COMMENT (libindi >= 2.0.1), then
    FITS_OBSERVER, FITS_OBJECT (libindi 1.9, filled by name by KStars 3.6).

    One vector serves both client generations: KStars >= 3.7 writes elements 0-2 by index
    and needs at least 3 (ISD::Camera::setFITSHeaders); KStars 3.6 finds its elements by name
    and sends the whole vector. libindi 1.9's defaults were "Unknown"; ours are empty (unset).
    """
    members = [
        ("KEYWORD_NAME", "Name", ""),
        ("KEYWORD_VALUE", "Value", ""),
        ("KEYWORD_COMMENT", "Comment", ""),
        ("FITS_OBSERVER", "Observer", ""),
        ("FITS_OBJECT", "Object", ""),
    ]
    return texts(device, "FITS_HEADER", "FITS Header", GENERAL_INFO, members, perm=Perm.WO)


def scope_info(device: str, focal_length_mm: float = 0.0, aperture_mm: float = 0.0) -> NumberVector:
    """SCOPE_INFO: FOCAL_LENGTH, APERTURE (mm), in this order (Ekos writes by index)."""
    members = [
        one_number("FOCAL_LENGTH", "Focal Length (mm)", "%g", 0, 10000, 1, focal_length_mm),
        one_number("APERTURE", "Aperture (mm)", "%g", 0, 3000, 1, aperture_mm),
    ]
    return numbers(device, "SCOPE_INFO", "Scope", OPTIONS, members)
