"""/display/announce.wav without a broker: the counter's name comes from the site's configuration,
and a server without espeak-ng still sends the chime (never an error page to a wall display)."""
from __future__ import annotations

from types import SimpleNamespace

from flask import Flask

import motcua.speech as speech
from queue_server.config import load_site
from queue_server.web.display_bp import bp
from tests.support.audio import wav_seconds


def _app() -> Flask:
    app = Flask(__name__)
    app.register_blueprint(bp)
    # A012: one procedure; A001: a visit called for its second procedure of three, in the land sector
    today = {"A012": SimpleNamespace(visit=[], sector="tu-phap-ho-tich"),
             "A001": SimpleNamespace(visit=[{}, {}, {}], step_number=2, steps=3, sector="dat-dai")}
    state = SimpleNamespace(ticket_by_number=today.get)
    app.extensions["motcua_service"] = SimpleNamespace(config=load_site(), state=state)
    return app


def test_without_espeak_the_chime_alone(monkeypatch):
    def missing():
        raise RuntimeError("espeak-ng is not installed (apt-get install espeak-ng)")
    monkeypatch.setattr(speech, "find_espeak", missing)
    client = _app().test_client()
    resp = client.get("/display/announce.wav?number=a012&counter=q3")   # lower case is read as A012
    assert resp.status_code == 200 and resp.mimetype == "audio/wav"
    assert resp.headers["X-Motcua-Voice"] == "none"
    assert abs(wav_seconds(resp.data) - len(speech.chime_frames_cached()) / 2 / speech.RATE) < 0.01


def test_bad_requests_are_refused_in_both_languages(monkeypatch):
    monkeypatch.setattr(speech, "find_espeak", lambda: (_ for _ in ()).throw(RuntimeError("none")))
    client = _app().test_client()
    for query in ("", "number=", "number=A12345678&counter=q1", "number=%F0%9F%98%80&counter=q1", "number=12&counter=q1"):
        resp = client.get("/display/announce.wav?" + query)
        assert resp.status_code == 400, query
        assert resp.json["error"]["message"] and resp.json["error"]["message_vi"]
    resp = client.get("/display/announce.wav?number=A001&counter=q99")
    assert resp.status_code == 404 and resp.json["error"]["message_vi"] == "Không có quầy này tại trung tâm"
    resp = client.get("/display/announce.wav?number=A002&counter=q1")   # no such ticket today
    assert resp.status_code == 404 and resp.json["error"]["message_vi"] == "Hôm nay không có số thứ tự này"


def test_a_visit_is_announced_with_its_procedure_from_the_ticket(monkeypatch):
    """The step is read from the ticket (the URL's `step` only keeps the browser's cache apart)."""
    import queue_server.web.display_bp as display_bp
    said = []

    class Bank:
        def assemble(self, parts, english=None):
            said.append(([t for t, _ in parts], english))
            return speech.chime_frames_cached()
    monkeypatch.setattr(display_bp, "_voice", lambda: Bank())
    client = _app().test_client()
    assert client.get("/display/announce.wav?number=A001&counter=q4&step=1&en=1").status_code == 200
    parts, english = said[-1]
    assert parts[-2:] == ["thủ tục 2 trên 3", "Đất đai"]
    assert english == "Ticket number A 0 0 1, please go to counter 4, procedure 2 of 3, Land."
    assert client.get("/display/announce.wav?number=A012&counter=q4").status_code == 200
    assert said[-1][0][-2:] == ["đến quầy số", "4"]            # one procedure: as before
