"""What a printer would print, read back from the ESC/POS bytes python-escpos sent it."""
from __future__ import annotations

import numpy as np
from PIL import Image


def decode_raster(data: bytes) -> Image.Image:
    """Every `GS v 0` block of an ESC/POS stream, stacked: the picture the printer would print."""
    parts, i = [], 0
    while True:
        i = data.find(b"\x1dv0", i)
        if i < 0:
            break
        wbytes = data[i + 4] | data[i + 5] << 8
        height = data[i + 6] | data[i + 7] << 8
        raw = data[i + 8:i + 8 + wbytes * height]
        assert len(raw) == wbytes * height, "truncated raster"
        bits = np.unpackbits(np.frombuffer(raw, dtype=np.uint8)).reshape(height, wbytes * 8)
        parts.append(bits)
        i += 8 + len(raw)
    assert parts, "no raster image in the printer bytes"
    ink = np.vstack(parts)                    # 1 = burn a dot
    return Image.fromarray(np.where(ink == 1, 0, 255).astype(np.uint8), "L")
