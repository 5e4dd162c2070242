import sys

from consult import create_app
from consult.config import ConfigurationError

try:
    app = create_app()
except ConfigurationError as error:  # a setting to fix, not a fault to debug: say it, without a traceback
    sys.exit(f"The service cannot start: {error}")
