#!/usr/bin/env bash
# samba-dc.sh: a throwaway Samba Active Directory domain controller, for hrsync's tests and for trying hrsync
# against Active Directory without one.
#
#   samba-dc.sh start DIR    provision (first time only) a DC into DIR, start it, seed it; waits until LDAPS answers
#   samba-dc.sh stop DIR     stop it (SIGTERM to its process group, then wait)
#   samba-dc.sh env DIR      print `export HRSYNC_TEST_AD_...` lines: eval "$(samba-dc.sh env DIR)"
#   samba-dc.sh status DIR   exit 0 if it is running
#
# The domain: realm CONTOSO.TEST, NetBIOS domain CONTOSO, base DN DC=contoso,DC=test, DC host name dc1.contoso.test.
# Everything lives in DIR: smb.conf (DIR/etc/smb.conf), databases and private dirs, sockets, the TLS CA (DIR/ca.pem)
# and server certificate, the log (DIR/samba.log), the pid (DIR/samba.pid) and the Administrator password
# (DIR/admin-password, mode 0600; printed only by `env`). Nothing touches /etc/samba, /var/lib/samba or /run/samba,
# and no system service is started. Delete DIR after `stop` to throw the domain away.
#
# Ports: TCP 389 (LDAP, StartTLS), 636 (LDAPS), 3268 (Global Catalog) and 3269 (Global Catalog over TLS), on
# HRSYNC_SAMBA_ADDR only (default 127.0.0.1). Samba has these port numbers built in, so they cannot be moved; to run
# several DCs at once give each its own loopback address (e.g. HRSYNC_SAMBA_ADDR=127.0.0.2: Linux answers on all of
# 127.0.0.0/8). Binding them needs root, as Samba itself does.
#
# Only Samba's `ldap` service runs (server services = ldap): no SMB, Kerberos KDC, DNS, RPC, NetBIOS or winbindd.
# That is enough for what hrsync does: simple binds over LDAPS and StartTLS, searches with paging, adds with
# unicodePwd, modifies, ModifyDN and deletes.
#
# Environment:
#   HRSYNC_SAMBA_ADDR           loopback address to listen on (default 127.0.0.1), fixed at the first start of DIR
#   HRSYNC_SAMBA_RECYCLE_BIN=1  enable the AD Recycle Bin optional feature at provisioning (see README.md)
#   HRSYNC_SAMBA_START_TIMEOUT  seconds to wait for LDAPS to answer (default 60)
#
# Needs (Debian): samba samba-ad-dc samba-ad-provision python3-samba ldap-utils openssl (and bash, coreutils).
set -euo pipefail

readonly REALM=CONTOSO.TEST
readonly DOMAIN=CONTOSO
readonly DNS_DOMAIN=contoso.test
readonly BASE_DN=DC=contoso,DC=test
readonly HOST=dc1
readonly ADMIN_UPN=Administrator@contoso.test
# Samba's tools are Python 3 programs importing the samba package from Debian's python3; a python3 from pyenv or a
# virtualenv earlier on PATH would not find it.
readonly SYSTEM_PYTHON=/usr/bin/python3

prog=$(basename "$0")

usage() {
  cat >&2 <<EOF
usage: $prog start DIR | stop DIR | env DIR | status DIR

  start DIR   provision (first time) and start a throwaway Samba AD DC in DIR; waits for LDAPS
  stop DIR    stop it
  env DIR     print export lines for HRSYNC_TEST_AD_* (eval "\$($prog env DIR)")
  status DIR  exit 0 if it is running

Listens on \${HRSYNC_SAMBA_ADDR:-127.0.0.1} ports 389, 636, 3268, 3269. See the top of this script.
EOF
  exit 2
}

die() {
  echo "$prog: $*" >&2
  exit 1
}

# now_ms prints a monotonic-enough wall clock in milliseconds, for the timings start reports.
now_ms() { date +%s%3N; }

# shell_quote prints $1 as one single-quoted shell word.
shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

