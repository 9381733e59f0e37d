import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..services import agency_report
from ..services.debitura import const
from ..services.debitura.payloads import AgencyCase, AgencyPayment

_logger = logging.getLogger(__name__)

APPLIED = "applied"
DUPLICATE = "duplicate"
OUTDATED = "outdated"
REJECTED = "rejected"
END_OF_DAY = time(23, 59, 59)
#: rows applied in one savepoint (see ``_apply_rows``)
ROWS_PER_SAVEPOINT = 500

REASONS = [
    (agency_report.UNKNOWN_CASE, "Unknown case"),
    (agency_report.ABOVE_REMAINING, "Payment above what remains"),
    (agency_report.WRONG_CURRENCY, "Currency is not the case's"),
    (agency_report.MALFORMED_AMOUNT, "Malformed amount"),
    (agency_report.MALFORMED_DATE, "Malformed date"),
    (agency_report.UNKNOWN_KIND, "Unknown row type"),
    (agency_report.UNKNOWN_STATUS, "Unknown status or closing reason"),
    (agency_report.UNKNOWN_PAYMENT, "Unknown payment"),
    (agency_report.UNKNOWN_RECIPIENT, "Unknown recipient"),
    (agency_report.MISSING_VALUE, "Missing value"),
    (agency_report.BOOKING_ERROR, "Cannot be booked"),
]


