"""Video input: probing, frame plans and decoding on real clips and on generated good and bad files."""

from __future__ import annotations

import csv
import struct
import zlib
from pathlib import Path

import av
import numpy as np
import pytest
from media import SHARED_VIDEOS, decode_all, vfr_times, write_audio_only, write_png, write_video
from PIL import Image

from sitewatch import errors
from sitewatch.video import decode
from sitewatch.video.decode import FrameReader, Size, read_frames
from sitewatch.video.probe import probe, scan_frames
from sitewatch.video.sample import (
    fps_plan,
    keyframe_plan,
    pllava_indices,
    uniform_plan,
)

needs_shared = pytest.mark.skipif(
    not (SHARED_VIDEOS / "MANIFEST.csv").is_file(),
    reason=f"the shared labelled clips are not at {SHARED_VIDEOS}",
)


def manifest_rows() -> list[dict[str, str]]:
    if not (SHARED_VIDEOS / "MANIFEST.csv").is_file():
        return []
    with open(SHARED_VIDEOS / "MANIFEST.csv", newline="") as fh:
        return list(csv.DictReader(fh))


# --- PLLaVA's formula -------------------------------------------------------------------------


def test_pllava_indices_match_the_reference_examples() -> None:
    assert pllava_indices(300) == [9, 28, 46, 65, 84, 102, 121, 140, 159, 177, 196, 215, 233, 252, 271, 289]
    assert pllava_indices(10) == [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 6, 6, 7, 7, 8, 8]


@pytest.mark.parametrize("count", [1, 2, 15, 16, 17, 1000])
@pytest.mark.parametrize("num", [1, 4, 16, 32])
def test_pllava_indices_any_n_stay_in_range_and_ordered(count: int, num: int) -> None:
    idx = pllava_indices(count, num)
    assert len(idx) == num
    assert all(0 <= i < count for i in idx)
    assert idx == sorted(idx)


# --- real clips --------------------------------------------------------------------------------


@needs_shared
@pytest.mark.parametrize("row", manifest_rows(), ids=lambda r: r["file"])
def test_every_shared_clip_probes_and_samples(row: dict[str, str]) -> None:
    path = SHARED_VIDEOS / row["file"]
    info = probe(path)
    assert abs(info.duration_s - float(row["duration_s"])) < 0.75
    assert abs(info.fps - float(row["fps"])) < 0.1
    assert f"{info.width}x{info.height}" == row["resolution"]

    frames, times, warnings = read_frames(path, uniform_plan(info, 16), Size(max_side=224))
    assert frames.shape[0] == 16 and max(frames.shape[1:3]) == 224 and frames.dtype == np.uint8
    assert times == sorted(times) and warnings == []

    keyed, _, _ = read_frames(path, keyframe_plan(info, 16), Size(max_side=224))
    assert keyed.shape == frames.shape


@needs_shared
@pytest.mark.parametrize("name", ["dev01_sriram2226.mp4", "dev10_cwlroda_d.mp4", "dev16_dandia_k.mp4"])
def test_exact_sampling_returns_the_very_frames_of_a_full_decode(name: str) -> None:
    path = SHARED_VIDEOS / name
    reference = decode_all(path)
    plan = uniform_plan(probe(path), 16)
    assert len(scan_frames(path).times_s) == len(reference)
    got = list(FrameReader(path, plan))
    for frame, index in zip(got, plan.indices or (), strict=True):
        assert np.array_equal(frame.image, reference[index]), f"frame {index} differs"


# --- generated media ---------------------------------------------------------------------------


def test_exact_sampling_with_b_frames_long_gops_and_repeats(tmp_path: Path) -> None:
    path = write_video(tmp_path / "b.mp4", frames=10, options={"g": "250", "bf": "3"})
    reference = decode_all(path)
    plan = uniform_plan(probe(path), 16)
    assert plan.indices == tuple(pllava_indices(10))
    for frame, index in zip(FrameReader(path, plan), plan.indices, strict=True):
        assert np.array_equal(frame.image, reference[index])


def test_fixed_rate_plan_streams_frames_near_their_targets(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", frames=90, fps=30)
    info = probe(path)
    plan = fps_plan(info, 5)
    assert len(plan) == 15
    frames = list(FrameReader(path, plan, Size(max_side=80)))
    assert [f.index for f in frames] == list(range(15))
    assert all(abs(f.time_s - t) <= 1 / 60 + 1e-6 for f, t in zip(frames, plan.times_s, strict=True))
    assert frames[0].image.shape == (48, 80, 3)


def test_fixed_rate_never_exceeds_the_videos_rate(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "v.mp4", frames=20, fps=10))
    assert len(fps_plan(info, 30)) == 20


