#!/usr/bin/env bash
# hrsync-nightly.sh: nightly hrsync plan (and, only if allowed, apply) on a Linux host.
#
# hrsync: a release archive (hrsync_<version>_linux_amd64.tar.gz), checked against the release's
# hrsync_<version>_checksums.txt (sha256sum --ignore-missing -c), unpacked to /usr/local/bin/hrsync; or
# go install github.com/hrsync/hrsync/cmd/hrsync@v<version>. HRSYNC_CRON_BIN names another path.
#
# Auth is whatever hrsync.yaml says; on a host that means target.auth: managed_identity (an Azure VM or Arc
# machine; target.client_id / AZURE_CLIENT_ID picks a user-assigned identity) or certificate
# (AZURE_CLIENT_CERTIFICATE_PATH, readable only by the hrsync user). Put such variables and the HR source's
# secrets in HRSYNC_CRON_ENV_FILE (mode 0600, owned by the hrsync user), as NAME=value lines.
#
# Default: plan only, and notify a person when there are changes; they review and run
#   hrsync apply -c CONFIG RUN_DIR/plan.json
# With HRSYNC_CRON_AUTO_APPLY=1 the plan is applied unattended (with --report), never over the leaver
# thresholds (a blocked plan is reported, not applied).
#
# Unresolved problems (a joiner that cannot be created, records left out, ...: hrsync plan --detailed-exitcode
# adds 8 to its exit code) are mailed every night until someone fixes the source, the mapping or the directory,
# also when there is nothing to apply: a plan with no changes is not "all is well" while a worker has no account.
#
# Exit codes: 0 nothing to act on / applied / changes waiting for review; 1 hrsync error; 3 apply incomplete;
# 4 another run holds the lock; 5 wrapper misconfigured; 6 unresolved problems (mailed; the rest went well).
set -euo pipefail

config=${HRSYNC_CRON_CONFIG:-/etc/hrsync/hrsync.yaml}
hrsync=${HRSYNC_CRON_BIN:-$(command -v hrsync || echo /usr/local/bin/hrsync)} # cron's PATH (crontab.example)
data_dir=${HRSYNC_CRON_DATA_DIR:-/var/lib/hrsync}         # dated run folders: plan.json, report.csv, hrsync.log
keep=${HRSYNC_CRON_KEEP:-14}                               # run folders to keep (they name people)
auto_apply=${HRSYNC_CRON_AUTO_APPLY:-0}                    # 1: apply unattended
notify_to=${HRSYNC_CRON_NOTIFY:-}                          # mail address; empty: print (cron mails it to MAILTO)
env_file=${HRSYNC_CRON_ENV_FILE:-/etc/hrsync/hrsync.env}
lock_file=${HRSYNC_CRON_LOCK:-$data_dir/.lock}

umask 077 # plans, reports and logs name people: owner only

die() { echo "hrsync-nightly: $*" >&2; exit 5; }
[[ -x $hrsync ]] || die "hrsync binary $hrsync not found or not executable (HRSYNC_CRON_BIN)"
[[ -r $config ]] || die "config $config not readable (HRSYNC_CRON_CONFIG)"
[[ $keep =~ ^[1-9][0-9]*$ ]] || die "HRSYNC_CRON_KEEP must be a positive number, not '$keep'"
[[ $auto_apply == 0 || $auto_apply == 1 ]] || die "HRSYNC_CRON_AUTO_APPLY must be 0 or 1, not '$auto_apply'"
mkdir -p "$data_dir"

if [[ -f $env_file ]]; then
  [[ $(stat -c %a "$env_file") =~ ^[46]00$ ]] || die "$env_file holds secrets: chmod 600 it"
  set -a
  # shellcheck source=/dev/null
  . "$env_file"
  set +a
fi

# One run at a time: a second run (a slow night, a manual start) gives up instead of overlapping.
exec 9>"$lock_file"
if ! flock -n 9; then
  echo "hrsync-nightly: another run holds $lock_file; not starting." >&2
  exit 4
fi

run_dir=$(mktemp -d "$data_dir/$(date -u +%Y%m%dT%H%M%SZ).XXXX") # dated, unique, mode 0700
log="$run_dir/hrsync.log" # JSON lines from hrsync (plus its plain "Error:" lines), and this script's notes
note() { printf '%s hrsync-nightly: %s\n' "$(date -u +%FT%TZ)" "$*" >> "$log"; } # log only: cron mails what is printed

notify() { # subject, body file
  if [[ -n $notify_to ]] && command -v mail >/dev/null; then
    mail -s "$1" "$notify_to" < "$2"
  else
    { echo "$1"; echo; cat "$2"; } # cron mails a job's output to MAILTO
  fi
}

# shellcheck disable=SC2317 # run by the EXIT trap
prune() { # keep the newest $keep run folders
  find "$data_dir" -mindepth 1 -maxdepth 1 -type d -name '20*Z.*' -printf '%f\n' | sort -r |
    tail -n +"$((keep + 1))" | while read -r old; do rm -rf -- "${data_dir:?}/$old"; done
}
trap prune EXIT

