# Odoo Session Doctor test lab: Odoo stand-in package (see tests/lab/README.md).
# Reproduces only the session behaviour of Odoo 17, 18 or 19 (release.version_info); it is not Odoo.
import os
import time

from . import release

# Like Odoo's odoo/__init__.py: the server runs in UTC, so its log lines are stamped in UTC.
os.environ['TZ'] = 'UTC'
time.tzset()

__version__ = release.version
SUPERUSER_ID = 1
evented = False
