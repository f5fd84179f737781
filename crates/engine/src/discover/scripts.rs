//! The two shell scripts discovery sends, one execution each. They only read; every section is
//! tagged `==> name <==` and parsed locally (see `sections`). POSIX sh, run privileged.
//!
//! Script 1 (inventory) needs nothing from us: host, processes, configs, nginx, cleaners.
//! Script 2 (details) needs what script 1 told: the sessions directory, the log, release.py.

/// Inventory: needs no input.
pub const INVENTORY: &str = r#"
export LC_ALL=C
sec() { printf '\n==> %s <==\n' "$*"; }
sec os; cat /etc/os-release 2>/dev/null
sec uname; uname -srm
sec cpus; nproc 2>/dev/null || getconf _NPROCESSORS_ONLN
sec meminfo; grep -E '^(MemTotal|MemAvailable):' /proc/meminfo
psout=$(ps -eo pid=,ppid=,user:32=,args= 2>/dev/null)
sec ps; printf '%s\n' "$psout" | grep -E 'odoo|openerp|nginx|supervisord|docker|containerd' | grep -v -E ' grep |==> '
# Root Odoo processes: candidates whose parent is not a candidate (workers are grouped from `ps`).
roots=$(printf '%s\n' "$psout" | awk '$0 ~ /odoo|openerp/ && $0 !~ /awk|grep|nginx|postgres|supervisord|sshd|tail / {pp[$1]=$2} END {for (p in pp) if (!(pp[p] in pp)) print p}')
for pid in $roots; do
  [ -r "/proc/$pid/cmdline" ] || continue
  sec "proc $pid cmdline"; tr '\0' '\n' < "/proc/$pid/cmdline"; echo
  env=$(tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null)
  sec "proc $pid environ"
  printf '%s\n' "$env" | grep -E '^(HOME|USER|XDG_DATA_HOME|ODOO_RC|ODOO_SKIP_GC_SESSIONS|ODOO_DISABLE_SESSION_GC|SUPERVISOR_PROCESS_NAME|SUPERVISOR_GROUP_NAME|SUPERVISOR_SERVER_URL|INVOCATION_ID)='
  printf '%s\n' "$env" | grep -q '^SESSION_DB_URI=' && echo 'SESSION_DB_URI=<set>'
  sec "proc $pid cgroup"; cat "/proc/$pid/cgroup" 2>/dev/null
  cwd=$(readlink "/proc/$pid/cwd")
  sec "proc $pid cwd"; echo "$cwd"
  # Every config file it may read (facts §1, §6), through its root (containers included).
  root="/proc/$pid/root"
  conf=$(tr '\0' '\n' < "/proc/$pid/cmdline" | awk 'p{print; exit} /^(-c|--config)$/{p=1; next} /^--config=/{sub(/^--config=/,""); print; exit} /^-c./{print substr($0,3); exit}')
  home=$(printf '%s\n' "$env" | sed -n 's/^HOME=//p')
  rc=$(printf '%s\n' "$env" | sed -n 's/^ODOO_RC=//p')
  user=$(stat -c %U "/proc/$pid")
  pwhome=$(getent passwd "$user" | cut -d: -f6)
  for f in "$conf" "$rc" "$home/.odoorc" "$home/.openerp_serverrc" "$pwhome/.odoorc" "$pwhome/.openerp_serverrc"; do
    [ -n "$f" ] || continue
    case "$f" in /*) ;; *) f="$cwd/$f" ;; esac
    [ -f "$root$f" ] || continue
    sec "proc $pid file $f"; base64 -w0 < "$root$f"; echo
  done
  sec "proc $pid home-dir"; [ -n "$home" ] && [ -d "$root$home" ] && echo "$home"
  sec "proc $pid passwd-home"; echo "$pwhome"
  unit=$(sed -n 's#^0::.*/\([^/]*\.service\)$#\1#p' "/proc/$pid/cgroup" 2>/dev/null | head -n1)
  if [ -n "$unit" ] && command -v systemctl >/dev/null 2>&1; then
    sec "proc $pid unit $unit"; systemctl cat "$unit" 2>/dev/null | grep -E '^(ExecStart|User|Environment|EnvironmentFile|WorkingDirectory)='
  fi
  ppid=$(printf '%s\n' "$psout" | awk -v p="$pid" '$1 == p {print $2; exit}')
  sec "proc $pid parent"; tr '\0' ' ' < "/proc/$ppid/cmdline" 2>/dev/null; echo
