from . import followup_receivable_aging_report
