"""The Decision 766/QĐ-TTg (23/6/2022) indicators that a queue system can feed, with their formulas.

Decision 766 sets the national index for serving citizens and businesses in
administrative procedures, in six groups (công khai minh bạch; tiến độ giải
quyết; dịch vụ công trực tuyến; thanh toán trực tuyến; mức độ hài lòng; số hóa
hồ sơ). A queue system sees only part of that: the rating pad (satisfaction
with receiving and handling), the channel a citizen used (filed in person at a
counter, or guided to file online at the kiosk), and how long people waited
and were served against the site's norms. These are those parts, computed
from the event log; each says the formula and the numbers it used, so a
manager can check it by hand. They are inputs to the official index, not the
official score itself.
"""
from __future__ import annotations

from typing import Any

from queue_server.domain.site import SiteConfig
from queue_server.domain.stats import nearest_rank

GROUP_SATISFACTION = {"vi": "Mức độ hài lòng", "en": "Satisfaction"}
GROUP_ONLINE = {"vi": "Dịch vụ công trực tuyến", "en": "Online public services"}
GROUP_PROGRESS = {"vi": "Tiến độ giải quyết", "en": "Progress of handling"}


def _pct(num: int, den: int) -> float | None:
    return round(100.0 * num / den, 1) if den else None


def indicators_766(report: Any, config: SiteConfig) -> list[dict[str, Any]]:
    tickets = report.tickets
    served = [t for t in tickets if t.status == "served"]
    rated = [t for t in tickets if t.rating is not None]
    satisfied = [t for t in rated if t.rating >= 3]
    very = [t for t in rated if t.rating == 4]
    guided_kiosk = len(report.guided_online)
    guided_counter = sum(1 for t in served if t.outcome == "guided_online")
    in_person = sum(1 for t in served if t.outcome != "guided_online")
    called = [t for t in tickets if t.wait_s is not None]
    targets = {s.id: s.target_wait_min * 60 for s in config.sectors}
    norms = {s.id: s.service_min * 60 for s in config.sectors}
    within = [t for t in called if t.wait_s <= targets.get(t.sector, float("inf"))]
    within_service = [t for t in served if t.service_s <= norms.get(t.sector, float("inf"))]
    waits = sorted(t.wait_s for t in called)
    services = [t.service_s for t in served if t.service_s is not None]
    # p90 by nearest rank, as the report computes it: the figures used are the rank taken and the count
    p90_rank = nearest_rank(len(waits), 90)
    no_show = [t for t in tickets if t.status == "no_show"]
    total = report.total

    def item(id_, group, name_vi, name_en, value, unit, num, den, formula_vi, formula_en):
        return {"id": id_, "group": group, "name": {"vi": name_vi, "en": name_en}, "value": value, "unit": unit,
                "numerator": num, "denominator": den, "formula": {"vi": formula_vi, "en": formula_en}}

    return [
        item("satisfaction", GROUP_SATISFACTION,
             "Tỷ lệ hài lòng trong tiếp nhận, giải quyết TTHC", "Satisfied with receiving and handling",
             _pct(len(satisfied), len(rated)), "%", len(satisfied), len(rated),
             "(số lượt đánh giá Rất hài lòng + Hài lòng) ÷ tổng số lượt đánh giá × 100%",
             "(ratings 'very satisfied' + 'satisfied') ÷ all ratings × 100%"),
        item("very_satisfied", GROUP_SATISFACTION,
             "Tỷ lệ rất hài lòng", "Very satisfied",
             _pct(len(very), len(rated)), "%", len(very), len(rated),
             "số lượt đánh giá Rất hài lòng ÷ tổng số lượt đánh giá × 100%",
             "ratings 'very satisfied' ÷ all ratings × 100%"),
        item("rating_coverage", GROUP_SATISFACTION,
             "Tỷ lệ lượt phục vụ được đánh giá", "Services that were rated",
             _pct(len(rated), len(served)), "%", len(rated), len(served),
             "số lượt đánh giá ÷ số lượt phục vụ xong × 100%",
             "ratings ÷ citizens served × 100%"),
        item("online_share", GROUP_ONLINE,
             "Tỷ lệ hồ sơ được hướng dẫn nộp trực tuyến", "Dossiers guided to online filing",
             _pct(guided_kiosk + guided_counter, guided_kiosk + guided_counter + in_person), "%",
             guided_kiosk + guided_counter, guided_kiosk + guided_counter + in_person,
             "(hướng dẫn nộp trực tuyến tại kiosk + tại quầy) ÷ (số đó + hồ sơ tiếp nhận trực tiếp tại quầy) × 100%",
             "(guided online at the kiosk + at a counter) ÷ (that + dossiers handled in person) × 100%"),
        item("in_person", GROUP_ONLINE,
             "Hồ sơ tiếp nhận, giải quyết trực tiếp tại quầy", "Dossiers handled in person",
             in_person, "", in_person, None,
             "số lượt phục vụ xong tại quầy, trừ lượt kết thúc bằng hướng dẫn nộp trực tuyến",
             "citizens served at a counter, except those ended by guiding them online"),
        item("wait_within_target", GROUP_PROGRESS,
             "Tỷ lệ công dân được gọi trong thời gian chờ chuẩn", "Called within the waiting norm",
             _pct(len(within), len(called)), "%", len(within), len(called),
             "số người được gọi với thời gian chờ ≤ chuẩn của lĩnh vực ÷ số người được gọi × 100%",
             "citizens called after waiting ≤ their sector's norm ÷ citizens called × 100%"),
        item("mean_wait", GROUP_PROGRESS,
             "Thời gian chờ trung bình", "Mean wait",
             None if total.mean_wait_s is None else round(total.mean_wait_s / 60, 1), "min",
             round(sum(waits) / 60, 1), len(waits),
             "tổng thời gian từ lúc lấy số đến lần gọi đầu (phút) ÷ số người được gọi",
             "sum of (first call − ticket issued) in minutes ÷ citizens called"),
        item("p90_wait", GROUP_PROGRESS,
             "Thời gian chờ phân vị 90", "90th percentile wait",
             None if total.p90_wait_s is None else round(total.p90_wait_s / 60, 1), "min", p90_rank, len(waits),
             "thời gian chờ mà 90% số người được gọi không vượt quá: xếp n thời gian chờ tăng dần, lấy giá trị "
             "ở hạng k = ⌈0,9 × n⌉ (số liệu: k / n)",
             "the wait that 90% of called citizens did not exceed: the n waits in increasing order, the one at "
             "rank k = ⌈0.9 × n⌉ (numbers: k / n)"),
        item("service_within_norm", GROUP_PROGRESS,
             "Tỷ lệ lượt phục vụ trong thời gian chuẩn", "Served within the service norm",
             _pct(len(within_service), len(served)), "%", len(within_service), len(served),
             "số lượt phục vụ có thời gian ≤ thời gian phục vụ dự kiến của lĩnh vực ÷ số lượt phục vụ xong × 100%",
             "services lasting ≤ the sector's planned service time ÷ citizens served × 100%"),
        item("mean_service", GROUP_PROGRESS,
             "Thời gian phục vụ trung bình", "Mean service time",
             None if total.mean_service_s is None else round(total.mean_service_s / 60, 1), "min",
             round(sum(services) / 60, 1), len(services),
             "tổng thời gian từ lúc gọi đến lúc xong (phút) ÷ số lượt phục vụ xong",
             "sum of (done − called) in minutes ÷ citizens served"),
        item("no_show_rate", GROUP_PROGRESS,
             "Tỷ lệ vắng mặt khi được gọi", "No-shows when called",
             _pct(len(no_show), len(called)), "%", len(no_show), len(called),
             "số lượt vắng mặt ÷ số người được gọi × 100%", "no-shows ÷ citizens called × 100%"),
        *_online_channels(report.bookings, config, item),
    ]


