#!/usr/bin/env bash
# Integration test of the roles vidm_sync_ha, vidm_connector_upgrade and vidm_windows_upgrade (and the action
# plugins vidm_connector_upgrade and vidm_windows_upgrade) against the vIDM simulator
# (tests/simulators/vidm_sim.py) and simulated Windows hosts (tests/simulators/windows_host/: a test-only
# ansible.windows collection put first in ANSIBLE_COLLECTIONS_PATH for this test, and its winsim connection).
#
# Three connectors: connector1 already has the new JRE (no reboot), connector2 gets a new JRE (reboot),
# connector3 gets a new JRE and its WinRM connection drops during the install (reconnect, reboot). Every run
# is at -vvv and its output must not contain any secret.
#
#   tests/integration/targets/vidm_windows/runme.sh    (ansible-playbook from PATH or .venv)
# KEEP_VIDM_WINDOWS_IT=1 keeps the temp dir (and prints where it is).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"

playbook_bin="$(playbook_command)"
python="$(python_command "$playbook_bin")"
export_collections_path
simulators="$(dirname "$(collection_file tests/simulators/vidm_sim.py)")"
playbooks="$(collection_file playbooks)"
export ANSIBLE_COLLECTIONS_PATH="$simulators/windows_host/collections:$ANSIBLE_COLLECTIONS_PATH"

work="$(mktemp -d /tmp/vidm_windows_it.XXXXXX)"
remove_on_exit "$work" KEEP_VIDM_WINDOWS_IT
export WINSIM_STATE_DIR="$work/hosts"
mkdir -p "$WINSIM_STATE_DIR" "$work/media" "$work/logs"

secret() { echo "$1-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"; }
client_secret="$(secret cs)"
bind_password="$(secret bp)"
export_password="$(secret ep)"
service_password="$(secret sp)"
secrets=("$client_secret" "$bind_password" "$export_password" "$service_password")

"$python" "$simulators/vidm_sim.py" --port-file "$work/sim.port" --client-id ansible --client-secret "$client_secret" \
    >"$work/sim.log" 2>&1 &
sim_pid=$!
on_exit stop_pid "$sim_pid" 5 vidm_sim
on_failure show_log "$work/sim.log" 40
for _ in $(seq 1 100); do
    [[ -s "$work/sim.port" ]] && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log" >&2; echo "runme.sh: simulator died" >&2; exit 1; }
    sleep 0.05
done
[[ -s "$work/sim.port" ]] || { echo "runme.sh: simulator did not start" >&2; exit 1; }
vidm_url="http://127.0.0.1:$(cat "$work/sim.port")"

old_jre=8.0.2020.8
new_jre=8.0.2820.8
target=20.10.0.1
ctl() { "$python" "$simulators/windows_host/winsim_ctl.py" "$@"; }
ctl init "$WINSIM_STATE_DIR" connector1.example.com connector --version 19.03.0.1 --jre "$new_jre" --vidm-url "$vidm_url"
ctl init "$WINSIM_STATE_DIR" connector2.example.com connector --version 19.03.0.1 --jre "$old_jre" --vidm-url "$vidm_url"
ctl init "$WINSIM_STATE_DIR" connector3.example.com connector --version 20.10.0.0 --jre "$old_jre" --vidm-url "$vidm_url" \
    --quirk drop_connection=true --quirk unreachable_polls=3 --quirk installer_busy_polls=2
vidm_dir="$WINSIM_STATE_DIR/vidm1.example.com/opt/vmware"
ctl init "$WINSIM_STATE_DIR" vidm1.example.com vidm --version 19.03.0.0 --install-dir "$vidm_dir"
ctl installer "$work/media/connector.exe" connector --version "$target" --jre "$new_jre"
ctl installer "$work/media/vidm.exe" vidm --version 19.03.0.1 --rc 3010
connector_sha="$(sha256sum "$work/media/connector.exe" | cut -d' ' -f1)"
vidm_sha="$(sha256sum "$work/media/vidm.exe" | cut -d' ' -f1)"

cat >"$work/inventory.ini" <<EOF_INV
[vidm_connectors]
connector1.example.com
connector2.example.com
connector3.example.com

[vidm_windows]
vidm1.example.com

[vidm_connectors:vars]
ansible_connection=ansible.windows.winsim
[vidm_windows:vars]
ansible_connection=ansible.windows.winsim

[all:vars]
ansible_python_interpreter=$python
EOF_INV
cat >"$work/vars.yml" <<EOF_VARS
vidm_sync_ha_vidm_url: $vidm_url
vidm_sync_ha_vidm_client_id: ansible
vidm_sync_ha_vidm_client_secret: $client_secret
vidm_sync_ha_bind_password: $bind_password
vidm_sync_ha_sync: true
vidm_sync_ha_directories:
  - {name: corp.example.com, connectors: [connector1.example.com, connector2.example.com]}
  - {name: emea.example.com, connectors: [connector2.example.com, connector1.example.com]}
  - {name: lab.example.com, connectors: [connector3.example.com, connector1.example.com]}
  - {name: partners.example.com, connectors: [connector2.example.com, connector3.example.com]}
