import { rpc } from "@web/core/network/rpc";
import { registry } from "@web/core/registry";

const customersMenu =
    ".o_menu_sections button[data-menu-xmlid='account.menu_finance_receivables']";

/**
 * Stands for the cron worker, which a test server does not run: performs the
 * pending batch of the follow-up run in a request of its own, as the scheduled
 * action would, while the runs list stays open.
 */
async function runScheduledFollowup() {
    const [cron] = await rpc("/web/dataset/call_kw/ir.cron/search_read", {
        model: "ir.cron",
        method: "search_read",
        args: [[["code", "=", "model._cron_run_followup()"]], ["id"]],
        kwargs: {},
    });
    await rpc("/web/dataset/call_kw/ir.cron/method_direct_trigger", {
        model: "ir.cron",
        method: "method_direct_trigger",
        args: [[cron.id]],
        kwargs: {},
    });
}

registry.category("web_tour.tours").add("receivables_followup_run_refresh_tour", {
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open the invoicing/accounting app",
            trigger: ".o_app[data-menu-xmlid='account.menu_finance']",
            run: "click",
        },
        {
            content: "Open the Customers menu",
            trigger: customersMenu,
            run: "click",
        },
        {
            content: "Run the follow-up now",
            trigger: "[data-menu-xmlid='receivables_followup.menu_followup_run_now']",
            run: "click",
        },
        {
            content: "Today's run is planned and running",
            trigger: ".o_list_renderer .o_data_row .badge:contains('Running')",
            run: runScheduledFollowup,
        },
        {
            content: "The list shows the run done without a reload",
            trigger: ".o_list_renderer .o_data_row .badge:contains('Done')",
        },
        {
            content: "It counts the reminder it sent",
            trigger: ".o_list_renderer .o_data_row td[name='done_count']:contains('1')",
        },
    ],
});
