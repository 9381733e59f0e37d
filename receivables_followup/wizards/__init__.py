from . import followup_review_postpone
