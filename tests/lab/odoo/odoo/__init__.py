# Odoo Session Doctor test lab: Odoo stand-in package (see tests/lab/README.md).
# Reproduces only the session behaviour of Odoo 17, 18 or 19 (release.version_info); it is not Odoo.
from . import release

__version__ = release.version
SUPERUSER_ID = 1
evented = False
