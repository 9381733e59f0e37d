"""The case file: one debtor's claim as an XML document for an agency without an API.

Most local collection agencies take a case by e-mail or on their portal: the file
says who the creditor and the debtor are, and lists each unpaid invoice (number,
dates, amounts, currency), with the late-payment interest and the recovery
indemnity that a formal notice claimed for it, and the name of the invoice's PDF
in the zip the file travels in.

The document is built with lxml from plain values (never by concatenating text, so
that a name with ``<`` or ``&`` cannot break it) and validated against
``schemas/case_file.xsd`` before anyone sees it: a file the agency could refuse is
never offered. Totals are computed here from the lines, so they cannot disagree.
"""

import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path

from lxml import etree

NAMESPACE = "urn:receivables-followup:case-file:1"
VERSION = "1.0"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "case_file.xsd"
CENT = Decimal("0.01")
#: lxml parser for the schema: no entity expansion, no network
_SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)


class CaseFileError(ValueError):
    """A case file that does not follow its schema.

    :param errors: one sentence per problem, naming the element at fault
    """

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("; ".join(self.errors))


@dataclass(frozen=True)
class Address:
    country_code: str
    street: str = ""
    street2: str = ""
    zip: str = ""
    city: str = ""
    state: str = ""


@dataclass(frozen=True)
class Party:
    """The creditor or the debtor."""

    name: str
    address: Address
    is_company: bool = True
    vat: str = ""
    registration_number: str = ""
    email: str = ""
    phone: str = ""
    #: the debtor's contact person, or the creditor's person in charge
    contact_name: str = ""
    #: the creditor's person in charge (unused for the debtor)
    contact_email: str = ""


@dataclass(frozen=True)
class FormalNotice:
    """What the last formal notice of an invoice claimed on top of it."""

    date: date
    #: ``fr`` (Code de commerce L441-10) or ``eu`` (directive 2011/7/EU)
    legal_basis: str
    interest: Decimal | float
    indemnity: Decimal | float


@dataclass(frozen=True)
class Line:
    """One unpaid invoice of the claim, amounts in ``currency``."""

    invoice_number: str
    invoice_date: date
    due_date: date
    currency: str
    original_amount: Decimal | float
    amount_outstanding: Decimal | float
    formal_notice: FormalNotice | None = None
    #: the invoice PDF's name in the zip, when it is there
    document: str | None = None


@dataclass(frozen=True)
class CaseFile:
    created: datetime
    creditor_reference: str
    software: str
    creditor: Party
    debtor: Party
    currency: str
    handed_on: date
    lines: list = field(default_factory=list)
    note: str | None = None
    is_test: bool = False


@dataclass(frozen=True)
class Totals:
    original_amount: Decimal
    amount_outstanding: Decimal
    interest: Decimal
    indemnity: Decimal

    @property
    def total_claimed(self):
        return self.amount_outstanding + self.interest + self.indemnity


