from . import portal
from . import agency_webhook
