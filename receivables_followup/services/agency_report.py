"""An agency's status and payment report (CSV or XML) read into plain rows.

Agencies without an API send back a periodic report: one row per status change,
payment collected, payment reversed or closing. This module turns the file into
:class:`ReportRow` values, without the ORM; the import model finds the cases,
applies the rows through the same code path as the callbacks and keeps the
report.

Why the file is refused as a whole rather than row by row: a file that is not
what it claims to be (malformed or schema-invalid XML, a DTD or an entity, bytes
that are not UTF-8, a size over the limit, a spreadsheet formula in a cell) is
not a report with a few bad rows but a hostile or broken one, and applying
"the valid part" of it would trust it. A well-formed file with a bad row (an
amount or a date that does not read, a kind or status we do not know) keeps
its other rows: the bad one is listed with its line number, field and reason.

Each row has an identity, so that importing a file twice, or a later file that
repeats rows, applies each row once: the agency's reference of the case plus
its row id, else its payment id (with the kind, since a payment and its
reversal share it), else a hash of the normalised row.
"""

import codecs
import csv
import hashlib
import io
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .agency_report_words import (
    CLOSING,
    KINDS,
    PAYMENT,
    REVERSAL,
    STATUS,
    close_code,
    normalise,
    recipient_value,
    row_kind,
    status_state,
)
from .amounts import MAX_AMOUNT

MAX_BYTES = 20 * 1024 * 1024
NAMESPACE = "urn:receivables-followup:agency-report:1"
XSD_PATH = Path(__file__).resolve().parent.parent / "schemas" / "agency_report.xsd"
DEFAULT_CSV_DATE_FORMAT = "%d/%m/%Y"


# why a row is not applied (the import line's ``reason``)
UNKNOWN_CASE = "unknown_case"
ABOVE_REMAINING = "above_remaining"
WRONG_CURRENCY = "wrong_currency"
MALFORMED_AMOUNT = "malformed_amount"
MALFORMED_DATE = "malformed_date"
UNKNOWN_KIND = "unknown_kind"
UNKNOWN_STATUS = "unknown_status"
UNKNOWN_PAYMENT = "unknown_payment"
UNKNOWN_RECIPIENT = "unknown_recipient"
MISSING_VALUE = "missing_value"
BOOKING_ERROR = "booking_error"

# why a file is refused (:class:`ReportRefused`'s ``code``)
TOO_LARGE = "too_large"
EMPTY = "empty"
ENCODING = "encoding"
DOCTYPE = "doctype"
MALFORMED_XML = "malformed_xml"
MALFORMED_CSV = "malformed_csv"
INVALID_XML = "invalid_xml"
FORMULA = "formula"
MISSING_COLUMN = "missing_column"
UNKNOWN_FORMAT = "unknown_format"

#: field -> CSV headers understood by default (compared without case, accents,
#: spaces, dashes or underscores)
DEFAULT_HEADERS = {
    "reference": (
        "reference",
        "case reference",
        "creditor reference",
        "your reference",
        "dossier",
        "reference dossier",
        "reference creancier",
        "votre reference",
    ),
    "agency_reference": (
        "agency reference",
        "our reference",
        "reference agence",
        "notre reference",
    ),
    "kind": ("type", "kind", "row type", "type de ligne"),
    "date": ("date", "event date", "date evenement", "date operation"),
    "amount": ("amount", "montant"),
    "currency": ("currency", "devise", "monnaie"),
    "recipient": ("recipient", "paid to", "beneficiaire", "paye a"),
    "commission": ("commission", "fee", "success fee", "frais", "honoraires"),
    "status": ("status", "statut", "etat"),
    "close_code": ("close code", "closing reason", "motif de cloture", "motif"),
    "payment_id": ("payment id", "id paiement", "paiement", "payment"),
    "row_id": ("row id", "line id", "id ligne", "id"),
    "invoice": ("invoice", "facture", "invoice reference", "numero de facture"),
}
FIELDS = tuple(DEFAULT_HEADERS)
TEXT_FIELDS = (
    "reference",
    "agency_reference",
    "kind",
    "currency",
    "recipient",
    "status",
    "close_code",
    "payment_id",
    "row_id",
    "invoice",
)

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SPACES = re.compile(r"[\s\u00a0\u202f']+")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


