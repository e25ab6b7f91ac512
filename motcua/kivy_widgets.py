"""Keep a Kivy container's rows in place: the wall display's tiles, rows and cards, the counter's transfer list."""
from __future__ import annotations


def sync_children(parent, cls, props: list[dict], keep_last: int = 0) -> None:
    """Make `parent` show one `cls` widget per dict of properties, in order, reusing the widgets it has.

    Rebuilding every tile on each change made a call cost 0.2-0.3 s of redraw (a call is two
    changes: the board and events/call); now a change only sets the properties that differ
    (Kivy skips equal values, so an unchanged label keeps its texture), and widgets are only
    created or removed when the number of rows changes. The last `keep_last` children (a
    spacer) stay at the end. Same widgets, same properties: the screen looks the same as a
    fresh build.
    """
    # Kivy keeps children last-first: the widgets in screen order, without the trailing spacer
    shown = list(reversed(parent.children))
    fixed = shown[len(shown) - keep_last:] if keep_last else []
    shown = shown[:len(shown) - keep_last] if keep_last else shown
    for widget in shown[len(props):]:
        parent.remove_widget(widget)
    for widget, p in zip(shown, props):
        for name, value in p.items():
            setattr(widget, name, value)
    for p in props[len(shown):]:
        # index=len(fixed): before the spacer (index 0 is the end of the screen order)
        parent.add_widget(cls(**p), index=len(fixed))
