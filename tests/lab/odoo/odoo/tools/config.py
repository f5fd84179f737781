# Odoo Session Doctor test lab: odoo.conf handling of the Odoo 17 stand-in.
#
# Mirrors odoo/tools/config.py (17.0) where it matters for sessions:
# - the file is read with configparser.RawConfigParser, exactly like Odoo: a duplicate key or a
#   malformed line raises out of load() (Odoo has no logger yet at that point, so the traceback
#   goes to stderr and the server does not start);
# - only the [options] section is used, 'True'/'true'/'False'/'false' become booleans;
# - deprecated names are mapped (longpolling_port -> gevent_port, xmlrpc_* -> http_*);
# - typed options are cast with optparse's checkers (an invalid integer is fatal);
# - unknown keys are kept and never read (17 is silent about them).
import configparser
import optparse
import os
import sys

from .. import release

_INT_OPTIONS = {
    'http_port', 'gevent_port', 'workers', 'max_cron_threads', 'limit_memory_soft',
    'limit_memory_hard', 'limit_memory_hard_gevent', 'limit_time_cpu', 'limit_time_real',
    'limit_time_real_cron', 'limit_request', 'db_port', 'db_maxconn', 'db_maxconn_gevent',
}


def _user_data_dir():
    # appdirs.user_data_dir(appname='Odoo') on Linux
    path = os.getenv('XDG_DATA_HOME', os.path.expanduser('~/.local/share'))
    return os.path.join(path, release.product_name)


def _get_default_datadir():
    home = os.path.expanduser('~')
    if os.path.isdir(home):
        return _user_data_dir()
    return "/var/lib/%s" % release.product_name.lower()


class configmanager:
    def __init__(self):
        self.rcfile = None
        self.misc = {}
        self.options = {
            'admin_passwd': 'admin',
            'addons_path': None,
            'data_dir': _get_default_datadir(),
            'db_host': False,
            'db_port': False,
            'db_user': False,
            'db_password': False,
            'db_name': False,
            'db_maxconn': 64,
            'db_maxconn_gevent': False,
            'dbfilter': '',
            'list_db': True,
            'http_enable': True,
            'http_interface': '',
            'http_port': 8069,
            'gevent_port': 8072,
            'proxy_mode': False,
            'workers': 0,
            'max_cron_threads': 2,
            'limit_memory_soft': 2048 * 1024 * 1024,
            'limit_memory_hard': 2560 * 1024 * 1024,
            'limit_memory_hard_gevent': False,
            'limit_time_cpu': 60,
            'limit_time_real': 120,
            'limit_time_real_cron': -1,
            'limit_request': 2 ** 16,
            'logfile': None,
            'log_level': 'info',
            'logrotate': False,
            'syslog': False,
            'server_wide_modules': 'base,web',
            'without_demo': False,
        }

    def __getitem__(self, key):
        return self.options[key]

    def __setitem__(self, key, value):
        self.options[key] = value

    def get(self, key, default=None):
        return self.options.get(key, default)

    def parse_config(self, args):
        """Parse the command line (the small subset the stand-in knows) then load the file."""
        parser = optparse.OptionParser(prog='odoo-bin', version="%s %s" % (release.description, release.version))
        parser.add_option('-c', '--config', dest='config')
        parser.add_option('--logfile', dest='logfile')
        parser.add_option('-p', '--http-port', dest='http_port', type='int')
        parser.add_option('-D', '--data-dir', dest='data_dir')
        parser.add_option('-d', '--database', dest='db_name')
        parser.add_option('--workers', dest='workers', type='int')
        parser.add_option('--proxy-mode', dest='proxy_mode', action='store_true')
        opt, _args = parser.parse_args(args)

        rcfilepath = os.path.expanduser('~/.odoorc')
        old_rcfilepath = os.path.expanduser('~/.openerp_serverrc')
        die = bool(opt.config)
        if os.path.isfile(rcfilepath) or not os.path.isfile(old_rcfilepath):
            default_rc = rcfilepath
        else:
            default_rc = old_rcfilepath
        self.rcfile = os.path.abspath(opt.config or os.environ.get('ODOO_RC') or os.environ.get('OPENERP_SERVER') or default_rc)
        self.load()

        for key in ('logfile', 'http_port', 'data_dir', 'db_name', 'workers', 'proxy_mode'):
            value = getattr(opt, key)
            if value is not None:
                self.options[key] = value
            elif isinstance(self.options.get(key), str) and key in _INT_OPTIONS:
                self.options[key] = self._cast_int(key, self.options[key])
        for key in _INT_OPTIONS:
            if isinstance(self.options.get(key), str):
                self.options[key] = self._cast_int(key, self.options[key])

        if self.options['db_name'] and isinstance(self.options['db_name'], str):
            self.options['db_name'] = [d.strip() for d in self.options['db_name'].split(',') if d.strip()]
        elif not self.options['db_name']:
            self.options['db_name'] = []
        if isinstance(self.options['data_dir'], str):
            self.options['data_dir'] = os.path.abspath(os.path.expanduser(os.path.expandvars(self.options['data_dir'])))
        if die and not os.path.isfile(self.rcfile):
            # Odoo only warns at save time; the stand-in keeps defaults like Odoo does.
            pass
        return opt

    @staticmethod
    def _cast_int(key, value):
        return optparse.Option.TYPE_CHECKER['int'](optparse.Option('--' + key, type='int'), key, value)

    def load(self):
        outdated_options_map = {
            'xmlrpc_port': 'http_port',
            'xmlrpc_interface': 'http_interface',
            'xmlrpc': 'http_enable',
            'longpolling_port': 'gevent_port',
        }
        p = configparser.RawConfigParser()
        try:
            p.read([self.rcfile])
            for (name, value) in p.items('options'):
                name = outdated_options_map.get(name, name)
                if value == 'True' or value == 'true':
                    value = True
                if value == 'False' or value == 'false':
                    value = False
                self.options[name] = value
            # parse the other sections, as addon parameters
            for sec in p.sections():
                if sec == 'options':
                    continue
                self.misc[sec] = {}
                for (name, value) in p.items(sec):
                    if value == 'True' or value == 'true':
                        value = True
                    if value == 'False' or value == 'false':
                        value = False
                    self.misc[sec][name] = value
        except IOError:
            pass
        except configparser.NoSectionError:
            pass

    @property
    def session_dir(self):
        d = os.path.join(self['data_dir'], 'sessions')
        try:
            os.makedirs(d, 0o700)
        except OSError:
            assert os.access(d, os.W_OK), "%s: directory is not writable" % d
        return d


config = configmanager()