def _online_channels(b: dict[str, Any], config: SiteConfig, item) -> list[dict[str, Any]]:
    """What bookings and phones' tickets feed (reports/bookings.py): how many citizens came through
    an online channel (a booking or a ticket from the site's pages or the province's portal), and
    whether those channels kept their word (a booked citizen called in time, booked slots used).
    Only for a site that takes bookings, or a period that has some."""
    if not b.get("shown"):
        return []
    total = b.get("total") or {}
    citizens = b.get("citizens") or 0
    online = b.get("came_online", 0)
    slot_min = config.bookings.slot_min if config.bookings is not None else 30
    booked = (b.get("waits") or {}).get("booked") or {}
    due = total.get("booked", 0) - total.get("cancelled", 0)
    used = total.get("booked", 0) - total.get("cancelled", 0) - total.get("no_show", 0)
    on_time = b.get("called_within_slot", 0)
    return [
        item("online_booking_share", GROUP_ONLINE,
             "Tỷ lệ công dân đăng ký trực tuyến trước khi đến (đặt lịch hoặc lấy số qua mạng)",
             "Citizens who registered online before coming (a booking or a ticket from a phone)",
             _pct(online, citizens), "%", online, citizens,
             "số công dân đến theo lịch hẹn hoặc số lấy qua mạng đã xác nhận tại ki-ốt ÷ số lượt công dân × 100%",
             "citizens who came by a booking or a phone's ticket, checked in at the kiosk ÷ citizens' visits × 100%"),
        item("booking_kept", GROUP_ONLINE,
             "Tỷ lệ lịch hẹn trực tuyến được sử dụng", "Online bookings used",
             _pct(used, due), "%", used, due,
             "(số lịch hẹn − số bị hủy − số vắng mặt) ÷ (số lịch hẹn − số bị hủy) × 100%",
             "(bookings − cancelled − no-shows) ÷ (bookings − cancelled) × 100%"),
        item("booking_called_in_slot", GROUP_ONLINE,
             f"Tỷ lệ người đặt lịch được gọi trong {slot_min} phút từ giờ hẹn",
             f"Booked citizens called within {slot_min} min of their slot",
             _pct(on_time, booked.get("n", 0)), "%", on_time, booked.get("n", 0),
             "số người đến đúng giờ hẹn được gọi trong một khung giờ kể từ giờ hẹn ÷ số người đến đúng giờ được gọi × 100%",
             "citizens on time for their slot called within one slot length of its start ÷ those called × 100%"),
    ]
