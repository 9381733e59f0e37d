import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("receivables_followup_menu_tour", {
    steps: () => [
        {
            content: "Open the Customers menu of the accounting app",
            trigger: ".o_menu_sections button:contains('Customers')",
            run: "click",
        },
        {
            content: "Open the follow-up's reminders to review",
            trigger: ".o-dropdown-item:contains('Reminders to Review')",
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
            content: "Open the overdue invoices",
            trigger: ".o_menu_sections button:contains('Customers')",
            run: "click",
        },
        {
            trigger: ".o-dropdown-item:contains('Overdue Invoices')",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb:contains('Overdue Invoices')",
        },
    ],
});