def test_rotation_metadata_swaps_the_size_and_turns_the_frames(tmp_path: Path) -> None:
    path = write_video(tmp_path / "r.mp4", frames=4, width=160, height=96, rotation=90)
    info = probe(path)
    assert info.rotation == 90 and (info.width, info.height) == (96, 160)
    frames, _, _ = read_frames(path, uniform_plan(info, 2))
    assert frames.shape[1:] == (160, 96, 3)
    plain = decode_all(path)[0]
    assert np.array_equal(frames[0], np.rot90(plain)) or np.array_equal(frames[0], np.rot90(plain, -1))


@pytest.mark.parametrize("suffix", [".mp4", ".mkv"])
def test_variable_frame_rate_is_reported_and_sampled_by_real_timestamps(tmp_path: Path, suffix: str) -> None:
    times = [i * 0.02 if i < 30 else 0.6 + (i - 30) * 0.2 for i in range(45)]
    path = write_video(tmp_path / f"vfr{suffix}", frames=45, fps=30, pts_seconds=times)
    info = probe(path)
    assert info.variable_frame_rate and info.fps == pytest.approx(44 / times[-1], rel=0.01)
    assert np.allclose(scan_frames(path).times_s, times, atol=1e-3)
    plan = uniform_plan(info, 16)
    got = [f.time_s for f in FrameReader(path, plan)]
    assert np.allclose(got, [times[i] for i in pllava_indices(45)], atol=1e-3)


def test_still_images_are_one_frame_videos(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.fromarray(np.full((30, 40, 3), 200, np.uint8)).save(path)
    info = probe(path)
    assert info.is_image and info.frame_count == 1 and (info.width, info.height) == (40, 30)
    frames, _, _ = read_frames(path, uniform_plan(info, 16), Size(max_side=20))
    assert frames.shape == (16, 16, 20, 3)
    png = tmp_path / "shot.png"
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(png)
    assert probe(png).is_image


def test_exif_rotated_photo_reports_the_display_size(tmp_path: Path) -> None:
    path = tmp_path / "turned.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(np.zeros((30, 40, 3), np.uint8)).save(path, exif=exif)
    info = probe(path)
    assert (info.width, info.height) == (30, 40)
    frames, _, _ = read_frames(path, uniform_plan(info, 1))
    assert frames.shape == (1, 40, 30, 3)


# --- bad input ---------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(errors.VideoNotFoundError, match="no such file"):
        probe(tmp_path / "nope.mp4")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(errors.NotAFileError, match="directory"):
        probe(tmp_path)


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.mp4"
    path.touch()
    with pytest.raises(errors.EmptyFileError, match="empty"):
        probe(path)


def test_text_file_named_mp4(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("these are meeting notes, not a video\n" * 20)
    with pytest.raises(errors.NotAVideoError, match="not a video"):
        probe(path)


def test_text_file_named_jpg(tmp_path: Path) -> None:
    path = tmp_path / "notes.jpg"
    path.write_text("not a picture")
    with pytest.raises(errors.NotAVideoError):
        probe(path)


def test_audio_only_file(tmp_path: Path) -> None:
    path = write_audio_only(tmp_path / "voice.m4a")
    with pytest.raises(errors.NoVideoStreamError, match="audio only"):
        probe(path)


def test_resolution_above_the_limit_is_refused_before_decoding(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", frames=2)
    with pytest.raises(errors.ResolutionTooLargeError, match="160x96"):
        probe(path, max_pixels=100 * 100)
    with pytest.raises(errors.ResolutionTooLargeError):
        list(FrameReader(path, uniform_plan(probe(path), 2), max_pixels=100 * 100))


def test_absurd_image_header_is_refused_without_decoding(tmp_path: Path) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 200_000, 200_000, 8, 2, 0, 0, 0)
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))
    with pytest.raises(errors.ResolutionTooLargeError, match="limit"):
        probe(path)


def test_unsupported_codec(tmp_path: Path) -> None:
    good = write_video(tmp_path / "v.mkv", frames=4)
    data = good.read_bytes()
    assert b"V_MPEG4/ISO/AVC" in data
    bad = tmp_path / "odd.mkv"
    bad.write_bytes(data.replace(b"V_MPEG4/ISO/AVC", b"V_SITEWATCH/XYZ"))
    with pytest.raises(errors.UnsupportedCodecError, match="codec"):
        probe(bad)


def test_truncated_file_decodes_the_readable_part_and_says_how_much(tmp_path: Path) -> None:
    good = write_video(tmp_path / "v.mp4", frames=120, container_options={"movflags": "faststart"})
    data = good.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    info = probe(cut)
    assert info.duration_s == pytest.approx(4.0)
    reader = FrameReader(cut, fps_plan(info, 10))
    frames = list(reader)
    assert frames and 0.5 < reader.read_until_s < 3.5
    assert reader.read_until_s == pytest.approx(frames[-1].time_s + 0.1)


