from . import followup_review_wizard
from . import followup_review_postpone
from . import followup_review_skip
from . import followup_review_stale
from . import followup_review_edit
from . import followup_exclude_wizard
from . import followup_dispute_resolve
from . import followup_partner_settings
