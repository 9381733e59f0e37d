from . import test_install
from . import test_ui
from . import test_demo_data
