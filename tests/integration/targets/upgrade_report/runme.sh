#!/usr/bin/env bash
# Integration test for the idmops.lifecycle.upgrade_report callback, end to end.
#
# Starts, on 127.0.0.1 only and under a temporary directory: an HTTP stand-in node (files/backend.py),
# a real HAProxy in front of it with three servers named node1..node3 and an admin socket, and the
# collection's load probe (lab/probe.py) through HAProxy. Runs playbook.yml with the callback enabled,
# merges its report with the probe results again through the module's command line, and checks both
# with files/check_report.py, which also renders the page in headless Chromium and keeps the screenshot
# under the collection's tests/output/upgrade_report/ (ansible-test's output directory). Stops everything
# it started by PID. Extra arguments go to ansible-playbook (e.g. -v). KEEP_UPGRADE_REPORT=1 keeps the
# temporary directory.
#
#   bash tests/integration/targets/upgrade_report/runme.sh      (with the venv on PATH)

set -eu -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"
playbook_bin=$(playbook_command)
python=$(python_command "$playbook_bin")
haproxy=$(haproxy_command)

export_collections_path
collection=$(cd "$ANSIBLE_COLLECTIONS_PATH/ansible_collections/idmops/lifecycle" && pwd -P)
probe_script=$collection/lab/probe.py
if [ ! -f "$probe_script" ]; then
    echo "runme.sh: the load probe $probe_script is missing" >&2
    exit 1
fi

workdir=$(mktemp -d "${TMPDIR:-/tmp}/upgrade_report.XXXXXX")
remove_on_exit "$workdir" KEEP_UPGRADE_REPORT

read -r fe_port node_port <<<"$(free_ports 2)"

"$python" "$here/files/backend.py" "$node_port" "$workdir/upgrading" 2.0.0 &
on_exit stop_pid $! 5

cat > "$workdir/haproxy.cfg" <<CFG
global
    stats socket $workdir/admin.sock mode 600 level admin
    stats timeout 30s

defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s

frontend fe
    bind 127.0.0.1:$fe_port
    default_backend app

backend app
    balance roundrobin
    option httpchk GET /check
    default-server check inter 200ms fall 2 rise 1
    server node1 127.0.0.1:$node_port
    server node2 127.0.0.1:$node_port
    server node3 127.0.0.1:$node_port
CFG

"$haproxy" -c -q -f "$workdir/haproxy.cfg"
"$haproxy" -db -f "$workdir/haproxy.cfg" > "$workdir/haproxy.log" 2>&1 &
on_exit stop_pid $! 5 HAProxy
on_failure show_log "$workdir/haproxy.log" 30

# The probe starts once HAProxy passes a request on, so that every failed request is the playbook's doing.
for _ in $(seq 100); do
    "$python" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)' \
        "http://127.0.0.1:$fe_port/check" 2>/dev/null && break
    sleep 0.1
done

"$python" "$probe_script" --url "http://127.0.0.1:$fe_port/am/json/serverinfo/version" --rate 50 --max-seconds 300 \
    --haproxy-socket "$workdir/admin.sock" --backend app --out "$workdir/probe.json" \
    --ready-file "$workdir/probe.ready" 2> "$workdir/probe.log" &
probe_pid=$!
on_exit stop_pid "$probe_pid" 10 probe
on_failure show_log "$workdir/probe.log" 30
for _ in $(seq 100); do
    [ -e "$workdir/probe.ready" ] && break
    sleep 0.1
done
[ -e "$workdir/probe.ready" ] || { echo "runme.sh: the probe did not start" >&2; exit 1; }

cat > "$workdir/vars.json" <<JSON
{
  "ansible_python_interpreter": "$python",
  "report_haproxy_socket": "$workdir/admin.sock",
  "report_backend": "http://127.0.0.1:$node_port",
  "report_flag": "$workdir/upgrading",
  "report_probe_pid": $probe_pid,
  "report_probe_out": "$workdir/probe.json"
}
JSON

ANSIBLE_CALLBACKS_ENABLED=idmops.lifecycle.upgrade_report \
ANSIBLE_UPGRADE_REPORT_DIR="$workdir/report" \
ANSIBLE_UPGRADE_REPORT_PROBE_FILE="$workdir/probe.json" \
    "$playbook_bin" -i "$here/inventory.yml" -e "@$workdir/vars.json" "$here/playbook.yml" "$@"

# The same run merged again, as make demo does with the runs of several playbooks and a probe that ran
# across all of them.
PYTHONPATH=$ANSIBLE_COLLECTIONS_PATH "$python" -m ansible_collections.idmops.lifecycle.plugins.plugin_utils._report \
    --probe "$workdir/probe.json" --out "$workdir/report/merged" "$workdir"/report/playbook-*.json

"$python" "$here/files/check_report.py" "$workdir/report" "$collection/tests/output/upgrade_report"
