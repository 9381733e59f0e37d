"""Payment QR codes drawn inside a letter, as vector images.

Odoo draws a payment QR code as a PNG on its ``/report/barcode`` route, with
reportlab: about 60 ms of drawing and PNG encoding per code, plus the request the
PDF engine makes to fetch it. A letter carries the same code as an SVG made here
from the code's modules (the ``qrcode`` library, one of Odoo 18's requirements):
about 10 ms, nothing to fetch, and sharp at any print size. The code's content is
Odoo's own (the route's parameters, as the bank account built them), so a banking
app reads the same transfer from a letter as from an email.
"""

import base64
from urllib.parse import parse_qs, urlsplit

import qrcode
from qrcode.constants import (
    ERROR_CORRECT_H,
    ERROR_CORRECT_L,
    ERROR_CORRECT_M,
    ERROR_CORRECT_Q,
)

ERROR_CORRECTION = {
    "L": ERROR_CORRECT_L,
    "M": ERROR_CORRECT_M,
    "Q": ERROR_CORRECT_Q,
    "H": ERROR_CORRECT_H,
}
#: modules of white around the code: ISO/IEC 18004 asks for four
QUIET_ZONE = 4


def barcode_route_qr(path):
    """(payload, error correction level) of the QR code that ``path``, a URL of
    Odoo's ``/report/barcode`` route, draws; None when the route draws more than
    a plain QR code (another symbology, or a mask such as the Swiss cross)."""
    query = parse_qs(urlsplit(path).query)
    if query.get("barcode_type", [""])[0] != "QR" or query.get("mask"):
        return None
    value = query.get("value", [""])[0]
    if not value:
        return None
    return value, query.get("barLevel", ["L"])[0]


def qr_svg(payload, level="L"):
    """The SVG of the QR code of ``payload``: one path, one unit per module."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECTION.get(level, ERROR_CORRECT_L),
        border=QUIET_ZONE,
    )
    code.add_data(payload)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < size:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < size and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {size} {size}" shape-rendering="crispEdges">'
        f'<rect width="{size}" height="{size}" fill="#fff"/>'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )


def qr_svg_data_uri(path):
    """The ``data:`` URI of the SVG of the QR code that ``path`` (a URL of Odoo's
    ``/report/barcode`` route) draws, or None when it is not a plain QR code."""
    code = barcode_route_qr(path)
    if not code:
        return None
    svg = qr_svg(*code).encode()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