class ReportRefused(ValueError):
    """The file is refused as a whole; nothing of it may be applied.

    :ivar code: one of the refusal codes above (the model words the message)
    :ivar detail: what to show after the message (a line, a parser's message)
    """

    def __init__(self, code, detail=""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True)
class CsvSettings:
    """How an agency writes its CSV reports."""

    #: ``;``, ``,`` or None to sniff it from the header line
    separator: str | None = None
    date_format: str = DEFAULT_CSV_DATE_FORMAT
    #: field -> extra headers (the agency's own), tried before the defaults
    headers: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReportRow:
    """One row of a report, read but not applied.

    ``error`` is None for a row that reads; else the reason code, with the
    field it concerns in ``error_field``.
    """

    line: int
    identity: str
    kind: str | None = None
    reference: str | None = None
    #: the agency's own reference of the case, when the row gives it apart
    agency_reference: str | None = None
    row_id: str | None = None
    payment_id: str | None = None
    day: date | None = None
    amount: Decimal | None = None
    currency: str | None = None
    recipient: str | None = None
    commission: Decimal | None = None
    status: str | None = None
    #: our case state for a status or closing row
    state: str | None = None
    #: Debitura's close-code label for a closing row, else the agency's words
    close_code: str | None = None
    invoice: str | None = None
    error: str | None = None
    error_field: str | None = None

    def rejected(self, reason, field_name=None):
        return replace(self, error=reason, error_field=field_name)


# ----------------------------------------------------------------------
# values
# ----------------------------------------------------------------------
def parse_amount(text):
    """A decimal from ``"1 234,56"``, ``"1.234,56"``, ``"1,234.56"`` or
    ``"1234.56"``; None when empty.

    :raises ValueError: when it does not read as a number, or is beyond any
        amount a report carries (400 nines read as a decimal, then as an
        infinite float that no currency rounds)
    """
    amount = _read_number(text)
    if amount is not None and abs(amount) > MAX_AMOUNT:
        raise ValueError(text)
    return amount


