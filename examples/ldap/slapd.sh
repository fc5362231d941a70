#!/usr/bin/env bash
# slapd.sh: a throwaway OpenLDAP server, for hrsync's tests and for trying hrsync against LDAP.
#
#   slapd.sh start DIR    configure (first time only) a slapd in DIR, start it, seed it; waits until it answers
#   slapd.sh stop DIR     stop it (SIGTERM to its process group, then wait)
#   slapd.sh env DIR      print `export HRSYNC_TEST_LDAP_...` lines: eval "$(slapd.sh env DIR)"
#   slapd.sh status DIR   exit 0 if it is running
#
# The directory: base dc=example,dc=org (mdb backend), rootdn cn=admin,dc=example,dc=org with a generated password;
# schemas core, cosine, nis and inetorgperson; the ppolicy overlay (its schema is built into OpenLDAP 2.5) with a
# default policy that locks out, refint (manager, member, uniqueMember follow renames) and unique (uid in ou=people).
# Everything lives in DIR: slapd.conf, the database (DIR/data), the TLS CA (DIR/ca.pem) and server certificate, the
# log (DIR/slapd.log), the pid (DIR/slapd.pid) and the passwords (DIR/*-password, mode 0600; printed only by `env`).
# Nothing touches /etc/ldap or the system's slapd. Delete DIR after `stop` to throw the directory away.
#
# Seeded entries: ou=people (anonymous read allowed, for anonymous-bind tests) with ou=engineering, ou=sales and
# ou=finance, ou=groups with cn=staff (groupOfNames) and cn=engineers (posixGroup), ou=disabled,
# cn=default,ou=policies (the default password policy), and two bind
# users for fail-closed tests: cn=limited (size limit 5 entries) and cn=nopaging (paged results disabled:
# size.prtotal=disabled).
#
# Ports: ldap://ADDR:PORT (plain LDAP and StartTLS) and ldaps://ADDR:TLS_PORT, on loopback only.
#
# Environment (fixed at the first start of DIR):
#   HRSYNC_SLAPD_ADDR       loopback address (default 127.0.0.1)
#   HRSYNC_SLAPD_PORT       LDAP and StartTLS port (default 3890)
#   HRSYNC_SLAPD_TLS_PORT   LDAPS port (default 6360)
#   HRSYNC_SLAPD_MAXSIZE    largest database size in bytes (default 268435456, 256 MiB; bench.sh loads 100,000 people)
# and at each start:
#   HRSYNC_SLAPD_DEBUG      slapd's -d level, e.g. stats to log every operation (default 0: start-up and errors)
#   HRSYNC_SLAPD_START_TIMEOUT  seconds to wait for slapd to answer (default 60)
#
# Needs (Debian): slapd ldap-utils openssl (and bash, coreutils).
set -euo pipefail

readonly BASE_DN=dc=example,dc=org
readonly ADMIN_DN=cn=admin,dc=example,dc=org
readonly LIMITED_DN=cn=limited,dc=example,dc=org
readonly NOPAGING_DN=cn=nopaging,dc=example,dc=org
readonly SCHEMA_DIR=/etc/ldap/schema
readonly MODULE_DIR=/usr/lib/ldap

prog=$(basename "$0")

usage() {
  cat >&2 <<EOF
usage: $prog start DIR | stop DIR | env DIR | status DIR

  start DIR   configure (first time) and start a throwaway slapd in DIR; waits until it answers
  stop DIR    stop it
  env DIR     print export lines for HRSYNC_TEST_LDAP_* (eval "\$($prog env DIR)")
  status DIR  exit 0 if it is running

Listens on \${HRSYNC_SLAPD_ADDR:-127.0.0.1}, ports \${HRSYNC_SLAPD_PORT:-3890} (LDAP, StartTLS) and
\${HRSYNC_SLAPD_TLS_PORT:-6360} (LDAPS). See the top of this script.
EOF
  exit 2
}

