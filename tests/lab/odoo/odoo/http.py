# Odoo Session Doctor test lab: the HTTP layer of the Odoo stand-in (17, 18 or 19: release.py).
#
# Reproduces odoo/http.py (17.0 recent build, 18.0, 19.0) for what touches sessions, and nothing
# cleverer:
# - filesystem session store: <data_dir>/sessions/<sid[0:2]>/<sid>; sessions/ created 0700,
#   sub-directories 0755, files 0644, written through a temp file + rename;
#   17: sid = 40 hex chars, pickled dict {context, db, debug, login, uid, session_token};
#   18/19: sid = 84 chars of url-safe base64 (sha512 of time + 64 random bytes, last byte
#   dropped), JSON {context, db, debug, login, uid, session_token, _trace}; 19 adds create_time;
# - 18/19 Session.update_trace: an authenticated request whose (platform, browser, ip) is new,
#   or was last seen an hour ago or more, marks the session dirty (file rewritten, cookie re-sent)
#   and inserts a res_device_log row (first 42 chars of the sid);
# - 19: an authenticated session older than 3 hours is soft-rotated (first 42 chars kept, the
#   old file keeps next_sid + deletion_time for 120 s);
# - Request._save_session: the file is written only when the session is dirty (login, logout,
#   get_session_info, /web, websocket); the cookie is (re)sent when the session is dirty or the
#   request's cookie differs from the sid:
#       session_id=<sid>; Expires=<now + 1 year>; Max-Age=<sessions.max_inactivity_seconds>; HttpOnly; Path=/
# - ProxyFix(x_for=1, x_proto=1, x_host=1) only when proxy_mode AND X-Forwarded-Host;
# - dbfilter with %h/%d, "Logged into database %r, but dbfilter rejects it; logging session out.";
# - system parameters are cached per process: read at start, re-read only when the cache
#   signaling sequence moves (set_param through Odoo does that, a SQL UPDATE does not);
# - JSON-RPC error shapes: code 100 "Odoo Session Expired", code 200 "Odoo Server Error".
import base64
import binascii
import contextlib
import datetime
import email.utils
import glob
import hashlib
import hmac
import json
import logging
import os
import pickle
import re
import tempfile
import threading
import time
import traceback
from html import escape
from urllib.parse import parse_qsl, urlsplit, urlencode

import psycopg2

from . import release
from .tools.config import config

_logger = logging.getLogger('odoo.http')
_users_logger = logging.getLogger('odoo.addons.base.models.res_users')
_icp_logger = logging.getLogger('odoo.addons.base.models.ir_config_parameter')

MAJOR = release.version_info[0]
SESSION_LIFETIME = 60 * 60 * 24 * 7
SESSION_ROTATION_INTERVAL = 60 * 60 * 3   # 19
SESSION_DELETION_TIMER = 120             # 19
STORED_SESSION_BYTES = 42                # 18+: res_device_log.session_identifier
CSRF_TOKEN_SALT = 60 * 60 * 24 * 365
DEFAULT_LANG = 'en_US'
SUPERUSER_ID = 1


def get_default_session():
    session = {
        'context': {},
        'db': None,
        'debug': '',
        'login': None,
        'uid': None,
        'session_token': None,
    }
    if MAJOR >= 18:
        session['_trace'] = []
    if MAJOR >= 19:
        session = {'create_time': time.time(), **session}
    return session


# =========================================================
# Exceptions (names as in odoo.exceptions / odoo.http)
# =========================================================

class UserError(Exception):
    pass


class AccessDenied(UserError):
    def __init__(self, message="Access Denied"):
        super().__init__(message)


class AccessError(UserError):
    pass


class SessionExpiredException(Exception):
    pass


class RegistryError(RuntimeError):
    pass


class HTTPException(Exception):
    code = 500
    name = 'Internal Server Error'
    description = ('The server encountered an internal error and was unable to complete your '
                   'request. Either the server is overloaded or there is an error in the application.')

    def __init__(self, description=None):
        super().__init__(description or self.description)
        if description:
            self.description = description


class BadRequest(HTTPException):
    code = 400
    name = 'Bad Request'
    description = 'The browser (or proxy) sent a request that this server could not understand.'


class NotFound(HTTPException):
    code = 404
    name = 'Not Found'
    description = ('The requested URL was not found on the server. If you entered the URL manually '
                   'please check your spelling and try again.')


class Forbidden(HTTPException):
    code = 403
    name = 'Forbidden'
    description = ("You don't have the permission to access the requested resource. It is either "
                   "read-protected or not readable by the server.")


class UpgradeRequired(HTTPException):
    code = 426
    name = 'Upgrade Required'
    description = 'The server requests an upgrade to a newer protocol.'


class InternalServerError(HTTPException):
    pass


# module aliases used in serialized exception names
for _cls in (UserError, AccessDenied, AccessError):
    _cls.__module__ = 'odoo.exceptions'
for _cls in (SessionExpiredException, RegistryError):
    _cls.__module__ = 'odoo.http'


def serialize_exception(exception):
    name = type(exception).__name__
    module = type(exception).__module__
    return {
        'name': f'{module}.{name}' if module else name,
        'debug': traceback.format_exc(),
        'message': str(exception.args[0]) if exception.args else str(exception),
        'arguments': list(exception.args),
        'context': getattr(exception, 'context', {}),
    }


# =========================================================
# Database access (a tiny stand-in for odoo.sql_db)
# =========================================================

class _Pool:
    def __init__(self):
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.free = {}

    def _check_pid(self):
        if self.pid != os.getpid():
            # inherited through fork: never close the parent's sockets, just forget them
            self.free = {}
            self.pid = os.getpid()

    def borrow(self, dbname):
        with self.lock:
            self._check_pid()
            conns = self.free.get(dbname) or []
            while conns:
                conn = conns.pop()
                if not conn.closed:
                    return conn
        return psycopg2.connect(**connection_info(dbname))

    def give_back(self, dbname, conn):
        with self.lock:
            self._check_pid()
            if conn.closed:
                return
            try:
                conn.rollback()
            except psycopg2.Error:
                return
            self.free.setdefault(dbname, []).append(conn)

    def close_all(self):
        with self.lock:
            for conns in self.free.values():
                for conn in conns:
                    with contextlib.suppress(Exception):
                        conn.close()
            self.free = {}


pool = _Pool()


