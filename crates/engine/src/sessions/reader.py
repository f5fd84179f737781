# Odoo Session Doctor: reads (or, for a log-out, deletes) Odoo's session files on the host,
# with the instance's own Python. Prints one JSON document of aggregates and keyed hashes:
# a session id, or any part of it, never leaves this process (see sessions/onhost.rs).
import hashlib, hmac, io, json, os, pickle, re, stat, sys, time
spec = json.loads(sys.argv[1])
root = spec["dir"]
key = bytes.fromhex(spec["key"])
now = time.time()
SID = re.compile(r"^([0-9a-f]{40}|[A-Za-z0-9_-]{84})$")
STORED = 42

def ref(name):
    return hmac.new(key, name.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[:12]

class Plain(pickle.Unpickler):
    # Odoo pickles a dict of plain values; anything that names a class or function is refused,
    # so a planted file cannot run code here.
    def find_class(self, module, name):
        raise pickle.UnpicklingError("the file names %s.%s, which a session never holds" % (module, name))

def owner(uid):
    try:
        import pwd
        return pwd.getpwuid(uid).pw_name
    except Exception:
        return str(uid)

def walk():
    try:
        top = sorted(os.listdir(root))
    except OSError as e:
        print(json.dumps({"error": "cannot list %s: %s" % (root, e.strerror)}))
        sys.exit(0)
    for n in top:
        p = os.path.join(root, n)
        if n.endswith(".__wz_sess"):
            continue  # Odoo writing a session right now (temp file, renamed in place)
        if n.startswith("werkzeug_") and n.endswith(".sess"):
            yield p, n[9:-5]
            continue
        try:
            st = os.lstat(p)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            try:
                inner = sorted(os.listdir(p))
            except OSError as e:
                yield p, ("folder", e.strerror)
                continue
            for m in inner:
                if m.endswith(".__wz_sess"):
                    continue
                yield os.path.join(p, m), m
        else:
            yield p, None

def read(p, sid):
    row = {"ref": ref(p[len(root):])}
    if isinstance(sid, tuple):
        row.update(bad="a folder of sessions cannot be read: %s" % sid[1], inode=None)
        return row
    try:
        st = os.lstat(p)
    except OSError:
        return None  # gone since it was listed (Odoo's cleanup, a log-out)
    row.update(inode=st.st_ino, owner=owner(st.st_uid), mode="%o" % (st.st_mode & 0o7777),
               size=st.st_size, written_age=max(0, int(now - st.st_mtime)))
    if not stat.S_ISREG(st.st_mode):
        row["bad"] = "not a regular file"
        return row
    if sid is None or not SID.match(sid):
        row["bad"] = "its name is not a session id"
        return row
    try:
        with open(p, "rb") as f:
            data = f.read()
    except OSError as e:
        row["bad"] = "cannot be read as %s: %s" % (owner(os.geteuid()), e.strerror)
        return row
    if not data:
        row["bad"] = "empty"
        return row
    try:
        if data[:1] == b"{":
            d = json.loads(data.decode("utf-8"))
            row["format"] = "json"
        else:
            d = Plain(io.BytesIO(data)).load()
            row["format"] = "pickle"
    except Exception as e:
        row["bad"] = "unreadable (%s)" % type(e).__name__
        return row
    if not isinstance(d, dict):
        row["bad"] = "does not hold a session"
        row.pop("format", None)
        return row
    uid = d.get("uid")
    row["uid"] = uid if isinstance(uid, int) else None
    row["login"] = d.get("login") if isinstance(d.get("login"), str) else None
    row["db"] = d.get("db") if isinstance(d.get("db"), str) else None
    row["rotated"] = bool(d.get("next_sid"))
    if isinstance(d.get("create_time"), (int, float)):
        row["created_age"] = max(0, int(now - d["create_time"]))
    devices = []
    for t in d.get("_trace") or []:
        if not isinstance(t, dict):
            continue
        first, last = t.get("first_activity"), t.get("last_activity")
        devices.append({"platform": t.get("platform"), "browser": t.get("browser"), "ip": t.get("ip_address"),
                        "first_age": max(0, int(now - first)) if isinstance(first, (int, float)) else None,
                        "last_age": max(0, int(now - last)) if isinstance(last, (int, float)) else None})
    row["devices"] = devices
    return row

def scan():
    rows = []
    for p, sid in walk():
        r = read(p, sid)
        if r is not None:
            rows.append((p, sid, r))
    return rows

def session_info(sid):
    # The session asks Odoo who it is, from this host: the id stays here.
    import urllib.request
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "params": {}, "id": 1}).encode()
    headers = {"Content-Type": "application/json", "Cookie": "session_id=" + sid}
    if spec.get("host"):
        headers["Host"] = spec["host"]
    req = urllib.request.Request("http://%s:%d/web/session/get_session_info" % (spec["addr"], spec["port"]),
                                 data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            answer = json.loads(r.read().decode("utf-8"))
    except Exception as e:
        return {"alive": False, "answer": "no answer (%s)" % type(e).__name__}
    result = answer.get("result")
    if isinstance(result, dict) and result.get("uid"):
        return {"alive": True, "answer": "answered as user id %s" % result.get("uid")}
    err = answer.get("error") or {}
    return {"alive": False, "answer": "code %s: %s" % (err.get("code"), err.get("message")) if err else "answered without a user"}

if spec["mode"] == "list":
    print(json.dumps({"as": owner(os.geteuid()), "files": [r for _, _, r in scan()]}))
    sys.exit(0)

# mode "logout": the sessions of one login (or of everyone) in the databases served.
def wanted(r):
    return ("bad" not in r and r.get("uid") is not None and r.get("db") in spec["dbs"]
            and (spec.get("login") is None or r.get("login") == spec["login"]))

targets = [(p, sid, r) for p, sid, r in scan() if wanted(r)]
out = {"deleted": 0, "failed": [], "by_user": {}, "revoked_rows": None, "revoke_error": None, "probe": None}
# Before: one session of theirs that Odoo accepts now (the most recently written first).
probe_sid = None
for p, sid, r in sorted(targets, key=lambda t: t[2]["written_age"])[:3]:
    a = session_info(sid)
    if a["alive"]:
        probe_sid = sid
        out["probe"] = {"ref": r["ref"], "before": a["answer"]}
        break
identifiers = {}
for p, sid, r in targets:
    again = read(p, sid)
    if again is None:
        continue
    if not wanted(again):
        continue  # rewritten for someone else since it was read (a log-in on the same id)
    try:
        os.unlink(p)  # one rename-free unlink per file: Odoo never sees half a session
    except OSError as e:
        out["failed"].append({"ref": r["ref"], "inode": r.get("inode"), "owner": r.get("owner"), "mode": r.get("mode"),
                              "size": r.get("size"), "bad": "cannot be deleted: %s" % e.strerror})
        continue
    out["deleted"] += 1
    k = "%s\t%s" % (r["db"], r.get("login") or "")
    out["by_user"][k] = out["by_user"].get(k, 0) + 1
    if spec["major"] >= 18:
        identifiers.setdefault(r["db"], set()).add(sid[:STORED])
        # res.device._revoke deletes by the stored prefix: a soft-rotated twin goes too.
        d = os.path.dirname(p)
        try:
            for m in os.listdir(d):
                if m.startswith(sid[:STORED]) and m != sid:
                    try:
                        os.unlink(os.path.join(d, m))
                    except OSError:
                        pass
        except OSError:
            pass
if identifiers:
    import subprocess
    payload = json.dumps({"config": spec.get("config"), "by_db": {db: sorted(v) for db, v in identifiers.items()}})
    cmd = [sys.executable, "-c", spec["revoke_py"]]
    if spec.get("svcuser") and spec["svcuser"] != "root" and os.geteuid() == 0:
        cmd = ["runuser", "-u", spec["svcuser"], "--"] + cmd
    try:
        r = subprocess.run(cmd, input=payload.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd="/", timeout=60)
        if r.returncode == 0:
            out["revoked_rows"] = json.loads(r.stdout.decode())["rows"]
        else:
            out["revoke_error"] = (r.stderr.decode(errors="replace").strip().splitlines() or ["exit %d" % r.returncode])[-1]
    except Exception as e:
        out["revoke_error"] = str(e)
if probe_sid is not None:
    out["probe"]["after"] = session_info(probe_sid)
out["remaining"] = sum(1 for _, _, r in scan() if wanted(r))
out["by_user"] = [{"db": k.split("\t")[0], "login": k.split("\t")[1], "sessions": n} for k, n in sorted(out["by_user"].items())]
print(json.dumps(out))
