from . import portal
from . import portal_statement
from . import agency_webhook
