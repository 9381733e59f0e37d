import { registry } from "@web/core/registry";

// A customer follows the statement link of a reminder (no account), pays all
// its overdue invoices with Odoo's demo payment provider, and comes back to a
// statement with nothing left to pay.
registry.category("web_tour.tours").add("receivables_followup_pay_tour", {
    steps: () => [
        {
            content: "The statement lists the overdue invoices",
            trigger: "#followup_statement_invoices tr.table-warning[data-invoice]",
        },
        {
            content: "Disputing needs an account: the link is read-only",
            trigger: "#followup_statement_read_only",
        },
        {
            content: "Pay all the overdue invoices",
            trigger: "a.o_followup_pay_all",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Enter the demo provider's card number",
            trigger: "#followup_pay input[name='customer_input']",
            run: "edit 4242424242424242",
        },
        {
            content: "Pay",
            trigger: "#followup_pay button[name='o_payment_submit_button']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Back on the statement: nothing is left to pay",
            trigger: "#followup_statement_clear",
        },
    ],
});
