"""Decode the frames of a plan with PyAV into RGB arrays, streaming, threaded, one frame at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np

from sitewatch import errors
from sitewatch.video.image import decode_image, is_still_image
from sitewatch.video.limits import DEFAULT_MAX_PIXELS, check_resolution
from sitewatch.video.probe import check_file, nominal_fps, open_container, scan_frames, ticks_per_frame, video_stream
from sitewatch.video.sample import FramePlan

log = logging.getLogger(__name__)

# In nearest mode, a gap longer than this is crossed by seeking rather than by decoding through it.
SEEK_GAP_S = 4.0
# Non-reference frames are skipped while decoding towards a target until this close to it.
SKIP_MARGIN_S = 0.5
# FFmpeg's flag for container formats without timestamps (raw elementary streams).
AVFMT_NOTIMESTAMPS = 0x0080
# Exact plans hold the stream's own timestamps, so only float rounding separates them from a frame's.
EXACT_TOLERANCE_S = 1e-4


@dataclass(frozen=True)
class Frame:
    """One decoded frame: its position in the plan, its time in seconds and RGB pixels (H, W, 3)."""

    index: int
    time_s: float
    image: np.ndarray


@dataclass(frozen=True)
class Size:
    """How big decoded frames should be: an exact (width, height), or a bound on one side."""

    width: int | None = None
    height: int | None = None
    max_side: int | None = None
    short_side: int | None = None

    def resolve(self, width: int, height: int) -> tuple[int, int]:
        """Output (width, height) for a source of display size width x height; never upscales a bound."""
        if self.width and self.height:
            return self.width, self.height
        scale = 1.0
        if self.max_side:
            scale = min(1.0, self.max_side / max(width, height))
        elif self.short_side:
            scale = self.short_side / min(width, height)
        # Even sizes keep swscale on its fast paths and video encoders happy.
        return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def _rotate(image: np.ndarray, rotation: int) -> np.ndarray:
    # FFmpeg's display rotation is counter-clockwise, as is np.rot90 with positive k.
    return np.ascontiguousarray(np.rot90(image, k=(rotation // 90) % 4)) if rotation % 360 else image


@dataclass
class FrameReader:
    """Iterate over the frames of `plan`; after iteration `warnings` and `read_until_s` tell what could be read.

    `approximate` (for fixed-rate plans feeding a detector) never decodes frames that no other frame
    refers to, so a target may get a neighbour one or two frames away, at a fraction of the cost. Where
    such frames are so far apart that two targets get the same picture (an encoder that refers to one
    frame in ten: a detector reading 6 frames a second would see every other one twice), the first target
    whose picture comes more than 1.5 frames late, or is the one the last target got, turns that off: every
    frame near a target is decoded from the next target on.
    """

    path: str | Path
    plan: FramePlan
    size: Size = field(default_factory=Size)
    max_pixels: int = DEFAULT_MAX_PIXELS
    threads: int = 0
    approximate: bool = False
    warnings: list[str] = field(default_factory=list)
    frames_read: int = 0
    last_time_s: float = 0.0
    frame_s: float = 0.0  # the stream's nominal frame duration, once it is open

    @property
    def read_until_s(self) -> float:
        """How far into the video frames were read: the last one read stands for a frame or a plan step."""
        return self.last_time_s + max(self.plan.step_s, self.frame_s) if self.frames_read else 0.0

    def __iter__(self) -> Iterator[Frame]:
        p = check_file(self.path)
        if not self.plan.times_s:
            return
        source = self._image_frames(p) if is_still_image(p) else self._video_frames(p)
        try:
            for frame in source:
                self.frames_read += 1
                self.last_time_s = frame.time_s
                yield frame
        except av.error.FFmpegError as exc:
            # Damage the cursor did not expect (in seeking, demuxing or converting) ends the read like a truncation.
            if not self.frames_read:
                raise errors.NoFramesError(f"{p}: no frame could be decoded ({exc.strerror or exc})") from exc
            self.warnings.append(f"{p.name}: damaged after {self.last_time_s:.2f} s ({exc.strerror or exc})")
        missing = len(self.plan) - self.frames_read
        if missing > 0:
            self.warnings.append(
                f"{p.name}: {missing} of {len(self.plan)} planned frames could not be read "
                f"(the readable video ends near {self.last_time_s:.2f} s; the file may be truncated)"
            )

    def _image_frames(self, p: Path) -> Iterator[Frame]:
        from PIL import Image

        img = decode_image(p, self.max_pixels)
        w, h = self.size.resolve(img.width, img.height)
        if (w, h) != img.size:
            img = img.resize((w, h), Image.Resampling.BILINEAR)
        pixels = np.asarray(img)
        for i, t in enumerate(self.plan.times_s):
            yield Frame(index=i, time_s=t, image=pixels)

    def _video_frames(self, p: Path) -> Iterator[Frame]:
        with open_container(p) as container:
            stream = video_stream(container, p)
            ctx = stream.codec_context
            check_resolution(p, ctx.width, ctx.height, self.max_pixels)
            ctx.thread_type = "AUTO"
            ctx.thread_count = self.threads
            cursor = _Cursor(container, stream, p, self.warnings, skip_nonref=self.approximate)
            self.frame_s = 2 * cursor.half_frame
            size = self.size

            def convert(frame: av.VideoFrame) -> np.ndarray:
                # Rotation is display metadata carried by every frame, so no extra decode is needed to learn it.
                rotation = int(frame.rotation or 0) % 360
                turned = rotation in (90, 270)
                dw, dh = (frame.height, frame.width) if turned else (frame.width, frame.height)
                out_w, out_h = size.resolve(dw, dh)
                coded_w, coded_h = (out_h, out_w) if turned else (out_w, out_h)
                rgb = frame.reformat(width=coded_w, height=coded_h, format="rgb24", interpolation="AREA")
                return _rotate(rgb.to_ndarray(), rotation)

            yield from self._select(cursor, convert)

    def _select(self, cursor: _Cursor, convert) -> Iterator[Frame]:
        mode = self.plan.mode
        keyframes = scan_frames(cursor.path).keyframes_s if mode == "exact" else None
        last_time: float | None = None
        last_pixels: np.ndarray | None = None
        for i, t in enumerate(self.plan.times_s):
            if last_pixels is not None and last_time is not None and abs(t - last_time) < 1e-6:
                yield Frame(index=i, time_s=last_time, image=last_pixels)
                continue
            if mode == "keyframe":
                picked = cursor.keyframe_at(t)
            elif mode == "exact":
                picked = cursor.exact(t, keyframes)
            else:
                picked = cursor.nearest(t)
            if picked is None:
                return
            picked_s = cursor.time_of(picked)
            if cursor.skip_nonref and (picked_s - t > 3 * cursor.half_frame or picked_s == last_time):
                cursor.decode_near_targets()  # this target keeps its picture; the next ones will not
            if last_pixels is None or picked_s != last_time:
                last_time, last_pixels = picked_s, convert(picked)
            yield Frame(index=i, time_s=last_time, image=last_pixels)


class _Cursor:
    """A decoder position that moves forward by decoding and jumps by seeking, whichever is cheaper."""

    def __init__(
        self,
        container: av.container.InputContainer,
        stream,
        path: Path,
        warnings: list[str],
        skip_nonref: bool = False,
    ):
        # Raw elementary streams (.h264) have no timestamps to seek by (a failed seek leaves FFmpeg's
        # demuxer unusable), so they are decoded front to back, every frame: their frames' times are
        # counted, and a skipped frame would shift every later one.
        self.seekable = not container.format.flags & AVFMT_NOTIMESTAMPS
        self.skip_nonref = skip_nonref and self.seekable
        if self.skip_nonref:
            stream.codec_context.skip_frame = "NONREF"
        self.container = container
        self.stream = stream
        self.path = path
        self.warnings = warnings
        self.tb = float(stream.time_base)
        self.start = stream.start_time or 0
        self.half_frame = 0.5 / nominal_fps(stream)
        self.tick = ticks_per_frame(stream)
        self.frames: Iterator[av.VideoFrame] | None = None
        self.previous: av.VideoFrame | None = None
        self.current: av.VideoFrame | None = None
        self._pending: av.VideoFrame | None = None
        self._decoded = 0
        self.ended = False

    def time_of(self, frame: av.VideoFrame) -> float:
        """Seconds from the stream's first frame."""
        pts = frame.pts if frame.pts is not None else 0
        return max(0.0, (pts - self.start) * self.tb)

    def _seek(self, t: float) -> bool:
        """Jump to the keyframe at or before t; False when the stream cannot seek (reading goes on forward)."""
        if not self.seekable:
            if self.frames is None:
                self.frames = self.container.decode(self.stream)
            return False
        offset = self.start + int(max(t, 0.0) / self.tb)
        self.container.seek(offset, stream=self.stream, backward=True, any_frame=False)
        self.frames = self.container.decode(self.stream)
        self.previous = self.current = None
        self._decoded = 0
        self.ended = False
        return True

    def _next(self) -> av.VideoFrame | None:
        if self.ended:
            return None
        if self.frames is None:
            self._seek(0.0)
        try:
            frame = next(self.frames)
        except StopIteration:
            self.ended = True
            return None
        except av.error.FFmpegError as exc:
            self.ended = True
            at = self.time_of(self.current) if self.current is not None else 0.0
            self.warnings.append(
                f"{self.path.name}: damaged or truncated after {at:.2f} s ({exc.strerror}); "
                "only the readable part was used"
            )
            return None
        if frame.pts is None:
            # Frames without timestamps only come from streams that cannot seek, so the count from the
            # start is their position (the same clock scan_frames uses for their packets).
            frame.pts = self.start + self._decoded * self.tick
        self._decoded += 1
        self.previous, self.current = self.current, frame
        return frame

    def _seek_before(self, t: float) -> None:
        """Seek so the next decoded frame is at or before t, backing off if the demuxer lands late."""
        back = 0.0
        for _ in range(6):
            if not self._seek(t - back):
                return
            frame = self._next()
            if frame is None or self.time_of(frame) <= t + self.half_frame:
                self._pending = frame
                return
            back = max(1.0, back * 2)
        self._pending = frame

    def _advance_to(self, t: float, tolerance: float) -> tuple[av.VideoFrame | None, av.VideoFrame | None]:
        """Decode forward until a frame at or past t - tolerance; return (frame before, that frame)."""
        before = None
        frame = self._pending or self.current
        self._pending = None
        if frame is None:
            frame = self._next()
        ctx = self.stream.codec_context
        while frame is not None and self.time_of(frame) < t - tolerance:
            # Far from the target, frames nothing refers to need not be decoded at all; near it
            # (wider than the decoder's frame-thread delay) every frame is decoded again.
            far = self.seekable and self.time_of(frame) < t - SKIP_MARGIN_S
            ctx.skip_frame = "NONREF" if far or self.skip_nonref else "DEFAULT"
            before = frame
            frame = self._next()
        if not self.skip_nonref:
            ctx.skip_frame = "DEFAULT"
        return before, frame

    def decode_near_targets(self) -> None:
        """Stop skipping frames nothing refers to near a target (far from one they are still skipped)."""
        self.skip_nonref = False
        self.stream.codec_context.skip_frame = "DEFAULT"

    def _needs_seek(self, t: float, keyframe_before_t: float | None) -> bool:
        if self.frames is None or self.current is None:
            return True
        now = self.time_of(self.current)
        if t < now - self.half_frame:
            return True
        if keyframe_before_t is not None:
            return keyframe_before_t > now + self.half_frame
        return t - now > SEEK_GAP_S

    def exact(self, t: float, keyframes: np.ndarray | None) -> av.VideoFrame | None:
        """The frame whose presentation time is t (the closest one, for rounding)."""
        kf = None
        if keyframes is not None and len(keyframes):
            pos = int(np.searchsorted(keyframes, t + self.half_frame, side="right")) - 1
            kf = float(keyframes[max(pos, 0)])
        if self._needs_seek(t, kf):
            self._seek_before(t)
        before, frame = self._advance_to(t, EXACT_TOLERANCE_S)
        return self._closest(t, before, frame)

    def nearest(self, t: float) -> av.VideoFrame | None:
        """The decoded frame closest to t, streaming forward: it seeks ahead across long gaps, never back."""
        if self.frames is None or self.current is None:
            self._seek_before(t)
        elif self.time_of(self.current) >= t:
            # Sparse or skipped frames put the decoder past t already: the frames on either side are at hand.
            return self._closest(t, self.previous, self.current)
        elif t - self.time_of(self.current) > SEEK_GAP_S:
            self._seek_before(t)
        # Up to the first frame at or past t, so the frames on both sides of t are compared (VFR frames
        # can be much closer together than the average rate suggests).
        before, frame = self._advance_to(t, EXACT_TOLERANCE_S)
        return self._closest(t, before, frame)

    def _closest(
        self, t: float, before: av.VideoFrame | None, frame: av.VideoFrame | None
    ) -> av.VideoFrame | None:
        if frame is None:
            # The stream ended: the last frame stands in for t only if t is within two frames of it,
            # otherwise t lies in a part of the file that is missing.
            if before is not None and t - self.time_of(before) <= 4 * self.half_frame:
                return before
            return None
        if before is not None and abs(self.time_of(before) - t) < abs(self.time_of(frame) - t):
            return before
        return frame

    def keyframe_at(self, t: float) -> av.VideoFrame | None:
        """The keyframe at or before t: one seek, one packet decoded and drained."""
        if not self._seek(t):
            return self.nearest(t)
        try:
            for packet in self.container.demux(self.stream):
                if packet.size == 0:
                    break
                # Draining right after the keyframe's packet returns it at once, instead of the decoder
                # (and its frame threads) reading and decoding the frames that follow it.
                frames = [*self.stream.decode(packet), *self.stream.decode(None)]
                if frames:
                    self.current = frames[0]
                    return frames[0]
                break
        except av.error.FFmpegError as exc:
            log.debug("keyframe decode at %.2f s failed (%s); decoding forward instead", t, exc)
        # Keyframes hidden by an edit list (or odd streams) yield nothing alone: decode forward instead.
        self._seek(t)
        return self._next()


def iter_frames(
    path: str | Path, plan: FramePlan, size: Size | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> Iterator[Frame]:
    """Stream the frames of `plan` (see FrameReader for warnings about unreadable parts)."""
    return iter(FrameReader(path, plan, size=size or Size(), max_pixels=max_pixels))


def read_frames(
    path: str | Path, plan: FramePlan, size: Size | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[np.ndarray, list[float], list[str]]:
    """Decode a (small) plan into one (T, H, W, 3) array, its times and any warnings."""
    reader = FrameReader(path, plan, size=size or Size(), max_pixels=max_pixels)
    frames = list(reader)
    if not frames:
        raise errors.NoFramesError(f"{Path(path).name}: none of the planned frames could be decoded")
    return np.stack([f.image for f in frames]), [f.time_s for f in frames], reader.warnings
