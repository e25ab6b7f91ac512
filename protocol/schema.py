"""JSON Schema export of the contract, generated from the pydantic models (one source of truth)."""
from __future__ import annotations

from typing import Any

from protocol import messages as m

COMMANDS = {
    "kiosk/ticket.issue": m.TicketIssue, "kiosk/guidance.online": m.GuidanceOnline,
    "kiosk/booking.check_in": m.BookingCheckIn,
    "counter/call.next": m.CallNext, "counter/call.recall": m.CallRecall, "counter/call.number": m.CallNumber,
    "counter/serve.done": m.ServeDone, "counter/serve.no_show": m.ServeNoShow,
    "counter/serve.transfer": m.ServeTransfer, "counter/counter.open": m.CounterOpen,
    "counter/counter.pause": m.CounterPause, "counter/counter.close": m.CounterClose,
    "counter/rating.submit": m.RatingSubmit,
    # the province's booking commands for a site (issue #16): province/booking/{site}/cmd
    "province/booking.create": m.ProvinceBookingCreate, "province/booking.cancel": m.ProvinceBookingCancel,
    "province/booking.move": m.ProvinceBookingMove,
}
OUTGOING = {
    "reply": m.Reply, "board": m.Board, "call": m.Call, "sector.stats": m.SectorStats,
    "counter.state": m.CounterState, "event": m.LogEvent, "device.status": m.DeviceStatus,
    "server.status": m.ServerStatus, "ticket": m.TicketResult, "bookings.offer": m.BookingOffer,
}


def all_schemas() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, model in {**COMMANDS, **OUTGOING}.items():
        schema = model.model_json_schema()
        schema["$id"] = f"https://motcua/protocol/v1/{name.replace('/', '.')}.schema.json"
        out[name.replace("/", ".")] = schema
    return out