done
for pid in $(ps -eo pid=,args= | awk '/nginx: master process/ && !/awk/{print $1}'); do
  exe=$(readlink "/proc/$pid/exe"); args=$(tr '\0' ' ' < "/proc/$pid/cmdline")
  c=$(echo "$args" | awk '{for(i=1;i<NF;i++) if($i=="-c") print $(i+1)}')
  p=$(echo "$args" | awk '{for(i=1;i<NF;i++) if($i=="-p") print $(i+1)}')
  set -- -T; [ -n "$c" ] && set -- "$@" -c "$c"; [ -n "$p" ] && set -- "$@" -p "$p"
  t=$(mktemp)
  sec "nginx $pid command"; echo "$exe $*"; echo "$args"
  sec "nginx $pid dump"; "$exe" "$@" 2>"$t"
  sec "nginx $pid stderr"; cat "$t"; rm -f "$t"
done
# Service definitions: an Odoo that is down, crash-looping or not yet started has no process but
# still has its supervisor program or systemd unit (issue 9).
defs=""
for pid in $(printf '%s\n' "$psout" | awk '$0 ~ /supervisord/ && $0 !~ /awk|grep|supervisorctl/ {print $1}'); do
  args=$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null)
  conf=$(echo "$args" | awk '{for(i=1;i<NF;i++) if($i=="-c"||$i=="--configuration") print $(i+1)}')
  if [ -z "$conf" ]; then
    for c in /etc/supervisor/supervisord.conf /etc/supervisord.conf; do [ -f "$c" ] && { conf=$c; break; }; done
  fi
  [ -f "$conf" ] || continue
  sec "supervisor $pid conf $conf"; cat "$conf"
  mine=$(cat "$conf")
  dir=$(dirname "$conf")
  for pat in $(awk '/^\[include\]/{p=1;next} /^\[/{p=0} p && /^[ \t]*files[ \t]*[=:]/{sub(/^[^=:]*[=:][ \t]*/,""); print}' "$conf"); do
    case "$pat" in /*) ;; *) pat="$dir/$pat" ;; esac
    for f in $pat; do
      [ -f "$f" ] || continue
      sec "supervisor $pid include $f"; cat "$f"
      mine="$mine
$(cat "$f")"
    done
  done
  defs="$defs
$mine"
  # supervisorctl is a Python program (~0.3 s): asked only when a program that runs Odoo has no
  # process under this supervisord, i.e. when its state is the question.
  nprog=$(printf '%s\n' "$mine" | awk '/^\[program:/{p=1; next} /^\[/{p=0} p && /^[ \t]*command[ \t]*[=:]/ && /odoo|openerp/ {n++} END {print n+0}')
  nrun=$(ps -o args= --ppid "$pid" 2>/dev/null | grep -cE 'odoo|openerp')
  if [ "$nrun" -lt "$nprog" ]; then
    sec "supervisor $pid status"; supervisorctl -c "$conf" status 2>&1
  fi
done
if [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; then
  seen=" "
  for f in $(grep -lsE '^[[:space:]]*ExecStart=.*(odoo|openerp)' /etc/systemd/system/*.service /run/systemd/system/*.service /run/systemd/generator*/*.service /lib/systemd/system/*.service /usr/lib/systemd/system/*.service); do
    u=$(basename "$f")
    case "$seen" in *" $u "*) continue ;; esac
    seen="$seen$u "
    sec "unit $u show"; systemctl show -p ActiveState -p SubState -p MainPID -p NRestarts -p Result -p UnitFileState "$u" 2>/dev/null
    sec "unit $u cat"; systemctl cat "$u" 2>/dev/null
    defs="$defs
$(systemctl cat "$u" 2>/dev/null)"
  done
fi
# The config files and users those definitions name (a running process's are read above).
for f in $(printf '%s\n' "$defs" | grep -E '^[[:space:]]*(command|ExecStart)[[:space:]]*=' | grep -oE '(-c|--config)[= ][^ ;"]+' | sed -E 's/^(-c|--config)[= ]//' | sort -u); do
  case "$f" in /*) [ -f "$f" ] && { sec "def-file $f"; base64 -w0 < "$f"; echo; } ;; esac
done
for u in $(printf '%s\n' "$defs" | sed -nE 's/^[[:space:]]*(user|User)[[:space:]]*=[[:space:]]*([^ ]+).*/\2/p' | sort -u); do
  sec "passwd $u"; getent passwd "$u"
