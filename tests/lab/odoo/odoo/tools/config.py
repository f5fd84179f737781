# Odoo Session Doctor test lab: odoo.conf handling of the Odoo stand-in (17, 18 or 19, from
# release.version_info, which the lab writes into each install's release.py).
#
# 17 and 18 mirror odoo/tools/config.py (17.0, 18.0) where it matters for sessions:
# - the file is read with configparser.RawConfigParser, exactly like Odoo: a duplicate key or a
#   malformed line raises out of load() (Odoo has no logger yet at that point, so the traceback
#   goes to stderr and the server does not start);
# - only the [options] section is used, 'True'/'true'/'False'/'false' become booleans and any
#   other string is kept (so `proxy_mode = 0` is the truthy string "0");
# - deprecated names are mapped (xmlrpc_* -> http_*; longpolling_port -> gevent_port in 17 only,
#   18 ignores longpolling_port);
# - typed options are cast with optparse's checkers: `smtp_port = 465   #25` stops Odoo with
#   "optparse.OptionValueError: option smtp_port: invalid integer value: '465   #25'";
# - unknown keys are kept and never read, silently.
# 19 mirrors 19.0's configmanager._load_file_options:
# - every known option is parsed while the file is read: booleans strictly (1/yes/true/on,
#   0/no/false/off, anything else raises OptionValueError "invalid boolean value"), integers
#   with int() (ValueError "invalid literal for int() with base 10"), 'None' is None;
# - 'False'/'false' on a non-boolean option is skipped with a warning;
# - an unknown key is kept as-is with "unknown option '<key>' in the config file at <path>,
#   option stored as-is, without parsing" (longpolling_port is unknown in 19);
# - no http_interface: "missing --http-interface/http_interface, using 0.0.0.0 by default, will
#   change to 127.0.0.1 in 20.0".
# 19's warnings are logged by odoo.tools.config once logging is set up (flush_log()).
import configparser
import logging
import optparse
import os
import sys

from .. import release

MAJOR = release.version_info[0]

_INT_OPTIONS = {
    'http_port', 'gevent_port', 'longpolling_port', 'workers', 'max_cron_threads', 'limit_memory_soft',
    'limit_memory_hard', 'limit_memory_soft_gevent', 'limit_memory_hard_gevent', 'limit_time_cpu',
    'limit_time_real', 'limit_time_real_cron', 'limit_time_worker_cron', 'limit_request', 'db_port',
    'db_maxconn', 'db_maxconn_gevent', 'smtp_port', 'osv_memory_count_limit',
    'websocket_keep_alive_timeout', 'websocket_rate_limit_burst', 'db_replica_port',
    'import_file_maxbytes', 'import_file_timeout',
}
_FLOAT_OPTIONS = {'transient_age_limit', 'websocket_rate_limit_delay'}
_CHOICE_OPTIONS = {
    'log_level': ['info', 'debug_rpc', 'warn', 'test', 'critical', 'runbot', 'debug_sql', 'error',
                  'debug', 'debug_rpc_answer', 'notset'],
    'db_sslmode': ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'],
}
# options declared with action store_true/store_false (19 parses them strictly)
_BOOL_OPTIONS = {
    'proxy_mode', 'list_db', 'http_enable', 'x_sendfile', 'smtp_ssl', 'unaccent', 'syslog',
    'reportgz', 'stop_after_init', 'with_demo', 'overwrite_existing_translations', 'test_enable',
    'default_productivity_apps',
}
# every option name 19.0's configmanager knows (anything else is "unknown")
_KNOWN_19 = _INT_OPTIONS - {'longpolling_port'} | _FLOAT_OPTIONS | set(_CHOICE_OPTIONS) | _BOOL_OPTIONS | {
    'admin_passwd', 'bin_path', 'csv_internal_sep', 'import_url_regex', 'proxy_access_token',
    'publisher_warranty_url', 'init', 'update', 'reinit', 'without_demo', 'import_partial',
    'pidfile', 'addons_path', 'upgrade_path', 'pre_upgrade_scripts', 'server_wide_modules',
    'data_dir', 'http_interface', 'dbfilter', 'test_file', 'test_tags', 'screencasts',
    'screenshots', 'logfile', 'log_handler', 'log_db', 'log_db_level', 'email_from',
    'from_filter', 'smtp_server', 'smtp_user', 'smtp_password', 'smtp_ssl_certificate_filename',
    'smtp_ssl_private_key_filename', 'db_name', 'db_user', 'db_password', 'pg_path', 'db_host',
    'db_replica_host', 'db_app_name', 'db_template', 'load_language', 'language',
    'translate_out', 'translate_in', 'translate_modules', 'dev_mode', 'shell_interface',
    'geoip_city_db', 'geoip_country_db',
}

