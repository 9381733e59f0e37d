from odoo import models, tools

from ..services.formatting import ReminderFormatter


class ResLang(models.Model):
    _inherit = "res.lang"

    @tools.ormcache("code")
    def _followup_formatter(self, code):
        """The reminder formatter of the active language ``code`` (None when it is
        not active), cached with the languages' data: Odoo clears that cache
        whenever a language changes."""
        lang = self._get_data(code=code)
        return ReminderFormatter(lang) if lang.id else None
