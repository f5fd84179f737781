# Odoo Session Doctor test lab: the servers of the Odoo 17 stand-in (odoo/service/server.py).
#
# - workers = 0: ThreadedServer, HTTP (and /websocket) on http_port, cron threads in-process;
# - workers > 0: PreforkServer: a master holding the listening socket, `workers` HTTP worker
#   processes (one request per connection, HTTP/1.0, no websocket: "Couldn't bind the
#   websocket..."), `max_cron_threads` cron worker processes, and a `odoo-bin gevent ...`
#   subprocess serving everything (websocket included) on gevent_port;
# - HTTP workers check their limits before each request: the stand-in's *simulated* worker
#   memory starts at SIM_WORKER_BASE and grows by SIM_WORKER_STEP per request (capped), and a
#   worker above limit_memory_soft logs Odoo's "virtual memory limit" line and is recycled;
# - cron: LISTEN cron_trigger on the 'postgres' database, wake on NOTIFY or every 60 s, run due
#   ir_cron rows; "Base: Auto-vacuum internal data" runs the session cleanup.
import contextlib
import errno
import fcntl
import logging
import os
import platform
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn
from urllib.parse import unquote

import psycopg2

import odoo
from .. import http
from ..tools.config import config

_logger = logging.getLogger("odoo.service.server")
_werkzeug = logging.getLogger('werkzeug')
_cron_logger = logging.getLogger('odoo.addons.base.models.ir_cron')

SLEEP_INTERVAL = 60  # 1 min
SIM_WORKER_BASE = 150 * 1024 * 1024
SIM_WORKER_STEP = 16 * 1024 * 1024
SIM_WORKER_CAP = 400 * 1024 * 1024
AUTOVACUUM_CRON = 'Base: Auto-vacuum internal data'


# ----------------------------------------------------------
# HTTP request handler (werkzeug's WSGIRequestHandler, reduced)
# ----------------------------------------------------------

class RequestHandler(BaseHTTPRequestHandler):
    server_version = 'Werkzeug/2.2.2'
    sys_version = 'Python/' + platform.python_version()
    protocol_version = 'HTTP/1.1'
    expose_socket = True
    environ = None

    def setup(self):
        super().setup()
        threading.current_thread().name = 'odoo.service.http.request.%s' % threading.get_ident()

    def address_string(self):
        if self.environ:
            return self.environ.get('REMOTE_ADDR')
        return self.client_address[0] if self.client_address else '<local>'

    def log_request(self, code='-', size='-'):
        try:
            msg = f"{self.command} {self.path} {self.request_version}"
        except AttributeError:
            msg = self.requestline
        self._log('info', '"%s" %s %s', msg, str(code), size)

    def log_error(self, format, *args):
        self._log('error', format, *args)

    def log_message(self, format, *args):
        self._log('info', format, *args)

    def _log(self, level, message, *args):
        getattr(_werkzeug, level)('%s - - [%s] %s' % (self.address_string(), self.log_date_time_string(), message % args))

    def log_date_time_string(self):
        now = time.time()
        year, month, day, hh, mm, ss, x, y, z = time.localtime(now)
        return "%02d/%3s/%04d %02d:%02d:%02d" % (day, self.monthname[month], year, hh, mm, ss)

    def _make_environ(self):
        path, _, query = self.path.partition('?')
        if '://' in path:
            path = '/' + path.split('://', 1)[1].partition('/')[2]
        server_addr = self.connection.getsockname()
        environ = {
            'REQUEST_METHOD': self.command,
            'PATH_INFO': unquote(path),
            'QUERY_STRING': query,
            'REMOTE_ADDR': self.client_address[0],
            'REMOTE_PORT': str(self.client_address[1]),
            'SERVER_NAME': server_addr[0],
            'SERVER_PORT': str(server_addr[1]),
            'SERVER_PROTOCOL': self.request_version,
            'wsgi.url_scheme': 'http',
            'CONTENT_TYPE': self.headers.get('Content-Type', ''),
            'CONTENT_LENGTH': self.headers.get('Content-Length', ''),
        }
        for key, value in self.headers.items():
            key = 'HTTP_' + key.upper().replace('-', '_')
            if key in ('HTTP_CONTENT_TYPE', 'HTTP_CONTENT_LENGTH'):
                continue
            if key in environ:
                environ[key] = environ[key] + ',' + value
            else:
                environ[key] = value
        if self.expose_socket:
            environ['socket'] = self.connection
        return environ

    def _run(self):
        self.environ = self._make_environ()
        try:
            length = int(self.headers.get('Content-Length') or 0)
        except ValueError:
            length = 0
        body = self.rfile.read(length) if length > 0 else b''
        _req, response = http.root(self.environ, body)
        self.send_response(response.status)
        has_length = False
        for key, value in response.headers:
            if key.lower() == 'content-length':
                has_length = True
            self.send_header(key, value)
        if response.status != 101 and not has_length:
            self.send_header('Content-Length', str(len(response.body)))
        if response.status == 101:
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            response.on_close(self.connection)
            return
        if self.request_version == 'HTTP/1.0' or self.protocol_version == 'HTTP/1.0':
            self.send_header('Connection', 'close')
            self.close_connection = True
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(response.body)
        self.environ = None

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_OPTIONS = do_PATCH = _run