# ----------------------------------------------------------------------
# building
# ----------------------------------------------------------------------
def cents(value):
    """An amount with 2 decimals, half-up on its decimal text (None stays None)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def totals(case_file):
    """The sums of the case file's lines."""
    lines = case_file.lines
    notices = [line.formal_notice for line in lines if line.formal_notice]

    def total(values):
        return sum((cents(value) or Decimal(0) for value in values), Decimal(0))

    return Totals(
        original_amount=total(line.original_amount for line in lines),
        amount_outstanding=total(line.amount_outstanding for line in lines),
        interest=total(notice.interest for notice in notices),
        indemnity=total(notice.indemnity for notice in notices),
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _tag(name):
    return f"{{{NAMESPACE}}}{name}"


def _text(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.replace(microsecond=0).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    # XML 1.0 has no place for control characters: a stray one in a name
    # must not stop the file
    return _CONTROL.sub("", str(value)).strip()


def _node(parent, name):
    """Append an element that holds others."""
    return etree.SubElement(parent, _tag(name))


def _sub(parent, name, value):
    """Append ``<name>value</name>``; an empty value appends nothing, so that a
    missing required value is reported by the schema, not hidden by an empty tag."""
    text = _text(value)
    if not text:
        return None
    element = etree.SubElement(parent, _tag(name))
    element.text = text
    return element


def _amount(parent, name, value):
    return _sub(parent, name, cents(value))


def _address(parent, address):
    element = _node(parent, "Address")
    _sub(element, "Street", address.street)
    _sub(element, "Street2", address.street2)
    _sub(element, "Zip", address.zip)
    _sub(element, "City", address.city)
    _sub(element, "State", address.state)
    _sub(element, "Country", (address.country_code or "").upper())


def _creditor(parent, party):
    element = _node(parent, "Creditor")
    _sub(element, "Name", party.name)
    _sub(element, "VAT", party.vat)
    _sub(element, "RegistrationNumber", party.registration_number)
    _address(element, party.address)
    _sub(element, "Email", party.email)
    _sub(element, "Phone", party.phone)
    _sub(element, "ContactName", party.contact_name)
    _sub(element, "ContactEmail", party.contact_email)


def _debtor(parent, party):
    element = _node(parent, "Debtor")
    _sub(element, "Type", "company" if party.is_company else "person")
    _sub(element, "Name", party.name)
    _sub(element, "VAT", party.vat)
    _sub(element, "RegistrationNumber", party.registration_number)
    _address(element, party.address)
    _sub(element, "Email", party.email)
    _sub(element, "Phone", party.phone)
    _sub(element, "ContactPerson", party.contact_name)


def _line(parent, line):
    element = _node(parent, "Line")
    _sub(element, "InvoiceNumber", line.invoice_number)
    _sub(element, "InvoiceDate", line.invoice_date)
    _sub(element, "DueDate", line.due_date)
    _sub(element, "Currency", (line.currency or "").upper())
    _amount(element, "OriginalAmount", line.original_amount)
    _amount(element, "AmountOutstanding", line.amount_outstanding)
    notice = line.formal_notice
    if notice:
        notice_element = _node(element, "FormalNotice")
        _sub(notice_element, "Date", notice.date)
        _sub(notice_element, "LegalBasis", notice.legal_basis)
        _amount(notice_element, "LatePaymentInterest", notice.interest)
        _amount(notice_element, "RecoveryIndemnity", notice.indemnity)
    _sub(element, "Document", line.document)


def build(case_file):
    """The case file's XML tree (an lxml element), not validated yet."""
    root = etree.Element(_tag("CaseFile"), nsmap={None: NAMESPACE})
    root.set("version", VERSION)
    header = _node(root, "Header")
    _sub(header, "Created", case_file.created)
    _sub(header, "CreditorReference", case_file.creditor_reference)
    _sub(header, "Software", case_file.software)
    _sub(header, "Test", bool(case_file.is_test))
    _creditor(root, case_file.creditor)
    _debtor(root, case_file.debtor)
    claim = _node(root, "Claim")
    currency = (case_file.currency or "").upper()
    _sub(claim, "Currency", currency)
    _sub(claim, "HandedOverOn", case_file.handed_on)
    _sub(claim, "Note", case_file.note)
    lines = _node(claim, "Lines")
    for line in case_file.lines:
        _line(lines, line)
    sums = totals(case_file)
    element = _node(claim, "Totals")
    _sub(element, "Currency", currency)
    _amount(element, "OriginalAmount", sums.original_amount)
    _amount(element, "AmountOutstanding", sums.amount_outstanding)
    _amount(element, "LatePaymentInterest", sums.interest)
    _amount(element, "RecoveryIndemnity", sums.indemnity)
    _amount(element, "TotalClaimed", sums.total_claimed)
    return root


# ----------------------------------------------------------------------
# validating
# ----------------------------------------------------------------------
@cache
def schema():
    """The case file's XML schema, read once from the repository."""
    with SCHEMA_PATH.open("rb") as handle:
        return etree.XMLSchema(etree.parse(handle, _SAFE_PARSER))


_NS_PATTERN = re.compile(r"\{" + re.escape(NAMESPACE) + r"\}")


def validate(root):
    """Check an XML tree against the schema.

    :raises CaseFileError: listing each problem with the element it is about
    """
    validator = schema()
    if validator.validate(root):
        return
    errors = []
    tree = root.getroottree()
    for entry in validator.error_log:
        message = _ELEMENT_PREFIX.sub("", _NS_PATTERN.sub("", entry.message))
        errors.append(f"{_readable_path(tree, entry.path)}: {message}")
    raise CaseFileError(errors or ["the document does not follow the schema"])


_ELEMENT_PREFIX = re.compile(r"^Element '[^']*': ")


def _readable_path(tree, path):
    """``CaseFile/Claim/Lines/Line[2]/AmountOutstanding`` for libxml's
    ``/*/*[4]/*[3]/*[2]/*[6]``."""
    try:
        nodes = tree.xpath(path) if path else []
    except etree.XPathError:
        nodes = []
    if not nodes or not isinstance(nodes[0], etree._Element):
        return path or "?"
    node = nodes[0]
    parts = []
    while node is not None:
        name = etree.QName(node).localname
        if name == "Line" and node.getparent() is not None:
            name = f"Line[{node.getparent().index(node) + 1}]"
        parts.append(name)
        node = node.getparent()
    return "/".join(reversed(parts))


def render(case_file):
    """The validated case file as UTF-8 bytes.

    :raises CaseFileError: when the values do not make a valid case file
    """
    root = build(case_file)
    validate(root)
    return etree.tostring(
        root, xml_declaration=True, encoding="UTF-8", pretty_print=True
    )


# ----------------------------------------------------------------------
# packing
# ----------------------------------------------------------------------
_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def document_name(invoice_number, extension, taken=()):
    """A file name for an invoice's document at the root of the zip, valid for
    the schema and distinct from the names ``taken``."""
    stem = _UNSAFE.sub("_", invoice_number or "").strip("._") or "invoice"
    stem = stem[:100]
    name = f"{stem}.{extension}"
    counter = 2
    while name in taken:
        name = f"{stem}_{counter}.{extension}"
        counter += 1
    return name


def pack(xml_name, xml_content, documents):
    """A zip holding the case file and its documents.

    :param documents: ``[(file name, bytes)]``
    :returns: the zip's bytes
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(xml_name, xml_content)
        for name, content in documents:
            archive.writestr(name, content)
    return buffer.getvalue()