def _read_number(text):
    """:func:`parse_amount` without its bound."""
    text = _SPACES.sub("", str(text or ""))
    if not text:
        return None
    if "," in text and "." in text:
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "").replace(",", ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1:
        text = text.replace(",", "")
    elif text.count(".") > 1:
        text = text.replace(".", "")
    if not _NUMBER.match(text):
        raise ValueError(text)
    try:
        return Decimal(text)
    except InvalidOperation as error:
        raise ValueError(text) from error


def parse_day(text, date_format=DEFAULT_CSV_DATE_FORMAT):
    """A date in the agency's format (ISO 8601 understood too); None when
    empty.

    :raises ValueError: when it reads in neither
    """
    text = str(text or "").strip()
    if not text:
        return None
    for pattern in (date_format or DEFAULT_CSV_DATE_FORMAT, "%Y-%m-%d"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def is_formula(text):
    """Whether a cell would run as a formula in a spreadsheet: it starts with
    ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) and is not a
    number."""
    text = str(text or "")
    if len(text) < 2 or not text.startswith(_FORMULA_START):
        return False
    try:
        return _read_number(text) is None
    except ValueError:
        return True


def _clean(text):
    text = str(text or "").strip()
    return text or None


def identity(reference, kind, row_id=None, payment_id=None, values=None):
    """The row's identity: what makes importing it twice change nothing.

    ``"<reference>|row|<row id>"`` when the agency numbers its rows,
    ``"<reference>|<kind>|<payment id>"`` for a payment or a reversal with the
    agency's payment id, else ``"<reference>|sha|<hash of the normalised row>"``.
    """
    reference = (reference or "").strip().upper()
    if row_id:
        return f"{reference}|row|{row_id.strip()}"
    if payment_id and kind in (PAYMENT, REVERSAL):
        return f"{reference}|{kind}|{payment_id.strip()}"
    text = "\x1f".join(normalise(value) for value in (kind, *(values or ())))
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"{reference}|sha|{digest}"


def build_row(line, raw, date_format=DEFAULT_CSV_DATE_FORMAT):
    """A :class:`ReportRow` from ``raw`` (field -> text as in the file)."""
    get = {name: _clean(raw.get(name)) for name in FIELDS}
    kind = row_kind(get["kind"]) if get["kind"] else None
    row = ReportRow(
        line=line,
        identity="",
        kind=kind,
        reference=get["reference"] or get["agency_reference"],
        agency_reference=get["agency_reference"],
        row_id=get["row_id"],
        payment_id=get["payment_id"],
        currency=(get["currency"] or "").upper() or None,
        recipient=get["recipient"],
        status=get["status"] or get["close_code"],
        invoice=get["invoice"],
    )
    amount, commission, day, error = _parse_figures(get, date_format)
    row = replace(
        row,
        amount=amount,
        commission=commission,
        day=day,
        identity=identity(
            get["reference"] or get["agency_reference"],
            kind,
            get["row_id"],
            get["payment_id"],
            _normalised_values(get, amount, commission, day),
        ),
    )
    if error:
        return row.rejected(*error)
    return _check(row, get)


def _parse_figures(get, date_format):
    """The row's amount, commission and day, each None when its text does not
    parse, and the (reason, field) of the first that did not, else None."""
    error = None
    try:
        amount = parse_amount(get["amount"])
    except ValueError:
        amount, error = None, (MALFORMED_AMOUNT, "amount")
    try:
        commission = parse_amount(get["commission"])
    except ValueError:
        commission = None
        error = error or (MALFORMED_AMOUNT, "commission")
    try:
        day = parse_day(get["date"], date_format)
    except ValueError:
        day = None
        error = error or (MALFORMED_DATE, "date")
    return amount, commission, day, error


def _normalised_values(get, amount, commission, day):
    """The row's values as its :func:`identity` counts them."""
    normalised = [
        str(amount) if amount is not None else "",
        str(commission) if commission is not None else "",
        day.isoformat() if day else "",
    ]
    normalised += [
        get[name] or "" for name in ("currency", "recipient", "status", "close_code")
    ]
    normalised.append(get["invoice"] or "")
    return normalised


def _check(row, get):
    """The row's own consistency (what the file alone can tell)."""
    if not row.reference:
        return row.rejected(MISSING_VALUE, "reference")
    if not get["kind"]:
        return row.rejected(MISSING_VALUE, "kind")
    if not row.kind:
        return row.rejected(UNKNOWN_KIND, "kind")
    if row.kind == STATUS:
        if not get["status"]:
            return row.rejected(MISSING_VALUE, "status")
        state = status_state(get["status"])
        if not state:
            return row.rejected(UNKNOWN_STATUS, "status")
        return replace(row, state=state, status=get["status"])
    if row.kind == CLOSING:
        reason = get["close_code"] or get["status"]
        if not reason:
            return row.rejected(MISSING_VALUE, "close_code")
        state, code = close_code(reason)
        if not state:
            return row.rejected(UNKNOWN_STATUS, "close_code")
        return replace(row, state=state, close_code=code, status=reason)
    if row.kind == REVERSAL:
        if not row.payment_id:
            return row.rejected(MISSING_VALUE, "payment_id")
        return row
    # payment: the agency holds the money unless it says the company got it
    recipient = recipient_value(row.recipient or "agency")
    if not recipient:
        return row.rejected(UNKNOWN_RECIPIENT, "recipient")
    row = replace(row, recipient=recipient)
    if row.amount is None:
        return row.rejected(MISSING_VALUE, "amount")
    if row.amount <= 0:
        return row.rejected(MALFORMED_AMOUNT, "amount")
    if row.commission is not None and not 0 <= row.commission <= row.amount:
        return row.rejected(MALFORMED_AMOUNT, "commission")
    return row


# ----------------------------------------------------------------------
# files
# ----------------------------------------------------------------------
def detect_format(data, filename=None):
    """``"xml"`` or ``"csv"``, from the file name, else from the content."""
    suffix = Path(filename or "").suffix.lower()
    if suffix in (".xml", ".csv"):
        return suffix[1:]
    head = data[:64].lstrip(codecs.BOM_UTF8).lstrip()
    return "xml" if head.startswith(b"<") else "csv"


def parse(data, file_format=None, filename=None, settings=None, max_bytes=MAX_BYTES):
    """The rows of a report.

    :param bytes data: the file as received
    :param file_format: ``"csv"``, ``"xml"`` or None to detect it
    :param settings: the agency's :class:`CsvSettings` (CSV only)
    :returns: ``(format, [ReportRow])`` in file order
    :raises ReportRefused: when the file is refused as a whole
    """
    if data is None or not data.strip():
        raise ReportRefused(EMPTY)
    if len(data) > max_bytes:
        raise ReportRefused(TOO_LARGE, f"{len(data)} > {max_bytes}")
    file_format = file_format or detect_format(data, filename)
    text = _decode(data)
    if file_format == "xml":
        return "xml", parse_xml(data)
    if file_format == "csv":
        return "csv", parse_csv(text, settings or CsvSettings())
    raise ReportRefused(UNKNOWN_FORMAT, str(file_format))


def _decode(data):
    if b"\x00" in data:
        raise ReportRefused(ENCODING, "NUL")
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as error:
        raise ReportRefused(ENCODING, f"byte {error.start}") from None


def _sniff_separator(header_line):
    return ";" if header_line.count(";") >= header_line.count(",") else ","


def header_map(headers, settings):
    """Column index -> field for the file's header row.

    :raises ReportRefused: when the reference or kind column is missing
    """
    wanted = {}
    for name in FIELDS:
        for header in (*settings.headers.get(name, ()), *DEFAULT_HEADERS[name]):
            wanted.setdefault(normalise(header), name)
    columns = {}
    for index, header in enumerate(headers):
        name = wanted.get(normalise(header))
        if name and name not in columns.values():
            columns[index] = name
    missing = [name for name in ("reference", "kind") if name not in columns.values()]
    if missing:
        raise ReportRefused(MISSING_COLUMN, ", ".join(missing))
    return columns


def parse_csv(text, settings):
    """The rows of a CSV report (``text`` decoded)."""
    first = text.split("\n", 1)[0]
    separator = settings.separator or _sniff_separator(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    try:
        headers = next(reader)
    except StopIteration:
        raise ReportRefused(EMPTY) from None
    except csv.Error as error:
        raise ReportRefused(MALFORMED_CSV, str(error)) from None
    columns = header_map(headers, settings)
    rows = []
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            for cell in cells:
                if is_formula(cell.strip()):
                    raise ReportRefused(FORMULA, str(line))
            raw = {
                name: cells[index] if index < len(cells) else ""
                for index, name in columns.items()
            }
            rows.append(build_row(line, raw, settings.date_format))
    except csv.Error as error:
        raise ReportRefused(MALFORMED_CSV, str(error)) from None
    return rows


# ----------------------------------------------------------------------
# XML
# ----------------------------------------------------------------------
_XML_ATTRIBUTES = {
    "reference": "reference",
    "agencyReference": "agency_reference",
    "rowId": "row_id",
    "paymentId": "payment_id",
    "date": "date",
    "amount": "amount",
    "currency": "currency",
    "recipient": "recipient",
    "commission": "commission",
    "status": "status",
    "closeCode": "close_code",
    "invoice": "invoice",
}
_schema = None


def _xml_schema():
    global _schema  # noqa: PLW0603 - one compiled schema per process
    if _schema is None:
        from lxml import etree

        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False
        )
        _schema = etree.XMLSchema(etree.parse(str(XSD_PATH), parser))
    return _schema


def parse_xml(data):
    """The rows of an XML report, validated against ``schemas/agency_report.xsd``.

    Entities are never resolved, the network never reached, and a document
    with a DOCTYPE (where entities and external DTDs hide) is refused before
    it is parsed.
    """
    from lxml import etree

    if re.search(rb"<!\s*(DOCTYPE|ENTITY)", data, re.IGNORECASE):
        raise ReportRefused(DOCTYPE)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        dtd_validation=False,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise ReportRefused(MALFORMED_XML, str(error)) from None
    if root.getroottree().docinfo.doctype:
        raise ReportRefused(DOCTYPE)
    schema = _xml_schema()
    if not schema.validate(root):
        error = schema.error_log.last_error
        raise ReportRefused(INVALID_XML, f"line {error.line}: {error.message}")
    rows = []
    for element in root.iterchildren(f"{{{NAMESPACE}}}*"):
        kind = etree.QName(element).localname
        if kind not in KINDS:
            continue
        raw = {"kind": kind}
        for attribute, name in _XML_ATTRIBUTES.items():
            value = element.get(attribute)
            if value is None:
                continue
            if name in TEXT_FIELDS and is_formula(value.strip()):
                raise ReportRefused(FORMULA, str(element.sourceline))
            raw[name] = value
        rows.append(build_row(element.sourceline, raw, "%Y-%m-%d"))
    return rows