class ThreadedWSGIServer(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        t, e, _ = sys.exc_info()
        if t in (BrokenPipeError, ConnectionResetError):
            return
        _logger.exception('Exception happened during processing of request from %s', client_address)


# ----------------------------------------------------------
# Cron (ir.cron._process_jobs, reduced to what the lab seeds)
# ----------------------------------------------------------

def cron_database_list():
    return config['db_name'] or http.list_dbs(True)


def _next_call(nextcall, number, kind, now):
    deltas = {'minutes': timedelta(minutes=number), 'hours': timedelta(hours=number),
              'days': timedelta(days=number), 'weeks': timedelta(weeks=number),
              'months': timedelta(days=30 * number)}
    delta = deltas.get(kind, timedelta(days=number))
    if delta.total_seconds() <= 0:
        delta = timedelta(days=1)
    while nextcall <= now:
        nextcall += delta
    return nextcall


def process_jobs(db_name):
    thread = threading.current_thread()
    thread.dbname = db_name
    try:
        with http.Cursor(db_name) as cr:
            http.params.check_signaling(cr)
            cr.execute("""SELECT id, cron_name, interval_number, interval_type, nextcall
                          FROM ir_cron
                          WHERE active AND nextcall <= (now() at time zone 'UTC')
                          ORDER BY priority, id
                          FOR NO KEY UPDATE SKIP LOCKED""")
            jobs = cr.fetchall()
            for job_id, cron_name, number, kind, nextcall in jobs:
                _cron_logger.info('Starting job `%s`.', cron_name)
                start_time = time.time()
                try:
                    if cron_name == AUTOVACUUM_CRON:
                        http.gc_sessions()
                except Exception:
                    _cron_logger.exception("Call from cron %s for server action #%s failed in Job #%s",
                                           cron_name, job_id, job_id)
                end_time = time.time()
                _cron_logger.info('Job done: `%s` (%.3fs).', cron_name, end_time - start_time)
                cr.execute("SELECT now() at time zone 'UTC'")
                now = cr.fetchone()[0]
                cr.execute("UPDATE ir_cron SET nextcall=%s, lastcall=%s WHERE id=%s",
                           (_next_call(nextcall, number or 1, kind, now), now, job_id))
    except psycopg2.Error:
        _cron_logger.warning('Exception in cron:', exc_info=True)
    finally:
        with contextlib.suppress(AttributeError):
            del thread.dbname


def cron_listen_connection():
    conn = psycopg2.connect(**http.connection_info('postgres'))
    conn.autocommit = True
    with conn.cursor() as cr:
        cr.execute("LISTEN cron_trigger")
    return conn


def cron_loop(number, alive=lambda: True):
    """Wait for NOTIFY cron_trigger (or SLEEP_INTERVAL), then run the due jobs."""
    conn = None
    while alive():
        try:
            if conn is None or conn.closed:
                conn = cron_listen_connection()
            select.select([conn], [], [], SLEEP_INTERVAL + number)
            conn.poll()
            conn.notifies.clear()
            if not alive():
                break
            for db_name in cron_database_list():
                process_jobs(db_name)
        except psycopg2.Error:
            with contextlib.suppress(Exception):
                conn.close()
            conn = None
            time.sleep(1)


# ----------------------------------------------------------
# Servers
# ----------------------------------------------------------

class CommonServer:
    def __init__(self):
        self.interface = config['http_interface'] or '0.0.0.0'
        self.port = config['http_port']
        self.pid = os.getpid()


class ThreadedServer(CommonServer):
    def __init__(self):
        super().__init__()
        self.quit_signals_received = 0
        self.httpd = None

    def signal_handler(self, sig, frame):
        if sig in (signal.SIGINT, signal.SIGTERM):
            self.quit_signals_received += 1
            if self.quit_signals_received > 1:
                sys.stderr.write("Forced shutdown.\n")
                os._exit(0)
            raise KeyboardInterrupt()

    def run(self):
        signal.signal(signal.SIGINT, self.signal_handler)
        signal.signal(signal.SIGTERM, self.signal_handler)
        signal.signal(signal.SIGHUP, self.signal_handler)
        RequestHandler.protocol_version = 'HTTP/1.1'
        RequestHandler.expose_socket = True
        self.httpd = ThreadedWSGIServer((self.interface, self.port), RequestHandler)
        _logger.info('HTTP service (werkzeug) running on %s:%s', socket.getfqdn(self.interface), self.port)
        t = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.5},
                             name='odoo.service.httpd', daemon=True)
        t.start()
        for i in range(config['max_cron_threads']):
            c = threading.Thread(target=cron_loop, args=(i,), name='odoo.service.cron.cron%d' % i, daemon=True)
            c.type = 'cron'
            c.start()
        try:
            while True:
                time.sleep(SLEEP_INTERVAL)
        except KeyboardInterrupt:
            pass
        _logger.info("Initiating shutdown")
        _logger.info("Hit CTRL-C again or send a second signal to force the shutdown.")
        self.httpd.server_close()
        logging.shutdown()
        return 0


