"""Korean: polite formal style (합니다체) and the site-safety glossary."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from sitewatch.schema import Event, EventKind, Verdict
from sitewatch.text.base import Intent, Language
from sitewatch.text.incidents import Incident

# Each kind as the opening clause of a sentence, in final and connective (…고) form; {t} is the time.
_HEAD: dict[EventKind, tuple[str, str]] = {
    EventKind.fall: ("{t}에 사람이 넘어졌습니다", "{t}에 사람이 넘어졌고"),
    EventKind.person_down: (
        "{t}부터 약 {d} 동안 사람이 바닥에 쓰러져 있었습니다",
        "{t}부터 약 {d} 동안 사람이 바닥에 쓰러져 있었고",
    ),
    EventKind.struck_by: ("{t}에 사람이 물체에 부딪힌 것으로 보입니다", "{t}에 사람이 물체에 부딪힌 것으로 보이고"),
    EventKind.object_drop: ("{t}에 물체가 떨어졌습니다", "{t}에 물체가 떨어졌고"),
    EventKind.person_lost_after_fall: (
        "{t}에 사람이 빠르게 쓰러지듯 움직인 뒤 화면에서 사라졌습니다",
        "{t}에 사람이 빠르게 쓰러지듯 움직인 뒤 화면에서 사라졌고",
    ),
    EventKind.intrusion: ("{t}에 사람이 위험구역에 머물렀습니다", "{t}에 사람이 위험구역에 머물렀고"),
}
# Each kind as a later phase of the same incident, in final and connective form; {end} is when it ended.
_LATER: dict[EventKind, tuple[str, str]] = {
    EventKind.fall: ("{t}에 넘어졌습니다", "{t}에 넘어졌고"),
    EventKind.person_down: ("이후 {end}까지 바닥에 쓰러져 있었습니다", "이후 {end}까지 바닥에 쓰러져 있었고"),
    EventKind.struck_by: ("물체에 부딪힌 것으로 보입니다", "물체에 부딪힌 것으로 보이고"),
    EventKind.object_drop: ("{t}에 물체도 떨어졌습니다", "{t}에 물체도 떨어졌고"),
    EventKind.person_lost_after_fall: ("이후 화면에서 사라졌습니다", "이후 화면에서 사라졌고"),
    EventKind.intrusion: ("{t}에 위험구역에 머물렀습니다", "{t}에 위험구역에 머물렀고"),
}


class Korean(Language):
    """한국어."""

    code = "ko"
    native_name = "한국어"
    events: ClassVar[Mapping[EventKind, str]] = {
        EventKind.fall: "넘어짐",
        EventKind.person_down: "쓰러짐",
        EventKind.struck_by: "부딪힘",
        EventKind.object_drop: "낙하물",
        EventKind.person_lost_after_fall: "넘어진 뒤 사라짐",
        EventKind.intrusion: "위험구역 진입",
    }
    verdicts: ClassVar[Mapping[Verdict, str]] = {
        Verdict.accident: "사고 감지",
        Verdict.uncertain: "사고 의심",
        Verdict.no_accident: "사고 없음",
    }
    example_questions = ("영상에서 무슨 일이 생겼나요?", "사고가 언제 일어났나요?", "쓰러진 사람이 있나요?")
    keywords: ClassVar[Mapping[Intent, tuple[str, ...]]] = {
        Intent.what: ("무슨 일", "무슨일", "무엇", "뭐", "뭔", "어떤 일", "사고", "상황", "요약", "설명"),
        Intent.when: ("언제", "몇 초", "몇초", "몇 분", "몇분", "시간", "시각", "시점"),
        Intent.people: ("몇 명", "몇명", "인원", "사람 수", "사람은", "사람들", "작업자 수"),
        Intent.down: ("쓰러", "넘어", "누워", "다쳤", "다친", "부상", "추락", "떨어졌", "의식"),
    }
    strings: ClassVar[Mapping[str, str]] = {
        # verdicts and report sentences
        "confidence": "신뢰도",
        "confidence_value": "신뢰도 {value}",
        "uncertain_opening": "사고로 의심되는 장면이 있으나 확실하지 않습니다.",
        "no_accident": "{medium}에서 넘어짐, 쓰러짐, 낙하물, 부딪힘 등 사고로 보이는 장면은 감지되지 않았습니다.",
        "medium_image": "사진",
        "medium_video": "영상 전체({duration})",
        "advice_accident": "즉시 현장을 확인하시고 작업자의 상태를 점검해 주시기 바랍니다.",
        "advice_uncertain": "해당 구간의 영상을 직접 확인해 주시기 바랍니다.",
        "advice_lost": (
            "사람이 화면에서 사라진 뒤의 상황은 영상으로 확인할 수 없으니 현장을 직접 확인해 주시기 바랍니다."
        ),
        "advice_clip_end": (
            "사람이 쓰러지는 듯한 순간에 영상이 끝나 확인하지 못했습니다. 그 뒤의 상황을 직접 확인해 주시기 바랍니다."
        ),
        "stayed_down": "쓰러진 사람이 {d} 넘게 일어나지 않았습니다.",
        "partial": "영상 {total} 중 {read}만 읽을 수 있었으므로 나머지 구간은 확인되지 않았습니다.",
        "scene": "모델의 장면 설명: {text}",
        "scene_untranslated": "모델의 장면 설명(영문): {text}",
        # chat answers from the report
        "chat_uncertain": "감지기가 사고 여부를 확실하게 판단하지 못했습니다.",
        "chat_no_accident": "감지기는 이 영상에서 사고를 발견하지 못했습니다.",
        "chat_no_time": "감지된 사고가 없어서 알려 드릴 시각이 없습니다.",
        "chat_nobody_down": "아니요, 넘어지거나 쓰러진 사람은 감지되지 않았습니다.",
        "chat_yes": "네.",
        "chat_maybe": "확실하지는 않지만 그렇게 보이는 장면이 있습니다.",
        "chat_help": "무슨 일이 있었는지, 언제였는지, 몇 명이 있었는지, 쓰러진 사람이 있는지 물어보실 수 있습니다.",
        "chat_no_report": "아직 이 영상의 분석 결과가 없어서 답변드리기 어렵습니다. 먼저 영상을 분석해 주세요.",
        "chat_no_translator": (
            "※ 번역기가 설정되지 않아 모델의 영어 답변을 그대로 보여 드립니다. 한국어 답변을 받으시려면 "
            "관리자에게 번역기 설정(SITEWATCH_TRANSLATOR)을 요청해 주세요."
        ),
        "chat_model_failed": (
            "※ 모델 또는 번역 서버가 응답하지 않아 감지기 보고서로 답변드렸습니다. "
            "자세한 원인은 관리자에게 문의해 주세요."
        ),
        "chat_question_kept": "※ 질문의 번역 결과가 올바르지 않아 원래 질문을 그대로 모델에 전달했습니다.",
        "chat_cut_off": "※ 모델의 답변이 중간에 끊겼습니다.",
        "chat_untranslated": "※ 답변을 한국어로 번역하지 못해 모델의 영어 답변을 그대로 보여 드립니다.",
        "chat_greeting": (
            "영상에 대해 한국어나 영어로 질문해 주세요.\n"
            "명령: /en 마지막 답변의 영어 원문, /reset 대화 지우기, /quit(또는 빈 줄) 끝내기\n"
        ),
        "chat_cleared": "대화를 지웠습니다.",
        "chat_no_answer_yet": "아직 답변이 없습니다.",
        "chat_no_original": "이 답변은 모델이 아니라 감지기 보고서에서 나온 것이라 영어 원문이 없습니다.",
        "question_too_long": "질문이 너무 깁니다({length:,}자). {limit:,}자 이내로 줄여 주세요.",
        # tables (CLI, page, HTML report)
        "signal_fallness": "넘어짐 점수(0~1, 최고 {peak:.2f})",
        "signal_falling_object": "낙하물 점수(0~1, 최고 {peak:.2f})",
        "signal_people": "사람 수(최대 {peak:.0f}명)",
        "signal_max_torso_deg": "상체 기울기(최대 {peak:.0f}도)",
        "signal_motion_energy": "화면 움직임(프레임 간 밝기 변화, 최대 {share:.0%})",
        "signal_other": "{name}(최대 {peak:.2f})",
        "timeline_scale": (
            "선마다 그 신호의 최댓값이 그래프 맨 위에 오도록 그렸습니다. 가로축은 영상 시작부터의 시간입니다."
        ),
        "timeline_gap": "점선: 측정값 없음(화면에 사람이 보이지 않음)",
        "detector_pose": "자세 분석",
        "detector_pose-rules": "자세 규칙(비교용)",
        "detector_rate": "{name}, 초당 {fps}장",
        "detector_decided": "{detector}, {model}로 판단",
        "model_shipped": "기본 모델",
        "model_site": "{name} 현장에 맞춰 {date}에 학습한 모델",
        "model_camera": "{name} 카메라에 맞춰 {date}에 학습한 모델",
        "model_other": "{name} 모델",
        "train_exported": (
            "검토한 영상 {clips}개(넘어짐 {falls}개, 오경보 "
            "{false_alarms}개)를 {manifest}에 내보냈습니다"
        ),
        "train_skip": "{incident} 제외: {reason}",
        "train_skip_not_a_fall": "사람이 넘어진 사고가 아닙니다",
        "train_skip_no_clip": "분석된 영상이 없습니다",
        "train_skip_no_fall_found": "확인되었지만 영상 분석에서 넘어진 시점을 찾지 못했습니다",
        "train_no_clips": (
            "{target}에는 학습할 수 있는, 영상이 있는 검토된 "
            "넘어짐 사고가 없습니다. 먼저 사고를 검토해 주세요"
        ),
        "train_corpus_score": "공유 학습 자료, 중첩 교차 검증(출처별 F1): 이전 {before:.2f}, 이후 {after:.2f}",
        "train_site_score": "현장 영상 {clips}개를 하나씩 빼고 검증: 이전 {right_before}개, 이후 {right_after}개 정답",
        "train_written": (
            "새 모델이 더 나쁘지 않아 저장했습니다: {path}. 이제 "
            "watch와 serve가 다시 시작하지 않고 이 모델을 사용합니다."
        ),
        "train_refused": (
            "저장하지 않았습니다. 새 모델은 {worse}에서 더 "
            "나빠집니다. 지금 쓰는 모델을 그대로 사용합니다."
        ),
        "train_worse_corpus": "공유 학습 자료",
        "train_worse_site": "현장 영상",
        "train_needs_target": "어느 현장(--site)이나 카메라(--camera)의 검토 결과로 학습할지 지정해 주세요",
        "train_only_history": (
            "여기서는 --from-history만 지원합니다. 기본 모델은 "
            "scripts/train_detector.py로 다시 만듭니다"
        ),
        "made_at": "{time} 작성",
        "col_number": "번호",
        "col_kind": "종류",
        "col_phases": "진행",
        "col_start": "시작",
        "col_end": "끝",
        "col_people": "인원",
        "col_source": "근거",
        "people_count": "{n}명",
        "source_detector": "감지기",
        "no_events": "감지된 사고가 없습니다.",
        "events": "사고 목록",
        "keyframes": "주요 장면",
        "timeline": "시간대별 신호",
        "video": "영상 정보",
        "warnings": "주의",
        "warning": "주의",
        "model_check": "모델 확인 ({model})",
        "col_window": "구간",
        "col_accident": "사고",
        "col_severity": "심각도",
        "col_description": "설명",
        "yes": "예",
        "no": "아니요",
        "unknown": "알 수 없음",
        "file": "파일",
        "frame_size": "화면 크기",
        "rotated": "{deg}° 회전",
        "duration": "길이",
        "duration_value": "{duration}, {frames:,}프레임, 초당 {fps:.1f}프레임",
        "format": "형식",
        "with_audio": "소리 있음",
        "detector": "감지기",
        "model": "모델",
        "model_none": "사용 안 함(감지기만 사용)",
        "analysis_time": "분석 시간",
        "analysis_time_value": "{total} (재생 속도의 {speed:.1f}배)",
        "keyframe_caption": "#{number} {kind} · {time}",
        "overview_caption": "{time} 장면",
        "report_title": "sitewatch 안전 분석 보고서 · {name}",
        "made_by": "sitewatch {version} · {created}",
        "terminal_footer": "{detector} · 분석 {total}",
        "report_saved": "보고서: {path}",
        # sitewatch history
        "history_title": "분석 기록 {total}건",
        "history_newest": "{total}건 중 최근 {shown}건",
        "history_empty": "분석 기록이 없습니다. analyze --save로 분석 결과를 기록할 수 있습니다.",
        "history_hint": "자세히 보기: sitewatch history show ID",
        "history_not_ready": "이 분석은 아직 보고서가 없습니다({state}).",
        "history_entry": "{time} · {file}",
        "col_id": "ID",
        "col_time": "분석 시각({zone})",
        "col_tags": "현장/카메라",
        "state_queued": "대기 중",
        "state_running": "분석 중",
        "state_done": "완료",
        "state_failed": "분석 실패",
        "state_cancelled": "취소됨",
        # batch runs (sitewatch batch): the index page and the command's last line
        "batch_title": "sitewatch 일괄 분석 · 영상 {videos}개",
        "batch_counts": "분석 완료 {done}개(이전 실행분 {reused}개 포함), 분석 실패 {errors}개",
        "batch_speed": "이번 실행: 영상 {video} 분량을 {wall} 동안 분석(재생 속도의 {speed:.1f}배)",
        "batch_failed": "분석 실패",
        "batch_progress": "분석 중",
        "batch_done": "영상 {videos}개 중 {done}개를 분석했고 {errors}개는 분석하지 못했습니다: {path}",
        "col_found": "감지 내용",
        "col_reason": "사유",
        # the web page
        "title": "# sitewatch 현장 안전 영상 도우미",
        "intro": "1. 영상이나 이미지를 올립니다 2. **분석 후 대화 시작**을 누릅니다 3. 영상에 대해 질문합니다",
        "tab_video": "영상",
        "tab_image": "이미지",
        "upload_video": "영상 파일 (끌어다 놓거나 눌러서 선택)",
        "upload_image": "이미지 파일 (끌어다 놓거나 눌러서 선택)",
        "start": "분석 후 대화 시작",
        "restart": "처음부터 다시",
        "clear": "대화 지우기",
        "send": "보내기",
        "status": "상태",
        "status_idle": "영상이나 이미지를 올린 뒤 시작하세요.",
        "status_ready": "분석을 마쳤습니다: **{name}**. 이제 질문하세요.",
        "status_cleared": "대화를 지웠습니다. 영상 분석 결과는 그대로입니다.",
        "status_restarted": "모두 지웠습니다. 새 영상을 올려 주세요.",
        "no_upload": "먼저 영상이나 이미지를 올려 주세요.",
        "no_chat": "먼저 '분석 후 대화 시작'을 눌러 주세요.",
        "empty_question": "질문을 입력해 주세요.",
        "error": "처리할 수 없습니다",
        "placeholder_wait": "먼저 영상을 올리고 분석을 시작하세요",
        "placeholder_ready": "질문을 입력하고 Enter를 누르세요",
        "question": "질문",
        "chatbot": "대화",
        "settings": "설정",
        "lang": "언어 (화면과 답변)",
        "backend": "비디오-언어 모델",
        "backend_info": (
            "'none'이면 감지기 보고서로만 답합니다. 영상 내용을 더 자세히 묻고 싶으시면 운영자가 "
            "비디오-언어 모델(SITEWATCH_VLM, SITEWATCH_MODELS)을 설정해야 합니다. 바꾸면 다음 분석부터 적용됩니다."
        ),
        "frames": "모델에 줄 프레임 수",
        "max_tokens": "최대 답변 토큰",
        "temperature": "온도 (0 = 결정적)",
        "verdict": "판정",
        "analysis": "분석 결과",
        "timeline_tab": "타임라인 (감지 신호, 사건 구간은 색으로 표시)",
        "examples_questions": "질문 예시",
        "examples_videos": "예시 영상",
        "english_original": "영어 원문 보기",
        "translating": "번역 중…",
        "stage_detect": "감지 중",
        "stage_verify": "모델 확인 중",
        "stage_start": "영상 여는 중",
        "history": "분석 기록",
        "history_pick": "지난 분석",
        "history_open": "열기",
        "history_refresh": "새로 고침",
        "history_opened": "지난 분석을 열었습니다: **{name}**. 이어서 질문하세요.",
        "history_choose_first": "먼저 목록에서 지난 분석을 골라 주세요.",
        "history_kept": "올린 파일과 분석 결과, 대화는 이 서버의 분석 기록에 보관됩니다.",
        "history_not_kept": "이 페이지는 올린 파일과 분석 결과를 기록에 남기지 않습니다.",
        "unit_detect": "프레임",
        "unit_verify": "구간",
        "unit_start": "단계",
        "event_complete": "완료",
        "page_running": "sitewatch 페이지: {url} (Ctrl+C로 종료)",
        "page_stopped": "sitewatch 페이지를 닫았습니다.",
        "model_not_allowed": "이 페이지에서 쓸 수 없는 모델입니다: {name}. 운영자가 설정한 모델 중에서 골라 주세요.",
        # live camera alerts
        "alert_title": "{camera} 카메라: {event} 감지",
        "alert_body": "{time}, {camera} 카메라{site}에서 사고가 의심됩니다: {event}({confidence}).",
        "alert_site": "({site} 현장)",
        "alert_update": "사고 영상을 확인했습니다: {verdict}.",
        "alert_no_clip": "사고 영상을 확인하지 못했습니다.",
        "alert_report": "보고서: {url}",
        # 운영자 콘솔 (sitewatch serve, /console).
        "console_title": "sitewatch 관제 콘솔",
        "console_cameras": "카메라",
        "console_queue": "검토 대기열",
        "console_analyses": "분석 기록",
        "console_logout": "로그아웃",
        "console_login": "로그인",
        "console_token": "접속 토큰",
        "console_login_help": "이 서버의 접속 토큰(SITEWATCH_API_TOKEN)을 입력해 주십시오.",
        "console_login_wrong": "토큰이 올바르지 않습니다.",
        "console_login_too_many": (
            "이 주소에서 잘못된 토큰을 너무 많이 입력했습니다. {seconds}초 뒤에 다시 시도해 주세요."
        ),
        "console_form_expired": "양식이 만료되었습니다. 페이지를 새로 고친 뒤 다시 시도해 주세요.",
        "console_decided_by": "{model}로 판단했습니다.",
        "console_language": "언어",
        "console_no_cameras": (
            "아직 지켜보는 카메라가 없습니다(같은 기록과 데이터 폴더로 `sitewatch watch`를 실행하시거나 "
            "SITEWATCH_WATCH_CONFIG를 설정해 주십시오)."
        ),
        "console_state_connecting": "연결 중",
        "console_state_up": "정상",
        "console_state_down": "끊김",
        "console_state_ended": "종료",
        "console_state_stopped": "중지",
        "console_state_quiet": "응답 없음",
        "console_quiet_since": "{time} 이후 감시 프로세스에서 소식이 없습니다",
        "console_frames": "분석 {analysed}장 · 누락 {dropped}장",
        "console_last_incident": "최근 사고",
        "console_none": "없음",
        "console_tier": "단계",
        "console_tier_alarm": "알림",
        "console_tier_possible": "사고 의심(알림 없음)",
        "console_chat": "이 사고에 대해 묻기",
        "console_ask": "묻기",
        "console_ask_placeholder": "예: 사람이 언제 넘어졌나요?",
        "console_alarms": "하루 평균 알림 {per_day}건(최근 {days}일)",
        "console_confirmed_share": "검토한 {reviewed}건 중 {share}% 확인됨",
        "console_none_reviewed": "검토한 알림 없음",
        "console_camera": "카메라",
        "console_site": "현장",
        "console_kind": "종류",
        "console_reviewed": "검토 여부",
        "console_since": "시작일",
        "console_until": "종료일",
        "console_all": "전체",
        "console_yes": "예",
        "console_no": "아니요",
        "console_filter": "조회",
        "console_time": "시각",
        "console_confidence": "신뢰도",
        "console_review": "검토",
        "console_not_reviewed": "미검토",
        "console_verdict_confirmed": "사고 확인",
        "console_verdict_false_alarm": "오경보",
        "console_confirm": "사고 확인",
        "console_mark_false": "오경보",
        "console_note": "메모",
        "console_note_prompt": "이 사고에 대한 메모",
        "console_save": "저장",
        "console_cancel": "취소",
        "console_reviewed_by": "{verdict} ({who}, {when})",
        "console_shortcuts": "단축키: c 사고 확인 · f 오경보 · n 메모 · j 다음 · k 이전",
        "console_report": "보고서",
        "console_no_clip": "영상이 아직 준비되지 않았습니다.",
        "console_empty": "표시할 항목이 없습니다.",
        "console_video": "영상",
        "console_status": "상태",
        "console_verdict": "판정",
        "console_next": "다음",
        "console_previous": "이전",
        "console_failed": "저장하지 못했습니다",
        "console_bad_filter": "조회 조건이 올바르지 않습니다: {reason}",
        "console_incident": "사고",
        "console_status_queued": "대기 중",
        "console_status_running": "분석 중",
        "console_status_done": "완료",
        "console_status_failed": "실패",
        "console_status_cancelled": "취소됨",
        "console_zones": "구역",
        "console_zones_edit": "구역 편집",
        "console_zone_danger": "위험구역",
        "console_zone_ignore": "무시 구역",
        "console_zone_hint": (
            "사진을 클릭해 꼭짓점을 찍고, 두 번 클릭하거나 '다각형 닫기'를 눌러 완성한 뒤 '구역 저장'을 눌러 주십시오. "
            "위험구역에 정해진 시간보다 오래 머문 사람은 침입으로 알리고, 무시 구역에서 넘어지거나 누운 사람은 "
            "알리지 않습니다."
        ),
        "console_zone_name": "이름",
        "console_zone_kind": "종류",
        "console_zone_dwell": "머무는 시간(초)",
        "console_zone_dwell_value": "{dwell}초",
        "console_zone_close": "다각형 닫기",
        "console_zone_clear": "다시 그리기",
        "console_zone_save": "구역 저장",
        "console_zone_delete": "삭제",
        "console_zone_saved": "저장했습니다. 몇 초 안에 카메라에 적용됩니다.",
        "console_zone_need_points": "구역에는 꼭짓점이 3개 이상 필요합니다.",
        "console_zone_need_name": "구역 이름을 입력해 주십시오.",
        "console_zone_none": "아직 구역이 없습니다.",
        "console_zone_changed": "마지막 변경",
        "console_zone_by_file": "카메라 설정 파일",
        "console_zone_unsaved": "아직 저장하지 않음",
    }

    def seconds(self, s: float) -> str:
        """12.3초, or 2분 5.0초 past a minute."""
        return f"{s:.1f}초" if s < 60 else f"{int(s // 60)}분 {s % 60:.1f}초"

    def people_seen(self, most: int, involved: int = 0) -> str:
        """화면에는 최대 N명이 보였습니다 (그중 M명이 사고와 관련되어 있습니다)."""
        if most == 0:
            return "화면에서 사람은 확인되지 않았습니다."
        text = "화면에는 1명이 보였습니다." if most == 1 else f"화면에는 동시에 최대 {most}명이 보였습니다."
        return text + (f" 그중 사고와 관련된 사람은 {involved}명입니다." if 0 < involved < most else "")

    def incident(self, incident: Incident) -> str:
        """3.7초에 사람이 넘어졌고, 이후 11.2초까지 바닥에 쓰러져 있었습니다(신뢰도 92%)."""
        head = incident.phase(incident.kind)
        assert head is not None
        later = incident.later
        clauses = [_HEAD[head.kind][1 if later else 0].format(**self._times(head))]
        for i, phase in enumerate(later):
            clauses.append(_LATER[phase.kind][0 if i == len(later) - 1 else 1].format(**self._times(phase)))
        return f"{', '.join(clauses)}({self.confidence(incident.confidence)})."

    def _times(self, event: Event) -> dict[str, str]:
        start, end = event.start_s, event.end_s
        return {"t": self.seconds(start), "end": self.seconds(end), "d": self.seconds(max(0.0, end - start))}

    def accident_opening(self, incidents: int) -> str:
        """사고가 감지되었습니다 / 사고로 보이는 장면이 N건 감지되었습니다."""
        return "사고가 감지되었습니다." if incidents <= 1 else f"사고로 보이는 장면이 {incidents}건 감지되었습니다."


KOREAN = Korean()
