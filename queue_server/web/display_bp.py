"""The browser wall display at /display: the same content as the Kivy display, for any smart TV.

A plain page (no build step, ES5 JavaScript) fed live by the server's
Server-Sent Events (GET /api/v1/stream: `board` first, then `board` and
`call` events). Labels come from the display's catalogue (motcua/board_texts),
so both displays say the same words.

Calls are also heard: for each `call` the page plays /display/announce.wav,
the chime and the Vietnamese sentence the Pi display's announcer speaks, built
here by the same code (motcua/speech.py) from espeak-ng fragments rendered
once and cached. A TV's own speech voices are not used: few have Vietnamese.
"""
from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from protocol.ticket_number import is_number as is_ticket_number

bp = Blueprint("display", __name__, template_folder="templates", static_folder="static/display",
               static_url_path="/display/static")
log = logging.getLogger(__name__)

_voice_lock = threading.Lock()


@bp.get("/display")
def display_page():
    from motcua.board_texts import page_labels
    from motcua.clerk_texts import break_reason
    from protocol.messages import BREAK_REASONS
    stream_url = current_app.config.get("MOTCUA_DISPLAY_STREAM_URL", "/api/v1/stream?kinds=board,call")
    # a break's reason under "Tạm nghỉ", in the clerks' words (one list: motcua/clerk_texts)
    labels = {**page_labels(), **{f"break_reason:{r}": break_reason(r) for r in BREAK_REASONS}}
    # embedded as JSON in a <script type="application/json">: "</" must not close the tag early
    labels = json.dumps(labels, ensure_ascii=False).replace("</", "<\\/")
    health_url = current_app.config.get("MOTCUA_DISPLAY_HEALTH_URL", "/health")
    settings = {"stream": stream_url, "health": health_url, "tz": None, "utc_offset_min": None}
    svc = current_app.extensions.get("motcua_service")
    if svc is not None:
        _voice()   # start rendering the fixed fragments now, so the first call is heard at once
        # The clock shows the site's time, whatever zone the TV is set to: the page formats with
        # Intl in this zone; a browser without time-zone support uses the offset of now instead.
        offset = svc.clock().utcoffset()
        settings.update(tz=svc.config.site.timezone,
                        utc_offset_min=int(offset.total_seconds() // 60) if offset is not None else None)
    return render_template("display/index.html", settings=settings, labels_json=labels)


def _error(status: int, code: str, en: str, vi: str):
    return jsonify(ok=False, error={"code": code, "message": en, "message_vi": vi}), status


@bp.get("/display/announce.wav")
def announce_wav():
    """GET ?number=A023&counter=q5[&en=1]: chime + "Mời công dân có số thứ tự A, không, hai, ba, đến
    quầy số 5" (+ the English sentence with en=1) as a WAV, for a ticket issued today. The counter's
    name comes from the site's configuration, not from the request. Without espeak-ng on the server: the chime alone, with
    the header X-Motcua-Voice: none."""
    from motcua.speech import chime_frames_cached, spoken_en, spoken_vi, wav_bytes
    number = (request.args.get("number") or "").strip().upper()
    if not is_ticket_number(number):
        return _error(400, "bad_request", "number must be a ticket number such as A023",
                      "Số thứ tự không hợp lệ (ví dụ: A023)")
    svc = current_app.extensions.get("motcua_service")
    counter = svc.config.counter_by_id.get(request.args.get("counter", "")) if svc is not None else None
    if counter is None:
        return _error(404, "not_found", "no such counter at this site", "Không có quầy này tại trung tâm")
    # Only today's real tickets: anyone may fetch this (a TV has no account), and each new English
    # sentence costs an espeak-ng run and a cached file. (A dict lookup: no need for the loop's lock.)
    t = svc.state.ticket_by_number(number)
    if t is None:
        return _error(404, "not_found", "no ticket has this number today", "Hôm nay không có số thứ tự này")
    # a visit's procedure: where it stands, from the ticket itself (the request's `step` only keeps
    # each procedure's sound apart in the browser's cache)
    step, steps = (t.step_number, t.steps) if t.visit else (None, None)
    sector = svc.config.sector_by_id.get(t.sector)
    name = sector.name if sector is not None and step else None
    bank = _voice()
    if bank is None:
        frames, voice = chime_frames_cached(), "none"
    else:
        english = spoken_en(number, counter.label.en, counter.id, step=step, steps=steps,
                            sector_name_en=name.en if name else None) if request.args.get("en") == "1" else None
        try:
            frames = bank.assemble(spoken_vi(number, counter.label.vi, counter.id, step=step, steps=steps,
                                             sector_name=name.vi if name else None).fragments, english=english)
            voice = "espeak-ng"
        except Exception:   # espeak-ng failed on this text: the chime still calls the hall's attention
            log.exception("announcement of %s could not be rendered", number)
            frames, voice = chime_frames_cached(), "none"
    resp = Response(wav_bytes(frames), mimetype="audio/wav")
    resp.headers["X-Motcua-Voice"] = voice
    # the same number at the same counter (and, for a visit, the same `step` in the URL) always
    # sounds the same: a recall plays from the cache
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


def _voice():
    """The app's PhraseBank (created once, its fixed fragments rendered in the background), or None
    when espeak-ng is not installed on the server."""
    ext = current_app.extensions
    with _voice_lock:
        if "motcua_voice" not in ext:
            from motcua.speech import PhraseBank, counter_number
            data_dir = current_app.config.get("MOTCUA_DATA_DIR")
            try:
                bank = PhraseBank(Path(data_dir) / "announcer-cache" if data_dir else None)
            except RuntimeError as exc:   # no espeak-ng
                log.warning("browser displays will play the chime without speech: %s", exc)
                bank = None
            if bank is not None:
                svc = ext.get("motcua_service")
                numbers = {counter_number(c.label.vi, c.id) for c in svc.config.counters} if svc else set()
                threading.Thread(target=_prerender, args=(bank, sorted(n for n in numbers if n)),
                                 name="display-voice", daemon=True).start()
            ext["motcua_voice"] = bank
        return ext["motcua_voice"]


def _prerender(bank, numbers: list[str]) -> None:
    try:
        bank.prerender(numbers)
    except Exception:
        log.exception("pre-rendering the display's voice failed; fragments will render on first use")