done
# Versions from release.py beside each Odoo program (no need to ask a server that may be down).
for prog in $( { for pid in $roots; do tr '\0' '\n' < "/proc/$pid/cmdline" 2>/dev/null | grep -m1 -E '(odoo|openerp)[^/]*$'; done
                 printf '%s\n' "$defs" | grep -E '^[[:space:]]*(command|ExecStart)[[:space:]]*=' | tr ' =' '\n\n' | grep -E '^/[^ ]*(odoo-bin|/odoo|odoo\.py|openerp-server|odoo-server)$'; } | sort -u); do
  d=$(dirname "$prog")
  for f in "$d/odoo/release.py" "$d/../odoo/release.py" "$d/../lib/python3/dist-packages/odoo/release.py" /usr/lib/python3/dist-packages/odoo/release.py; do
    if [ -f "$f" ]; then sec "release $prog"; grep -m1 -E '^version_info' "$f"; break; fi
  done
done
sec cron
grep -HnE 'find|rm |rm$|tmpreaper|tmpwatch|unlink|delete|sessions' /etc/crontab /etc/cron.d/* /var/spool/cron/crontabs/* /var/spool/cron/* /etc/cron.hourly/* /etc/cron.daily/* /etc/cron.weekly/* /etc/cron.monthly/* 2>/dev/null | grep -vE ':[0-9]+:\s*#'
sec systemd
grep -HnE '^\s*ExecStart.*(find|rm |tmpreaper|tmpwatch|sessions)' /etc/systemd/system/*.service /etc/systemd/system/*/*.service 2>/dev/null
sec tmpfiles
grep -HnvE '^\s*(#|$)' /etc/tmpfiles.d/*.conf /run/tmpfiles.d/*.conf /usr/lib/tmpfiles.d/*.conf 2>/dev/null
sec tmpreaper
grep -HnE '^\s*TMPREAPER_(DIRS|TIME)' /etc/tmpreaper.conf 2>/dev/null
sec end
"#;

/// Details about the chosen instance. Variables set before it: PID (0 when it is not running),
/// ROOT (/proc/PID/root, empty for a down instance: the host's files), SESSIONS (the sessions
/// directory), SVCUSER, LOGFILE (odoo.conf's, may be empty), PROGRAM (odoo-bin path), UNIT (its
/// systemd unit), SUPCONF and SUPPROG (its supervisor config and program), DOWN (1 when it does
/// not run: then the service's own output is read for the last start error).
pub const DETAILS: &str = r#"
export LC_ALL=C
sec() { printf '\n==> %s <==\n' "$*"; }
# Counts over a bounded tail of Odoo's log. Session and dbfilter lines: every line read. Worker
# recycles and kills (Odoo's exact messages, odoo/service/server.py): only the lines stamped at or
# after CUTOFF (Odoo stamps in UTC: odoo/__init__.py sets TZ=UTC). A line without a stamp (a
# traceback's lines, output before logging starts) goes with the last stamped line before it, or
# counts from the start ($1 = 1) when the reader already kept to the window (journalctl --since).
LOGSTATS() {
  awk -v cut="$CUTOFF" -v inwin="$1" '
    { n++ }
    /^[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]/ {
      ts = substr($0, 1, 19); if (oldest == "") oldest = ts
      inwin = (ts >= cut); if (inwin) { if (first == "") first = ts; last = ts }
    }
    /Session [Ee]xpired|SessionExpiredException/ { se++; if (s1++ < 3) print "sample " $0 }
    /dbfilter rejects it/ { df++; if (s2++ < 3) print "sample " $0 }
    !inwin { next }
    / virtual memory limit \([0-9]+\) reached/ { mr++; if (s3++ < 3) print "sample " $0 }
    /^MemoryError/ { mk++; if (s4++ < 3) print "sample " $0 }
    / CPU time limit \([0-9]+\) reached/ { cpu++; if (s5++ < 3) print "sample " $0 }
    /WorkerHTTP \([0-9]+\) timeout after [0-9]+s/ { wt++; if (s6++ < 3) print "sample " $0 }
    /WorkerCron \([0-9]+\) timeout after [0-9]+s/ { ct++; if (s7++ < 3) print "sample " $0 }
    END { printf "lines %d\nsession_expired %d\ndbfilter_rejects %d\nmemory_recycles %d\nmemory_kills %d\ncpu_limit_kills %d\nworker_timeouts %d\ncron_timeouts %d\n", n, se, df, mr, mk, cpu, wt, ct
          printf "oldest %s\nfirst %s\nlast %s\n", oldest, first, last }'
}
# The window: the last 24 h, or since the running Odoo started when that is later (recycles
# before it happened under the limits it had then, and a fix restarts it).
now=$(date -u +%s)
cut=$((now - 86400)); started=0
if [ "$PID" != 0 ]; then
  up=$(ps -o etimes= -p "$PID" 2>/dev/null | tr -d ' ')
  # one second earlier: both clocks are read in whole seconds
  [ -n "$up" ] && [ $((now - up - 1)) -gt "$cut" ] && { cut=$((now - up - 1)); started=1; }
fi
CUTOFF=$(date -u -d "@$cut" '+%Y-%m-%d %H:%M:%S' 2>/dev/null)
# The counts, then the window in seconds since the epoch (the oldest stamp read says whether the
# tail reaches back to the cutoff).
LOGWINDOW() {
  out=$(LOGSTATS "$1"); printf '%s\n' "$out"
  oldest=$(printf '%s\n' "$out" | sed -n 's/^oldest //p')
  printf 'window_now %s\nwindow_cut %s\nwindow_started %s\ncutoff %s\n' "$now" "$cut" "$started" "$CUTOFF"
  [ -n "$oldest" ] && printf 'oldest_epoch %s\n' "$(date -u -d "$oldest" +%s 2>/dev/null)"
}
d="$ROOT$SESSIONS"
sec sessions-stat; stat -c '%U %G %a' "$d" 2>/dev/null
sec sessions-fs; stat -f -c '%T' "$d" 2>/dev/null
sec sessions-mount; findmnt -n -o TARGET,FSTYPE,SOURCE -T "$d" 2>/dev/null | head -n1
# Room left and mount options: a full or read-only filesystem cannot save a login.
sec sessions-df; [ -d "$d" ] && df -P -B1 "$d" 2>/dev/null | tail -n +2
sec sessions-dfi; [ -d "$d" ] && df -P -i "$d" 2>/dev/null | tail -n +2
sec sessions-mount-options
mp=$(findmnt -n -o TARGET -T "$d" 2>/dev/null | head -n1)
[ -n "$mp" ] && awk -v m="$mp" '$2 == m {o = $4} END {if (o != "") print o}' /proc/mounts
sec sessions-writable
if [ -d "$d" ] && command -v runuser >/dev/null 2>&1 && { [ -z "$ROOT" ] || { [ "$ROOT" = "/proc/$PID/root" ] && [ "$(readlink "$ROOT")" = "/" ]; }; }; then
  runuser -u "$SVCUSER" -- test -w "$d" && echo yes || echo no
fi
sec sessions-files
# One pass of stat over the folder, only aggregates cross SSH (issue 17): the owner as a number
# (`%u` looks the name up once per file: 200,000 files took 3x the stat itself), names resolved
# once per distinct owner afterwards; age buckets as in facts::AGE_BUCKETS.
if [ -d "$d" ]; then
  now=$(date +%s)
  find "$d" -type f -printf '%T@ %s %U\n' 2>/dev/null | awk -v now="$now" '
    { n++; bytes += $2; owners[$3]++; age = now - int($1); if (age < 0) age = 0
      if (n == 1 || age > oldest) oldest = age
      if (n == 1 || age < newest) newest = age
      if (age < 3600) b1++; else if (age < 86400) b2++; else if (age < 604800) b3++
      else if (age < 2592000) b4++; else if (age < 7776000) b5++; else b6++ }
    END { printf "files %d\nbytes %d\noldest %s\nnewest %s\n", n, bytes, oldest, newest
          printf "bucket 1 %d\nbucket 2 %d\nbucket 3 %d\nbucket 4 %d\nbucket 5 %d\nbucket 6 %d\n", b1, b2, b3, b4, b5, b6
          for (o in owners) printf "uid %s %d\n", o, owners[o] }' |
  while read -r k a b; do
    if [ "$k" = uid ]; then
      name=$(getent passwd "$a" | cut -d: -f1); echo "owner ${name:-$a} $b"
    else
      echo "$k $a${b:+ $b}"
    fi
  done
fi
# What the service manager captured of Odoo's output (stderr before logging starts, or all of it
# when odoo.conf sets no logfile): the journal, or supervisor's capture.
service_output() {
  if [ -n "$UNIT" ] && command -v journalctl >/dev/null 2>&1; then
    journalctl -u "$UNIT" ${3:+--since "@$3"} -n "$1" --no-pager -o cat 2>/dev/null
  elif [ -n "$SUPPROG" ]; then
    supervisorctl ${SUPCONF:+-c "$SUPCONF"} tail -"$2" "$SUPPROG" stderr 2>/dev/null
    supervisorctl ${SUPCONF:+-c "$SUPCONF"} tail -"$2" "$SUPPROG" 2>/dev/null
  fi
}
if [ -n "$LOGFILE" ]; then
  sec log-source; echo "file $LOGFILE"
  [ -f "$ROOT$LOGFILE" ] && { sec log; tail -n 50000 "$ROOT$LOGFILE" | LOGWINDOW 0; }
elif [ -n "$UNIT" ]; then
  sec log-source; echo "journal $UNIT"
  sec log; service_output 50000 4000000 "$cut" | LOGWINDOW 1
elif [ -n "$SUPPROG" ]; then
  sec log-source; echo "supervisor $SUPPROG"
  sec log; service_output 50000 4000000 | LOGWINDOW 0
fi
if [ "$DOWN" = 1 ]; then
  sec start-output; service_output 80 20000 | tail -n 80
  [ -n "$LOGFILE" ] && [ -f "$ROOT$LOGFILE" ] && { sec start-logfile; tail -n 80 "$ROOT$LOGFILE"; }
fi
sec release
if [ -n "$PROGRAM" ]; then
  dir=$(dirname "$PROGRAM")
  for f in "$dir/odoo/release.py" "$dir/../odoo/release.py" "$dir/../lib/python3/dist-packages/odoo/release.py" /usr/lib/python3/dist-packages/odoo/release.py; do
    if [ -f "$ROOT$f" ]; then echo "$f"; grep -E '^version_info' "$ROOT$f"; break; fi
  done
fi
sec end
"#;
