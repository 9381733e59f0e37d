import { registry } from "@web/core/registry";

const customersMenu =
    ".o_menu_sections button[data-menu-xmlid='account.menu_finance_receivables']";

registry.category("web_tour.tours").add("receivables_followup_menu_tour", {
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
            content: "Open the follow-up's reminders to review",
            trigger: "[data-menu-xmlid='receivables_followup.menu_followup_to_review']",
            run: "click",
        },
        {
            content: "The view is rendered under its breadcrumb",
            trigger: ".o_breadcrumb:contains('Reminders to Review')",
        },
        {
            content: "The list (or its empty helper) is shown",
            trigger: ".o_list_renderer, .o_view_nocontent",
        },
        {
            content: "Open the Customers menu again",
            trigger: customersMenu,
            run: "click",
        },
        {
            content: "Open the overdue invoices",
            trigger: "[data-menu-xmlid='receivables_followup.menu_followup_overdue_invoices']",
            run: "click",
        },
        {
            content: "The overdue invoices list is rendered",
            trigger: ".o_breadcrumb:contains('Overdue Invoices')",
        },
    ],
});
