"""Filing online instead of queueing: the steps for a procedure, asked of the server
(`guidance.online`) or, when it does not answer, the kiosk's own from protocol/guidance.py.

A part of KioskViewModel (kiosk/viewmodel.py); printing the guide is in kiosk/print_jobs.py.
"""
from __future__ import annotations

import logging
from typing import Any

from kiosk.catalogue import Procedure
from kiosk.journey import GUIDANCE
from kiosk.replies import read_guidance_reply
from protocol import guidance
from protocol.client import new_req_id

log = logging.getLogger(__name__)


class OnlineFiling:
    def file_online(self) -> None:
        self.touch()
        if self.catalogue is None or self.guidance_status == "requesting":
            return
        sector, proc = self.catalogue.procedure(self.procedure_id)
        if proc is None:
            return
        self.guidance, self.guidance_status, self.guidance_print_status = None, "requesting", None
        self._go(GUIDANCE)
        self._changed()
        fields = {"procedure": proc.id, "lang": self.lang}
        req_id = new_req_id()
        timeout = self.settings.guidance_timeout_s

        def work() -> None:
            try:
                reply = self.backend.request("guidance.online", fields, req_id, timeout)
            except Exception as exc:  # timeout or broken link: local guidance still helps the citizen
                log.info("guidance.online got no answer (%s); showing local guidance", exc)
                reply = None
            self.post(lambda: self._guidance_reply(proc, reply))

        if self.backend is None:
            self._guidance_reply(proc, None)
        else:
            self.run_async(work)

    def _local_guidance(self, proc: Procedure) -> dict[str, Any]:
        portal = proc.portal_url or self.catalogue.site.online_portal
        return {"portal_url": portal, "procedure": proc.id, "online": proc.online,
                "steps": guidance.steps(portal, proc.name.get(self.lang), proc.online, self.lang)}

    def _guidance_reply(self, proc: Procedure, reply: Any) -> None:
        if self.screen != GUIDANCE or self.procedure_id != proc.id:
            return
        found = read_guidance_reply(reply)   # none: no answer, an error or a refused reply
        if found is not None:
            self.guidance = {"portal_url": found.portal_url, "procedure": found.procedure, "online": found.online,
                             "steps": list(found.steps) or self._local_guidance(proc)["steps"]}
            self.guidance_status = "ready"
        else:
            self.guidance = self._local_guidance(proc)
            self.guidance_status = "local"
        self._changed()