set +e
"$hrsync" plan -c "$config" --out "$run_dir/plan.json" --detailed-exitcode \
  --log-format json --log-level info > "$run_dir/plan.txt" 2>>"$log"
rc=$?
set -e
# --detailed-exitcode: 0 no changes, 2 changes, 4 changes a safety threshold blocks; plus 8 for unresolved problems.
case $rc in
  0|2|4|8|10|12) ;;
  *) note "plan failed (exit $rc): nothing planned or changed. Bad config, mapping or source, HR or Graph unreachable, or sign-in failed; see $log"
     tail -n 20 "$log" > "$run_dir/notify.txt"
     notify "hrsync: plan FAILED on $(hostname)" "$run_dir/notify.txt"
     exit 1 ;;
esac
problems=0
if (( rc & 8 )); then
  problems=$(jq -r '.summary.problems // 0' "$run_dir/plan.json" 2>/dev/null || echo "?")
  note "the plan has $problems unresolved problem(s): records hrsync cannot provision or leaves out; they stay until someone fixes the source, the mapping or the directory"
fi
problem_lines() { # the plan's unresolved problems, one line each
  jq -r '.warnings[]? | select(.severity == "problem") | "  ! \(.code) \(.key // ""): \(.message)"' "$run_dir/plan.json" 2>/dev/null ||
    echo "  (see $run_dir/plan.json)"
}
finish() { # exit code $1, or 6 when it is 0 and there are unresolved problems (they were mailed)
  if [[ $1 == 0 && $problems != 0 ]]; then exit 6; fi
  exit "$1"
}
case $(( rc & 7 )) in
  0) if [[ $problems == 0 ]]; then
       note "no changes: Entra ID matches HR"
       exit 0
     fi
     note "no changes to apply, but $problems unresolved problem(s)"
     {
       echo "hrsync has nothing to apply on $(hostname), but $problems unresolved problem(s) need a person:"
       echo "fix the HR source, the mapping or the directory (hrsync explain -c $config KEY says why)."
       echo
       problem_lines
     } > "$run_dir/notify.txt"
     notify "hrsync: $problems unresolved problem(s) on $(hostname)" "$run_dir/notify.txt"
     finish 0 ;;
  2) note "plan has changes: $run_dir/plan.json" ;;
  4) note "plan has changes, but a safety threshold blocks them (exit 4): $run_dir/plan.json" ;;
esac
also=""
[[ $problems == 0 ]] || also=", and $problems unresolved problem(s)"

"$hrsync" show "$run_dir/plan.json" --format text > "$run_dir/plan.txt"
applyable=$(jq -r '.applyable' "$run_dir/plan.json" 2>/dev/null || echo unknown)

if [[ $auto_apply != 1 || $applyable != true ]]; then
  if [[ $applyable != true ]]; then
    note "plan is blocked by a safety threshold (policy.max_leavers*): not applied; review it"
  fi
  {
    echo "hrsync found changes on $(hostname)$also. Review, then apply exactly this plan:"
    echo "  $hrsync apply -c $config $run_dir/plan.json --report $run_dir/report.csv"
    [[ $applyable == true ]] || echo "  (blocked by a safety threshold: add --allow-over-thresholds only if the plan is right)"
    if [[ $problems != 0 ]]; then
      echo
      echo "Unresolved problems: applying does not fix them; fix the HR source, the mapping or the directory."
      problem_lines
    fi
    echo
    cat "$run_dir/plan.txt"
  } > "$run_dir/notify.txt"
  notify "hrsync: changes waiting for review on $(hostname)$also" "$run_dir/notify.txt"
  finish 0
fi

note "HRSYNC_CRON_AUTO_APPLY=1: applying $run_dir/plan.json unattended"
set +e
"$hrsync" apply -c "$config" "$run_dir/plan.json" --auto-approve --report "$run_dir/report.csv" \
  --log-format json --log-level info > "$run_dir/apply.txt" 2>>"$log"
rc=$?
set -e
case $rc in
  0) note "applied: every action done; report $run_dir/report.csv"; subject="hrsync: applied on $(hostname)$also" ;;
  3) note "apply incomplete (exit 3): some actions failed, were partly done, refused as stale or not started, and the rest were applied (see status and error_code in $run_dir/report.csv; the next run converges); or the plan holds actions the mapping does not give from the source now and nothing was applied (see the log)"
     subject="hrsync: apply INCOMPLETE on $(hostname)$also" ;;
  *) note "apply failed (exit $rc): nothing applied. Plan refused (tenant, config or mapping changed; leaver thresholds) or sign-in / Graph failed; see $log"
     subject="hrsync: apply FAILED on $(hostname)$also"; rc=1 ;;
esac
{
  cat "$run_dir/apply.txt"
  if [[ $problems != 0 ]]; then
    echo
    echo "Unresolved problems: applying did not fix them; fix the HR source, the mapping or the directory."
    problem_lines
  fi
  echo
  tail -n 20 "$log"
} > "$run_dir/notify.txt"
notify "$subject" "$run_dir/notify.txt"
finish "$rc"
