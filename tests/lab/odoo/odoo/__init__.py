# Odoo Session Doctor test lab: Odoo 17 stand-in package (see tests/lab/README.md).
# Reproduces only Odoo 17's session behaviour; it is not Odoo.
from . import release

__version__ = release.version
SUPERUSER_ID = 1
evented = False
