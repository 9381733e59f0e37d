def post_init_hook(env):
    """Give every existing company its default follow-up policy."""
    env["followup.policy"].sudo()._create_default_policies(
        env["res.company"].search([])
    )
