from lxml import html
from markupsafe import Markup

from odoo import api, models
from odoo.tools import safe_eval


class MailTemplate(models.Model):
    _inherit = "mail.template"

    @api.model
    def _render_template_qweb(
        self, template_src, model, res_ids, add_context=None, options=None
    ):
        """Compile a QWeb body once for all the records of the call.

        Odoo compiles an inline QWeb template again for every record it renders,
        which is most of the cost of a reminder: the follow-up run renders
        thousands of them from the same template. Under the
        ``followup_render_once`` context key (set by the follow-up engine only),
        the template is compiled once and its function called for each record, the
        way Odoo renders a view; anything unusual (restricted rendering, a
        rendering error, templates without code) goes through Odoo's own path,
        which also raises Odoo's own errors.
        """
        unusual = (
            not self.env.context.get("followup_render_once")
            or len(res_ids) < 2
            or not template_src
            or self._is_restricted_qweb_rendering()
            or not self._has_unsafe_expression_template_qweb(template_src, model)
        )
        if unusual:
            return super()._render_template_qweb(
                template_src, model, res_ids, add_context=add_context, options=options
            )
        variables = self._render_eval_context()
        variables.update(add_context or {})
        element = html.fragment_fromstring(template_src, create_parent="div")
        qweb = self.env["ir.qweb"].with_context(**(options or {}))
        try:
            compiled_qweb = qweb._prepare_environment(dict(variables))
            functions, def_name = compiled_qweb._compile(element)
            render = functions[def_name]
            results = {}
            for record in self.env[model].browse(res_ids):
                values = dict(variables, object=record)
                qweb._prepare_environment(values)
                safe_eval.check_values(values)
                rendered = Markup("".join(render(compiled_qweb, values)))
                # drop the <div> wrapped around the template to parse it
                results[record.id] = rendered[5:-6]
        except Exception:  # noqa: BLE001 - Odoo's path reports the error its own way
            return super()._render_template_qweb(
                template_src, model, res_ids, add_context=add_context, options=options
            )
        return results

    def _is_restricted_qweb_rendering(self):
        return (
            not self._unrestricted_rendering
            and not self.env.is_admin()
            and not self.env.user.has_group("mail.group_mail_template_editor")
        )
