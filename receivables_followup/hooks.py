def post_init_hook(env):
    """Give every existing company its default follow-up policy."""
    env["followup.policy"].sudo()._create_default_policies(
        env["res.company"].search([])
    )


def uninstall_hook(env):
    """Remove the follow-up's own records that point at the data the addon
    ships (its activity types, dispute reasons), so that Odoo can remove that
    data before dropping the follow-up's tables. The accounting is not touched:
    invoices, payments and journal entries stay as they are."""
    activity_types = env["ir.model.data"].search(
        [("module", "=", "receivables_followup"), ("model", "=", "mail.activity.type")]
    )
    env["mail.activity"].with_context(active_test=False).search(
        [("activity_type_id", "in", activity_types.mapped("res_id"))]
    ).unlink()
    # the disputes and their lines go with their tables; their reasons cannot
    # go first while disputes name them
    env.cr.execute("DELETE FROM followup_dispute")
