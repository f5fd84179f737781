#!/usr/bin/env python3
"""Turns a report captured from a lab (artifacts/report/lab-*.json, written by the `lab` tests in
tests/report.rs) into a fixed golden input: the lab's temporary directory, loopback address and
random port become a plausible production server's, and the report's own stamp is fixed.

    python3 normalize.py ../../../../artifacts/report/lab-short-lifetime.json short-lifetime.input.json
"""
import json, re, sys

src, dst = sys.argv[1], sys.argv[2]
text = open(src).read()
m = json.loads(text)
lab_dir = re.search(r"/tmp/osd-lab-[a-z0-9_]+", text).group(0)
host = m["server"]["name"]                                 # root@127.0.0.1:PORT
text = text.replace(lab_dir, "")
text = text.replace(host, "odoo-prod-1.example.com")
text = re.sub(r"127\.0\.0\.1:\d+", "odoo-prod-1.example.com", text)
text = text.replace("root@odoo.lab.test", "root@odoo-prod-1.example.com")
text = text.replace("root (from vm)", "root (from admin-laptop)")
m = json.loads(text)
m["meta"].update(generated_at="2025-03-14T09:26:53Z", generated_by="alice@admin-laptop (ssh login root)", product_version="0.1.0")
m["server"].update(instances=1, memory_bytes=8 * 1024**3, kernel="Linux 6.1.0-31-amd64 x86_64",
                   host_key_fingerprint="SHA256:Q2xkM1pFZ0hWTnBtQ0l5cXRhZ3F0b2RvbzE3LnJlcG9ydA")
json.dump(m, open(dst, "w"), indent=2, ensure_ascii=False)
open(dst, "a").write("\n")