def connection_info(dbname):
    info = {'dbname': dbname, 'application_name': 'odoo-%d' % os.getpid()}
    for key in ('host', 'port', 'user', 'password'):
        value = config['db_' + key]
        if value:
            info[key] = value
    return info


class Cursor:
    """Counts queries like Odoo's cursor does (for the werkzeug log line's perf info)."""

    def __init__(self, dbname):
        self.dbname = dbname
        self._cnx = pool.borrow(dbname)
        self._obj = self._cnx.cursor()

    def execute(self, query, params=None):
        t0 = time.time()
        try:
            return self._obj.execute(query, params)
        finally:
            current = threading.current_thread()
            if hasattr(current, 'query_count'):
                current.query_count += 1
                current.query_time += time.time() - t0

    def fetchone(self):
        return self._obj.fetchone()

    def fetchall(self):
        return self._obj.fetchall()

    @property
    def rowcount(self):
        return self._obj.rowcount

    def commit(self):
        self._cnx.commit()

    def rollback(self):
        self._cnx.rollback()

    def close(self):
        with contextlib.suppress(Exception):
            self._obj.close()
        pool.give_back(self.dbname, self._cnx)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.commit()
        else:
            with contextlib.suppress(Exception):
                self.rollback()
        self.close()


def list_dbs(force=False):
    if not config['dbfilter'] and config['db_name']:
        return sorted(config['db_name'])
    try:
        with Cursor('postgres') as cr:
            cr.execute("select datname from pg_database where datdba=(select usesysid from pg_user where usename=current_user) "
                       "and not datistemplate and datallowconn and datname not in %s order by datname",
                       (('postgres', 'template0'),))
            return [name for (name,) in cr.fetchall()]
    except psycopg2.Error:
        _logger.exception('Listing databases failed:')
        return []


def db_filter(dbs, host):
    if config['dbfilter']:
        host = (host or '').partition(':')[0]
        if host.startswith('www.'):
            host = host[4:]
        domain = host.partition('.')[0]
        dbfilter_re = re.compile(config["dbfilter"].replace("%h", re.escape(host)).replace("%d", re.escape(domain)))
        return [db for db in dbs if dbfilter_re.match(db)]
    if config['db_name']:
        return sorted(set(config['db_name']).intersection(dbs))
    return list(dbs)


def db_list(host):
    return db_filter(list_dbs(True), host)


# =========================================================
# System parameters, cached per process (ir.config_parameter + ormcache)
# =========================================================

class ParamCache:
    def __init__(self):
        self.lock = threading.Lock()
        self.values = {}
        self.signaling = None
        self.loaded = False

    def load(self, dbname):
        with Cursor(dbname) as cr:
            cr.execute("SELECT key, value FROM ir_config_parameter")
            values = dict(cr.fetchall())
            signaling = None
            try:
                cr.execute("SELECT last_value FROM base_cache_signaling")
                signaling = cr.fetchone()[0]
            except psycopg2.Error:
                cr.rollback()
        with self.lock:
            self.values = values
            self.signaling = signaling
            self.loaded = True

    def check_signaling(self, cr):
        """Registry.check_signaling: reload when another process invalidated the caches."""
        try:
            cr.execute("SELECT last_value FROM base_cache_signaling")
            value = cr.fetchone()[0]
        except psycopg2.Error:
            cr.rollback()
            return
        if self.loaded and value != self.signaling:
            cr.execute("SELECT key, value FROM ir_config_parameter")
            values = dict(cr.fetchall())
            with self.lock:
                self.values = values
                self.signaling = value

    def get_param(self, key, default=False):
        with self.lock:
            return self.values.get(key, default)

    def set_param(self, cr, key, value, uid):
        """ir.config_parameter.set_param: write the row and invalidate every process's cache."""
        old = self.get_param(key)
        if value is not False and value is not None:
            value = str(value)
            cr.execute("SELECT id FROM ir_config_parameter WHERE key=%s", (key,))
            if cr.fetchone():
                if old != value:
                    cr.execute("UPDATE ir_config_parameter SET value=%s, write_uid=%s, write_date=(now() at time zone 'UTC') WHERE key=%s",
                               (value, uid, key))
            else:
                cr.execute("INSERT INTO ir_config_parameter (key, value, create_uid, create_date, write_uid, write_date) "
                           "VALUES (%s, %s, %s, now() at time zone 'UTC', %s, now() at time zone 'UTC')", (key, value, uid, uid))
        else:
            cr.execute("DELETE FROM ir_config_parameter WHERE key=%s", (key,))
        if old != value:
            try:
                cr.execute("SELECT nextval('base_cache_signaling')")
                signaling = cr.fetchone()[0]
            except psycopg2.Error:
                signaling = self.signaling
            with self.lock:
                if value is False or value is None:
                    self.values.pop(key, None)
                else:
                    self.values[key] = value
                self.signaling = signaling
        return old


params = ParamCache()


def get_session_max_inactivity(env=None):
    try:
        return int(params.get_param('sessions.max_inactivity_seconds', SESSION_LIFETIME))
    except (ValueError, TypeError):
        _logger.warning("Invalid value for 'sessions.max_inactivity_seconds', using default value.")
        return SESSION_LIFETIME


# =========================================================
# Users (res.users)
# =========================================================

def _ab64_decode(data):
    data = data.replace('.', '+')
    return base64.b64decode(data + '=' * (-len(data) % 4))


def check_password(stored, password):
    """passlib pbkdf2_sha512 ("$pbkdf2-sha512$rounds$salt$checksum") or plain text."""
    if not stored:
        return False
    if stored.startswith('$pbkdf2-sha512$'):
        try:
            _, _, rounds, salt, checksum = stored.split('$')
            digest = hashlib.pbkdf2_hmac('sha512', password.encode(), _ab64_decode(salt), int(rounds))
            return hmac.compare_digest(digest, _ab64_decode(checksum))
        except (ValueError, binascii.Error):
            return False
    return hmac.compare_digest(stored.encode(), password.encode())


def compute_session_token(cr, sid, uid):
    """res.users._compute_session_token: hmac(sid) keyed on the user's fields and database.secret."""
    session_fields = ', '.join(sorted(['id', 'login', 'password', 'active']))
    cr.execute("""SELECT %s, (SELECT value FROM ir_config_parameter WHERE key='database.secret')
                  FROM res_users WHERE id=%%s""" % session_fields, (uid,))
    if cr.rowcount != 1:
        return False
    data_fields = cr.fetchone()
    key = ('%s' % (data_fields,)).encode('utf-8')
    return hmac.new(key, sid.encode('utf-8'), hashlib.sha256).hexdigest()


