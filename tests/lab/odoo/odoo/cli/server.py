# Odoo Session Doctor test lab: `odoo-bin` entry point of the Odoo stand-in (odoo/cli/server.py).
import logging
import os
import sys
import threading
import time
import traceback

import odoo
import odoo.addons
from .. import netsvc, release
from ..tools.config import config

# http (psycopg2) and the servers are imported once odoo.conf is read and the start checks are
# done: a config error (or break-odoo) stops the process within a fraction of a second, as it
# stops real Odoo before it serves anything (under supervisor that is a start failure).
http = server = None

_logger = logging.getLogger('odoo')

# Lab switch (tests/lab/lab break-odoo): when this file exists next to odoo-bin, the server
# refuses to start, the way a broken install does (module import failure), and exits 1.
BROKEN_MARKER = '.lab-broken'


def check_root_user():
    """Warn if the process's user is 'root' (on POSIX system)."""
    if os.name == 'posix':
        import getpass
        if getpass.getuser() == 'root':
            sys.stderr.write("Running as user 'root' is a security risk.\n")


def check_postgres_user():
    if (config['db_user'] or os.environ.get('PGUSER')) == 'postgres':
        sys.stderr.write("Using the database user 'postgres' is a security risk, aborting.")
        sys.exit(1)


def report_configuration():
    _logger.info("Odoo version %s", release.version)
    if os.path.isfile(config.rcfile):
        _logger.info("Using configuration file at " + config.rcfile)
    _logger.info('addons paths: %s', odoo.addons.__path__)
    host = config['db_host'] or os.environ.get('PGHOST', 'default')
    port = config['db_port'] or os.environ.get('PGPORT', 'default')
    user = config['db_user'] or os.environ.get('PGUSER', 'default')
    _logger.info('database: %s@%s:%s', user, host, port)


def refuse_to_start(bin_dir):
    log = logging.getLogger('odoo.modules.module')
    try:
        raise ModuleNotFoundError("No module named 'odoo.addons.base.models.ir_http_lab'")
    except ModuleNotFoundError as e:
        log.critical("Couldn't load module %s", 'base')
        log.critical(e)
        tb = traceback.format_exc()
    logging.getLogger('odoo.service.server').critical(
        "Failed to load server-wide module `%s`.\n%s", 'base', tb.rstrip())
    sys.stderr.write(tb)
    logging.shutdown()
    sys.exit(1)


def preload_registries(dbnames):
    """Read what the stand-in caches for the process lifetime (system parameters)."""
    mlog = logging.getLogger('odoo.modules.loading')
    rlog = logging.getLogger('odoo.modules.registry')
    for dbname in dbnames:
        threading.current_thread().dbname = dbname
        try:
            t0 = time.time()
            with http.Cursor(dbname) as cr:
                cr.execute("SELECT count(*) FROM ir_module_module WHERE state='installed'")
                count = cr.fetchone()[0]
            mlog.info('loading 1 modules...')
            mlog.info('1 modules loaded in 0.01s, 0 queries (+0 extra)')
            mlog.info('loading %d modules...', count)
            mlog.info('%d modules loaded in 0.02s, 0 queries (+0 extra)', count)
            mlog.info('Modules loaded.')
            http.params.load(dbname)
            rlog.info('Registry loaded in %.3fs', time.time() - t0)
        except Exception:
            logging.getLogger('odoo.service.server').critical('Failed to initialize database `%s`.', dbname, exc_info=True)
        finally:
            del threading.current_thread().dbname


def main(args):
    global http, server
    check_root_user()
    config.parse_config(args)
    netsvc.init_logger()
    config.flush_log()  # 19: config warnings (unknown options, missing http_interface)
    check_postgres_user()
    report_configuration()

    bin_dir = os.path.dirname(os.path.abspath(sys.argv[0]))
    # The lab's breakage: an empty marker refuses every start; one holding `key=value` refuses
    # only while that system parameter holds that value (a change that stops Odoo from starting,
    # undone by restoring the old value).
    marker = os.path.join(bin_dir, BROKEN_MARKER)
    condition = open(marker).read().strip() if os.path.exists(marker) else None
    if condition == '':
        refuse_to_start(bin_dir)

    from .. import http
    from ..service import server

    preload = list(config['db_name'])
    if preload:
        preload_registries(preload)
    else:
        # no db_name: the stand-in reads the parameters of the first database its dbfilter lets
        # through (one instance serves one database in the lab)
        dbs = http.list_dbs(True)
        dbs = http.db_filter(dbs, '') or dbs
        if dbs:
            try:
                http.params.load(dbs[0])
            except Exception:
                _logger.warning('Could not read system parameters of %s', dbs[0], exc_info=True)

    if condition:
        key, _, value = condition.partition('=')
        if str(http.params.get_param(key)) == value:
            refuse_to_start(bin_dir)

    rc = server.start(preload=preload, stop=False)
    sys.exit(rc)
