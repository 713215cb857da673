"""Still images as one-frame videos: recognised by content, measured from the header, decoded only once checked."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from sitewatch import errors
from sitewatch.video.limits import check_resolution

# The formats Pillow may claim a file as; anything else (its MPEG or SPIDER readers, say) goes to FFmpeg.
IMAGE_FORMATS = ("JPEG", "PNG", "BMP", "WEBP", "TIFF", "GIF")
ORIENTATION_TAG = 0x0112
# EXIF orientation -> the transpose that shows the picture upright (as PIL.ImageOps.exif_transpose does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# Pillow's readers fail with any of these on damaged data.
_DAMAGED = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError)


@dataclass(frozen=True)
class ImageHeader:
    """What an image's header says: its format, its size as displayed and its EXIF orientation."""

    format: str
    width: int
    height: int
    orientation: int


@contextmanager
def _opened(path: Path) -> Iterator[Image.Image]:
    # Pillow only warns between its bomb limit and twice that; sitewatch's own pixel limit decides instead.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path, formats=IMAGE_FORMATS) as img:
            yield img


def is_still_image(path: Path) -> bool:
    """True when the file's content (whatever its name) is a single picture; animated ones are videos."""
    try:
        with _opened(path) as img:
            return not getattr(img, "is_animated", False)
    except Image.DecompressionBombError:
        return True  # a picture, refused as far too large by read_header
    except (UnidentifiedImageError, *_DAMAGED):
        return False


def _orientation(img: Image.Image) -> int:
    # PNG's getexif() decodes every pixel to look for a trailing eXIf chunk: read only the header's EXIF.
    if img.format == "PNG" and "exif" not in img.info:
        return 1
    value = img.getexif().get(ORIENTATION_TAG, 1)
    return value if value in _UPRIGHT else 1


def read_header(path: Path, max_pixels: int) -> ImageHeader:
    """Format, display size and orientation from the header alone; refuse oversize pictures here."""
    try:
        with _opened(path) as img:
            width, height = img.size
            fmt = (img.format or path.suffix.lstrip(".")).lower()
            orientation = _orientation(img)
    except Image.DecompressionBombError as exc:
        raise errors.ResolutionTooLargeError(
            f"{path}: the image is far above the limit of {max_pixels:,} pixels per frame "
            "(raise SITEWATCH_MAX_PIXELS to allow it)"
        ) from exc
    except UnidentifiedImageError as exc:
        raise errors.NotAVideoError(f"{path}: not an image or video sitewatch can read") from exc
    except _DAMAGED as exc:
        raise errors.NotAVideoError(f"{path}: the image header is damaged ({exc})") from exc
    if orientation in (5, 6, 7, 8):
        width, height = height, width
    check_resolution(path, width, height, max_pixels)
    return ImageHeader(format=fmt, width=width, height=height, orientation=orientation)


def decode_image(path: Path, max_pixels: int) -> Image.Image:
    """The picture as upright RGB, decoded only after its header passed the size check."""
    header = read_header(path, max_pixels)
    try:
        with _opened(path) as img:
            img.load()
            rgb = img.convert("RGB")
    except _DAMAGED as exc:
        raise errors.NotAVideoError(f"{path}: the image is damaged and cannot be decoded ({exc})") from exc
    transpose = _UPRIGHT.get(header.orientation)
    return rgb.transpose(transpose) if transpose is not None else rgb
