# Odoo Session Doctor test lab: logging of the Odoo 17 stand-in, as odoo/netsvc.py (17.0) does it.
#
# Format: '%(asctime)s %(pid)s %(levelname)s %(dbname)s %(name)s: %(message)s %(perf_info)s'
# perf_info is "" for every record except werkzeug request lines, which get
# "<query count> <query time> <remaining time>" (PerfFilter on the werkzeug logger).
import logging
import logging.handlers
import os
import sys
import threading
import time

from .tools.config import config

_logger_init = False


class PerfFilter(logging.Filter):
    def format_perf(self, query_count, query_time, remaining_time):
        return ("%d" % query_count, "%.3f" % query_time, "%.3f" % remaining_time)

    def filter(self, record):
        current = threading.current_thread()
        if hasattr(current, "query_count"):
            query_count = current.query_count
            query_time = current.query_time
            perf_t0 = current.perf_t0
            remaining_time = time.time() - perf_t0 - query_time
            record.perf_info = '%s %s %s' % self.format_perf(query_count, query_time, remaining_time)
            delattr(current, "query_count")
        else:
            record.perf_info = "- - -"
        return True


class DBFormatter(logging.Formatter):
    def format(self, record):
        record.pid = os.getpid()
        record.dbname = getattr(threading.current_thread(), 'dbname', '?')
        return logging.Formatter.format(self, record)


def init_logger():
    global _logger_init
    if _logger_init:
        return
    _logger_init = True

    old_factory = logging.getLogRecordFactory()

    def record_factory(*args, **kwargs):
        record = old_factory(*args, **kwargs)
        record.perf_info = ""
        return record
    logging.setLogRecordFactory(record_factory)

    logging.addLevelName(25, "INFO")
    logging.captureWarnings(True)

    fmt = '%(asctime)s %(pid)s %(levelname)s %(dbname)s %(name)s: %(message)s %(perf_info)s'
    handler = logging.StreamHandler()
    if config['logfile']:
        logf = config['logfile']
        try:
            dirname = os.path.dirname(logf)
            if dirname and not os.path.isdir(dirname):
                os.makedirs(dirname)
            handler = logging.handlers.WatchedFileHandler(logf)
        except Exception:
            sys.stderr.write("ERROR: couldn't create the logfile directory. Logging to the standard output.\n")

    handler.setFormatter(DBFormatter(fmt))
    logging.getLogger().addHandler(handler)
    logging.getLogger('werkzeug').addFilter(PerfFilter())
    logging.getLogger().setLevel(logging.INFO)