class FollowupAgencyImport(models.Model):
    """One status and payment report of an agency, imported.

    The report's rows are applied through the code path of the callbacks
    (``followup.agency.case._apply_agency_case`` and the booking of
    ``followup.agency.payment``); each row's outcome is kept as a line, the
    import report. A row applied once is never applied again for the agency
    (its identity is unique among the applied lines), so a file imported twice
    or overlapping a previous one changes nothing the second time.
    """

    _name = "followup.agency.import"
    _description = "Agency Report Import"
    _order = "id desc"
    _check_company_auto = True

    name = fields.Char(string="File Name", required=True, readonly=True)
    agency_id = fields.Many2one(
        "followup.agency", required=True, readonly=True, index=True, check_company=True
    )
    company_id = fields.Many2one(related="agency_id.company_id", store=True, index=True)
    attachment_id = fields.Many2one("ir.attachment", string="File", readonly=True)
    file_format = fields.Selection(
        [("csv", "CSV"), ("xml", "XML")], string="Format", readonly=True
    )
    date = fields.Datetime(
        required=True, readonly=True, default=fields.Datetime.now, index=True
    )
    user_id = fields.Many2one(
        "res.users", string="Imported By", readonly=True, default=lambda s: s.env.user
    )
    source = fields.Selection(
        [("upload", "Upload"), ("folder", "Report Folder")],
        required=True,
        readonly=True,
        default="upload",
    )
    state = fields.Selection(
        [("done", "Done"), ("partial", "Partly Done"), ("failed", "Failed")],
        required=True,
        readonly=True,
        default="done",
    )
    message = fields.Text(
        readonly=True, help="Why the file was refused as a whole, if it was."
    )
    count_applied = fields.Integer(string="Applied", readonly=True)
    count_duplicate = fields.Integer(string="Already Imported", readonly=True)
    count_outdated = fields.Integer(
        string="Older News",
        readonly=True,
        help="Status rows older than what the case already knows: ignored.",
    )
    count_rejected = fields.Integer(string="Rejected", readonly=True)
    line_ids = fields.One2many(
        "followup.agency.import.line", "import_id", string="Rows", readonly=True
    )

    # ------------------------------------------------------------------
    # entry point
    # ------------------------------------------------------------------
    @api.model
    def _import_report(self, agency, data, filename, file_format=None, source="upload"):
        """Import one report of ``agency``.

        :param bytes data: the file as received
        :param file_format: ``"csv"``, ``"xml"`` or None to detect it
        :returns: the ``followup.agency.import`` record
        :raises UserError: when the file is refused as a whole (nothing applied)
        """
        agency.ensure_one()
        try:
            file_format, rows = agency_report.parse(
                data,
                file_format=file_format,
                filename=filename,
                settings=agency._report_csv_settings(),
            )
        except agency_report.ReportRefused as refusal:
            raise UserError(self._refusal_message(refusal)) from None
        record = self.sudo().create(
            {
                "name": filename or _("Agency report"),
                "agency_id": agency.id,
                "file_format": file_format,
                "source": source,
            }
        )
        record.attachment_id = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": filename or "report",
                    "raw": data,
                    "res_model": self._name,
                    "res_id": record.id,
                }
            )
        )
        outcomes = record._apply_rows(rows)
        record._store_outcomes(rows, outcomes)
        return record

    @api.model
    def _refusal_message(self, refusal):
        messages = {
            agency_report.TOO_LARGE: _(
                "The file is too large to be an agency report (%s bytes over the "
                "limit)."
            ),
            agency_report.EMPTY: _("The file is empty."),
            agency_report.ENCODING: _(
                "The file is not UTF-8 text (%s): ask the agency for a UTF-8 "
                "export, or save it as CSV UTF-8."
            ),
            agency_report.DOCTYPE: _(
                "The XML file declares a DOCTYPE or entities, which an agency "
                "report never needs: it is refused.%s"
            ),
            agency_report.MALFORMED_XML: _("The file is not well-formed XML: %s"),
            agency_report.MALFORMED_CSV: _("The file is not a readable CSV: %s"),
            agency_report.INVALID_XML: _(
                "The XML file does not follow the agency report schema "
                "(schemas/agency_report.xsd): %s"
            ),
            agency_report.FORMULA: _(
                "Line %s holds a spreadsheet formula (a cell starting with =, +, "
                "- or @): the file is refused."
            ),
            agency_report.MISSING_COLUMN: _(
                "The CSV file has no column for: %s. Check its header line and the "
                "agency's column names."
            ),
            agency_report.UNKNOWN_FORMAT: _("Unknown report format: %s"),
        }
        message = messages.get(refusal.code, "%s")
        return message % refusal.detail if "%s" in message else message

    # ------------------------------------------------------------------
    # applying rows
    # ------------------------------------------------------------------
    def _apply_rows(self, rows):
        """Apply the rows in file order; return one ``(state, reason, field,
        case_id, detail)`` per row.

        Rows are applied in chunks, each in one savepoint, so that a chunk's
        changes are flushed (and the cases' tracking written) once; when a row
        of a chunk fails, the chunk is rolled back and applied again row by
        row, so that the failing row is rejected alone. Payments are booked in
        batches (their items in one entry, reconciled together); a batch is
        booked before a later closing or reversal of one of its cases, so that
        each row still meets the case as the rows above left it.
        """
        self.ensure_one()
        agency = self.agency_id
        applied = self._applied_identities(
            agency, [row.identity for row in rows if not row.error]
        )
        cases = self._cases_by_reference(
            agency,
            {ref for row in rows for ref in (row.reference, row.agency_reference)},
        )
        state = _ApplyState(
            applied=applied,
            cases=cases,
            remaining=self._remaining_by_case(set(cases.values())),
            touched=self.env["followup.agency.case"].sudo(),
        )
        state.pending = _PendingPayments(self, state.outcomes, state.remaining)
        for start in range(0, len(rows), ROWS_PER_SAVEPOINT):
            chunk = rows[start : start + ROWS_PER_SAVEPOINT]
            before = state.snapshot()
            try:
                with self.env.cr.savepoint():
                    for row in chunk:
                        self._apply_one(row, state)
                    state.pending.book()
            except UserError:
                state.restore(before)
                for row in chunk:
                    self._apply_one(row, state, guarded=True)
                state.pending.book()
        for case in state.touched:
            case._apply_agency_case(self._amounts_change(case, state.remaining))
        return state.outcomes

    def _apply_one(self, row, state, guarded=False):
        """Apply one row, its outcome appended to ``state.outcomes``; with
        ``guarded``, in a savepoint of its own that rejects it when it fails."""
        case = state.cases.get((row.reference or "").upper()) or state.cases.get(
            (row.agency_reference or "").upper()
        )
        refused = self._row_refusal(row, case, state)
        if refused:
            state.outcomes.append(refused)
            return
        state.seen.add(row.identity)
        if row.kind == agency_report.PAYMENT:
            state.touched |= case
            state.pending.add(row, case)
            return
        if row.kind in (agency_report.CLOSING, agency_report.REVERSAL):
            state.pending.book(case)
        outcome = self._apply_guarded(row, case, state.remaining, guarded)
        if outcome[0] == REJECTED:
            state.seen.discard(row.identity)
        elif row.kind == agency_report.REVERSAL:
            state.touched |= case
        state.outcomes.append(outcome)

    def _row_refusal(self, row, case, state):
        """The outcome of a row that is not applied: rejected (with its reason
        and field) or a duplicate; None for a row to apply to ``case``."""
        if row.error:
            return (REJECTED, row.error, row.error_field, case, None)
        if row.identity in state.applied or row.identity in state.seen:
            return (DUPLICATE, None, None, case, None)
        if not case:
            return (REJECTED, agency_report.UNKNOWN_CASE, "reference", case, None)
        if row.agency_reference:
            # the agency's reference, learnt from this row, names the case in
            # the rows below
            state.cases.setdefault(row.agency_reference.upper(), case)
        problem = self._payment_problem(row, case, state.remaining)
        if problem:
            return (REJECTED, *problem, case, None)
        return None

    def _apply_guarded(self, row, case, remaining, guarded):
        """Apply a valid status, closing or reversal row (``_apply_row``) and
        return its outcome; with ``guarded``, in a savepoint of its own, a
        booking that fails rejects the row alone instead of raising."""
        Payment = self.env["followup.agency.payment"].sudo()
        try:
            if guarded:
                with self.env.cr.savepoint():
                    result = self._apply_row(row, case, remaining, Payment)
            else:
                result = self._apply_row(row, case, remaining, Payment)
        except UserError as error:
            if not guarded:
                raise
            return (REJECTED, agency_report.BOOKING_ERROR, None, case, error.args[0])
        if result == REJECTED:
            return (REJECTED, agency_report.UNKNOWN_PAYMENT, "payment_id", case, None)
        return (result, None, None, case, None)

    def _apply_row(self, row, case, remaining, Payment):
        """Apply one valid status, closing or reversal row; return the line's
        state."""
        if row.kind in (agency_report.STATUS, agency_report.CLOSING):
            change = self._case_change(row, case, remaining)
            return APPLIED if case._apply_agency_case(change) else OUTDATED
        reversed_ = Payment._reverse_agency_payment(case, row.payment_id)
        if not reversed_:
            return REJECTED
        remaining[case] += reversed_.amount
        return APPLIED

    @api.model
    def _report_payment(self, row, case):
        """The ``AgencyPayment`` a payment row reports on ``case``."""
        return AgencyPayment(
            payment_id=row.payment_id or f"report:{row.identity}",
            case_id=None,
            date=row.day,
            amount=float(row.amount),
            currency=row.currency or case.currency_id.name,
            recipient=row.recipient,
            method=None,
            invoice_reference=row.invoice,
            commission=float(row.commission) if row.commission is not None else None,
        )

    def _payment_problem(self, row, case, remaining):
        """``(reason, field)`` when a payment row cannot go to ``case``."""
        if row.kind != agency_report.PAYMENT:
            return None
        currency = case.currency_id
        if row.currency and row.currency != currency.name:
            return agency_report.WRONG_CURRENCY, "currency"
        if currency.compare_amounts(float(row.amount), remaining[case]) > 0:
            return agency_report.ABOVE_REMAINING, "amount"
        return None

    @api.model
    def _case_change(self, row, case, remaining):
        """The ``AgencyCase`` a status or closing row tells about ``case``."""
        closing = row.kind == agency_report.CLOSING
        values = self._amount_values(case, remaining)
        return AgencyCase(
            agency_id=None,
            reference=row.agency_reference or case.agency_reference,
            creditor_reference=case.creditor_reference,
            lifecycle=const.LIFECYCLES["Closed"] if closing else row.status,
            close_code=row.close_code if closing else None,
            state=row.state,
            updated_at=(
                # the report tells the case as it stood at the end of that day
                datetime.combine(row.day, END_OF_DAY, tzinfo=UTC) if row.day else None
            ),
            needs_info=row.state == const.NEEDS_DETAILS,
            **values,
        )

    @api.model
    def _amounts_change(self, case, remaining):
        """What the case's amounts are after the rows' payments, its status
        untouched."""
        return AgencyCase(
            agency_id=None,
            reference=case.agency_reference,
            creditor_reference=case.creditor_reference,
            lifecycle=case.agency_lifecycle,
            close_code=case.agency_close_code,
            state=None,
            needs_info=case.needs_info,
            **self._amount_values(case, remaining),
        )

    @api.model
    def _amount_values(self, case, remaining):
        left = max(0.0, case.currency_id.round(remaining[case]))
        collected = case.amount_handed + case.amount_fees - left
        return {
            "amount_remaining": left,
            "amount_collected": max(0.0, case.currency_id.round(collected)),
        }

    # ------------------------------------------------------------------
    # batched reads
    # ------------------------------------------------------------------
    @api.model
    def _applied_identities(self, agency, identities):
        """Those of ``identities`` already applied for ``agency`` (one query)."""
        if not identities:
            return set()
        self.env["followup.agency.import.line"].flush_model()
        self.env.cr.execute(
            SQL(
                """SELECT identity FROM followup_agency_import_line
                    WHERE agency_id = %s AND state = %s AND identity = ANY(%s)""",
                agency.id,
                APPLIED,
                list(set(identities)),
            )
        )
        return {identity for (identity,) in self.env.cr.fetchall()}

    @api.model
    def _cases_by_reference(self, agency, references):
        """``{REFERENCE: case}`` for the references of the rows: the agency's
        reference, our creditor reference or the agency's case id (one
        search, compared without case)."""
        references = [ref for ref in references if ref]
        if not references:
            return {}
        variants = list({v for ref in references for v in (ref, ref.upper())})
        cases = (
            self.env["followup.agency.case"]
            .sudo()
            .search(
                [
                    ("agency_id", "=", agency.id),
                    "|",
                    "|",
                    ("agency_reference", "in", variants),
                    ("creditor_reference", "in", variants),
                    ("agency_case_id", "in", variants),
                ]
            )
        )
        found = {}
        for case in cases:
            for key in (
                case.agency_case_id,
                case.creditor_reference,
                case.agency_reference,
            ):
                if key:
                    found[key.upper()] = case
        return found

    @api.model
    def _remaining_by_case(self, cases):
        """What each case's debtor still owes the agency: handed over plus the
        agency's fees, less the payments not reversed (one grouped read)."""
        cases = self.env["followup.agency.case"].sudo().union(*cases)
        paid = dict(
            self.env["followup.agency.payment"]
            .sudo()
            ._read_group(
                [("case_id", "in", cases.ids), ("state", "!=", "reversed")],
                ["case_id"],
                ["amount:sum"],
            )
        )
        remaining = defaultdict(float)
        for case in cases:
            remaining[case] = (
                case.amount_handed + case.amount_fees - paid.get(case, 0.0)
            )
        return remaining

    # ------------------------------------------------------------------
    # the report
    # ------------------------------------------------------------------
    def _store_outcomes(self, rows, outcomes):
        self.ensure_one()
        self.env["followup.agency.import.line"].sudo().create(
            [
                {
                    "import_id": self.id,
                    "agency_id": self.agency_id.id,
                    "line_number": row.line,
                    "identity": row.identity,
                    "kind": row.kind,
                    "reference": row.reference,
                    "case_id": case.id if case else False,
                    "state": state,
                    "reason": reason,
                    "field_name": field_name,
                    "detail": detail,
                }
                for row, (state, reason, field_name, case, detail) in zip(
                    rows, outcomes, strict=True
                )
            ]
        )
        counts = defaultdict(int)
        for state, *_rest in outcomes:
            counts[state] += 1
        if counts[REJECTED] and not (counts[APPLIED] or counts[DUPLICATE]):
            state = "failed"
        elif counts[REJECTED]:
            state = "partial"
        else:
            state = "done"
        self.write(
            {
                "state": state,
                "count_applied": counts[APPLIED],
                "count_duplicate": counts[DUPLICATE],
                "count_outdated": counts[OUTDATED],
                "count_rejected": counts[REJECTED],
            }
        )

    def action_open_rejected(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "receivables_followup.action_followup_agency_import_line"
        )
        action["domain"] = [("import_id", "=", self.id), ("state", "=", REJECTED)]
        return action

    def action_download(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "download",
        }