def test_a_whole_read_reaches_the_end_of_the_video(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "v.mp4", frames=35, fps=30))
    for fps in (6, 30):
        reader = FrameReader(info.path, fps_plan(info, fps), approximate=True)
        list(reader)
        assert reader.read_until_s >= 0.97 * info.duration_s


def test_mp4_cut_before_its_index_is_not_a_video(tmp_path: Path) -> None:
    good = write_video(tmp_path / "v.mp4", frames=30)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(errors.VideoError):
        probe(cut)


def test_read_frames_with_nothing_readable_raises(tmp_path: Path) -> None:
    good = write_video(tmp_path / "v.mp4", frames=120, container_options={"movflags": "faststart"})
    data = good.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    late = fps_plan(probe(cut), 10, start_s=3.5)
    with pytest.raises(errors.NoFramesError):
        read_frames(cut, late)


def test_keyframe_plan_returns_the_keyframe_at_or_before_each_moment(tmp_path: Path) -> None:
    path = write_video(tmp_path / "k.mp4", frames=90, fps=30, options={"g": "20"})
    info = probe(path)
    plan = keyframe_plan(info, 8)
    keys = scan_frames(path).keyframes_s
    frames = list(FrameReader(path, plan))
    assert len(frames) == 8
    for frame, target in zip(frames, plan.times_s, strict=True):
        assert np.isclose(keys, frame.time_s).any() and frame.time_s <= target + 1e-6
        assert target - frame.time_s < 20 / 30 + 1e-6
    reference = decode_all(path)
    assert np.array_equal(frames[-1].image, reference[round(frames[-1].time_s * 30)])


def test_approximate_fixed_rate_reading_skips_unreferenced_frames_but_keeps_every_target(tmp_path: Path) -> None:
    path = write_video(tmp_path / "b.mp4", frames=90, fps=30, options={"g": "30", "bf": "3"})
    plan = fps_plan(probe(path), 6)
    exact = list(FrameReader(path, plan))
    quick = list(FrameReader(path, plan, approximate=True))
    assert len(quick) == len(exact) == len(plan)
    assert all(abs(q.time_s - t) <= 2 / 30 + 1e-6 for q, t in zip(quick, plan.times_s, strict=True))


def test_approximate_reading_decodes_near_targets_once_references_are_too_sparse(tmp_path: Path) -> None:
    """An encoder that refers to one frame in ten leaves 3 pictures a second to skip to: two targets in a row
    would get the same one, and a detector would see every other frame twice."""
    path = write_video(
        tmp_path / "sparse.mp4", frames=150, fps=30,
        options={"g": "60", "x264-params": "bframes=9:b-adapt=0:b-pyramid=none"},
    )
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONREF"
        assert sum(1 for _ in container.decode(stream)) <= 20  # the file really is that sparse
    plan = fps_plan(probe(path), 6)
    reference = decode_all(path)
    quick = list(FrameReader(path, plan, approximate=True))
    assert len(quick) == len(plan) == 30
    # The first target past a skipped stretch gets a late picture, which tells the reader; none after it.
    assert len({f.time_s for f in quick}) == len(quick) - 1
    assert all(abs(f.time_s - t) <= 1 / 30 + 1e-6 for f, t in list(zip(quick, plan.times_s, strict=True))[2:])
    assert all(np.array_equal(f.image, reference[round(f.time_s * 30)]) for f in quick)


# --- budgets, sniffing, streams without timestamps, variable frame rate ------------------------


def test_duration_budget_is_measured_from_the_packets_before_anything_is_decoded(tmp_path: Path) -> None:
    far = write_video(tmp_path / "far.mkv", frames=2, pts_seconds=[0.0, 1e7])
    with pytest.raises(errors.VideoTooLongError, match="SITEWATCH_MAX_DURATION_S"):
        probe(far)
    with pytest.raises(errors.VideoTooLongError, match="above the limit of 1 s"):
        probe(write_video(tmp_path / "v.mp4", frames=60), max_duration_s=1.0)


def test_gaps_in_a_video_stay_gaps_in_the_plan(tmp_path: Path) -> None:
    path = write_video(tmp_path / "gap.mkv", frames=4, pts_seconds=[0.0, 0.1, 0.2, 11 * 3600.0])
    info = probe(path)
    assert info.duration_s > 11 * 3600
    plan = fps_plan(info, 6)
    assert np.allclose(plan.times_s, [0.0, 0.2, 11 * 3600.0])
    assert [round(f.time_s, 3) for f in FrameReader(path, plan)] == [0.0, 0.2, 39600.0]