_config_logger = logging.getLogger('odoo.tools.config')


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
        self._file_http_interface = False
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
            'smtp_server': 'localhost',
            'smtp_port': 25,
            'smtp_ssl': False,
            'smtp_user': False,
            'smtp_password': False,
            'email_from': False,
            'osv_memory_count_limit': 0,
            'transient_age_limit': 1.0,
        }
        if MAJOR >= 19:
            self.options['http_interface'] = '0.0.0.0'
        self._log_entries = []  # 19: logged once logging is set up (config._log)

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
        parser.add_option('--http-interface', dest='http_interface')
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

        for key in ('logfile', 'http_port', 'data_dir', 'db_name', 'workers', 'proxy_mode', 'http_interface'):
            value = getattr(opt, key)
            if value is not None:
                self.options[key] = value
            elif MAJOR <= 18 and isinstance(self.options.get(key), str) and key in _INT_OPTIONS:
                self.options[key] = self._cast_int(key, self.options[key])
        # 17/18: the values of typed options are cast after the file is read (19 parsed them already)
        for key in sorted(_INT_OPTIONS) if MAJOR <= 18 else ():
            if isinstance(self.options.get(key), str):
                self.options[key] = self._cast_int(key, self.options[key])
        for key in sorted(_FLOAT_OPTIONS) if MAJOR <= 18 else ():
            if isinstance(self.options.get(key), str):
                self.options[key] = optparse.Option.TYPE_CHECKER['float'](
                    optparse.Option('--' + key, type='float'), key, self.options[key])
        for key, choices in _CHOICE_OPTIONS.items() if MAJOR <= 18 else ():
            if isinstance(self.options.get(key), str):
                optparse.check_choice(optparse.Option('--' + key, type='choice', choices=choices), key, self.options[key])
        if MAJOR >= 19 and not self._file_http_interface and opt.http_interface is None:
            self._log(logging.WARNING, "missing %s, using 0.0.0.0 by default, will change to 127.0.0.1 in 20.0",
                      '--http-interface/http_interface')

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

    def _log(self, level, msg, *args):
        self._log_entries.append((level, msg, args))

    def flush_log(self):
        """19: config warnings wait until logging is set up, then go to odoo.tools.config."""
        for level, msg, args in self._log_entries:
            _config_logger.log(level, msg, *args)
        self._log_entries = []

    def load(self):
        if MAJOR >= 19:
            return self._load_19()
        outdated_options_map = {
            'xmlrpc_port': 'http_port',
            'xmlrpc_interface': 'http_interface',
            'xmlrpc': 'http_enable',
        }
        if MAJOR <= 17:
            outdated_options_map['longpolling_port'] = 'gevent_port'
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
        self._file_http_interface = bool(self.options.get('http_interface'))

    @staticmethod
    def _check_bool(opt, value):
        if value.lower() in ('1', 'yes', 'true', 'on'):
            return True
        if value.lower() in ('0', 'no', 'false', 'off'):
            return False
        raise optparse.OptionValueError(f"option {opt}: invalid boolean value: {value!r}")

    def _parse_19(self, name, value):
        if value == 'None':
            return None
        if name in _BOOL_OPTIONS:
            return self._check_bool(name, value)
        if name in _INT_OPTIONS:
            return int(value)
        if name in _FLOAT_OPTIONS:
            return float(value)
        if name in _CHOICE_OPTIONS:
            return optparse.check_choice(optparse.Option('--' + name, type='choice', choices=_CHOICE_OPTIONS[name]), name, value)
        return str(value)

    def _load_19(self):
        self._file_http_interface = False
        p = configparser.RawConfigParser()
        try:
            p.read([self.rcfile])
            for (name, value) in p.items('options'):
                if name not in _KNOWN_19:
                    self._log(logging.WARNING, "unknown option %r in the config file at %s, option stored as-is, without parsing",
                              name, self.rcfile)
                    self.options[name] = value
                    continue
                if value in ('False', 'false') and name not in _BOOL_OPTIONS:
                    self._log(logging.WARNING, "option %s reads %r in the config file at %s but isn't a boolean option, skip",
                              name, value, self.rcfile)
                    continue
                if name == 'http_interface' and value == '':
                    continue
                self.options[name] = self._parse_19(name, value)
                if name == 'http_interface':
                    self._file_http_interface = True
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
