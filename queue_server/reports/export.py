"""A report as CSV (UTF-8 with BOM, so Excel shows Vietnamese) or XLSX (openpyxl)."""
from __future__ import annotations

import csv
import io

from queue_server.reports.compute import GroupRow, Report

TABLE_NAMES = {"sector": ("Lĩnh vực", "Sectors"), "counter": ("Quầy", "Counters"),
               "procedure": ("Thủ tục", "Procedures"), "clerk": ("Cán bộ", "Clerks"), "total": ("Tổng", "Total")}
BREAK_COLUMNS = ("counter", "reason", "breaks", "seconds")   # report.breaks: time on a break per reason
# The booking figures (reports/bookings.py): a row per sector ("all": the whole centre) and per slot
BOOKING_FIGURES = ("booked", "remote", "came", "late", "no_show", "no_show_pct", "cancelled", "lapsed",
                   "mean_punctuality_min", "late_pct", "p90_wait_after_slot_s")
BOOKING_SECTOR_COLUMNS = ("sector", *BOOKING_FIGURES)
BOOKING_SLOT_COLUMNS = ("day", "slot", "sector", *BOOKING_FIGURES)
BOOKING_WAIT_COLUMNS = ("group", "n", "mean_wait_s", "p90_wait_s")    # walk_in | booked | remote
BOOKING_SUMMARY = (("citizens", "Lượt công dân / Citizens' visits"),
                   ("came_by_booking", "Đến theo lịch hẹn / Came by a booking"),
                   ("came_by_remote", "Đến bằng số lấy qua điện thoại / Came by a phone's ticket"),
                   ("came_online", "Đăng ký trực tuyến / Registered online"),
                   ("booked_share_pct", "Tỷ lệ đã đặt lịch (%) / Share who booked (%)"))
INDICATOR_COLUMNS = ("id", "group_vi", "name_vi", "name_en", "value", "unit", "numerator", "denominator",
                     "formula_vi", "formula_en")


def _indicator_row(i: dict) -> list:
    return [i["id"], i["group"]["vi"], i["name"]["vi"], i["name"]["en"], i["value"], i["unit"], i["numerator"],
            i["denominator"], i["formula"]["vi"], i["formula"]["en"]]


def booking_rows(report: Report) -> dict[str, list[list]]:
    """The booking tables as rows under their columns: sector (with "all"), slot, wait."""
    b = report.bookings
    if not b.get("shown"):
        return {"sector": [], "slot": [], "wait": []}
    sectors = [*b["by_sector"], {"sector": "all", **b["total"]}]
    return {"sector": [[r[c] for c in BOOKING_SECTOR_COLUMNS] for r in sectors],
            "slot": [[r[c] for c in BOOKING_SLOT_COLUMNS] for r in b["by_slot"]],
            "wait": [[g, *[b["waits"][g][c] for c in BOOKING_WAIT_COLUMNS[1:]]] for g in ("walk_in", "booked", "remote")]}


