import { registry } from "@web/core/registry";

// The test watches for this console message and has Chromium save a screenshot.
const screenshot = (name) => ({
    content: `Screenshot: ${name}`,
    trigger: "body",
    run: () => console.log(`receivables_followup:screenshot:${name}`),
});

registry.category("web_tour.tours").add("receivables_followup_overview_tour", {
    steps: () => [
        {
            content: "The overview shows today's work",
            trigger: ".o_followup_overview .o_followup_card_promises_due .o_followup_card_count:contains(1)",
        },
        {
            content: "and the key figures, with their definitions",
            trigger: ".o_followup_kpi_dso .o_followup_kpi_definition",
        },
        {
            content: "A manager switches to everyone's customers",
            trigger: ".o_followup_scope_everyone",
            run: "click",
        },
        {
            content: "Everyone's work counts the held customer too",
            trigger: ".o_followup_card_answered .o_followup_card_count:contains(1)",
        },
        {
            content: "The DSO over the sales of the last 6 months",
            trigger: "select.o_followup_dso_months",
            run: "select 6",
        },
        {
            content: "is recomputed",
            trigger: ".o_followup_kpi_dso .o_followup_kpi_value:contains(6)",
        },
        screenshot("overview"),
        {
            content: "Drill down into the promises falling due",
            trigger: ".o_followup_card_promises_due",
            run: "click",
        },
        {
            content: "The list of the promised invoices opens",
            trigger: ".o_list_view .o_data_row",
        },
        screenshot("promises"),
        {
            content: "Back to the overview by its breadcrumb",
            trigger: ".o_breadcrumb .o_back_button a, .o_breadcrumb a:contains('Follow-up Overview')",
            run: "click",
        },
        {
            content: "The overview is back",
            trigger: ".o_followup_overview .o_followup_kpis",
        },
    ],
});