def check_session(cr, session):
    expected = compute_session_token(cr, session.sid, session.uid)
    return bool(expected and session.session_token and hmac.compare_digest(expected, session.session_token))


def user_is_system(cr, uid):
    cr.execute("""SELECT 1 FROM res_groups_users_rel r
                  JOIN ir_model_data d ON d.model='res.groups' AND d.res_id=r.gid
                  WHERE r.uid=%s AND d.module='base' AND d.name='group_system'""", (uid,))
    return cr.fetchone() is not None


_device_log_table = {}


def insert_device_log(cr, session, trace):
    """res.device.log._update_device (18+): one row per new or hourly-refreshed trace."""
    if cr.dbname not in _device_log_table:
        cr.execute("SELECT to_regclass('res_device_log') IS NOT NULL")
        _device_log_table[cr.dbname] = cr.fetchone()[0]
    if not _device_log_table[cr.dbname]:
        return
    ua = trace['browser'] or ''
    cr.execute("""INSERT INTO res_device_log (session_identifier, platform, browser, ip_address, device_type,
                                               user_id, first_activity, last_activity, revoked)
                  VALUES (%s, %s, %s, %s, %s, %s, to_timestamp(%s) at time zone 'UTC',
                          to_timestamp(%s) at time zone 'UTC', false)""",
               (session.sid[:STORED_SESSION_BYTES], trace['platform'], trace['browser'], trace['ip_address'],
                'mobile' if trace['platform'] in ('android', 'iphone', 'ipad') else 'computer',
                session.uid, trace['first_activity'], trace['last_activity']))


# werkzeug's user agent parser (vendored by Odoo 18/19 for Session.update_trace)
_UA_PLATFORMS = [(re.compile(p, re.I), name) for p, name in (
    (' cros ', 'chromeos'), ('iphone|ios', 'iphone'), ('ipad', 'ipad'), (r'darwin\b|mac\b|os\s*x', 'macos'),
    ('win', 'windows'), (r'android', 'android'), ('netbsd', 'netbsd'), ('openbsd', 'openbsd'),
    ('freebsd', 'freebsd'), ('dragonfly', 'dragonflybsd'), ('(sun|i86)os', 'solaris'),
    (r'x11\b|lin(\b|ux)?', 'linux'), (r'nintendo\s+wii', 'wii'), ('irix', 'irix'), ('hp-?ux', 'hpux'),
    ('aix', 'aix'), ('sco|unix_sv', 'sco'), ('bsd', 'bsd'), ('amiga', 'amiga'),
    ('blackberry|playbook', 'blackberry'), ('symbian', 'symbian'))]
_UA_BROWSERS = [(re.compile(r'(?:%s)[/\sa-z(]*(\d+[.\da-z]+)?' % p, re.I), name) for p, name in (
    ('googlebot', 'google'), ('msnbot', 'msn'), ('yahoo', 'yahoo'), ('ask jeeves', 'ask'),
    (r'aol|america\s+online\s+browser', 'aol'), (r'opera|opr', 'opera'), ('edge|edg', 'edge'),
    ('chrome|crios', 'chrome'), ('seamonkey', 'seamonkey'), ('firefox|firebird|phoenix|iceweasel', 'firefox'),
    ('galeon', 'galeon'), ('safari|version', 'safari'), ('webkit', 'webkit'), ('camino', 'camino'),
    ('konqueror', 'konqueror'), ('k-meleon', 'kmeleon'), ('netscape', 'netscape'),
    (r'msie|microsoft\s+internet\s+explorer|trident/.+? rv:', 'msie'), ('lynx', 'lynx'), ('links', 'links'),
    ('Baiduspider', 'baidu'), ('bingbot', 'bing'), ('mozilla', 'mozilla'))]


def parse_user_agent(user_agent):
    platform = next((name for rx, name in _UA_PLATFORMS if rx.search(user_agent)), None)
    last_paren = 0
    if (not re.search(r'trident/.+? rv:', user_agent, re.I) and ')' in user_agent and user_agent[-1] != ')'):
        last_paren = user_agent.rindex(')')
    browser = next((name for rx, name in _UA_BROWSERS if rx.search(user_agent[last_paren:])), None)
    return platform, browser


def user_context(uid):
    return {'lang': DEFAULT_LANG, 'tz': 'Europe/Brussels', 'uid': uid}


# =========================================================
# Session store (werkzeug FilesystemSessionStore as vendored by Odoo 17)
# =========================================================

_sha1_re = re.compile(r'^[a-f0-9]{40}$')
_base64_urlsafe_re = re.compile(r'^[A-Za-z0-9_-]{84}$')
_fs_transaction_suffix = '.__wz_sess'


class Session(dict):
    def __init__(self, data, sid, new=False):
        super().__init__(data)
        self.sid = sid
        self.is_new = new
        self.is_dirty = False
        self.should_rotate = False
        self.can_save = True
        self.is_explicit = False

    def __setitem__(self, key, value):
        if key not in self or self[key] != value:
            self.is_dirty = True
        super().__setitem__(key, value)

    def __delitem__(self, key):
        super().__delitem__(key)
        self.is_dirty = True

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def update(self, *args, **kwargs):
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def pop(self, key, *default):
        self.is_dirty = True
        return super().pop(key, *default)

    def clear(self):
        super().clear()
        self.is_dirty = True

    uid = property(lambda self: self.get('uid'), lambda self, v: self.__setitem__('uid', v))
    db = property(lambda self: self.get('db'), lambda self, v: self.__setitem__('db', v))
    login = property(lambda self: self.get('login'), lambda self, v: self.__setitem__('login', v))
    context = property(lambda self: self.get('context'), lambda self, v: self.__setitem__('context', v))
    debug = property(lambda self: self.get('debug'), lambda self, v: self.__setitem__('debug', v))
    session_token = property(lambda self: self.get('session_token'), lambda self, v: self.__setitem__('session_token', v))

    def touch(self):
        self.is_dirty = True

    def update_trace(self, environ):
        """18+: remember (platform, browser, ip) with its last activity; dirty at most once an hour."""
        if self.get('_trace_disable'):
            return None
        platform, browser = parse_user_agent(environ.get('HTTP_USER_AGENT') or '')
        ip_address = environ.get('REMOTE_ADDR')
        now = int(time.time())
        traces = self.setdefault('_trace', [])
        for trace in traces:
            if trace['platform'] == platform and trace['browser'] == browser and trace['ip_address'] == ip_address:
                if now - trace['last_activity'] >= 3600:
                    trace['last_activity'] = now
                    self.is_dirty = True
                    return trace
                return None
        new_trace = {'platform': platform, 'browser': browser, 'ip_address': ip_address,
                     'first_activity': now, 'last_activity': now}
        traces.append(new_trace)
        self.is_dirty = True
        return new_trace

    def logout(self, keep_db=False):
        db = self.db if keep_db else get_default_session()['db']
        debug = self.debug
        self.clear()
        self.update(get_default_session(), db=db, debug=debug)
        self.context['lang'] = DEFAULT_LANG
        self.should_rotate = True