need_tools() {
  local missing=() t
  for t in samba samba-tool ldapsearch ldapmodify openssl iconv base64; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [ -x "$SYSTEM_PYTHON" ] || missing+=("$SYSTEM_PYTHON")
  if [ ${#missing[@]} -gt 0 ]; then
    die "missing ${missing[*]}: install them with
  apt-get install --no-install-recommends samba samba-ad-dc samba-ad-provision python3-samba ldap-utils openssl"
  fi
  [ -f /usr/share/samba/setup/ad-schema/AD_DS_Attributes__Windows_Server_2012_R2.ldf ] ||
    die "Samba's AD schema files are missing: apt-get install --no-install-recommends samba-ad-provision"
}

# running DIR: exit status 0 when the DC of DIR is alive (a zombie does not count).
running() {
  local pid stat
  [ -f "$1/samba.pid" ] || return 1
  pid=$(cat "$1/samba.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ $stat != Z* ]]
}

# ldap_client runs an OpenLDAP client against the DC, trusting only DIR's CA, binding as Administrator with the
# password from DIR/admin-password (read by the client from the file, never on a command line).
ldap_client() {
  local dir=$1 tool=$2
  shift 2
  LDAPTLS_CACERT="$dir/ca.pem" LDAPTLS_REQCERT=demand \
    "$tool" -H "ldaps://$(cat "$dir/addr"):636" -x -D "$ADMIN_UPN" -y "$dir/admin-password" "$@"
}

# make_tls DIR ADDR: a private CA (DIR/ca.pem) and a server certificate for the DC signed by it. Samba's own
# self-made certificate may carry a negative serial number, which Go's crypto/x509 refuses; these serials are
# random and positive, and the SANs cover the address clients use.
make_tls() {
  local dir=$1 addr=$2 tls=$1/tls
  mkdir -p "$tls"
  chmod 700 "$tls"
  # A random positive serial: 128 bits whose first hex digit is 1-7, so the top bit is clear.
  serial() { printf '0x%x%s' $((RANDOM % 7 + 1)) "$(openssl rand -hex 15)"; }
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -keyout "$tls/ca.key" -out "$dir/ca.pem" -set_serial "$(serial)" \
    -subj "/O=hrsync test/CN=hrsync test CA for $DNS_DOMAIN" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/O=hrsync test/CN=$HOST.$DNS_DOMAIN" 2>/dev/null
  openssl x509 -req -in "$tls/server.csr" -CA "$dir/ca.pem" -CAkey "$tls/ca.key" -set_serial "$(serial)" \
    -days 3650 -sha256 -out "$tls/server.pem" -extfile <(
      printf '%s\n' \
        "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" \
        "subjectAltName=IP:$addr,IP:127.0.0.1,DNS:localhost,DNS:$HOST.$DNS_DOMAIN,DNS:$HOST,DNS:$DNS_DOMAIN"
    ) 2>/dev/null
  rm -f "$tls/server.csr"
  # Samba refuses a key file that others can read.
  chmod 600 "$tls/ca.key" "$tls/server.key"
  chmod 644 "$dir/ca.pem" "$tls/server.pem"
}

# new_password prints a random password that meets AD's complexity rules (upper, lower, digit, symbol; 24+ chars).
new_password() {
  local r
  r=$(openssl rand -base64 24 | tr -d '+/=\n')
  printf 'Hr-%s-9a' "$r"
}

write_smb_conf() {
  local dir=$1 addr=$2
  mkdir -p "$dir/etc"
  cat >"$dir/etc/smb.conf" <<EOF
# Written by $prog for a throwaway domain controller; everything stays under $dir.
[global]
	netbios name = ${HOST^^}
	workgroup = $DOMAIN
	realm = $REALM
	server role = active directory domain controller
	# LDAP is all hrsync needs: no SMB, KDC, DNS, RPC, NetBIOS, winbindd.
	server services = ldap
	# addr/8 rather than addr: Samba takes a bare address only when an interface carries it, and lo carries only
	# 127.0.0.1; with a netmask it uses the address as given (Linux answers on all of 127.0.0.0/8).
	interfaces = $addr/8
	bind interfaces only = yes
	private dir = $dir/private
	lock directory = $dir/lock
	state directory = $dir/state
	cache directory = $dir/cache
	binddns dir = $dir/bind-dns
	pid directory = $dir/run
	ncalrpc dir = $dir/run/ncalrpc
	winbindd socket directory = $dir/run/winbindd
	ntp signd socket directory = $dir/run/ntp_signd
	log file = $dir/log/%m.log
	# A throwaway domain: no fsync at each write, as Samba's own test environments run (adds are ~10x faster).
	ldb:nosync = true
	tls enabled = yes
	tls keyfile = $dir/tls/server.key
	tls certfile = $dir/tls/server.pem
	tls cafile = $dir/ca.pem

[sysvol]
	path = $dir/state/sysvol
	read only = no

[netlogon]
	path = $dir/state/sysvol/$DNS_DOMAIN/scripts
	read only = no
EOF
}

# provision DIR: a new domain in DIR. The Administrator password goes to samba-tool as an argument, but inside
# Python, so that it never shows in a process list.
provision() {
  local dir=$1
  "$SYSTEM_PYTHON" - "$dir" <<'PY' >"$dir/provision.log" 2>&1 || {
import runpy, shutil, sys
d = sys.argv[1]
with open(d + "/admin-password") as f:
    password = f.read()
sys.argv = ["samba-tool", "domain", "provision", "--configfile=" + d + "/etc/smb.conf", "--targetdir=" + d,
            "--realm=CONTOSO.TEST", "--domain=CONTOSO", "--server-role=dc", "--dns-backend=NONE",
            "--host-name=dc1", "--adminpass=" + password]
runpy.run_path(shutil.which("samba-tool"), run_name="__main__")
PY
    tail -n 30 "$dir/provision.log" >&2
    die "samba-tool domain provision failed (log: $dir/provision.log)"
  }
}

# enable_recycle_bin DIR: turns on the "Recycle Bin Feature" through the local database as the system (over LDAP
# even Administrator gets "Insufficient rights for enableoptionalfeature" from Samba 4.17).
enable_recycle_bin() {
  local dir=$1
  "$SYSTEM_PYTHON" - "$dir" <<'PY' || die "enabling the AD Recycle Bin failed"
import sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
d = sys.argv[1]
lp = LoadParm()
lp.load(d + "/etc/smb.conf")
db = SamDB(url=d + "/private/sam.ldb", session_info=system_session(lp), lp=lp)
m = ldb.Message()
m.dn = ldb.Dn(db, "")
m["enableOptionalFeature"] = ldb.MessageElement(
    "CN=Partitions,%s:766ddcd8-acd0-445e-f3b9-a7f9b6744f2a" % db.get_config_basedn(),
    ldb.FLAG_MOD_ADD, "enableOptionalFeature")
db.modify(m)
PY
  touch "$dir/recycle-bin"
}

# utf16_password prints the base64 of a unicodePwd value: the password in double quotes, UTF-16LE.
utf16_password() { printf '"%s"' "$1" | iconv -f UTF-8 -t UTF-16LE | base64 -w0; }

# seed DIR: the OUs, groups and accounts tests and the example rely on. Idempotent: entries that exist are left
# as they are. This is the one place that defines them.
seed() {
  local dir=$1 out rc=0 svcpw kioskpw
  svcpw=$(utf16_password "$(new_password)")
  kioskpw=$(utf16_password "$(new_password)")
  out=$(ldap_client "$dir" ldapmodify -a -c 2>&1 <<EOF
dn: OU=People,$BASE_DN
objectClass: organizationalUnit
description: Workers managed by hrsync

dn: OU=Engineering,OU=People,$BASE_DN
objectClass: organizationalUnit

dn: OU=Sales,OU=People,$BASE_DN
objectClass: organizationalUnit

dn: OU=Finance,OU=People,$BASE_DN
objectClass: organizationalUnit

dn: OU=Leavers,$BASE_DN
objectClass: organizationalUnit
description: Disabled accounts of leavers

dn: OU=Groups,$BASE_DN
objectClass: organizationalUnit

dn: CN=All Staff,OU=Groups,$BASE_DN
objectClass: group
sAMAccountName: All Staff
groupType: -2147483646
description: Global security group: every worker

dn: CN=Engineering Staff,OU=Groups,$BASE_DN
objectClass: group
sAMAccountName: Engineering Staff
groupType: -2147483646
description: Global security group: the Engineering department

dn: CN=Sales Staff,OU=Groups,$BASE_DN
objectClass: group
sAMAccountName: Sales Staff
groupType: -2147483646
description: Global security group: the Sales department

dn: CN=svc-backup,OU=Engineering,OU=People,$BASE_DN
objectClass: user
sAMAccountName: svc-backup
userPrincipalName: svc-backup@$DNS_DOMAIN
description: Service account without employeeID: hrsync must never touch it
unicodePwd:: $svcpw
userAccountControl: 66048

dn: CN=Reception Kiosk,OU=Sales,OU=People,$BASE_DN
objectClass: user
sAMAccountName: kiosk
userPrincipalName: kiosk@$DNS_DOMAIN
description: Shared account without employeeID: hrsync must never touch it
unicodePwd:: $kioskpw
userAccountControl: 514
EOF
  ) || rc=$?
  # ldapmodify -c goes on after errors and exits with the last one; only "Already exists" is expected.
  if [ "$rc" -ne 0 ] && grep '^ldap' <<<"$out" | grep -qv '^ldap_add: Already exists (68)'; then
    printf '%s\n' "$out" >&2
    die "seeding the directory failed"
  fi
}

wait_ready() {
  local dir=$1 timeout=${HRSYNC_SAMBA_START_TIMEOUT:-60} start
  start=$(date +%s)
  while :; do
    if ! running "$dir"; then
      echo "--- last lines of $dir/samba.log" >&2
      tail -n 40 "$dir/samba.log" >&2 || true
      die "samba exited during start"
    fi
    if ldap_client "$dir" ldapsearch -o nettimeout=2 -LLL -s base -b "$BASE_DN" dn >/dev/null 2>&1; then
      return 0
    fi
    if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
      echo "--- last lines of $dir/samba.log" >&2
      tail -n 40 "$dir/samba.log" >&2 || true
      stop_dc "$dir" || true
      die "LDAPS on $(cat "$dir/addr"):636 did not answer within ${timeout}s"
    fi
    sleep 0.2
  done
}

# port_open ADDR PORT: exit status 0 when something accepts connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

start_dc() {
  local dir=$1 addr t0 t1 t2 t3 port
  need_tools
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if running "$dir"; then
    echo "$prog: already running in $dir (pid $(cat "$dir/samba.pid"))" >&2
    return 0
  fi
  t0=$(now_ms)
  if [ -f "$dir/private/sam.ldb" ]; then
    addr=$(cat "$dir/addr")
  else
    [ -z "$(ls -A "$dir")" ] || die "$dir is neither empty nor a DC made by $prog"
    addr=${HRSYNC_SAMBA_ADDR:-127.0.0.1}
    [[ $addr == 127.* ]] || die "HRSYNC_SAMBA_ADDR must be a loopback address (127.x.y.z), not $addr"
  fi
  for port in 389 636 3268 3269; do
    if port_open "$addr" "$port"; then
      die "$addr:$port is already in use (another LDAP server or DC?); give a new DIR another HRSYNC_SAMBA_ADDR"
    fi
  done
  if [ ! -f "$dir/private/sam.ldb" ]; then
    chmod 700 "$dir"
    printf '%s\n' "$addr" >"$dir/addr"
    (
      umask 077
      new_password >"$dir/admin-password"
    )
    make_tls "$dir" "$addr"
    write_smb_conf "$dir" "$addr"
    provision "$dir"
    if [ "${HRSYNC_SAMBA_RECYCLE_BIN:-}" = 1 ]; then
      enable_recycle_bin "$dir"
    fi
    echo "$prog: provisioned $REALM in $dir in $(($(now_ms) - t0)) ms" >&2
  fi
  mkdir -p "$dir/run" "$dir/log"
  t1=$(now_ms)
  # -i: foreground, log to stdout, own process group; stdin is /dev/null (a pipe would stop samba at its EOF).
  # setsid detaches it from the terminal so that Ctrl-C there does not reach it.
  setsid samba -i -M single -s "$dir/etc/smb.conf" </dev/null >"$dir/samba.log" 2>&1 &
  echo $! >"$dir/samba.pid"
  wait_ready "$dir"
  t2=$(now_ms)
  seed "$dir"
  t3=$(now_ms)
  echo "$prog: Samba AD DC for $REALM running in $dir (pid $(cat "$dir/samba.pid")), ldaps://$addr:636 and ldap://$addr:389 (StartTLS); started in $((t2 - t1)) ms, seeded in $((t3 - t2)) ms" >&2
}

stop_dc() {
  local dir=$1 pid i
  [ -f "$dir/samba.pid" ] || {
    echo "$prog: nothing running in $dir" >&2
    return 0
  }
  pid=$(cat "$dir/samba.pid")
  if running "$dir"; then
    # samba -i leads its own process group: signal the group, so that any helper it forked goes too.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      running "$dir" || break
      sleep 0.1
    done
    if running "$dir"; then
      echo "$prog: samba (pid $pid) ignored SIGTERM for 15 s; sending SIGKILL" >&2
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$dir/samba.pid"
  echo "$prog: stopped the DC in $dir" >&2
}

print_env() {
  local dir=$1 addr
  if [ ! -f "$dir/admin-password" ] || [ ! -f "$dir/addr" ]; then die "no DC in $dir (run: $prog start $dir)"; fi
  dir=$(cd "$dir" && pwd)
  addr=$(cat "$dir/addr")
  printf 'export HRSYNC_TEST_AD_URL=%s\n' "$(shell_quote "ldaps://$addr:636")"
  printf 'export HRSYNC_TEST_AD_STARTTLS_URL=%s\n' "$(shell_quote "ldap://$addr:389")"
  printf 'export HRSYNC_TEST_AD_CA=%s\n' "$(shell_quote "$dir/ca.pem")"
  printf 'export HRSYNC_TEST_AD_BIND_DN=%s\n' "$(shell_quote "$ADMIN_UPN")"
  printf 'export HRSYNC_TEST_AD_PASSWORD=%s\n' "$(shell_quote "$(cat "$dir/admin-password")")"
  printf 'export HRSYNC_TEST_AD_BASE_DN=%s\n' "$(shell_quote "$BASE_DN")"
  if [ -f "$dir/recycle-bin" ]; then
    printf 'export HRSYNC_TEST_AD_RECYCLE_BIN=1\n'
  fi
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
[ -n "$dir" ] || usage
case $cmd in
start) start_dc "$dir" ;;
stop) stop_dc "$dir" ;;
env) print_env "$dir" ;;
status) running "$dir" ;;
*) usage ;;
esac