die() {
  echo "$prog: $*" >&2
  exit 1
}

now_ms() { date +%s%3N; }

shell_quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# sbin TOOL prints the path of slapd or slappasswd, which live in /usr/sbin (not on every user's PATH).
sbin() {
  if command -v "$1" >/dev/null 2>&1; then
    command -v "$1"
  elif [ -x "/usr/sbin/$1" ]; then
    echo "/usr/sbin/$1"
  else
    return 1
  fi
}

need_tools() {
  local missing=() t
  sbin slapd >/dev/null || missing+=(slapd)
  sbin slappasswd >/dev/null || missing+=(slappasswd)
  for t in ldapsearch ldapmodify openssl; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
  done
  [ -f "$SCHEMA_DIR/inetorgperson.schema" ] || missing+=("$SCHEMA_DIR/inetorgperson.schema")
  [ -f "$MODULE_DIR/back_mdb.so" ] || missing+=("$MODULE_DIR/back_mdb.so")
  if [ ${#missing[@]} -gt 0 ]; then
    die "missing ${missing[*]}: install them with
  apt-get install --no-install-recommends slapd ldap-utils openssl"
  fi
}

running() {
  local pid stat
  [ -f "$1/slapd.pid" ] || return 1
  pid=$(cat "$1/slapd.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ $stat != Z* ]]
}

# load_listen DIR sets addr, port and tls_port from DIR/listen.
load_listen() {
  read -r addr port tls_port <"$1/listen" || die "cannot read $1/listen"
}

# ldap_client DIR TOOL ARGS: runs an OpenLDAP client as the rootdn over StartTLS, trusting only DIR's CA; the
# password is read by the client from DIR/admin-password, never put on a command line.
ldap_client() {
  local dir=$1 tool=$2 addr port tls_port
  shift 2
  load_listen "$dir"
  LDAPTLS_CACERT="$dir/ca.pem" LDAPTLS_REQCERT=demand \
    "$tool" -H "ldap://$addr:$port" -ZZ -x -D "$ADMIN_DN" -y "$dir/admin-password" "$@"
}

# make_tls DIR ADDR: a private CA (DIR/ca.pem) and a server certificate signed by it, with random positive serials
# and SANs for the address clients use.
make_tls() {
  local dir=$1 addr=$2 tls=$1/tls
  mkdir -p "$tls"
  chmod 700 "$tls"
  serial() { printf '0x%x%s' $((RANDOM % 7 + 1)) "$(openssl rand -hex 15)"; }
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 3650 \
    -keyout "$tls/ca.key" -out "$dir/ca.pem" -set_serial "$(serial)" \
    -subj "/O=hrsync test/CN=hrsync test CA for slapd" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
    -keyout "$tls/server.key" -out "$tls/server.csr" -subj "/O=hrsync test/CN=localhost" 2>/dev/null
  openssl x509 -req -in "$tls/server.csr" -CA "$dir/ca.pem" -CAkey "$tls/ca.key" -set_serial "$(serial)" \
    -days 3650 -sha256 -out "$tls/server.pem" -extfile <(
      printf '%s\n' \
        "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature,keyEncipherment" \
        "extendedKeyUsage=serverAuth" \
        "subjectAltName=IP:$addr,IP:127.0.0.1,DNS:localhost"
    ) 2>/dev/null
  rm -f "$tls/server.csr"
  chmod 600 "$tls/ca.key" "$tls/server.key"
  chmod 644 "$dir/ca.pem" "$tls/server.pem"
}

new_password() {
  local r
  r=$(openssl rand -base64 24 | tr -d '+/=\n')
  printf 'Hr-%s-9a' "$r"
}

# ssha FILE prints the {SSHA} hash of the password in FILE (slapd stores and compares only the hash).
ssha() { "$(sbin slappasswd)" -h '{SSHA}' -T "$1"; }

write_slapd_conf() {
  local dir=$1 rootpw
  rootpw=$(ssha "$dir/admin-password")
  cat >"$dir/slapd.conf" <<EOF
# Written by $prog for a throwaway directory; everything stays under $dir.
include $SCHEMA_DIR/core.schema
include $SCHEMA_DIR/cosine.schema
include $SCHEMA_DIR/nis.schema
include $SCHEMA_DIR/inetorgperson.schema

modulepath $MODULE_DIR
moduleload back_mdb
moduleload ppolicy
moduleload refint
moduleload unique

pidfile $dir/run/slapd.pid
argsfile $dir/run/slapd.args

TLSCACertificateFile $dir/ca.pem
TLSCertificateFile $dir/tls/server.pem
TLSCertificateKeyFile $dir/tls/server.key

# OpenLDAP's default, written out: a search returns at most 500 entries unless a limits rule says otherwise.
sizelimit 500

# The root DSE and the schema are readable by anyone (clients read supportedControl and the schema).
access to dn.base="" by * read
access to dn.base="cn=Subschema" by * read

database mdb
maxsize ${HRSYNC_SLAPD_MAXSIZE:-268435456}
suffix "$BASE_DN"
rootdn "$ADMIN_DN"
rootpw $rootpw
directory $dir/data

index objectClass eq
index cn,uid,mail,employeeNumber eq,sub
index entryCSN,entryUUID eq
index manager,member,uniqueMember,memberUid eq

# Password policy: the default policy locks out, so a pwdAccountLockedTime of 000001010000Z (hrsync's ppolicy
# disable) keeps the user from binding (without pwdLockout: TRUE, ppolicy ignores the lock).
overlay ppolicy
ppolicy_default "cn=default,ou=policies,$BASE_DN"

# Referential integrity: renaming or moving an entry rewrites the DNs that name it in manager and group members.
overlay refint
refint_attributes manager member uniqueMember

# A uid is unique among people, whatever their branch.
overlay unique
unique_uri ldap:///ou=people,$BASE_DN?uid?sub?(objectClass=inetOrgPerson)

# Fail-closed tests: a bind user whose searches stop after 5 entries (result 4, size limit exceeded), and one for
# whom the paged results control is disabled.
limits dn.exact="$LIMITED_DN" size=5
limits dn.exact="$NOPAGING_DN" size.prtotal=disabled

access to attrs=userPassword
  by self write
  by anonymous auth
  by * none
access to dn.subtree="ou=people,$BASE_DN"
  by users read
  by anonymous read
access to *
  by users read
  by * none
EOF
}

# seed DIR: the entries tests and the example rely on. Idempotent: entries that exist are left as they are. This is
# the one place that defines them.
seed() {
  local dir=$1 out rc=0 limited_hash nopaging_hash
  limited_hash=$(ssha "$dir/limited-password")
  nopaging_hash=$(ssha "$dir/nopaging-password")
  out=$(ldap_client "$dir" ldapmodify -a -c 2>&1 <<EOF
dn: $BASE_DN
objectClass: dcObject
objectClass: organization
dc: example
o: Example Org

dn: ou=people,$BASE_DN
objectClass: organizationalUnit
ou: people
description: Workers managed by hrsync (anonymous read allowed)

dn: ou=groups,$BASE_DN
objectClass: organizationalUnit
ou: groups

dn: ou=disabled,$BASE_DN
objectClass: organizationalUnit
ou: disabled
description: Entries of leavers

dn: ou=engineering,ou=people,$BASE_DN
objectClass: organizationalUnit
ou: engineering

dn: ou=sales,ou=people,$BASE_DN
objectClass: organizationalUnit
ou: sales

dn: ou=finance,ou=people,$BASE_DN
objectClass: organizationalUnit
ou: finance

dn: cn=staff,ou=groups,$BASE_DN
objectClass: groupOfNames
cn: staff
description: Everyone (groupOfNames needs a member: the administrator holds the place)
member: $ADMIN_DN

dn: cn=engineers,ou=groups,$BASE_DN
objectClass: posixGroup
cn: engineers
gidNumber: 5001

dn: ou=policies,$BASE_DN
objectClass: organizationalUnit
ou: policies

dn: cn=default,ou=policies,$BASE_DN
objectClass: device
objectClass: pwdPolicy
cn: default
description: Default password policy: lockout on, so a permanent lock (pwdAccountLockedTime 000001010000Z) holds
pwdAttribute: userPassword
pwdLockout: TRUE
pwdMaxFailure: 10
pwdLockoutDuration: 900

dn: $LIMITED_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: limited
description: Bind user whose searches return at most 5 entries
userPassword: $limited_hash

dn: $NOPAGING_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: nopaging
description: Bind user who may not use the paged results control
userPassword: $nopaging_hash
EOF
  ) || rc=$?
  if [ "$rc" -ne 0 ] && grep '^ldap' <<<"$out" | grep -qv '^ldap_add: Already exists (68)'; then
    printf '%s\n' "$out" >&2
    die "seeding the directory failed"
  fi
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_ready() {
  local dir=$1 timeout=${HRSYNC_SLAPD_START_TIMEOUT:-60} start addr port tls_port
  load_listen "$dir"
  start=$(date +%s)
  while :; do
    if ! running "$dir"; then
      echo "--- last lines of $dir/slapd.log" >&2
      tail -n 40 "$dir/slapd.log" >&2 || true
      die "slapd exited during start"
    fi
    # The root DSE answers before anything is seeded; a StartTLS bind as the rootdn proves TLS and the password.
    if ldap_client "$dir" ldapsearch -o nettimeout=2 -LLL -s base -b "" namingContexts >/dev/null 2>&1; then
      return 0
    fi
    if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
      echo "--- last lines of $dir/slapd.log" >&2
      tail -n 40 "$dir/slapd.log" >&2 || true
      stop_slapd "$dir" || true
      die "slapd on $addr:$port did not answer within ${timeout}s"
    fi
    sleep 0.05
  done
}

start_slapd() {
  local dir=$1 slapd addr port tls_port t0 t1 t2 p
  need_tools
  slapd=$(sbin slapd)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if running "$dir"; then
    echo "$prog: already running in $dir (pid $(cat "$dir/slapd.pid"))" >&2
    return 0
  fi
  t0=$(now_ms)
  if [ -f "$dir/slapd.conf" ]; then
    load_listen "$dir"
  else
    [ -z "$(ls -A "$dir")" ] || die "$dir is neither empty nor a directory made by $prog"
    addr=${HRSYNC_SLAPD_ADDR:-127.0.0.1}
    port=${HRSYNC_SLAPD_PORT:-3890}
    tls_port=${HRSYNC_SLAPD_TLS_PORT:-6360}
    [[ $addr == 127.* ]] || die "HRSYNC_SLAPD_ADDR must be a loopback address (127.x.y.z), not $addr"
    [[ $port =~ ^[0-9]+$ && $tls_port =~ ^[0-9]+$ ]] || die "HRSYNC_SLAPD_PORT and HRSYNC_SLAPD_TLS_PORT must be numbers"
    [[ ${HRSYNC_SLAPD_MAXSIZE:-268435456} =~ ^[0-9]+$ ]] || die "HRSYNC_SLAPD_MAXSIZE must be a number of bytes"
  fi
  for p in "$port" "$tls_port"; do
    if port_open "$addr" "$p"; then
      die "$addr:$p is already in use; choose other HRSYNC_SLAPD_PORT / HRSYNC_SLAPD_TLS_PORT (for a new DIR)"
    fi
  done
  if [ ! -f "$dir/slapd.conf" ]; then
    chmod 700 "$dir"
    printf '%s %s %s\n' "$addr" "$port" "$tls_port" >"$dir/listen"
    (
      umask 077
      new_password >"$dir/admin-password"
      new_password >"$dir/limited-password"
      new_password >"$dir/nopaging-password"
    )
    make_tls "$dir" "$addr"
    mkdir -p "$dir/data" "$dir/run"
    write_slapd_conf "$dir"
  fi
  mkdir -p "$dir/run"
  t1=$(now_ms)
  # -d keeps slapd in the foreground (it logs to stderr); setsid gives it its own session and process group.
  setsid "$slapd" -d "${HRSYNC_SLAPD_DEBUG:-0}" -f "$dir/slapd.conf" \
    -h "ldap://$addr:$port/ ldaps://$addr:$tls_port/" </dev/null >"$dir/slapd.log" 2>&1 &
  echo $! >"$dir/slapd.pid"
  wait_ready "$dir"
  t2=$(now_ms)
  seed "$dir"
  echo "$prog: slapd for $BASE_DN running in $dir (pid $(cat "$dir/slapd.pid")), ldap://$addr:$port (StartTLS) and ldaps://$addr:$tls_port; set up in $((t1 - t0)) ms, started in $((t2 - t1)) ms, seeded in $(($(now_ms) - t2)) ms" >&2
}

stop_slapd() {
  local dir=$1 pid i
  [ -f "$dir/slapd.pid" ] || {
    echo "$prog: nothing running in $dir" >&2
    return 0
  }
  pid=$(cat "$dir/slapd.pid")
  if running "$dir"; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      running "$dir" || break
      sleep 0.1
    done
    if running "$dir"; then
      echo "$prog: slapd (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
  fi
  rm -f "$dir/slapd.pid"
  echo "$prog: stopped slapd in $dir" >&2
}

print_env() {
  local dir=$1 addr port tls_port
  if [ ! -f "$dir/admin-password" ] || [ ! -f "$dir/listen" ]; then
    die "no slapd in $dir (run: $prog start $dir)"
  fi
  dir=$(cd "$dir" && pwd)
  load_listen "$dir"
  printf 'export HRSYNC_TEST_LDAP_URL=%s\n' "$(shell_quote "ldap://$addr:$port")"
  printf 'export HRSYNC_TEST_LDAPS_URL=%s\n' "$(shell_quote "ldaps://$addr:$tls_port")"
  printf 'export HRSYNC_TEST_LDAP_CA=%s\n' "$(shell_quote "$dir/ca.pem")"
  printf 'export HRSYNC_TEST_LDAP_BIND_DN=%s\n' "$(shell_quote "$ADMIN_DN")"
  printf 'export HRSYNC_TEST_LDAP_PASSWORD=%s\n' "$(shell_quote "$(cat "$dir/admin-password")")"
  printf 'export HRSYNC_TEST_LDAP_BASE_DN=%s\n' "$(shell_quote "$BASE_DN")"
  printf 'export HRSYNC_TEST_LDAP_LIMITED_DN=%s\n' "$(shell_quote "$LIMITED_DN")"
  printf 'export HRSYNC_TEST_LDAP_LIMITED_PASSWORD=%s\n' "$(shell_quote "$(cat "$dir/limited-password")")"
  printf 'export HRSYNC_TEST_LDAP_NOPAGING_DN=%s\n' "$(shell_quote "$NOPAGING_DN")"
  printf 'export HRSYNC_TEST_LDAP_NOPAGING_PASSWORD=%s\n' "$(shell_quote "$(cat "$dir/nopaging-password")")"
}

[ $# -eq 2 ] || usage
cmd=$1
dir=$2
[ -n "$dir" ] || usage
case $cmd in
start) start_slapd "$dir" ;;
stop) stop_slapd "$dir" ;;
env) print_env "$dir" ;;
status) running "$dir" ;;
*) usage ;;
esac