class GeventServer(CommonServer):
    """The `odoo-bin gevent` process: serves the whole application (websocket included)."""

    def __init__(self):
        super().__init__()
        self.port = config['gevent_port']
        self.ppid = os.getppid()

    def watchdog(self):
        while True:
            if self.ppid != os.getppid():
                _logger.warning("LongPolling (%s) Parent changed", os.getpid())
                logging.shutdown()
                os._exit(0)
            time.sleep(1)

    def run(self):
        signal.signal(signal.SIGTERM, lambda *a: os._exit(0))
        signal.signal(signal.SIGINT, lambda *a: os._exit(0))
        RequestHandler.protocol_version = 'HTTP/1.1'
        RequestHandler.expose_socket = True
        threading.Thread(target=self.watchdog, daemon=True).start()
        httpd = ThreadedWSGIServer((self.interface, self.port), RequestHandler)
        _logger.info('Evented Service (longpolling) running on %s:%s', self.interface, self.port)
        httpd.serve_forever(poll_interval=0.5)
        return 0


class PreforkServer(CommonServer):
    def __init__(self):
        super().__init__()
        self.population = config['workers']
        self.beat = 4
        self.socket = None
        self.workers_http = {}
        self.workers_cron = {}
        self.workers = {}
        self.generation = 0
        self.queue = []
        self.long_polling_pid = None
        self.long_polling_proc = None
        self.last_spawn = {}
        self.pipe = None

    def pipe_new(self):
        r, w = os.pipe()
        for fd in (r, w):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
            fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.fcntl(fd, fcntl.F_GETFD) | fcntl.FD_CLOEXEC)
        return r, w

    def signal_handler(self, sig, frame):
        if len(self.queue) < 5 or sig == signal.SIGCHLD:
            self.queue.append(sig)
            with contextlib.suppress(OSError):
                os.write(self.pipe[1], b'.')
        else:
            _logger.warning("Dropping signal: %s", sig)

    def worker_spawn(self, klass, registry):
        self.generation += 1
        worker = klass(self)
        pid = os.fork()
        if pid != 0:
            worker.pid = pid
            self.workers[pid] = worker
            registry[pid] = worker
            return worker
        # child
        try:
            worker.run()
        finally:
            os._exit(0)

    def long_polling_spawn(self):
        cmd = [sys.executable, sys.argv[0], 'gevent'] + sys.argv[1:]
        self.long_polling_proc = subprocess.Popen(cmd)
        self.long_polling_pid = self.long_polling_proc.pid

    def worker_pop(self, pid):
        if pid == self.long_polling_pid:
            self.long_polling_pid = None
            self.long_polling_proc = None
        if pid in self.workers:
            self.workers_http.pop(pid, None)
            self.workers_cron.pop(pid, None)
            self.workers.pop(pid)

    def worker_kill(self, pid, sig):
        try:
            os.kill(pid, sig)
        except OSError as e:
            if e.errno == errno.ESRCH:
                self.worker_pop(pid)

    def process_signals(self):
        while self.queue:
            sig = self.queue.pop(0)
            if sig in (signal.SIGINT, signal.SIGTERM):
                raise KeyboardInterrupt
            if sig == signal.SIGHUP:
                self.phoenix = True
                raise KeyboardInterrupt

    def process_zombie(self):
        while True:
            try:
                wpid, status = os.waitpid(-1, os.WNOHANG)
                if not wpid:
                    break
                if (status >> 8) == 3:
                    msg = "Critial worker error (%s)"
                    _logger.critical(msg, wpid)
                    raise Exception(msg % wpid)
                self.worker_pop(wpid)
            except ChildProcessError:
                break

    def _may_spawn(self, slot):
        # Lab safety valve (not in Odoo): a slot whose last worker was spawned less than a second
        # ago waits, so a limit below the simulated base memory cannot turn into a fork storm.
        return time.time() - self.last_spawn.get(slot, 0) >= 1.0

    def process_spawn(self):
        if config['http_enable']:
            while len(self.workers_http) < self.population:
                slot = ('http', len(self.workers_http))
                if not self._may_spawn(slot):
                    break
                self.last_spawn[slot] = time.time()
                self.worker_spawn(WorkerHTTP, self.workers_http)
            if not self.long_polling_pid:
                self.long_polling_spawn()
        while len(self.workers_cron) < config['max_cron_threads']:
            slot = ('cron', len(self.workers_cron))
            if not self._may_spawn(slot):
                break
            self.last_spawn[slot] = time.time()
            self.worker_spawn(WorkerCron, self.workers_cron)

    def sleep(self):
        try:
            ready = select.select([self.pipe[0]], [], [], 1.0)
            if ready[0]:
                with contextlib.suppress(OSError):
                    while os.read(self.pipe[0], 1024):
                        pass
        except InterruptedError:
            pass

    def start(self):
        self.pipe = self.pipe_new()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, self.signal_handler)
        if config['http_enable']:
            _logger.info('HTTP service (werkzeug) running on %s:%s', self.interface, self.port)
            family = socket.AF_INET6 if ':' in self.interface else socket.AF_INET
            self.socket = socket.socket(family, socket.SOCK_STREAM)
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.socket.setblocking(0)
            self.socket.bind((self.interface, self.port))
            self.socket.listen(8 * self.population)

    def stop(self, graceful=True):
        if self.long_polling_pid is not None:
            self.worker_kill(self.long_polling_pid, signal.SIGKILL)
            self.long_polling_pid = None
        if self.socket:
            self.socket.close()
        if graceful:
            _logger.info("Stopping gracefully")
            limit = time.time() + 5
            for pid in list(self.workers):
                self.worker_kill(pid, signal.SIGINT)
            while self.workers and time.time() < limit:
                try:
                    self.process_signals()
                except KeyboardInterrupt:
                    _logger.info("Forced shutdown.")
                    break
                self.process_zombie()
                time.sleep(0.1)
        else:
            _logger.info("Stopping forcefully")
        for pid in list(self.workers):
            self.worker_kill(pid, signal.SIGTERM)

    def run(self):
        self.phoenix = False
        self.start()
        # Empty the cursor pool, we dont want them to be shared among forked workers.
        http.pool.close_all()
        while True:
            try:
                self.process_signals()
                self.process_zombie()
                self.process_spawn()
                self.sleep()
            except KeyboardInterrupt:
                self.stop()
                break
            except Exception as e:
                _logger.exception(e)
                self.stop(False)
                return -1
        if self.phoenix:
            logging.shutdown()
            os.execv(sys.executable, [sys.executable] + sys.argv)
        return 0


