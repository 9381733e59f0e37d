/** @odoo-module */
/**
 * The follow-up overview: today's work as cards (each opens its list) and the
 * receivables' key figures with their definitions. A client action in Odoo's
 * own OWL components; the figures come from followup.overview.get_overview.
 */
import { Component, onWillStart, useState } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";

export class FollowupOverview extends Component {
    static template = "receivables_followup.FollowupOverview";
    static components = { Layout };
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ data: null, scope: "mine", dsoMonths: 12 });
        onWillStart(() => this.load());
    }

    async load(scope = this.state.scope, dsoMonths = this.state.dsoMonths) {
        const data = await this.orm.call("followup.overview", "get_overview", [
            scope,
            dsoMonths,
        ]);
        this.state.data = data;
        this.state.scope = data.scope;
        this.state.dsoMonths = data.dso_months;
    }

    onDsoPeriodChange(ev) {
        this.load(this.state.scope, parseInt(ev.target.value));
    }

    openCard(card) {
        this.action.doAction(card.action);
    }
}

registry.category("actions").add("receivables_followup.overview", FollowupOverview);
