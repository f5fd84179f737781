# Connects to a database as Odoo connects: the db_* options of odoo.conf, read on the host, become
# the keywords of psycopg2; an unset one leaves libpq its default, as connection_info_for in Odoo
# does. Shared by the Python the engine runs on hosts as the Odoo user: the parameter writer of a
# change set (change/onhost.rs holds it in single quotes, so none may appear in this file) and the
# device-log writer of a log-out (sessions/revoke.py).
import configparser


def odoo_connect(config, dbname):
    import psycopg2
    opts = {}
    if config:
        p = configparser.RawConfigParser()
        p.read(config)
        if p.has_section("options"):
            opts = dict(p.items("options"))
    kw = {}
    for ok, pk in (("db_host", "host"), ("db_port", "port"), ("db_user", "user"), ("db_password", "password"), ("db_sslmode", "sslmode")):
        v = (opts.get(ok) or "").strip()
        if v not in ("", "False", "None"):
            kw[pk] = v
    return psycopg2.connect(dbname=dbname, application_name="odoo-session-doctor", **kw)