class Worker:
    def __init__(self, multi):
        self.multi = multi
        self.ppid = os.getpid()
        self.pid = None
        self.alive = True
        self.request_max = config['limit_request']
        self.request_count = 0

    def signal_handler(self, sig, frame):
        self.alive = False

    def simulated_memory(self):
        return SIM_WORKER_BASE + min(self.request_count * SIM_WORKER_STEP, SIM_WORKER_CAP)

    def check_limits(self):
        if self.ppid != os.getppid():
            _logger.info("Worker (%s) Parent changed", self.pid)
            self.alive = False
        if self.request_count >= self.request_max:
            _logger.info("Worker (%d) max request (%s) reached.", self.pid, self.request_count)
            self.alive = False
        memory = self.simulated_memory()
        if config['limit_memory_soft'] and memory > config['limit_memory_soft']:
            _logger.info('Worker (%d) virtual memory limit (%s) reached.', self.pid, memory)
            self.alive = False      # Commit suicide after the request.

    def start(self):
        self.pid = os.getpid()
        _logger.info("Worker %s (%s) alive", self.__class__.__name__, self.pid)
        # simulate interruptible sleep with select(wakeup_fd, timeout), as Odoo's workers do:
        # the master's SIGINT (graceful stop) wakes the worker at once
        self.wakeup_fd_r, self.wakeup_fd_w = os.pipe()
        for fd in (self.wakeup_fd_r, self.wakeup_fd_w):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        signal.set_wakeup_fd(self.wakeup_fd_w)
        signal.signal(signal.SIGINT, self.signal_handler)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD, signal.SIGTTIN, signal.SIGTTOU):
            signal.signal(sig, signal.SIG_DFL)

    def drain_wakeup(self, ready):
        if self.wakeup_fd_r in ready:
            with contextlib.suppress(OSError):
                while os.read(self.wakeup_fd_r, 512):
                    pass

    def process_work(self):
        pass

    def sleep(self):
        pass

    def run(self):
        try:
            self.start()
            while self.alive:
                self.check_limits()
                if not self.alive:
                    break
                self.sleep()
                if not self.alive:
                    break
                self.process_work()
            _logger.info("Worker (%s) exiting. request_count: %s, registry count: %s.",
                         self.pid, self.request_count, 1)
        except Exception:
            _logger.exception("Worker (%s) Exception occurred, exiting...", self.pid)
            logging.shutdown()
            os._exit(1)
        logging.shutdown()
        os._exit(0)


