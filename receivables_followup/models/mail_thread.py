from odoo import api, models

from ..services.inbound import is_automatic_reply


class MailThread(models.AbstractModel):
    _inherit = "mail.thread"

    @api.model
    def _message_route_process(self, message, message_dict, routes):
        # The thread that receives the message decides what an answer means
        # (a customer's answer holds its follow-up); it is told here whether a
        # person wrote it, which only the raw headers say.
        return super(
            MailThread,
            self.with_context(
                followup_inbound_email=True,
                followup_automatic_reply=is_automatic_reply(message),
            ),
        )._message_route_process(message, message_dict, routes)