@dataclass
class _ApplyState:
    """Where the rows of a report stand while they are applied."""

    applied: set
    cases: dict
    remaining: dict
    touched: models.BaseModel
    seen: set = field(default_factory=set)
    outcomes: list = field(default_factory=list)
    pending: "_PendingPayments" = None

    def snapshot(self):
        """What a chunk's rows change, to undo them after a rollback (the
        payments of earlier chunks are booked: none is pending)."""
        return (
            dict(self.cases),
            dict(self.remaining),
            set(self.seen),
            self.touched,
            len(self.outcomes),
        )

    def restore(self, snapshot):
        cases, remaining, seen, touched, count = snapshot
        self.cases.clear()
        self.cases.update(cases)
        self.remaining.clear()
        self.remaining.update(remaining)
        self.seen = seen
        self.touched = touched
        del self.outcomes[count:]
        self.pending.rows = []


class _PendingPayments:
    """The payment rows of a report waiting to be booked together.

    A row counts against what remains on its case as soon as it is accepted,
    so that the rows below are checked against it; what a batch cannot book is
    given back. When a batch fails, its rows are booked one by one, so that a
    single row that cannot be booked is rejected alone.
    """

    BATCH_SIZE = 500

    def __init__(self, report, outcomes, remaining):
        self.report = report
        self.outcomes = outcomes
        self.remaining = remaining
        self.rows = []  # (index in outcomes, row, case)

    def add(self, row, case):
        self.remaining[case] -= float(row.amount)
        self.rows.append((len(self.outcomes), row, case))
        self.outcomes.append(None)
        if len(self.rows) >= self.BATCH_SIZE:
            self.book()

    def book(self, case=None):
        """Book the pending rows (only if one of them is ``case``'s, when given)."""
        if not self.rows or (case and all(c != case for _i, _r, c in self.rows)):
            return
        rows, self.rows = self.rows, []
        try:
            with self.report.env.cr.savepoint():
                self._book(rows)
        except UserError:
            for item in rows:
                try:
                    with self.report.env.cr.savepoint():
                        self._book([item])
                except UserError as error:
                    index, row, case = item
                    self.remaining[case] += float(row.amount)
                    self.outcomes[index] = (
                        REJECTED,
                        agency_report.BOOKING_ERROR,
                        None,
                        case,
                        error.args[0],
                    )

    def _book(self, rows):
        Payment = self.report.env["followup.agency.payment"].sudo()
        booked = Payment._book_new_payments(
            [(case, self.report._report_payment(row, case)) for _i, row, case in rows]
        )
        for (index, row, case), record in zip(rows, booked, strict=True):
            if not record:
                # booked already (by a callback, or another file)
                self.remaining[case] += float(row.amount)
            state = APPLIED if record else DUPLICATE
            self.outcomes[index] = (state, None, None, case, None)
