# Marks the device log of deleted sessions revoked, as res.device._revoke does in Odoo 18+
# (write through the ORM: revoked = true, write_date = now, write_uid = the acting user; here the
# superuser, as a server-side action). Run as Odoo's user, connected as Odoo connects (odoo.conf).
# The stored identifiers come on stdin from the reader on the same host.
# odoo_connect comes first in the same script (odoo_connect.py, see sessions/mod.rs).
import json, sys
spec = json.load(sys.stdin)
rows = 0
for db, ids in sorted(spec["by_db"].items()):
    conn = odoo_connect(spec.get("config"), db)
    with conn:
        with conn.cursor() as cr:
            cr.execute("SELECT to_regclass(%s) IS NOT NULL", ("res_device_log",))
            if cr.fetchone()[0]:
                cr.execute("UPDATE res_device_log SET revoked = true, write_uid = 1, write_date = now() at time zone %s "
                           "WHERE session_identifier = ANY(%s) AND revoked IS NOT TRUE", ("UTC", ids))
                rows += cr.rowcount
    conn.close()
print(json.dumps({"rows": rows}))
