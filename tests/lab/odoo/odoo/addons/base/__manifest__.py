# stand-in manifest (the lab's Odoo stand-in does not load addons)
{'name': 'base', 'version': '17.0.1.0', 'installable': True, 'license': 'LGPL-3'}
