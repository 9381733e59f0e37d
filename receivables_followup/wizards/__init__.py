from . import followup_review_postpone
from . import followup_exclude_wizard
from . import followup_dispute_resolve