class FilesystemSessionStore:
    def __init__(self, path):
        self.path = path
        self.mode = 0o644

    def is_valid_key(self, key):
        if MAJOR >= 18:
            return bool(key) and _base64_urlsafe_re.match(key) is not None
        return bool(key) and _sha1_re.match(key) is not None

    def generate_key(self):
        if MAJOR >= 18:
            # 84 chars: 63 bytes of sha512 (the last byte is dropped to avoid base64 padding)
            key = str(time.time()).encode() + os.urandom(64)
            return base64.urlsafe_b64encode(hashlib.sha512(key).digest()[:-1]).decode('utf-8')
        return hashlib.sha1(b'%s%s%s' % (os.urandom(32), str(time.time()).encode(), str(os.getpid()).encode())).hexdigest()

    def get_session_filename(self, sid):
        return os.path.join(self.path, sid[:2], sid)

    def _old_session_filename(self, sid):
        return os.path.join(self.path, 'werkzeug_%s.sess' % sid)

    def new(self):
        return Session({}, self.generate_key(), True)

    def save(self, session):
        fn = self.get_session_filename(session.sid)
        dirname = os.path.dirname(fn)
        if not os.path.isdir(dirname):
            with contextlib.suppress(OSError):
                os.mkdir(dirname, 0o755)
        fd, tmp = tempfile.mkstemp(suffix=_fs_transaction_suffix, dir=self.path)
        if MAJOR >= 18:
            with os.fdopen(fd, 'w', encoding='utf-8') as f:
                json.dump(dict(session), f)
        else:
            with os.fdopen(fd, 'wb') as f:
                pickle.dump(dict(session), f, pickle.HIGHEST_PROTOCOL)
        try:
            os.rename(tmp, fn)
            os.chmod(fn, self.mode)
        except OSError:
            pass

    def get(self, sid):
        if not self.is_valid_key(sid):
            return self.new()
        old_path = self._old_session_filename(sid)
        session_path = self.get_session_filename(sid)
        if os.path.isfile(old_path) and not os.path.isfile(session_path):
            dirname = os.path.dirname(session_path)
            if not os.path.isdir(dirname):
                with contextlib.suppress(OSError):
                    os.mkdir(dirname, 0o755)
            with contextlib.suppress(OSError):
                os.rename(old_path, session_path)
        try:
            f = open(session_path, 'rb')
        except OSError:
            return self.new()  # renew_missing=True
        with f:
            try:
                data = json.loads(f.read().decode('utf-8')) if MAJOR >= 18 else pickle.load(f)
            except Exception:
                data = {}
        if MAJOR >= 19 and data.get('deletion_time') and data['deletion_time'] < time.time():
            # a soft-rotated session past its grace period is gone
            with contextlib.suppress(OSError):
                os.unlink(session_path)
            return self.new()
        return Session(data, sid, False)

    def delete(self, session):
        with contextlib.suppress(OSError):
            os.unlink(self.get_session_filename(session.sid))

    def rotate(self, session, cr, soft=False):
        if not soft:
            self.delete(session)
            session.sid = self.generate_key()
        else:
            # 19: keep the first 42 chars (the identifier in res_device_log), renew the rest; the
            # old file points at the new one for SESSION_DELETION_TIMER seconds
            old = self.get(session.sid)
            next_sid = old.get('next_sid') if old.get('deletion_time', 0) > time.time() else None
            if next_sid:
                session.sid = next_sid
                return
            next_sid = session.sid[:STORED_SESSION_BYTES] + self.generate_key()[STORED_SESSION_BYTES:]
            session['next_sid'] = next_sid
            session['deletion_time'] = time.time() + SESSION_DELETION_TIMER
            self.save(session)
            session.sid = next_sid
            del session['next_sid']
            del session['deletion_time']
        if session.uid and cr is not None:
            session.session_token = compute_session_token(cr, session.sid, session.uid)
        session.should_rotate = False
        if MAJOR >= 19:
            session['create_time'] = time.time()
        self.save(session)

    def vacuum(self, max_lifetime=SESSION_LIFETIME):
        threshold = time.time() - max_lifetime
        for fname in glob.iglob(os.path.join(self.path, '*', '*')):
            path = os.path.join(self.path, fname)
            with contextlib.suppress(OSError):
                if os.path.getmtime(path) < threshold:
                    os.unlink(path)


_session_store = None
_session_store_lock = threading.Lock()


def session_store():
    global _session_store
    with _session_store_lock:
        if _session_store is None:
            _session_store = FilesystemSessionStore(config.session_dir)
        return _session_store


# =========================================================
# Responses
# =========================================================

def http_date(ts):
    return email.utils.formatdate(ts, usegmt=True)


def dump_cookie(key, value, max_age=None, expires=None, path='/', httponly=False):
    parts = ['%s=%s' % (key, value)]
    if expires is not None:
        parts.append('Expires=%s' % http_date(expires))
    if max_age is not None:
        parts.append('Max-Age=%d' % int(max_age))
    if httponly:
        parts.append('HttpOnly')
    if path is not None:
        parts.append('Path=%s' % path)
    return '; '.join(parts)


