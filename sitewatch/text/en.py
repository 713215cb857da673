"""English: plain sentences for site managers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sitewatch.schema import Event, EventKind, Verdict
from sitewatch.text.base import Intent, Language
from sitewatch.text.incidents import Incident

_HEAD: dict[EventKind, str] = {
    EventKind.fall: "A person fell at {t}",
    EventKind.person_down: "A person was lying on the ground from {t} for about {d}",
    EventKind.struck_by: "A person appears to have been struck by an object at {t}",
    EventKind.object_drop: "An object fell at {t}",
    EventKind.person_lost_after_fall: "A person moved down fast at {t} and then disappeared from view",
    EventKind.intrusion: "A person stayed in a danger zone at {t}",
}
_LATER: dict[EventKind, str] = {
    EventKind.fall: "fell at {t}",
    EventKind.person_down: "then lay on the ground until {end}",
    EventKind.struck_by: "appears to have been struck by an object",
    EventKind.object_drop: "an object fell at {t}",
    EventKind.person_lost_after_fall: "then disappeared from view",
    EventKind.intrusion: "was in a danger zone at {t}",
}


class English(Language):
    """English."""

    code = "en"
    native_name = "English"
    events: ClassVar[Mapping[EventKind, str]] = {
        EventKind.fall: "fall",
        EventKind.person_down: "person down",
        EventKind.struck_by: "struck by an object",
        EventKind.object_drop: "falling object",
        EventKind.person_lost_after_fall: "lost from view after a fall",
        EventKind.intrusion: "danger zone intrusion",
    }
    verdicts: ClassVar[Mapping[Verdict, str]] = {
        Verdict.accident: "Accident detected",
        Verdict.uncertain: "Possible accident",
        Verdict.no_accident: "No accident",
    }
    example_questions = ("What happened in the video?", "When did it happen?", "How many people are there?")
    keywords: ClassVar[Mapping[Intent, tuple[str, ...]]] = {
        Intent.what: (
            "what happen", "what's happen", "what went on", "what is going on", "accident", "incident",
            "describe", "summary", "summarize", "tell me about",
        ),
        Intent.when: ("when", "what time", "timestamp", "which second", "at what point", "how long"),
        Intent.people: ("how many", "number of", "people", "persons", "headcount", "count"),
        Intent.down: (
            "down", "fallen", "fall", "fell", "lying", "collapse", "injur", "hurt", "unconscious", "on the ground",
        ),
    }
    strings: ClassVar[Mapping[str, str]] = {
        "confidence": "confidence",
        "confidence_value": "confidence {value}",
        "uncertain_opening": "A possible accident was seen, but the evidence is weak.",
        "no_accident": "No accident was detected in this {medium}: no fall, person down, falling object or strike.",
        "medium_image": "image",
        "medium_video": "video ({duration})",
        "advice_accident": "Please check on the worker and the site right away.",
        "advice_uncertain": "Please review that part of the video yourself.",
        "advice_lost": "What happened after the person left the picture cannot be seen: please check the site.",
        "advice_clip_end": (
            "The video ends while a person seems to be going down, before it could be confirmed: "
            "please check what happened next."
        ),
        "stayed_down": "The person stayed down for at least {d} without getting up.",
        "partial": "Only {read} of the {total} video could be read, so the rest was not checked.",
        "scene": "The model describes the scene as: {text}",
        "scene_untranslated": "The model describes the scene as: {text}",
        "chat_uncertain": "The detector is not sure whether an accident happened.",
        "chat_no_accident": "The detector found no accident in this video.",
        "chat_no_time": "The detector found no accident, so there is no time to give.",
        "chat_nobody_down": "No: the detector saw nobody fall or lie on the ground.",
        "chat_yes": "Yes.",
        "chat_maybe": "Possibly: the detector saw something like it, but it is not sure.",
        "chat_help": "You can ask what happened, when, how many people were there, or whether someone is down.",
        "chat_no_report": "There is no analysis of this video yet, so I cannot answer. Please analyse the video first.",
        "chat_no_translator": "",
        "chat_model_failed": (
            "(The video-language model or the translation server did not answer, so this answer comes from the "
            "detector's report; the operator's log has the reason.)"
        ),
        "chat_question_kept": "(The translation of the question looked wrong, so the model was given it as written.)",
        "chat_cut_off": "(The model's answer was cut off.)",
        "chat_untranslated": "",
        "chat_greeting": (
            "Ask about the video in Korean or English.\n"
            "Commands: /en shows the English original of the last answer, /reset clears the chat, "
            "/quit (or an empty line) ends it.\n"
        ),
        "chat_cleared": "Chat cleared.",
        "chat_no_answer_yet": "No answer yet.",
        "chat_no_original": "This answer comes from the detector's report, not a model: there is no English original.",
        "question_too_long": "The question is too long ({length:,} characters). Please keep it under {limit:,}.",
        "signal_fallness": "fall score (0 to 1, peak {peak:.2f})",
        "signal_falling_object": "falling-object score (0 to 1, peak {peak:.2f})",
        "signal_people": "people in view (at most {peak:.0f})",
        "signal_max_torso_deg": "torso tilt (at most {peak:.0f} degrees)",
        "signal_motion_energy": "movement (brightness change between frames, peak {share:.0%})",
        "signal_other": "{name} (peak {peak:.2f})",
        "timeline_scale": (
            "Each line is drawn so that its own peak reaches the top of the chart; across, the time from the "
            "start of the video."
        ),
        "timeline_gap": "dashed: no reading (nobody in view)",
        "detector_pose": "pose analysis",
        "detector_pose-rules": "pose rules (for comparison)",
        "detector_rate": "{name}, {fps} frames a second",
        "detector_decided": "{detector}; decided by {model}",
        "model_shipped": "the shipped model",
        "model_site": "the model trained for site {name} on {date}",
        "model_camera": "the model trained for camera {name} on {date}",
        "model_other": "the model {name}",
        "train_exported": "{clips} reviewed clips ({falls} falls, {false_alarms} false alarms) exported to {manifest}",
        "train_skip": "left out {incident}: {reason}",
        "train_skip_not_a_fall": "not a person falling",
        "train_skip_no_clip": "no analysed clip",
        "train_skip_no_fall_found": "confirmed, but its clip's analysis found no fall to start the label at",
        "train_no_clips": "{target} has no reviewed fall incident with a clip to learn from: review some first",
        "train_corpus_score": (
            "shared corpus, nested cross-validation (F1 by source): "
            "before {before:.2f}, after {after:.2f}"
        ),
        "train_site_score": (
            "the site's own {clips} clips, each left out in turn: "
            "{right_before} right before, {right_after} after"
        ),
        "train_written": (
            "the new model is not worse, so it is written: {path}. watch and "
            "serve use it from now on, without a restart."
        ),
        "train_refused": "nothing was written: the new model would be worse on {worse}. The model in use stays.",
        "train_worse_corpus": "the shared corpus",
        "train_worse_site": "the site's own clips",
        "train_needs_target": "name the site (--site) or the camera (--camera) whose reviews to learn from",
        "train_only_history": (
            "only --from-history is offered here; the shipped model "
            "is rebuilt by scripts/train_detector.py"
        ),
        "made_at": "made {time}",
        "col_number": "#",
        "col_kind": "kind",
        "col_phases": "phases",
        "col_start": "start",
        "col_end": "end",
        "col_people": "people",
        "col_source": "source",
        "people_count": "{n}",
        "source_detector": "detector",
        "no_events": "No accident was detected.",
        "events": "Incidents",
        "keyframes": "Keyframes",
        "timeline": "Timeline",
        "video": "Video",
        "warnings": "Warnings",
        "warning": "warning",
        "model_check": "Model check ({model})",
        "col_window": "window",
        "col_accident": "accident",
        "col_severity": "severity",
        "col_description": "description",
        "yes": "yes",
        "no": "no",
        "unknown": "unknown",
        "file": "file",
        "frame_size": "frame size",
        "rotated": "rotated {deg}°",
        "duration": "length",
        "duration_value": "{duration}, {frames:,} frames at {fps:.1f} fps",
        "format": "format",
        "with_audio": "with audio",
        "detector": "detector",
        "model": "model",
        "model_none": "none (detector only)",
        "analysis_time": "analysis time",
        "analysis_time_value": "{total} ({speed:.1f}x real time)",
        "keyframe_caption": "#{number} {kind} · {time}",
        "overview_caption": "frame at {time}",
        "report_title": "sitewatch safety report · {name}",
        "made_by": "sitewatch {version} · {created}",
        "terminal_footer": "{detector} · analysed in {total}",
        "report_saved": "report: {path}",
        # sitewatch history
        "history_title": "{total} analyses",
        "history_newest": "newest {shown} of {total}",
        "history_empty": "The history is empty: analyze --save keeps an analysis here.",
        "history_hint": "details: sitewatch history show ID",
        "history_not_ready": "This analysis has no report yet ({state}).",
        "history_entry": "{time} · {file}",
        "col_id": "id",
        "col_time": "analysed ({zone})",
        "col_tags": "site/camera",
        "state_queued": "queued",
        "state_running": "running",
        "state_done": "done",
        "state_failed": "failed",
        "state_cancelled": "cancelled",
        # batch runs (sitewatch batch): the index page and the command's last line
        "batch_title": "sitewatch batch · {videos} videos",
        "batch_counts": "{done} analysed ({reused} by an earlier run), {errors} could not be analysed",
        "batch_speed": "this run: {video} of video in {wall} ({speed:.1f}x real time)",
        "batch_failed": "Could not be analysed",
        "batch_progress": "analysing",
        "batch_done": "{done} of {videos} videos analysed, {errors} could not be: {path}",
        "col_found": "found",
        "col_reason": "reason",
        # the web page
        "title": "# sitewatch video safety assistant",
        "intro": "1. Upload a video or an image 2. Press **Analyse & start chat** 3. Ask about the video",
        "tab_video": "Video",
        "tab_image": "Image",
        "upload_video": "Video file (drop it here or click to choose)",
        "upload_image": "Image file (drop it here or click to choose)",
        "start": "Analyse & start chat",
        "restart": "Restart",
        "clear": "Clear chat",
        "send": "Send",
        "status": "Status",
        "status_idle": "Upload a video or an image, then start.",
        "status_ready": "Analysis done: **{name}**. Ask your questions now.",
        "status_cleared": "Chat cleared; the analysis stays.",
        "status_restarted": "Everything cleared. Upload a new video.",
        "no_upload": "Please upload a video or an image first.",
        "no_chat": "Press 'Analyse & start chat' first.",
        "empty_question": "Please type a question.",
        "error": "Could not process this",
        "placeholder_wait": "Upload a video and start first",
        "placeholder_ready": "Type a question and press Enter",
        "question": "Question",
        "chatbot": "Conversation",
        "settings": "Settings",
        "lang": "Language (page and answers)",
        "backend": "Video-language model",
        "backend_info": (
            "'none' answers from the detector's report only. For richer answers about the video the operator "
            "configures a video-language model (SITEWATCH_VLM, SITEWATCH_MODELS). Applies from the next analysis."
        ),
        "frames": "Frames for the model",
        "max_tokens": "Max new tokens",
        "temperature": "Temperature (0 = greedy)",
        "verdict": "Verdict",
        "analysis": "Analysis",
        "timeline_tab": "Timeline (detector signals, events shaded)",
        "examples_questions": "Example questions",
        "examples_videos": "Example videos",
        "english_original": "English original",
        "translating": "Translating…",
        "stage_detect": "Detecting",
        "stage_verify": "Asking the model",
        "stage_start": "Opening the video",
        "history": "History",
        "history_pick": "Past analysis",
        "history_open": "Open",
        "history_refresh": "Refresh",
        "history_opened": "Opened a past analysis: **{name}**. Ask on.",
        "history_choose_first": "Choose a past analysis from the list first.",
        "history_kept": "Uploads, their analyses and chats are kept in this server's history.",
        "history_not_kept": "This page keeps no history of uploads or analyses.",
        "unit_detect": "frames",
        "unit_verify": "clips",
        "unit_start": "steps",
        "event_complete": "Done",
        "page_running": "sitewatch page at {url} (Ctrl+C stops it)",
        "page_stopped": "The sitewatch page is closed.",
        "model_not_allowed": "This model is not available on this page: {name}. Pick one the operator configured.",
        # live camera alerts
        "alert_title": "{event} on camera {camera}",
        "alert_body": "Possible accident on camera {camera}{site} at {time}: {event} ({confidence}).",
        "alert_site": " (site {site})",
        "alert_update": "The incident clip was checked: {verdict}.",
        "alert_no_clip": "The incident clip could not be checked.",
        "alert_report": "Report: {url}",
        # The operator's console (sitewatch serve, /console).
        "console_title": "sitewatch console",
        "console_cameras": "Cameras",
        "console_queue": "Review queue",
        "console_analyses": "Analyses",
        "console_logout": "Log out",
        "console_login": "Log in",
        "console_token": "Access token",
        "console_login_help": "Enter this server's access token (SITEWATCH_API_TOKEN).",
        "console_login_wrong": "That token is not right.",
        "console_login_too_many": "Too many wrong tokens from this address. Try again in {seconds} s.",
        "console_form_expired": "This form has expired. Reload the page and try again.",
        "console_decided_by": "Decided by {model}.",
        "console_language": "Language",
        "console_no_cameras": (
            "No camera is watched yet: run `sitewatch watch` on this history and data folder, "
            "or set SITEWATCH_WATCH_CONFIG."
        ),
        "console_state_connecting": "connecting",
        "console_state_up": "up",
        "console_state_down": "down",
        "console_state_ended": "ended",
        "console_state_stopped": "stopped",
        "console_state_quiet": "quiet",
        "console_quiet_since": "no word from its watcher since {time}",
        "console_frames": "analysed {analysed} · dropped {dropped}",
        "console_last_incident": "Last incident",
        "console_none": "none",
        "console_tier": "Tier",
        "console_tier_alarm": "alarm",
        "console_tier_possible": "possible (not paged)",
        "console_chat": "Ask about this incident",
        "console_ask": "Ask",
        "console_ask_placeholder": "e.g. When did the person fall?",
        "console_alarms": "{per_day} alarms a day (last {days} days)",
        "console_confirmed_share": "{share}% of {reviewed} reviewed confirmed",
        "console_none_reviewed": "none reviewed yet",
        "console_camera": "Camera",
        "console_site": "Site",
        "console_kind": "Kind",
        "console_reviewed": "Reviewed",
        "console_since": "From",
        "console_until": "To",
        "console_all": "all",
        "console_yes": "yes",
        "console_no": "no",
        "console_filter": "Filter",
        "console_time": "Time",
        "console_confidence": "Confidence",
        "console_review": "Review",
        "console_not_reviewed": "not reviewed",
        "console_verdict_confirmed": "confirmed",
        "console_verdict_false_alarm": "false alarm",
        "console_confirm": "Confirm",
        "console_mark_false": "False alarm",
        "console_note": "Note",
        "console_note_prompt": "A note on this incident",
        "console_save": "Save",
        "console_cancel": "Cancel",
        "console_reviewed_by": "{verdict} by {who}, {when}",
        "console_shortcuts": "Keys: c confirm · f false alarm · n note · j next · k previous",
        "console_report": "Report",
        "console_no_clip": "The clip is not ready yet.",
        "console_empty": "Nothing to show.",
        "console_video": "Video",
        "console_status": "Status",
        "console_verdict": "Verdict",
        "console_next": "Next",
        "console_previous": "Previous",
        "console_failed": "Could not save",
        "console_bad_filter": "A filter is not valid: {reason}",
        "console_incident": "Incident",
        "console_status_queued": "queued",
        "console_status_running": "running",
        "console_status_done": "done",
        "console_status_failed": "failed",
        "console_status_cancelled": "cancelled",
        "console_zones": "Zones",
        "console_zones_edit": "Edit zones",
        "console_zone_danger": "Danger zone",
        "console_zone_ignore": "Ignore zone",
        "console_zone_hint": (
            "Click on the picture to place corners; double-click or press Close polygon to finish, then Save zones. "
            "A person in a danger zone longer than its dwell raises an intrusion; falls and lying people in an "
            "ignore zone are not alarms."
        ),
        "console_zone_name": "Name",
        "console_zone_kind": "Kind",
        "console_zone_dwell": "Dwell (s)",
        "console_zone_dwell_value": "{dwell} s",
        "console_zone_close": "Close polygon",
        "console_zone_clear": "Start over",
        "console_zone_save": "Save zones",
        "console_zone_delete": "Delete",
        "console_zone_saved": "Saved: the camera applies the zones within a few seconds.",
        "console_zone_need_points": "A zone needs at least 3 corners.",
        "console_zone_need_name": "Give the zone a name.",
        "console_zone_none": "No zones yet.",
        "console_zone_changed": "Last changed",
        "console_zone_by_file": "the cameras file",
        "console_zone_unsaved": "not saved yet",
    }

    def seconds(self, s: float) -> str:
        """12.3 s, or 2 min 5.0 s past a minute."""
        return f"{s:.1f} s" if s < 60 else f"{int(s // 60)} min {s % 60:.1f} s"

    def people_seen(self, most: int, involved: int = 0) -> str:
        """Up to N people were visible at once (M of them involved)."""
        if most == 0:
            return "No people were seen."
        text = "One person was visible." if most == 1 else f"Up to {most} people were visible at once."
        if 0 < involved < most:
            text += " One of them was involved." if involved == 1 else f" {involved} of them were involved."
        return text

    def incident(self, incident: Incident) -> str:
        """A person fell at 3.7 s, then lay on the ground until 11.2 s (confidence 92%)."""
        head = incident.phase(incident.kind)
        assert head is not None
        clauses = [_HEAD[head.kind].format(**self._times(head))]
        clauses += [_LATER[phase.kind].format(**self._times(phase)) for phase in incident.later]
        return f"{', '.join(clauses)} ({self.confidence(incident.confidence)})."

    def _times(self, event: Event) -> dict[str, str]:
        start, end = event.start_s, event.end_s
        return {"t": self.seconds(start), "end": self.seconds(end), "d": self.seconds(max(0.0, end - start))}

    def accident_opening(self, incidents: int) -> str:
        """Accident detected / N possible accidents were detected."""
        return "Accident detected." if incidents <= 1 else f"{incidents} possible accidents were detected."


ENGLISH = English()
