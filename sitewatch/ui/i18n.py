"""Every word the web page shows, in Korean and English, in one place."""

from __future__ import annotations

from typing import Literal

from sitewatch.report.words import VERDICT_LABELS

UiLang = Literal["ko", "en"]

LANGUAGE_CHOICES: list[tuple[str, str]] = [("한국어", "ko"), ("English", "en")]

STRINGS: dict[str, dict[UiLang, str]] = {
    "title": {"ko": "# sitewatch 현장 안전 영상 도우미", "en": "# sitewatch video safety assistant"},
    "intro": {
        "ko": "1. 영상이나 이미지를 올립니다 2. **분석 후 대화 시작**을 누릅니다 3. 영상에 대해 질문합니다",
        "en": "1. Upload a video or an image 2. Press **Analyse & start chat** 3. Ask about the video",
    },
    "tab_video": {"ko": "영상", "en": "Video"},
    "tab_image": {"ko": "이미지", "en": "Image"},
    "video": {"ko": "영상 파일", "en": "Video file"},
    "image": {"ko": "이미지 파일", "en": "Image file"},
    "start": {"ko": "분석 후 대화 시작", "en": "Analyse & start chat"},
    "restart": {"ko": "처음부터 다시", "en": "Restart"},
    "clear": {"ko": "대화 지우기", "en": "Clear chat"},
    "send": {"ko": "보내기", "en": "Send"},
    "status": {"ko": "상태", "en": "Status"},
    "status_idle": {"ko": "영상이나 이미지를 올린 뒤 시작하세요.", "en": "Upload a video or an image, then start."},
    "status_ready": {
        "ko": "분석을 마쳤습니다: **{name}**. 이제 질문하세요.",
        "en": "Analysis done: **{name}**. Ask your questions now.",
    },
    "status_cleared": {
        "ko": "대화를 지웠습니다. 영상 분석 결과는 그대로입니다.",
        "en": "Chat cleared; the analysis stays.",
    },
    "status_restarted": {
        "ko": "모두 지웠습니다. 새 영상을 올려 주세요.",
        "en": "Everything cleared. Upload a new video.",
    },
    "no_upload": {"ko": "먼저 영상이나 이미지를 올려 주세요.", "en": "Please upload a video or an image first."},
    "no_chat": {"ko": "먼저 '분석 후 대화 시작'을 눌러 주세요.", "en": "Press 'Analyse & start chat' first."},
    "model_not_allowed": {
        "ko": "이 페이지에서 쓸 수 없는 모델입니다: {name}. 운영자가 설정한 모델 중에서 골라 주세요.",
        "en": "This model is not available on this page: {name}. Pick one the operator configured.",
    },
    "question_too_long": {
        "ko": "질문이 너무 깁니다({length:,}자). {limit:,}자 이내로 줄여 주세요.",
        "en": "The question is too long ({length:,} characters). Please keep it under {limit:,}.",
    },
    "empty_question": {"ko": "질문을 입력해 주세요.", "en": "Please type a question."},
    "error": {"ko": "처리할 수 없습니다", "en": "Could not process this"},
    "placeholder_wait": {"ko": "먼저 영상을 올리고 분석을 시작하세요", "en": "Upload a video and start first"},
    "placeholder_ready": {"ko": "질문을 입력하고 Enter를 누르세요", "en": "Type a question and press Enter"},
    "question": {"ko": "질문", "en": "Question"},
    "chatbot": {"ko": "대화", "en": "Conversation"},
    "settings": {"ko": "설정", "en": "Settings"},
    "lang": {"ko": "언어 (화면과 답변)", "en": "Language (page and answers)"},
    "backend": {"ko": "비디오-언어 모델", "en": "Video-language model"},
    "backend_info": {
        "ko": "'none'이면 감지기 보고서로만 답합니다. 바꾸면 다음 분석부터 적용됩니다.",
        "en": "'none' answers from the detector's report only. Applies from the next analysis.",
    },
    "frames": {"ko": "모델에 줄 프레임 수", "en": "Frames for the model"},
    "max_tokens": {"ko": "최대 답변 토큰", "en": "Max new tokens"},
    "temperature": {"ko": "온도 (0 = 결정적)", "en": "Temperature (0 = greedy)"},
    "verdict": {"ko": "판정", "en": "Verdict"},
    "analysis": {"ko": "분석 결과", "en": "Analysis"},
    "timeline": {
        "ko": "타임라인 (감지 신호, 사건 구간은 색으로 표시)",
        "en": "Timeline (detector signals, events shaded)",
    },
    "events": {"ko": "사건 목록", "en": "Events"},
    "keyframes": {"ko": "주요 장면", "en": "Keyframes"},
    "examples_questions": {"ko": "질문 예시", "en": "Example questions"},
    "examples_videos": {"ko": "예시 영상", "en": "Example videos"},
    "english_original": {"ko": "영어 원문 보기", "en": "English original"},
    "translating": {"ko": "번역 중…", "en": "Translating…"},
    "stage_detect": {"ko": "감지 중", "en": "Detecting"},
    "stage_verify": {"ko": "모델 확인 중", "en": "Asking the model"},
    "stage_start": {"ko": "영상 여는 중", "en": "Opening the video"},
    **{
        f"verdict_{v.value}": {"ko": VERDICT_LABELS["ko"][v], "en": VERDICT_LABELS["en"][v]}
        for v in VERDICT_LABELS["en"]
    },
    "confidence": {"ko": "신뢰도", "en": "confidence"},
    "warning": {"ko": "주의", "en": "warning"},
    "no_events": {"ko": "감지된 사건이 없습니다.", "en": "No events were detected."},
    "col_kind": {"ko": "종류", "en": "kind"},
    "col_start": {"ko": "시작(초)", "en": "start s"},
    "col_end": {"ko": "끝(초)", "en": "end s"},
    "col_people": {"ko": "인원", "en": "people"},
    "keyframe_at": {"ko": "{kind} · {time:.1f}초", "en": "{kind} · {time:.1f} s"},
    "overview_at": {"ko": "{time:.1f}초 장면", "en": "frame at {time:.1f} s"},
}

EXAMPLE_QUESTIONS: list[str] = [
    "영상에서 무슨 일이 생겼어?",
    "사고가 언제 일어났어?",
    "쓰러진 사람이 있어?",
    "What happened in the video?",
    "How many people are there?",
]


def t(lang: str, key: str, **values: object) -> str:
    """The text for `key` in `lang` (English for an unknown language), formatted with `values`."""
    entry = STRINGS[key]
    text = entry.get(lang, entry["en"])  # type: ignore[call-overload]
    return text.format(**values) if values else text


def ui_lang(value: str | None, default: UiLang = "ko") -> UiLang:
    """A language setting as 'ko' or 'en' (anything else falls back to `default`)."""
    return value if value in ("ko", "en") else default  # type: ignore[return-value]