class Response:
    def __init__(self, body=b'', status=200, headers=None, content_type='text/html; charset=utf-8'):
        if isinstance(body, str):
            body = body.encode('utf-8')
        self.body = body
        self.status = status
        self.headers = list(headers or [])
        if content_type and not any(k.lower() == 'content-type' for k, _ in self.headers):
            self.headers.insert(0, ('Content-Type', content_type))
        self.on_close = None

    def set_cookie(self, key, value, max_age=None, httponly=False):
        # odoo.http.Response.set_cookie: expires defaults to now + 1 year
        expires = time.time() + 365 * 24 * 3600
        self.headers.append(('Set-Cookie', dump_cookie(key, value, max_age=max_age, expires=expires, httponly=httponly)))


def html_error(exc):
    body = ('<!doctype html>\n<html lang=en>\n<title>%d %s</title>\n<h1>%s</h1>\n<p>%s</p>\n'
            % (exc.code, exc.name, exc.name, escape(exc.description)))
    return Response(body, status=exc.code)


def redirect(location, code=303):
    body = ('<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n'
            '<p>You should be redirected automatically to the target URL: <a href="%s">%s</a>. If not, click the link.\n'
            % (escape(location), escape(location)))
    return Response(body, status=code, headers=[('Location', location)])


def json_response(data, status=200):
    body = json.dumps(data, ensure_ascii=False, default=str)
    return Response(body, status=status, content_type='application/json; charset=utf-8')


# =========================================================
# Request
# =========================================================

def proxy_fix(environ):
    """werkzeug ProxyFix(x_for=1, x_proto=1, x_host=1), applied in place on environ."""
    def real_value(value):
        if not value:
            return None
        values = [v.strip() for v in value.split(',')]
        return values[-1] if values and values[-1] else None

    environ['werkzeug.proxy_fix.orig'] = {
        'REMOTE_ADDR': environ.get('REMOTE_ADDR'),
        'wsgi.url_scheme': environ.get('wsgi.url_scheme'),
        'HTTP_HOST': environ.get('HTTP_HOST'),
    }
    x_for = real_value(environ.get('HTTP_X_FORWARDED_FOR'))
    if x_for:
        environ['REMOTE_ADDR'] = x_for
    x_proto = real_value(environ.get('HTTP_X_FORWARDED_PROTO'))
    if x_proto:
        environ['wsgi.url_scheme'] = x_proto
    x_host = real_value(environ.get('HTTP_X_FORWARDED_HOST'))
    if x_host:
        environ['HTTP_HOST'] = environ['SERVER_NAME'] = x_host
        if ':' in x_host and not x_host.endswith(']'):
            environ['SERVER_NAME'], environ['SERVER_PORT'] = x_host.rsplit(':', 1)


def parse_cookies(header):
    cookies = {}
    for part in (header or '').split(';'):
        if '=' not in part:
            continue
        key, _, value = part.partition('=')
        key = key.strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if key and key not in cookies:
            cookies[key] = value
    return cookies


class Request:
    def __init__(self, environ, body):
        self.environ = environ
        self.method = environ['REQUEST_METHOD']
        self.path = environ['PATH_INFO']
        self.query_string = environ.get('QUERY_STRING', '')
        self.args = dict(parse_qsl(self.query_string, keep_blank_values=True))
        self.body = body
        self.cookies = parse_cookies(environ.get('HTTP_COOKIE'))
        self.mimetype = (environ.get('CONTENT_TYPE') or '').split(';')[0].strip().lower()
        self.session = None
        self.db = None
        self.cookie_headers = []   # future_response headers
        self.uid = None

    def header(self, name):
        return self.environ.get('HTTP_' + name.upper().replace('-', '_'))

    @property
    def scheme(self):
        return self.environ.get('wsgi.url_scheme', 'http')

    @property
    def host(self):
        host = self.environ.get('HTTP_HOST')
        if not host:
            host = '%s:%s' % (self.environ.get('SERVER_NAME'), self.environ.get('SERVER_PORT'))
        if self.scheme in ('http', 'ws') and host.endswith(':80'):
            host = host[:-3]
        elif self.scheme in ('https', 'wss') and host.endswith(':443'):
            host = host[:-4]
        return host

    @property
    def url_root(self):
        return '%s://%s/' % (self.scheme, self.host)

    @property
    def full_path(self):
        return self.path + '?' + self.query_string

    @property
    def url(self):
        return self.url_root.rstrip('/') + self.path + (('?' + self.query_string) if self.query_string else '')

    def form(self):
        if self.mimetype == 'application/x-www-form-urlencoded':
            return dict(parse_qsl(self.body.decode('utf-8', 'replace'), keep_blank_values=True))
        return {}

    def params(self):
        params = dict(self.args)
        params.update(self.form())
        params.pop('session_id', None)
        return params

    # -- session ------------------------------------------------------------------------------
    def _get_session_and_dbname(self):
        sid = self.args.get('session_id') or self.header('X-Openerp-Session-Id')
        if sid:
            is_explicit = True
        else:
            sid = self.cookies.get('session_id')
            is_explicit = False

        store = session_store()
        if sid is None or not store.is_valid_key(sid):
            session = store.new()
        else:
            session = store.get(sid)
            session.sid = sid  # in case the session was not persisted
        session.is_explicit = is_explicit

        for key, val in get_default_session().items():
            session.setdefault(key, val)
        if not session.context.get('lang'):
            session.context['lang'] = DEFAULT_LANG

        dbname = None
        host = self.environ.get('HTTP_HOST', '')
        if session.db and db_filter([session.db], host=host):
            dbname = session.db
        else:
            all_dbs = db_list(host)
            if len(all_dbs) == 1:
                dbname = all_dbs[0]  # monodb

        if session.db != dbname:
            if session.db:
                _logger.warning("Logged into database %r, but dbfilter rejects it; logging session out.", session.db)
                session.logout(keep_db=False)
            session.db = dbname

        session.is_dirty = False
        return session, dbname

    def csrf_token(self, time_limit=None):
        secret = params.get_param('database.secret')
        max_ts = int(time.time() + (time_limit or CSRF_TOKEN_SALT))
        msg = f'{self.session.sid}{max_ts}'.encode('utf-8')
        hm = hmac.new(secret.encode('ascii'), msg, hashlib.sha1).hexdigest()
        return f'{hm}o{max_ts}'

    def validate_csrf(self, csrf):
        if not csrf:
            return False
        secret = params.get_param('database.secret')
        hm, _, max_ts = csrf.rpartition('o')
        msg = f'{self.session.sid}{max_ts}'.encode('utf-8')
        if max_ts:
            try:
                if int(max_ts) < int(time.time()):
                    return False
            except ValueError:
                return False
        hm_expected = hmac.new(secret.encode('ascii'), msg, hashlib.sha1).hexdigest()
        return hmac.compare_digest(hm, hm_expected)

    def _save_session(self, cr):
        sess = self.session
        if not sess.can_save:
            return
        store = session_store()
        if sess.should_rotate:
            store.rotate(sess, cr)
        elif (MAJOR >= 19 and sess.uid and not sess.is_explicit
              and time.time() >= (sess.get('create_time') or 0) + SESSION_ROTATION_INTERVAL):
            store.rotate(sess, cr, soft=True)
        elif sess.is_dirty:
            store.save(sess)
        cookie_sid = self.cookies.get('session_id')
        if not sess.is_explicit and (sess.is_dirty or cookie_sid != sess.sid):
            expires = time.time() + 365 * 24 * 3600
            self.cookie_headers.append(('Set-Cookie', dump_cookie(
                'session_id', sess.sid, max_age=get_session_max_inactivity(), expires=expires, httponly=True)))


