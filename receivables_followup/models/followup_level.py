from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class FollowupLevel(models.Model):
    _name = "followup.level"
    _description = "Follow-up Level"
    _order = "policy_id, delay, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    policy_id = fields.Many2one(
        "followup.policy", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(
        related="policy_id.company_id", store=True, index=True, precompute=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    delay = fields.Integer(
        string="Days After Due Date",
        required=True,
        help="The level becomes due this many days after the invoice's due date, and "
        "never sooner after the previous level than the difference of their delays.",
    )
    min_amount = fields.Monetary(
        string="Minimum Overdue Amount",
        currency_field="currency_id",
        help="The level is performed only when the amount claimed from the customer "
        "(company currency, net of its credits) reaches this amount.",
    )
    manual_review = fields.Boolean(
        help="A person reviews the reminder and sends, skips or postpones it; the "
        "scheduled run only prepares it."
    )
    send_email = fields.Boolean(default=True)
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain=[("model", "=", "followup.history")],
    )
    print_letter = fields.Boolean(
        help="Produce a PDF letter attached to the customer's chatter."
    )
    create_activity = fields.Boolean(string="Schedule Activity")
    activity_type_id = fields.Many2one("mail.activity.type")
    activity_summary = fields.Char(translate=True)
    activity_deadline_days = fields.Integer(string="Activity Deadline (days)")
    activity_assignee = fields.Selection(
        [
            ("responsible", "Follow-up Responsible"),
            ("salesperson", "Salesperson"),
            ("user", "Fixed User"),
        ],
        default="responsible",
    )
    activity_user_id = fields.Many2one("res.users")
    send_sms = fields.Boolean(
        string="Send SMS",
        help="Sent only where the SMS module is installed, to the customer's mobile.",
    )
    sms_body = fields.Text(
        string="SMS Text",
        translate=True,
        help="Placeholders: {partner}, {amount}, {company}.",
    )
    propose_agency_handoff = fields.Boolean(
        help="Invoices reaching this level are proposed for hand-off to a collection "
        "agency; a manager decides."
    )
    is_formal_notice = fields.Boolean(
        string="Formal Notice",
        help="Mise en demeure: the letter and email show the late-payment interest and "
        "the fixed recovery indemnity, to the customers the policy's late-payment "
        "amounts apply to (French law, L441-10, or the EU directive).",
    )

    @api.constrains("delay")
    def _check_delay(self):
        if any(level.delay < 0 for level in self):
            raise ValidationError(_("A level's delay cannot be negative."))

    @api.constrains("policy_id", "delay")
    def _check_unique_delay(self):
        for level in self:
            twins = level.policy_id.level_ids.filtered(
                lambda other, lvl=level: other.delay == lvl.delay
            )
            if len(twins) > 1:
                raise ValidationError(
                    _(
                        "Two levels of policy %(policy)s have the same delay "
                        "(%(delay)s days).",
                        policy=level.policy_id.display_name,
                        delay=level.delay,
                    )
                )

    @api.constrains("create_activity", "activity_assignee", "activity_user_id")
    def _check_activity_user(self):
        for level in self:
            if (
                level.create_activity
                and level.activity_assignee == "user"
                and not level.activity_user_id
            ):
                raise ValidationError(
                    _(
                        "Level %(level)s needs the user of its activity.",
                        level=level.name,
                    )
                )
