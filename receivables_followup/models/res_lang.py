from odoo import models, tools

from ..services.formatting import ReminderFormatter


class ResLang(models.Model):
    _inherit = "res.lang"

    @tools.ormcache("code")
    def _followup_formatter(self, code):
        """The reminder formatter of the installed language ``code``, cached with
        the languages' data: Odoo clears that cache whenever a language changes."""
        return ReminderFormatter(self._get_data(code=code))