# =========================================================
# Routes (web, bus and base controllers, reduced)
# =========================================================

ROUTES = {}


def route(path, type='http', auth='user', methods=None, save_session=True, csrf=True):
    def decorator(func):
        ROUTES[path] = dict(func=func, type=type, auth=auth, methods=methods, save_session=save_session, csrf=csrf)
        return func
    return decorator


def session_info(req, cr):
    uid = req.session.uid
    cr.execute("SELECT u.login, p.name FROM res_users u LEFT JOIN res_partner p ON p.id = u.partner_id WHERE u.id=%s", (uid,))
    row = cr.fetchone() or (req.session.login, req.session.login)
    is_system = user_is_system(cr, uid)
    return {
        'uid': uid,
        'is_system': is_system,
        'is_admin': is_system,
        'is_internal_user': True,
        'user_context': req.session.context,
        'db': req.session.db,
        'server_version': release.version,
        'server_version_info': list(release.version_info),
        'support_url': 'https://www.odoo.com/help',
        'name': row[1],
        'username': row[0],
        'partner_display_name': row[1],
        'partner_id': uid + 1,
        'web.base.url': params.get_param('web.base.url', default=''),
        'active_ids_limit': 20000,
        'max_file_upload_size': 134217728,
        'home_action_id': False,
        'user_id': [uid],
    }


def authenticate(req, cr, dbname, login, password):
    """Session.authenticate + res.users.authenticate + Session.finalize (no 2FA)."""
    ip = req.environ.get('REMOTE_ADDR', 'n/a')
    cr.execute("SELECT id, password FROM res_users WHERE login=%s AND active", (login,))
    row = cr.fetchone()
    if not row or not check_password(row[1], password or ''):
        _users_logger.info("Login failed for db:%s login:%s from %s", dbname, login, ip)
        raise AccessDenied()
    uid = row[0]
    _users_logger.info("Login successful for db:%s login:%s from %s", dbname, login, ip)
    cr.execute("UPDATE res_users SET login_date=(now() at time zone 'UTC') WHERE id=%s", (uid,))
    if user_is_system(cr, uid):
        # Successfully logged in as system user! Attempt to guess the web base url...
        base = req.url_root.rstrip('/')
        if not params.get_param('web.base.url.freeze'):
            params.set_param(cr, 'web.base.url', base, uid)
    sess = req.session
    sess.uid = None
    sess['pre_login'] = login
    sess['pre_uid'] = uid
    # finalize
    login = sess.pop('pre_login')
    uid = sess.pop('pre_uid')
    sess.should_rotate = True
    sess.update({
        'db': dbname,
        'login': login,
        'uid': uid,
        'context': user_context(uid),
        'session_token': compute_session_token(cr, sess.sid, uid),
    })
    req.uid = uid
    return uid


@route('/web/health', type='http', auth='none', save_session=False)
def health(req, cr):
    return Response(json.dumps({'status': 'pass'}), headers=[('Cache-Control', 'no-store')],
                    content_type='application/json')


@route('/web/webclient/version_info', type='json', auth='none')
def version_info(req, cr, **kw):
    return {
        'server_version': release.version,
        'server_version_info': list(release.version_info),
        'server_serie': release.serie,
        'protocol_version': 1,
    }


@route('/web/session/authenticate', type='json', auth='none')
def session_authenticate(req, cr, db=None, login=None, password=None, base_location=None, **kw):
    if not db or not db_filter([db], req.environ.get('HTTP_HOST', '')):
        raise AccessError("Database not found.")
    own_cr = None
    if cr is None or cr.dbname != db:
        own_cr = cr = Cursor(db)
    try:
        authenticate(req, cr, db, login, password)
        req.session.db = db
        if not req.db:
            # request._save_session would not update the session_token: rotate here
            session_store().rotate(req.session, cr)
            req.cookie_headers.append(('Set-Cookie', dump_cookie(
                'session_id', req.session.sid, max_age=get_session_max_inactivity(),
                expires=time.time() + 365 * 24 * 3600, httponly=True)))
        result = session_info(req, cr)
        if own_cr:
            own_cr.commit()
        return result
    finally:
        if own_cr:
            own_cr.close()


@route('/web/session/get_session_info', type='json', auth='user')
def get_session_info(req, cr, **kw):
    req.session.touch()
    return session_info(req, cr)


@route('/web/session/check', type='json', auth='user')
def session_check(req, cr, **kw):
    return None


@route('/web/session/logout', type='http', auth='none')
def session_logout(req, cr, redirect_to='/odoo', **kw):
    req.session.logout(keep_db=True)
    return redirect(req.params().get('redirect', '/web'), 303)


@route('/', type='http', auth='none')
def index(req, cr, **kw):
    query = req.params()
    return redirect('/web' + ('?' + urlencode(query) if query else ''), 303)


def ensure_db(req):
    if not req.db:
        raise _Abort(redirect('/web/database/selector', 303))


class _Abort(Exception):
    def __init__(self, response):
        super().__init__('abort')
        self.response = response


