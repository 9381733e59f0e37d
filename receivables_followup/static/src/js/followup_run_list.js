/** @odoo-module */
/**
 * The follow-up runs list reloads itself when the server says a run changed:
 * after "Run Follow-up Now", the scheduled action performs the run in the
 * background, and the list shows it done without a manual reload.
 */
import { onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { ListController } from "@web/views/list/list_controller";
import { listView } from "@web/views/list/list_view";

export const RUN_UPDATED = "receivables_followup/run_updated";

export class FollowupRunListController extends ListController {
    setup() {
        super.setup();
        const busService = useService("bus_service");
        const reload = () => this.model.load();
        busService.subscribe(RUN_UPDATED, reload);
        busService.start();
        onWillUnmount(() => busService.unsubscribe(RUN_UPDATED, reload));
    }
}

registry.category("views").add("followup_run_list", {
    ...listView,
    Controller: FollowupRunListController,
});