class WorkerHTTP(Worker):
    def __init__(self, multi):
        super().__init__(multi)
        self.ready = False

    def sleep(self):
        try:
            ready = select.select([self.multi.socket, self.wakeup_fd_r], [], [], 1.0)
            self.drain_wakeup(ready[0])
            self.ready = self.multi.socket in ready[0]
        except InterruptedError:
            self.ready = False

    def process_work(self):
        if not self.ready:
            return
        try:
            client, addr = self.multi.socket.accept()
        except (BlockingIOError, InterruptedError):
            return
        client.setblocking(1)
        client.settimeout(2)
        fcntl.fcntl(client, fcntl.F_SETFD, fcntl.fcntl(client, fcntl.F_GETFD) | fcntl.FD_CLOEXEC)
        try:
            RequestHandler(client, addr, self)
        except (OSError, socket.timeout):
            pass
        except Exception:
            _logger.exception('Exception happened during processing of request from %s', addr)
        finally:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_WR)
            client.close()
        self.request_count += 1

    def start(self):
        RequestHandler.protocol_version = 'HTTP/1.0'
        RequestHandler.expose_socket = False
        super().start()
        self.multi.socket.setblocking(0)


class WorkerCron(Worker):
    def __init__(self, multi):
        super().__init__(multi)
        self.conn = None

    def sleep(self):
        try:
            if self.conn is None or self.conn.closed:
                self.conn = cron_listen_connection()
            ready = select.select([self.conn, self.wakeup_fd_r], [], [], SLEEP_INTERVAL)
            self.drain_wakeup(ready[0])
            if not self.alive:
                return
            self.conn.poll()
            self.conn.notifies.clear()
        except InterruptedError:
            pass
        except psycopg2.Error:
            self.conn = None
            time.sleep(1)

    def process_work(self):
        for db_name in cron_database_list():
            process_jobs(db_name)
        self.request_count += 1

    def check_limits(self):
        if self.ppid != os.getppid():
            _logger.info("Worker (%s) Parent changed", self.pid)
            self.alive = False


def start(preload=None, stop=False):
    if odoo.evented:
        server = GeventServer()
    elif config['workers']:
        server = PreforkServer()
    else:
        server = ThreadedServer()
    return server.run()