@route('/web', type='http', auth='none')
def web_client(req, cr, **kw):
    ensure_db(req)
    query = req.params()
    if not req.session.uid:
        return redirect('/web/login' + ('?' + urlencode(query) if query else ''), 303)
    if query.get('redirect'):
        return redirect(query['redirect'], 303)
    if not check_session(cr, req.session):
        raise SessionExpiredException("Session expired")
    # Side-effect, refresh the session lifetime
    req.session.touch()
    body = ('<!DOCTYPE html>\n<html>\n<head>\n<title>Odoo</title>\n'
            '<script type="text/javascript">odoo.__session_info__ = %s;</script>\n</head>\n'
            '<body class="o_web_client"></body>\n</html>\n') % json.dumps(session_info(req, cr))
    return Response(body, headers=[('X-Frame-Options', 'DENY')])


LOGIN_PAGE = """<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8"/>
<title>Login | Odoo</title>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
</head>
<body class="bg-100">
<div class="container py-5">
<form class="oe_login_form" role="form" action="/web/login" method="post" onsubmit="this.action = '/web/login' + location.hash">
<input type="hidden" name="csrf_token" value="%(csrf)s"/>
<div class="mb-3 field-login"><label for="login" class="form-label">Email</label>
<input type="text" placeholder="Email" name="login" id="login" required="required" autofocus="autofocus" autocapitalize="off" class="form-control" value="%(login)s"/></div>
<div class="mb-3"><label for="password" class="form-label">Password</label>
<input type="password" placeholder="Password" name="password" id="password" required="required" autocomplete="current-password" maxlength="4096" class="form-control"/></div>
%(error)s<input type="hidden" name="redirect" value="%(redirect)s"/>
<div class="clearfix oe_login_buttons text-center gap-1 d-grid mb-1 pt-3"><button type="submit" class="btn btn-primary">Log in</button></div>
</form>
</div>
</body>
</html>
"""


@route('/web/login', type='http', auth='none')
def web_login(req, cr, **kw):
    ensure_db(req)
    values = req.params()
    redirect_to = values.get('redirect', '')
    if req.method == 'GET' and redirect_to and req.session.uid:
        return redirect(redirect_to, 303)
    error = ''
    if req.method == 'POST':
        try:
            uid = authenticate(req, cr, req.db, values.get('login'), values.get('password'))
            return redirect(redirect_to or '/web', 303)
        except AccessDenied:
            error = '<p class="alert alert-danger" role="alert">Wrong login/password</p>\n'
    body = LOGIN_PAGE % {'csrf': req.csrf_token(None), 'login': escape(values.get('login', '')),
                         'error': error, 'redirect': escape(redirect_to)}
    return Response(body, headers=[('X-Frame-Options', 'DENY'),
                                   ('Content-Security-Policy', "frame-ancestors 'self'")])


@route('/web/database/selector', type='http', auth='none')
def selector(req, cr, **kw):
    body = ('<!DOCTYPE html>\n<html>\n<head><title>Odoo</title></head>\n<body>\n'
            '<div class="o_database_list"><div class="alert alert-info text-center">'
            'The database manager has been disabled by the administrator</div></div>\n</body>\n</html>\n')
    return Response(body)


def _call_kw(req, cr, model=None, method=None, args=None, kwargs=None, **kw):
    args = list(args or [])
    kwargs = dict(kwargs or {})
    uid = req.session.uid
    if model == 'ir.config_parameter':
        if not user_is_system(cr, uid):
            raise AccessError("You are not allowed to access 'System Parameter' (ir.config_parameter) records.")
        if method == 'get_param':
            key = args[0] if args else kwargs.get('key')
            default = args[1] if len(args) > 1 else kwargs.get('default', False)
            return params.get_param(key, default)
        if method == 'set_param':
            key = args[0] if args else kwargs.get('key')
            value = args[1] if len(args) > 1 else kwargs.get('value')
            return params.set_param(cr, key, value, uid)
        if method == 'search_read':
            domain = args[0] if args else kwargs.get('domain', [])
            cr.execute("SELECT id, key, value FROM ir_config_parameter ORDER BY key")
            rows = [{'id': i, 'key': k, 'value': v} for i, k, v in cr.fetchall()]
            for leaf in domain or []:
                if isinstance(leaf, (list, tuple)) and len(leaf) == 3 and leaf[0] == 'key':
                    if leaf[1] == '=':
                        rows = [r for r in rows if r['key'] == leaf[2]]
                    elif leaf[1] == 'in':
                        rows = [r for r in rows if r['key'] in leaf[2]]
            return rows
    if model == 'res.users' and method in ('context_get',):
        return user_context(uid)
    raise AttributeError("The method '%s' does not exist on the model '%s'" % (method, model))


route('/web/dataset/call_kw', type='json', auth='user')(_call_kw)


# =========================================================
# Websocket (bus)
# =========================================================

_SUPPORTED_VERSIONS = {'13'}
_HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'


def websocket_route(req, cr, **kw):
    socket = req.environ.get('socket')
    upgrade = req.header('Upgrade')
    if not upgrade or upgrade.lower() != 'websocket':
        raise BadRequest(f'Invalid upgrade header: "{upgrade}"')
    connection = req.header('Connection')
    if not connection or 'upgrade' not in connection.lower():
        raise BadRequest(f'Invalid connection header: "{connection}"')
    version = req.header('Sec-Websocket-Version')
    if not version or version not in _SUPPORTED_VERSIONS:
        raise UpgradeRequired()
    key = req.header('Sec-Websocket-Key') or ''
    try:
        decoded_key = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("Sec-Websocket-Key should be b64 encoded")
    if len(decoded_key) != 16:
        raise BadRequest("Sec-Websocket-Key should be of length 16 once decoded")
    if socket is None:
        # prefork HTTP worker: no raw socket in the environ
        raise RuntimeError(
            f"Couldn't bind the websocket. Is the connection opened on the evented port ({config['gevent_port']})?")
    accept = base64.b64encode(hashlib.sha1((key + _HANDSHAKE_GUID).encode()).digest()).decode()
    response = Response(b'', status=101, headers=[
        ('Upgrade', 'websocket'), ('Connection', 'Upgrade'), ('Sec-WebSocket-Accept', accept)], content_type=None)
    response.on_close = serve_websocket
    # Force save the session. Session must be persisted to handle WebSocket authentication.
    req.session.is_dirty = True
    return response


route('/websocket', type='http', auth='public', methods=['GET'])(websocket_route)