vidm_connector_upgrade_vidm_url: $vidm_url
vidm_connector_upgrade_vidm_client_id: ansible
vidm_connector_upgrade_vidm_client_secret: $client_secret
vidm_connector_upgrade_version: $target
vidm_connector_upgrade_checksum: $connector_sha
vidm_connector_upgrade_installer_url: file://$work/media/connector.exe
vidm_connector_upgrade_installer_path: C:\\Temp\\connector.exe
vidm_connector_upgrade_wait_sleep: 0.2
vidm_windows_upgrade_version: 19.03.0.1
vidm_windows_upgrade_checksum: $vidm_sha
vidm_windows_upgrade_installer_url: file://$work/media/vidm.exe
vidm_windows_upgrade_installer_path: C:\\Temp\\vidm.exe
vidm_windows_upgrade_install_dir: $vidm_dir
vidm_windows_upgrade_ceip: true
vidm_windows_upgrade_service_account: domain_user
vidm_windows_upgrade_service_username: CORP\\svc-vidm
vidm_windows_upgrade_service_password: $service_password
vidm_windows_upgrade_export_password: $export_password
vidm_windows_upgrade_export_dest: $work/exports
vidm_windows_upgrade_wait_sleep: 0.2
EOF_VARS
chmod 600 "$work/vars.yml"
echo "runme.sh: work=$work vidm=$vidm_url (PID $sim_pid) python=$python"

# play NAME PLAYBOOK [ARGS...]: run at -vvv into logs/NAME.log; the log is shown when it fails.
play() {
    local name="$1" playbook="$2" rc=0 started=$SECONDS
    shift 2
    timeout 600 "$playbook_bin" "$playbooks/$playbook" -i "$work/inventory.ini" -e "@$work/vars.yml" -vvv "$@" \
        >"$work/logs/$name.log" 2>&1 || rc=$?
    if [[ "$rc" -ne 0 ]]; then
        tail -n 150 "$work/logs/$name.log"
        echo "runme.sh: $name failed (rc=$rc)" >&2
        exit "$rc"
    fi
    echo "runme.sh: $name ok in $((SECONDS - started))s: $(grep -cE 'changed=[1-9]' "$work/logs/$name.log" || true) host(s) changed"
}
# unchanged NAME: the recap of logs/NAME.log has changed=0 on every host.
unchanged() {
    if grep -E '^[a-z0-9.]+ +: ok=' "$work/logs/$1.log" | grep -vE 'changed=0 '; then
        echo "runme.sh: $1 changed something" >&2
        exit 1
    fi
}
check() { "$python" "$here/check.py" "$WINSIM_STATE_DIR" "$vidm_url" "$@"; }
snapshot() { cat "$WINSIM_STATE_DIR"/*.json | sha256sum; }

play sync_ha vidm_sync_ha.yml
play sync_ha_again vidm_sync_ha.yml
unchanged sync_ha_again

before="$(snapshot)"
play connectors_check vidm_connector_upgrade.yml --check
[[ "$(snapshot)" == "$before" ]] || { echo "runme.sh: check mode changed a simulated host" >&2; exit 1; }
check events 0

play connectors vidm_connector_upgrade.yml
check boots connector1.example.com=1 connector2.example.com=2 connector3.example.com=2
check versions "$target" connector1.example.com connector2.example.com connector3.example.com
check no-gaps
check events 10
grep -q 'WinRM connection to connector3.example.com dropped' "$work/logs/connectors.log" \
    || { echo "runme.sh: the connection of connector3 did not drop" >&2; exit 1; }

play connectors_again vidm_connector_upgrade.yml
unchanged connectors_again
check boots connector1.example.com=1 connector2.example.com=2 connector3.example.com=2

play windows vidm_windows_upgrade.yml
check boots vidm1.example.com=2
ls "$work"/exports/vidm1-example-com-conn-*.enc >/dev/null
play windows_again vidm_windows_upgrade.yml
unchanged windows_again

leaked=0
for value in "${secrets[@]}"; do
    if grep -rqF -- "$value" "$work/logs" "$work/exports"; then
        echo "runme.sh: a secret (${value:0:3}...) appears in the -vvv output or the exports" >&2
        leaked=1
    fi
done
[[ "$leaked" -eq 0 ]] || exit 1
echo "runme.sh: no secret in $(cat "$work"/logs/*.log | wc -l) lines of -vvv output"
