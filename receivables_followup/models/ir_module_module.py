from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _load_module_terms(
        self, modules, langs, overwrite=False, imported_module=False
    ):
        """When a language's translations are loaded, the standard follow-up
        policies (created by code) get their texts in that language too."""
        result = super()._load_module_terms(
            modules, langs, overwrite=overwrite, imported_module=imported_module
        )
        if "receivables_followup" in modules and "followup.policy" in self.env:
            # sudo: loading a language is an administrator's action; the policies
            # of every company get their names in it
            self.env["followup.policy"].sudo()._translate_standard_names(langs)
        return result
