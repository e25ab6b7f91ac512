"""Counter key press -> the wall display's state updated, with 20 counter terminals calling.

The whole device path, not a bare client: each counter is a real `CounterTerminal`
(view-model, one command at a time, DeviceClient.request with retries) with its own
broker account; counter 1's Next key is a gpiozero Button on a MockFactory pin
(`drive_low()`), the 19 others call `terminal.press("next")`, the exact function the
Button's `when_pressed` runs (gpiozero has 28 pins: not enough for 20 keypads in one
process). The display is the real `BoardView` fed by `DeviceClient` with the display's
account. The queue server runs as `motcua server` in its own process.

    .venv/bin/python -m bench.counter_keypress                  # about 40 s
    .venv/bin/python -m bench.counter_keypress --duration 5

Figures: press -> reply (the clerk's screen says "Đã gọi số ...") and press -> the
display's view-model shows the new number at that counter (p50 / p99 / max).
"""
from __future__ import annotations

import argparse
import random
import tempfile
import threading
import time
from pathlib import Path

from bench.harness import BenchSite, Load, print_machine, print_table, summary_ms


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of calling (default 20)")
    ap.add_argument("--counters", type=int, default=20)
    ap.add_argument("--think", type=float, default=0.5, help="mean seconds between a counter's presses")
    ap.add_argument("--show-slow", action="store_true", help="list every press slower than 200 ms")
    args = ap.parse_args(argv)

    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    from counter.model import CounterView
    from counter.terminal import CounterTerminal
    from display.board_model import BoardView
    from firmware_config.device_config import KeypadPins
    from protocol.client import DeviceClient

    Device.pin_factory = MockFactory(pin_class=MockPWMPin)
    print_machine()
    with tempfile.TemporaryDirectory() as tmp, BenchSite(Path(tmp), counters=args.counters) as site:
        counters = [c.id for c in site.site.counters]
        load = Load(site, kiosks=list(site.site.devices.kiosks), counters=[], kiosk_rate=0, counter_rate=0)
        per_counter = int(args.duration / max(args.think, 0.05) * 1.5) + 5
        load.prefill(per_sector=max(20, per_counter * len(counters) // max(1, len(site.site.sectors))))
        load.close()

        # the display
        seen: dict[tuple[str, str], float] = {}
        view = BoardView()

        def on_board() -> None:
            now = time.perf_counter()
            for tile in view.tiles():
                if tile.number and (tile.counter, tile.number) not in seen:
                    seen[(tile.counter, tile.number)] = now
        view.listeners.append(on_board)
        user, password = site.login("display", site.site.devices.displays[0])
        display = DeviceClient(site.url, site.site.id, "display", site.site.devices.displays[0],
                               username=user, password=password)
        from display.feed import attach_board
        attach_board(display, view)
        assert display.start(10), "display could not connect"

        # the counters
        terminals: dict[str, CounterTerminal] = {}
        for i, cid in enumerate(counters):
            user, password = site.login("counter", cid)
            client = DeviceClient(site.url, site.site.id, "counter", cid, username=user, password=password)
            terminals[cid] = CounterTerminal(client, CounterView(cid),
                                             keypad_pins=KeypadPins() if i == 0 else None)
            assert terminals[cid].start(10), f"counter {cid} could not connect"
        time.sleep(0.5)
        next_pin = Device.pin_factory.pin(KeypadPins().next)

        samples: list[tuple[str, str, float, float]] = []   # counter, number, t_press, t_reply
        errors: dict[str, int] = {}
        lock = threading.Lock()
        stop = threading.Event()

        def clerk(cid: str, first: bool, seed: int) -> None:
            rng = random.Random(seed)
            term = terminals[cid]
            while not stop.is_set():
                time.sleep(rng.expovariate(1.0 / args.think))
                if first:
                    done = threading.Event()
                    box: list = []
                    original = term.view.on_reply

                    def hook(action, reply, original=original):
                        original(action, reply)
                        box.append(reply)
                        done.set()
                    term.view.on_reply = hook
                    t0 = time.perf_counter()
                    next_pin.drive_low()
                    next_pin.drive_high()
                    done.wait(10)
                    term.view.on_reply = original
                    reply = box[0] if box else None
                else:
                    t0 = time.perf_counter()
                    fut = term.press("next")
                    reply = fut.result(10) if fut is not None else None
                t1 = time.perf_counter()
                with lock:
                    if reply and reply.get("ok"):
                        samples.append((cid, reply["result"]["ticket"]["number"], t0, t1))
                    else:
                        code = (reply or {}).get("error", {}).get("code", "no reply")
                        errors[code] = errors.get(code, 0) + 1

        threads = [threading.Thread(target=clerk, args=(cid, i == 0, i), daemon=True) for i, cid in enumerate(counters)]
        for t in threads:
            t.start()
        time.sleep(args.duration)
        stop.set()
        for t in threads:
            t.join(15)
        time.sleep(1.0)   # the last boards

        to_reply = [t1 - t0 for _, _, t0, t1 in samples]
        to_display, missing = [], 0
        for cid, number, t0, _ in samples:
            t = seen.get((cid, number))
            if t is None:
                missing += 1
            else:
                to_display.append(t - t0)
        pin_samples = [s for s in samples if s[0] == counters[0]]
        pin_display = [seen[(c, n)] - t0 for c, n, t0, _ in pin_samples if (c, n) in seen]
        rows = []
        for name, values in (("press -> clerk's reply", to_reply), ("press -> display updated", to_display),
                             ("  of which gpiozero pin (counter 1)", pin_display)):
            s = summary_ms(values)
            rows.append([name, s["n"], s["p50"], s["p99"], s["max"]])
        print_table(f"{len(counters)} counters calling for {args.duration:.0f} s "
                    f"(mean {args.think:.2f} s between presses per counter)",
                    ["path", "n", "p50 ms", "p99 ms", "max ms"], rows)
        print(f"errors: {errors or 'none'}; calls never seen on the display: {missing}")
        if args.show_slow:
            start = min(s[2] for s in samples)
            for cid, number, t0, t1 in samples:
                if t1 - t0 > 0.2:
                    print(f"  slow: {cid} {number} at +{t0 - start:.2f} s took {(t1 - t0) * 1000:.0f} ms")
        for term in terminals.values():
            term.close()
        display.stop()
    Device.pin_factory.reset()
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main())