def serve_websocket(sock):
    """Keep the upgraded connection open: answer pings and close frames, until the peer leaves."""
    sock.settimeout(None)
    try:
        while True:
            head = _recv_exact(sock, 2)
            if not head:
                return
            opcode = head[0] & 0x0F
            masked = head[1] & 0x80
            length = head[1] & 0x7F
            if length == 126:
                length = int.from_bytes(_recv_exact(sock, 2), 'big')
            elif length == 127:
                length = int.from_bytes(_recv_exact(sock, 8), 'big')
            mask = _recv_exact(sock, 4) if masked else b''
            payload = _recv_exact(sock, length) if length else b''
            if mask:
                payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            if opcode == 0x8:
                sock.sendall(bytes([0x88, len(payload[:125])]) + payload[:125])
                return
            if opcode == 0x9:
                sock.sendall(bytes([0x8A, len(payload[:125])]) + payload[:125])
    except OSError:
        return


def _recv_exact(sock, n):
    data = b''
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return b'' if not data else data
        data += chunk
    return data


# =========================================================
# Application
# =========================================================

class Application:
    def __call__(self, environ, body):
        """Serve one request; returns a Response (plus the request, for logging)."""
        current = threading.current_thread()
        current.query_count = 0
        current.query_time = 0
        current.perf_t0 = time.time()
        if hasattr(current, 'dbname'):
            del current.dbname

        if config['proxy_mode'] and environ.get("HTTP_X_FORWARDED_HOST"):
            proxy_fix(environ)

        req = Request(environ, body)
        cr = None
        dispatcher_type = 'http'
        try:
            try:
                req.session, req.db = req._get_session_and_dbname()
                rule = ROUTES.get(req.path.rstrip('/') or '/') or (
                    ROUTES['/web/dataset/call_kw'] if req.path.startswith('/web/dataset/call_kw/') else None)
                if req.db:
                    current.dbname = req.db
                    try:
                        cr = Cursor(req.db)
                        params.check_signaling(cr)
                    except psycopg2.Error as e:
                        raise RegistryError(f"Cannot get registry {req.db}") from e
                if rule is None or (not req.db and rule['auth'] != 'none'):
                    raise NotFound()
                if rule['type'] == 'json':
                    if req.mimetype not in ('application/json', 'application/json-rpc'):
                        raise BadRequest(f"Request inferred type is compatible with ['http'] but {req.path!r} is type='json'.")
                    dispatcher_type = 'json'
                req.session.can_save = rule['save_session']

                # ir.http._authenticate
                if req.session.uid is not None and cr is not None:
                    if not check_session(cr, req.session):
                        req.session.logout(keep_db=True)
                    elif MAJOR >= 18:
                        # security.check_session(..., request) -> res.device.log._update_device
                        trace = req.session.update_trace(req.environ)
                        if trace:
                            insert_device_log(cr, req.session, trace)
                if rule['auth'] == 'user' and req.session.uid in (None, SUPERUSER_ID):
                    raise SessionExpiredException("Session expired")

                if rule['type'] == 'json':
                    try:
                        jsonrequest = json.loads(req.body.decode('utf-8') or 'null')
                        request_id = jsonrequest.get('id')
                        call_params = jsonrequest.get('params') or {}
                    except (ValueError, AttributeError):
                        return req, Response("Invalid JSON data", status=400)
                    req.request_id = request_id
                    result = rule['func'](req, cr, **call_params)
                    response = json_response({'jsonrpc': '2.0', 'id': request_id, 'result': result})
                else:
                    if rule['methods'] and req.method not in rule['methods']:
                        raise HTTPException('Method Not Allowed')
                    if req.method not in ('GET', 'HEAD', 'OPTIONS', 'TRACE') and rule['csrf']:
                        if not req.db:
                            return req, redirect('/web/database/selector', 303)
                        token = req.form().get('csrf_token')
                        if not req.validate_csrf(token):
                            if token is not None:
                                _logger.warning("CSRF validation failed on path '%s'", req.path)
                            else:
                                _logger.warning("No CSRF validation token provided for path %r", req.path)
                            raise BadRequest('Session expired (invalid CSRF token)')
                    try:
                        response = rule['func'](req, cr)
                    except _Abort as abort:
                        response = abort.response
                # post_dispatch
                req._save_session(cr)
                response.headers.extend(req.cookie_headers)
                response.headers.append(('X-Content-Type-Options', 'nosniff'))
                if cr is not None:
                    cr.commit()
                return req, response
            except Exception as exc:
                if cr is not None:
                    with contextlib.suppress(Exception):
                        cr.rollback()
                if isinstance(exc, HTTPException):
                    pass
                elif isinstance(exc, SessionExpiredException):
                    _logger.info(exc)
                elif isinstance(exc, (UserError, AccessError)):
                    _logger.warning(exc)
                else:
                    _logger.error("Exception during request handling.", exc_info=True)
                return req, self.handle_error(req, exc, dispatcher_type, cr)
        finally:
            if cr is not None:
                cr.close()

    def handle_error(self, req, exc, dispatcher_type, cr):
        if dispatcher_type == 'json':
            error = {
                'code': 200,
                'message': "Odoo Server Error",
                'data': serialize_exception(exc),
            }
            if isinstance(exc, NotFound):
                error['code'] = 404
                error['message'] = "404: Not Found"
            elif isinstance(exc, SessionExpiredException):
                error['code'] = 100
                error['message'] = "Odoo Session Expired"
            return json_response({'jsonrpc': '2.0', 'id': getattr(req, 'request_id', None), 'error': error})
        if isinstance(exc, SessionExpiredException):
            session = req.session
            was_connected = session.uid is not None
            session.logout(keep_db=True)
            response = redirect('/web/login?' + urlencode({'redirect': req.full_path}), 303)
            if not session.is_explicit and was_connected:
                session_store().rotate(session, cr)
                response.set_cookie('session_id', session.sid, max_age=SESSION_LIFETIME, httponly=True)
            return response
        if isinstance(exc, HTTPException):
            return html_error(exc)
        if isinstance(exc, (AccessDenied, AccessError)):
            return html_error(Forbidden(exc.args[0] if exc.args else None))
        if isinstance(exc, UserError):
            return html_error(BadRequest(str(exc)))
        return html_error(InternalServerError())


root = Application()


# =========================================================
# Session cleanup (ir.autovacuum -> ir.http._gc_sessions)
# =========================================================

def gc_sessions():
    if os.getenv("ODOO_SKIP_GC_SESSIONS"):
        return
    session_store().vacuum(max_lifetime=get_session_max_inactivity())