def test_planned_frames_budget(tmp_path: Path) -> None:
    info = probe(write_video(tmp_path / "v.mp4", frames=60, fps=30))
    assert len(fps_plan(info, 6, max_frames=12)) == 12
    with pytest.raises(errors.VideoTooLongError, match="needs 12 frames, above the limit of 11"):
        fps_plan(info, 6, max_frames=11)
    with pytest.raises(errors.VideoTooLongError, match="SITEWATCH_MAX_PLANNED_FRAMES"):
        fps_plan(info, 60, max_frames=5)


def test_content_decides_image_or_video_not_the_suffix(tmp_path: Path) -> None:
    mp4 = write_video(tmp_path / "v.mp4", frames=30)
    disguised = mp4.rename(tmp_path / "clip.png")
    info = probe(disguised)
    assert not info.is_image and info.frame_count == 30
    assert len(list(FrameReader(disguised, uniform_plan(info, 4)))) == 4
    png = tmp_path / "shot.mp4"
    Image.fromarray(np.zeros((16, 24, 3), np.uint8)).save(png, format="PNG")
    info = probe(png)
    assert info.is_image and (info.width, info.height) == (24, 16)
    assert read_frames(png, uniform_plan(info, 2))[0].shape == (2, 16, 24, 3)


@pytest.mark.parametrize(("suffix", "fps"), [(".mkv", 30), (".mkv", 25), (".mp4", 30), (".mkv", 24)])
def test_a_steady_rate_is_not_called_variable(tmp_path: Path, suffix: str, fps: int) -> None:
    info = probe(write_video(tmp_path / f"steady{suffix}", frames=90, fps=fps))
    assert not info.variable_frame_rate and info.fps == pytest.approx(fps, rel=1e-3)


def test_oversize_png_is_refused_from_its_header(tmp_path: Path) -> None:
    path = write_png(tmp_path / "big.png", 12000, 12000)
    with pytest.raises(errors.ResolutionTooLargeError, match="12000x12000"):
        probe(path)
    with pytest.raises(errors.ResolutionTooLargeError):
        list(FrameReader(path, uniform_plan(probe(write_png(tmp_path / "ok.png", 16, 16)), 1)))


def test_damaged_jpeg_body_is_found_by_probe_and_by_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (240, 320, 3), dtype=np.uint8)).save(path)
    good = probe(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 3 :] = np.random.default_rng(1).integers(0, 256, len(data) - len(data) // 3, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    with pytest.raises(errors.NotAVideoError, match="damaged"):
        probe(path)
    with pytest.raises(errors.NotAVideoError, match="damaged"):
        list(FrameReader(path, uniform_plan(good, 1)))


def test_raw_h264_without_timestamps_is_decoded_forward(tmp_path: Path) -> None:
    path = write_video(tmp_path / "raw.h264", frames=60, fps=25)
    info = probe(path)
    assert info.frame_count == 60 and info.duration_s == pytest.approx(2.4)
    reference = decode_all(path)
    plan = uniform_plan(info, 8)
    frames = list(FrameReader(path, plan))
    assert [round(f.time_s * 25) for f in frames] == list(plan.indices or ())
    assert all(np.array_equal(f.image, reference[i]) for f, i in zip(frames, plan.indices or (), strict=True))
    quick = FrameReader(path, fps_plan(info, 6), approximate=True)
    assert len(list(quick)) == 15 and quick.read_until_s >= 2.4
    assert len(list(FrameReader(path, keyframe_plan(info, 4)))) == 4


def test_fixed_rate_reading_of_variable_rate_video_never_seeks_backwards(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    times = vfr_times(12.0)
    path = write_video(tmp_path / "vfr.mp4", frames=len(times), pts_seconds=times, options={"g": "60"})
    info = probe(path)
    assert info.variable_frame_rate
    backwards: list[float] = []
    seek = decode._Cursor._seek

    def watched(cursor: decode._Cursor, t: float) -> bool:
        if cursor.current is not None and t < cursor.time_of(cursor.current):
            backwards.append(t)
        return seek(cursor, t)

    monkeypatch.setattr(decode._Cursor, "_seek", watched)
    plan = fps_plan(info, 6)
    assert np.isin(np.round(plan.times_s, 3), times).all()
    exact = [f.time_s for f in FrameReader(path, plan)]
    quick = list(FrameReader(path, plan, approximate=True))
    assert backwards == []
    # Where sparse frames meet dense ones, the decoder's frame threads may already have skipped a target
    # (SKIP_MARGIN_S is in seconds, the thread delay in frames): then its neighbour stands in.
    assert np.allclose(exact, plan.times_s, atol=0.04)
    # Skipping unreferenced frames may give a neighbour of a target instead, but never skips a target.
    assert len(quick) == len(plan)
