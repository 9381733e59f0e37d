from . import test_install
from . import test_ui
from . import test_demo_data
from . import test_followup_services
from . import test_followup_levels
from . import test_followup_run
from . import test_dispute
from . import test_dispute_followup
