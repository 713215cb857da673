"""Make small test media with PyAV's encoders: normal, rotated, variable-rate, audio-only, damaged."""

from __future__ import annotations

import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

SHARED_VIDEOS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "videos"


def gradient_frame(i: int, width: int, height: int) -> np.ndarray:
    """A frame whose content encodes its number (a moving bar over a gradient)."""
    img = np.zeros((height, width, 3), dtype=np.uint8)
    img[..., 0] = np.linspace(0, 255, width, dtype=np.uint8)[None, :]
    img[..., 1] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
    x = (i * 4) % max(1, width - 8)
    img[:, x : x + 8, 2] = 255
    return img


def write_video(
    path: Path,
    frames: int = 60,
    fps: int = 30,
    width: int = 160,
    height: int = 96,
    codec: str = "libx264",
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    pts_seconds: list[float] | None = None,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
) -> Path:
    """Encode a synthetic clip; `pts_seconds` gives each frame's time for variable-rate video."""
    with av.open(str(path), "w", options=container_options or {}) as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.options = {"g": "12", **(options or {})}
        if pts_seconds is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(gradient_frame(i, width, height), format="rgb24")
            frame = frame.reformat(format=pix_fmt) if pix_fmt != "yuv420p" else frame
            if pts_seconds is not None:
                frame.pts = round(pts_seconds[i] * 1000)
                frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An AAC file with no video stream."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("aac", rate=16000)
        samples = int(16000 * seconds)
        t = np.arange(samples) / 16000
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
        for start in range(0, samples, 1024):
            frame = av.AudioFrame.from_ndarray(tone[:, start : start + 1024], format="fltp", layout="mono")
            frame.sample_rate = 16000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def decode_all(path: Path) -> list[np.ndarray]:
    """Every frame in presentation order, plainly, as the reference for exact sampling."""
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def vfr_times(seconds: float, seed: int = 0) -> list[float]:
    """Frame times (ms precision) of a phone-like variable-rate clip: 2 s at 30 fps, 2 s at 8 fps, 2 s of
    irregular gaps of 0.05-0.6 s, repeated."""
    rng = np.random.default_rng(seed)
    times: list[float] = []
    t = 0.0
    while t < seconds:
        times.append(round(t, 3))
        phase = int(t // 2) % 3
        t += (1 / 30, 1 / 8, float(rng.uniform(0.05, 0.6)))[phase]
    return times


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_png(path: Path, width: int, height: int, pixels: bool = True) -> Path:
    """A black RGB PNG of any size, compressed row by row (a 12000x12000 one is ~0.4 MB and costs no RAM);
    pixels=False writes the header alone."""
    with open(path, "wb") as fh:
        fh.write(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)))
        if pixels:
            packer, row = zlib.compressobj(9), bytes(1 + 3 * width)
            data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
            fh.write(_png_chunk(b"IDAT", data))
        fh.write(_png_chunk(b"IEND", b""))
    return path