def to_csv(report: Report) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["table", *GroupRow.COLUMNS])
    for name, rows in report.tables().items():
        for r in rows:
            row = r.as_row()
            w.writerow([name, *[row[c] for c in GroupRow.COLUMNS]])
    w.writerow([])
    w.writerow(["indicator_766", *INDICATOR_COLUMNS])
    for i in report.indicators:
        w.writerow(["indicator_766", *_indicator_row(i)])
    w.writerow([])
    w.writerow(["count", "visits", "procedures"])
    w.writerow(["count", report.visit_count, report.procedure_count])
    w.writerow([])
    w.writerow(["break", *BREAK_COLUMNS])
    for b in report.breaks:
        w.writerow(["break", *[b[c] for c in BREAK_COLUMNS]])
    if report.bookings.get("shown"):
        w.writerow([])
        w.writerow(["booking", *[k for k, _ in BOOKING_SUMMARY]])
        w.writerow(["booking", *[report.bookings[k] for k, _ in BOOKING_SUMMARY]])
        tables = booking_rows(report)
        for name, columns in (("sector", BOOKING_SECTOR_COLUMNS), ("slot", BOOKING_SLOT_COLUMNS),
                              ("wait", BOOKING_WAIT_COLUMNS)):
            w.writerow([])
            w.writerow([f"booking_{name}", *columns])
            for row in tables[name]:
                w.writerow([f"booking_{name}", *row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


PLAN_SHEET = "Kế hoạch"
BOOKING_SHEET = "Đặt lịch"
BOOKING_SLOT_SHEET = "Đặt lịch theo khung giờ"
PLAN_ROWS_PER_IMAGE = 32          # rows each picture is given on the sheet (about 640 px at 20 px a row)


def to_xlsx(report: Report, images: dict[str, tuple[bytes, str]] | None = None) -> bytes:
    """`images`: pictures for a sheet of their own (PLAN_SHEET), name -> (PNG, alt text): the
    manager's plan (queue_server/web/planning_bp.py) when one is ready, each under its alt text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    wb = Workbook()
    info = wb.active
    info.title = "Báo cáo"
    info.append(["Trung tâm / Centre", report.site["vi"]])
    info.append(["Từ ngày / From", report.first_day])
    info.append(["Đến ngày / To", report.last_day])
    info.append(["Hướng dẫn nộp trực tuyến tại kiosk / Guided online at the kiosk", len(report.guided_online)])
    info.append(["Yêu cầu trợ giúp / Help requests", report.help_requests])
    info.append(["Lượt công dân / Visits", report.visit_count])
    info.append(["Thủ tục / Procedures", report.procedure_count])
    for name, rows in report.tables().items():
        ws = wb.create_sheet(TABLE_NAMES[name][0])
        ws.append(list(GroupRow.COLUMNS))
        for r in rows:
            row = r.as_row()
            ws.append([row[c] for c in GroupRow.COLUMNS])
        for cell in ws[1]:
            cell.font = Font(bold=True)
    ws = wb.create_sheet("Chỉ số 766")
    ws.append(list(INDICATOR_COLUMNS))
    for i in report.indicators:
        ws.append(_indicator_row(i))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws = wb.create_sheet("Tạm nghỉ")
    ws.append(list(BREAK_COLUMNS))
    for b in report.breaks:
        ws.append([b[c] for c in BREAK_COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    if report.bookings.get("shown"):
        tables = booking_rows(report)
        ws = wb.create_sheet(BOOKING_SHEET)
        for key, label in BOOKING_SUMMARY:
            ws.append([label, report.bookings[key]])
        for name, columns in (("wait", BOOKING_WAIT_COLUMNS), ("sector", BOOKING_SECTOR_COLUMNS)):
            ws.append([])
            ws.append(list(columns))
            for cell in ws[ws.max_row]:
                cell.font = Font(bold=True)
            for row in tables[name]:
                ws.append(row)
        ws = wb.create_sheet(BOOKING_SLOT_SHEET)
        ws.append(list(BOOKING_SLOT_COLUMNS))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in tables["slot"]:
            ws.append(row)
    ws = wb.create_sheet("Theo giờ")
    ws.append(["sector", "series", *[f"{h:02d}h" for h in report.hourly["hours"]]])
    for sector, values in report.hourly["arrivals"].items():
        ws.append([sector, "arrivals", *values])
    for sector, values in report.hourly["mean_wait_s"].items():
        ws.append([sector, "mean_wait_s", *values])
    if images:
        from openpyxl.drawing.image import Image
        ws = wb.create_sheet(PLAN_SHEET)
        row = 1
        for name, (png, alt) in images.items():
            ws.cell(row=row, column=1, value=alt).font = Font(bold=True)
            picture = Image(io.BytesIO(png))
            picture.anchor = f"A{row + 1}"
            ws.add_image(picture)
            row += PLAN_ROWS_PER_IMAGE
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
