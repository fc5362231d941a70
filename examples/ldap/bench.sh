#!/usr/bin/env bash
# bench.sh [N]: how long hrsync takes to read N people (default 100,000) from OpenLDAP, against the same people
# from a CSV file, on this machine and in the same run.
#
# It generates N inetOrgPerson entries (a manager hierarchy, departments, two mail values for every tenth person)
# and the same people as a CSV, loads the entries into a throwaway slapd (slapd.sh) with slapadd, and measures
#   1. the sources alone: go test -bench 'Read(LDAP|CSV)' ./internal/source/ldap (time, allocations, peak heap, pages)
#   2. the whole tool: hrsync validate (read, map, plan against an empty tenant) on each, under /usr/bin/time -v
#      (wall time, peak RSS), with the pages from hrsync's debug log.
# Everything lives in a temporary folder, removed at the end (KEEP=1 keeps it); the slapd is stopped.
# Needs: slapd ldap-utils openssl (slapd.sh), go, GNU time (/usr/bin/time).
set -euo pipefail

n=${1:-100000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/hrsync-ldap-bench-XXXXXX)
dir=$work/slapd
base=ou=people,dc=example,dc=org
cleanup() {
  bash "$root/examples/ldap/slapd.sh" stop "$dir" >/dev/null 2>&1 || true
  if [ "${KEEP:-}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

echo "== generating $n people" >&2
awk -v n="$n" -v base="$base" -v ldif="$work/people.ldif" -v csv="$work/workers.csv" 'BEGIN {
  split("Ana José Zoë Łukasz Seán Priya Amelia Noah Mia Liam Yuki Ali Olga Jonas Chloé Mateo", given, " ")
  split("García Müller Nowak OBrien Natarajan Hart Smith Kowalski Rossi Tanaka Haddad Ivanova Berg Dubois Silva Jensen", family, " ")
  split("Engineer Analyst Manager Designer Accountant Recruiter Nurse Technician", titles, " ")
  print "WorkerID,Uid,FirstName,LastName,Mail,Department,JobTitle,ManagerID,EmployeeType" > csv
  for (i = 1; i <= n; i++) {
    uid = sprintf("u%07d", i); num = 100000 + i
    g = given[(i % 16) + 1]; f = family[(int(i / 16) % 16) + 1]
    dept = sprintf("D%03d", i % 97); title = titles[(i % 8) + 1]
    printf "dn: uid=%s,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s %s\ngivenName: %s\nsn: %s\nmail: %s@example.org\n", uid, base, uid, g, f, g, f, uid > ldif
    if (i % 10 == 0) printf "mail: %s.alias@example.org\n", uid > ldif
    printf "employeeNumber: %d\ndepartmentNumber: %s\ntitle: %s\nemployeeType: Employee\n", num, dept, title > ldif
    mgr = ""
    if (i > 1) { m = int((i - 2) / 10) + 1; printf "manager: uid=u%07d,%s\n", m, base > ldif; mgr = 100000 + m }
    printf "\n" > ldif
    mail = uid "@example.org"; if (i % 10 == 0) mail = "\"" mail "," uid ".alias@example.org\""
    printf "%d,%s,%s,%s,%s,%s,%s,%s,Employee\n", num, uid, g, f, mail, dept, title, mgr > csv
  }
}'

echo "== loading them into a throwaway slapd (slapadd)" >&2
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tls_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
HRSYNC_SLAPD_PORT=$port HRSYNC_SLAPD_TLS_PORT=$tls_port HRSYNC_SLAPD_MAXSIZE=$((4 << 30)) \
  bash "$root/examples/ldap/slapd.sh" start "$dir" 2>/dev/null
bash "$root/examples/ldap/slapd.sh" stop "$dir" 2>/dev/null
t0=$(date +%s%3N)
/usr/sbin/slapadd -q -f "$dir/slapd.conf" -l "$work/people.ldif"
echo "   slapadd: $(($(date +%s%3N) - t0)) ms" >&2
bash "$root/examples/ldap/slapd.sh" start "$dir" 2>/dev/null
eval "$(bash "$root/examples/ldap/slapd.sh" env "$dir")"

echo "== building hrsync" >&2
(cd "$root" && go build -o "$work/hrsync" ./cmd/hrsync)

cat >"$work/csv.yaml" <<YAML
mapping: $work/csv-mapping.yaml
source: {type: csv, path: $work/workers.csv}
target: {type: sandbox, state: $work/sandbox.json}
YAML
cat >"$work/ldap.yaml" <<YAML
mapping: $root/mappings/ldap-inetorgperson.yaml
source:
  type: ldap
  ldap: {preset: inetorgperson, url: $HRSYNC_TEST_LDAP_URL, ca_file: $HRSYNC_TEST_LDAP_CA, bind_dn: "$HRSYNC_TEST_LDAP_BIND_DN", base_dn: "$base"}
target: {type: sandbox, state: $work/sandbox.json}
YAML
# The same mapping for the CSV's columns.
cat >"$work/csv-mapping.yaml" <<'YAML'
match: {source: '[WorkerID]', target: employeeId}
attributes:
  displayName: 'Join(" ", [FirstName], [LastName])'
  givenName: '[FirstName]'
  surname: '[LastName]'
  mailNickname: 'ToLower(NormalizeDiacritics([Uid]))'
  userPrincipalName: 'Append(ToLower(NormalizeDiacritics([Uid])), "@example.org")'
  mail: 'Item(Split([Mail], ","), 1)'
  department: '[Department]'
  jobTitle: '[JobTitle]'
  employeeType: '[EmployeeType]'
  manager: '[ManagerID]'
YAML

measure() { # name config [env...]
  local name=$1 cfg=$2 out=$work/$1.time
  shift 2
  env "$@" /usr/bin/time -v "$work/hrsync" validate -c "$cfg" --log-level debug >"$work/$name.out" 2>"$out" || {
    cat "$out" >&2
    exit 1
  }
  local wall rss pages
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out")
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out")
  pages=$(grep -o "pages=[0-9]*" "$out" | head -1 | cut -d= -f2 || true)
  printf '| %s | %s | %d MiB | %s |\n' "$name" "$wall" $((rss / 1024)) "${pages:--}"
}

echo "== sources alone (go test -bench)" >&2
(cd "$root" && HRSYNC_BENCH_LDAP_URL=$HRSYNC_TEST_LDAP_URL HRSYNC_BENCH_LDAP_CA=$HRSYNC_TEST_LDAP_CA \
  HRSYNC_BENCH_LDAP_BIND_DN=$HRSYNC_TEST_LDAP_BIND_DN HRSYNC_BENCH_LDAP_PASSWORD=$HRSYNC_TEST_LDAP_PASSWORD \
  HRSYNC_BENCH_LDAP_BASE=$base HRSYNC_BENCH_CSV=$work/workers.csv \
  go test -run '^$' -bench 'Read(LDAP|CSV)$' -benchtime "${BENCHTIME:-3x}" ./internal/source/ldap | grep -E '^(Benchmark|goos|cpu)')

echo "== hrsync validate ($n people: read, map, plan against an empty tenant)" >&2
echo "| source | wall | peak RSS | pages |"
echo "|---|---:|---:|---:|"
measure ldap "$work/ldap.yaml" HRSYNC_SOURCE_PASSWORD="$HRSYNC_TEST_LDAP_PASSWORD"
measure csv "$work/csv.yaml"
