"""From per-row accident probabilities to events: one event per episode of a track looking fallen or lost."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sitewatch.detect.base import ACCIDENT_CONFIDENCE
from sitewatch.detect.features import FEATURES, UPRIGHT, Row
from sitewatch.schema import CLIP_END, STAYED_DOWN, Box, Event, EventKind

_UPRIGHT, _DOWN, _FALL_SPEED, _DROP, _ASPECT_CHANGE, _AGE, _LOST_S, _CUT = (
    FEATURES.index(k)
    for k in ("upright_now", "down_now", "fall_speed", "drop_heights", "aspect_change", "age_s", "lost_s", "cut")
)
# A person lost right after their posture changed fast while moving down is worth a look even when the
# model is unsure: silence about them must never read as a confident all-clear. Measured on the corpus
# and dev clips, people walking out of view or lost in a crowd were still upright when last seen.
LOST_LOOK_CONFIDENCE = 0.4
LOST_MIN_AGE_S = 1.0  # a track this old was a person, not a flicker of the pose model
LOST_NOT_UPRIGHT = 0.7
LOST_WIDER = 1.3  # last box this much wider (relative to its height) than usual: the body tilted
LOST_DOWN = 0.3
LOST_FAST_DOWN = 0.5  # body heights per second
LOST_DROP = 0.15  # body heights
# A body falling where it stands brings its hips down about half its height, one falling forward or toward
# the camera about its whole height. A hip "drop" beyond that is a walker moving down a high or top-down
# camera's picture: measured on the normal footage, every look at a person lost while moving down was so
# (1.1-3.5 heights), against at most 0.7 for the corpus falls lost in the same way.
LOST_MAX_DROP = 1.0
# A slow descent (sitting down on a chair, lying down on purpose) can look fallen for a moment; a fall
# keeps looking fallen. Measured on the corpus, a chair sit-down seen from above crossed the threshold
# for one frame, 7 s before the real fall. So a slow descent alarms only once it has looked fallen for
# CONFIRM_S; fast drops and lost tracks alarm at once, and the event still starts at the onset. The wait
# is for the person to stay down: a frame whose score dips while they are still not upright (a lying body's
# pose flickers) keeps it running; getting up, or going out of view, starts it over.
SLOW_DESCENT = 0.5  # body heights per second: the window's fastest hip descent below this is slow
CONFIRM_S = 0.3
# A file can end before a slow descent is confirmed (a fall in its last second, or one that ends out of
# view). The evidence is then reported as a possible accident with its reason, never as an all-clear
# and never as a page: capped below the alarm level. A live camera never ends, so it waits instead. A
# person who goes out of view before a slow descent is confirmed is the same evidence cut off in space: a
# possible accident too. Measured out of fold, a faint detection a fifth of a standing person's height
# joined their track for one frame before it was lost, and the lost row alone paged.
END_S = 2.0  # evidence this close to the end of the file counts
END_CONFIDENCE = 0.45
# Evidence cut off in space is treated like evidence cut off in time: a possible accident, never a page on
# its own. A person lost from view while last seen upright showed no fall (small people in a crowd, whom the
# pose model drops, are lost so). A body cut by the top or bottom edge of the picture looks short and wide
# whether it fell or is walking out of the picture (toward a high camera, out at the bottom): it alarms
# only once it has stayed in view, down, for `confirm_partial_s` since it first looked fallen at the alarm
# level, and if it is lost from view first, it stays a possible accident. Measured out of fold on the corpus,
# no fall was found only so.
PARTIAL_CONFIDENCE = END_CONFIDENCE
STAY_DOWN = PARTIAL_CONFIDENCE  # after the edge wait, a row still down at this score confirms the fall
# A person seen down (in view, not upright) for a second, whom the model does not rule out, is worth a look
# even when no single moment looked like a fall: the falls the model misses out of fold are mostly ones the
# pose pass sees badly while the person falls (close-ups, small people, a fall from a bed or a stair) and
# well once they lie there. Measured fully nested on kept margins (round 10), 0.02 to 0.05 for 1 s gave the
# same recall (0.88 from 0.78) for one more review in 8 minutes of busy CCTV; 2 s gave 0.85, and requiring
# the person to have been seen upright first lost one of those falls (a person whose track never stood).
DOWN_LOOK_S = 1.0
DOWN_LOOK_LEVEL = 0.05
# A lying body flickers in and out of the pose pass (benchmarks/pose_recall.py: about one lying person in four
# is missed per frame), and a track unseen for features.LOST_AFTER_S gets a "lost" row even when it is found
# again, down, a moment later. Being out of sight that briefly does not stop the clock of being seen down;
# standing up, or the model ruling the person out, does. Measured fully nested on kept margins (round 12), 1 and
# 1.5 s put one more corpus fall on the review list (recall 0.90 from 0.88) and changed no alarm and no review
# on the normal footage.
DOWN_GAP_S = 1.0
# A likely fall (the model at the review level) after which the person stays down is the fall confirmed, as
# wearable fall detectors confirm an impact by the stillness after it: the fall model judges a few seconds of
# body, the stay on the ground is evidence it does not see. Measured fully nested on kept margins (round 11),
# 2, 3 and 5 s changed no corpus clip and added no alarm on the normal footage; the lockbox's missed fall was
# paged at 2 and 3 s. It pages at the alarm level, by rule, with how long the person stayed down.
STAYED_DOWN_S = 3.0


_DESCRIPTIONS = {
    EventKind.fall: "person went from upright to the ground quickly",
    EventKind.person_lost_after_fall: "person moved down fast and then went out of sight",
    EventKind.person_down: "person has stayed down, not upright, for a second or more",
}


@dataclass
class _Episode:
    event: Event
    likely_s: float | None = None  # when it first reached the review level


@dataclass
class _Pending:
    since_s: float
    row: Row
    probability: float


def _within_gap(last_down_s: float, now_s: float) -> bool:
    """Whether a person last seen down at `last_down_s` is still on the same down clock at `now_s`."""
    return now_s - last_down_s <= DOWN_GAP_S + 1e-6  # rows come at frame times that round


def _box(b: np.ndarray) -> Box:
    return Box(x1=float(b[0]), y1=float(b[1]), x2=float(b[2]), y2=float(b[3]))


class AlarmBook:
    """Collects events from rows and their calibrated probabilities, in time order.

    Two operating points: an event reaching `threshold` is an alarm (it pages someone); one that only
    reaches `possible` goes to the review list as a possible accident.
    """

    def __init__(
        self,
        threshold: float = ACCIDENT_CONFIDENCE,
        possible: float | None = None,
        confirm_fast_s: float = 0.0,
        lost_look: bool = True,
        confirm_partial_s: float = 0.0,
    ) -> None:
        self.threshold = threshold
        self.possible = threshold if possible is None else min(possible, threshold)
        # How long a fast drop must keep looking fallen before it counts (0: at once). A pose glitch or a
        # swapped track in a crowd looks fallen for a frame or two; a fallen person stays down. The
        # training recipe chooses it inside each fold and ships it with the model.
        self.confirm_fast_s = confirm_fast_s
        # Whether a person lost right after tilting down is a possible accident even when the model is unsure
        # (LOST_LOOK_CONFIDENCE). On busy CCTV everyone who walks out of the picture looks a little like that,
        # so the training recipe chooses it inside each fold, with the possible level, and ships the choice.
        self.lost_look = lost_look
        # How long a body cut by the picture's edge must look fallen in view before it alarms (0: no wait,
        # and a person lost while cut is judged like any other); chosen inside each fold, shipped with the model.
        self.confirm_partial_s = confirm_partial_s
        self._cut_since: dict[int, _Pending] = {}  # tracks cut by the edge that looked fallen: since when, peak
        self._open: dict[int, _Episode] = {}
        self._down_since: dict[int, tuple[float, float]] = {}  # tracks seen down: since when, last seen down
        self._pending: dict[int, _Pending] = {}  # tracks that look fallen, waiting for confirmation
        self.events: list[Event] = []

    def add(self, row: Row, probability: float) -> None:
        """Take one row with its probability."""
        probability = self._partial(row, probability)
        if row.lost and row.values[_FALL_SPEED] < SLOW_DESCENT:
            probability = min(probability, END_CONFIDENCE)  # a slow descent never confirmed in view
        down_s = self._down_for(row, probability)
        episode = self._open.get(row.track_id)
        if episode is not None:
            if episode.event.confidence < self.threshold <= probability:
                self._promote(episode, row, probability)
                return
            if self._stayed_down(episode, row, down_s):
                self._promote(episode, row, self.threshold, {STAYED_DOWN: round(down_s, 3)}, episode.event.kind)
                return
            if probability >= self.possible or not row.values[_UPRIGHT] >= 0.6:
                episode.event.end_s = round(row.time_s, 3)
                episode.event.confidence = max(episode.event.confidence, self._shown(probability))
                if episode.likely_s is None and probability >= self.possible:
                    episode.likely_s = row.time_s
                return
            del self._open[row.track_id]
        if probability < self.possible:
            if row.lost or row.values[_UPRIGHT] >= UPRIGHT:
                self._pending.pop(row.track_id, None)  # up again (or gone): the wait starts over
            if row.lost and self.lost_look and self._fell_out_of_view(row):
                self._start(row, max(probability, LOST_LOOK_CONFIDENCE))
            elif down_s >= DOWN_LOOK_S - 1e-6:  # rows come at frame times that round
                since = min(row.onset_s, row.time_s - down_s)  # from when they were first seen down
                self._start(row, probability, {"down_s": round(down_s, 3)}, EventKind.person_down, since)
        elif row.lost or self._confirmed(row, probability):
            self._pending.pop(row.track_id, None)
            self._start(row, probability)

    def _down_for(self, row: Row, probability: float) -> float:
        """How long this person has been seen down: in view, not upright, and not ruled out by the model,
        across gaps in sight shorter than DOWN_GAP_S."""
        if row.lost:
            # A clock unseen for longer than the gap would start over anyway: forgetting it here keeps a camera
            # watched for weeks from holding one for every person it ever saw lying down.
            self._down_since = {
                track: seen for track, seen in self._down_since.items() if _within_gap(seen[1], row.time_s)
            }
            return 0.0
        if row.values[_UPRIGHT] >= UPRIGHT or probability < DOWN_LOOK_LEVEL:
            self._down_since.pop(row.track_id, None)
            return 0.0
        since, last = self._down_since.get(row.track_id, (row.time_s, row.time_s))
        if not _within_gap(last, row.time_s):
            since = row.time_s
        self._down_since[row.track_id] = (since, row.time_s)
        return row.time_s - since

    def finish(self, end_s: float) -> None:
        """The file ended at `end_s`: a slow descent still waiting for confirmation near the end is a
        possible accident, with the end of the file as its reason."""
        for pending in self._pending.values():
            if end_s - pending.row.time_s <= END_S:
                self._start(pending.row, min(pending.probability, END_CONFIDENCE), {CLIP_END: 1.0})
        self._pending.clear()

    def _partial(self, row: Row, probability: float) -> float:
        """The probability, held below the alarm while the evidence is cut off by the edge of the picture."""
        cut = bool(row.values[_CUT])
        if row.lost:
            self._cut_since.pop(row.track_id, None)
            upright = row.values[_UPRIGHT] >= UPRIGHT
            if upright or (cut and self.confirm_partial_s > 0):
                return min(probability, PARTIAL_CONFIDENCE)
            return probability
        # As for a slow descent, the wait is for the body to stay down: a frame the pose model fumbles (a dip in
        # the score, the body briefly uncut) keeps it running; standing up again starts it over.
        if row.values[_UPRIGHT] >= UPRIGHT:
            self._cut_since.pop(row.track_id, None)
        # The wait counts from the alarm level, not the review level: where the possible tier is set must not
        # change what pages (a lower level started it earlier, and a walker leaving a top-down camera paged).
        waiting = self._cut_since.get(row.track_id)
        if not (cut and self.confirm_partial_s > 0 and (waiting or probability >= self.threshold)):
            return probability
        if waiting is None:
            waiting = self._cut_since[row.track_id] = _Pending(row.time_s, row, probability)
        waiting.probability = max(waiting.probability, probability)
        if row.time_s - waiting.since_s < self.confirm_partial_s - 1e-6:  # rows come at frame times that round
            return min(probability, PARTIAL_CONFIDENCE)
        # Stayed down, cut, for the wait: what is confirmed is the fall seen at its start. The row that ends
        # the wait is judged for the body staying down, not scored again at the alarm level: a lying body cut by
        # the edge scores lower than the fall into it, and a refit moved one such row from 0.58 to 0.48.
        return waiting.probability if probability >= STAY_DOWN else probability

    def _shown(self, probability: float) -> float:
        """The event's confidence to three places, never rounded up to the alarm level: the verdict and a live
        camera's page read it, so a probability of 0.4996 must not page when the book judged it possible."""
        shown = round(probability, 3)
        return round(self.threshold - 0.001, 3) if probability < self.threshold <= shown else shown

    def _stayed_down(self, episode: _Episode, row: Row, down_s: float) -> bool:
        """A likely fall below the alarm level, after which the person has stayed down for STAYED_DOWN_S."""
        likely = episode.likely_s
        return (
            likely is not None
            and episode.event.confidence < self.threshold
            and min(down_s, row.time_s - likely) >= STAYED_DOWN_S - 1e-6  # rows come at frame times that round
        )

    def _promote(
        self,
        episode: _Episode,
        row: Row,
        probability: float,
        reason: dict[str, float] | None = None,
        kind: EventKind | None = None,
    ) -> None:
        """A possible accident that reaches the alarm level becomes a new alarm event from the same onset,
        replacing it: a live camera, which hands out events as they open, then pages for it."""
        possible = episode.event
        if any(e is possible for e in self.events):
            self.events = [e for e in self.events if e is not possible]
        del self._open[row.track_id]
        self._start(row, probability, reason, kind, possible.start_s)

    def _confirmed(self, row: Row, probability: float) -> bool:
        """A fast descent after confirm_fast_s (at once by default); a slow one once it has looked fallen
        for CONFIRM_S."""
        fast = row.values[_FALL_SPEED] >= SLOW_DESCENT
        if fast and self.confirm_fast_s <= 0:
            return True
        pending = self._pending.setdefault(row.track_id, _Pending(row.time_s, row, probability))
        if probability >= pending.probability:
            pending.row, pending.probability = row, probability
        wait = self.confirm_fast_s if fast else CONFIRM_S
        return row.time_s - pending.since_s >= wait - 1e-6  # rows come at frame times that round

    @staticmethod
    def _fell_out_of_view(row: Row) -> bool:
        """Last seen tilting or going down, not upright, moving down fast and ended lower by no more than a
        body can fall (NaN drops compare false)."""
        v = row.values
        tilted = v[_ASPECT_CHANGE] >= LOST_WIDER or v[_DOWN] >= LOST_DOWN
        downward = v[_FALL_SPEED] >= LOST_FAST_DOWN and LOST_DROP <= v[_DROP] <= LOST_MAX_DROP
        return bool(v[_AGE] >= LOST_MIN_AGE_S and v[_UPRIGHT] < LOST_NOT_UPRIGHT and tilted and downward)

    def _start(
        self,
        row: Row,
        confidence: float,
        reason: dict[str, float] | None = None,
        kind: EventKind | None = None,
        start_s: float | None = None,
    ) -> None:
        kind = kind or (EventKind.person_lost_after_fall if row.lost else EventKind.fall)
        description = _DESCRIPTIONS[kind]
        if reason and CLIP_END in reason:
            description += "; the video ended before it could be confirmed"
        if reason and STAYED_DOWN in reason:
            description += f"; down for {reason[STAYED_DOWN]:.0f} s and not up again"
        event = Event(
            kind=kind,
            start_s=round(min(row.onset_s, row.time_s) if start_s is None else start_s, 3),
            end_s=round(row.time_s, 3),
            confidence=self._shown(confidence),
            # A person lost from view is shown where they were last seen (their box is from then), not the empty
            # picture at the moment they were missed.
            keyframe_s=round(row.time_s - float(row.values[_LOST_S]), 3) if row.lost else round(row.time_s, 3),
            people=[row.track_id],
            box=_box(row.box),
            details={
                "fall_speed": round(float(row.values[_FALL_SPEED]), 3),
                **({} if np.isnan(row.values[_DROP]) else {"drop_heights": round(float(row.values[_DROP]), 3)}),
                **(reason or {}),
            },
            description=description,
        )
        self.events.append(event)
        if not row.lost:
            self._open[row.track_id] = _Episode(event, row.time_s if confidence >= self.possible else None)
