# shellcheck shell=bash
# Shell pieces shared by the runme.sh of this collection's integration targets: where the
# collection and the tools are, free loopback ports, a work directory removed on exit,
# processes stopped by PID, and a Tomcat started with `catalina.sh run`.
#
# ansible-test copies each target on its own into a temporary directory, so this lives in a
# target too, hidden (setup_ prefix, and the alias). A target that uses it lists
# needs/target/setup_shell_lib in its aliases, so ansible-test copies this directory next to
# it; in a checkout it is there already. runme.sh then does
#
#     here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
#     source "$here/../setup_shell_lib/lib.sh"
#
# Functions that find something print it (assign it with "$(...)"); functions that register
# something to do on exit change the calling shell (call them directly, not in "$(...)").
# Sourcing it only defines functions: no shell option, trap or variable of the caller changes.

_shell_lib_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
_shell_lib_exit_commands=()
_shell_lib_work_dir=""
_shell_lib_keep_variable=""
_shell_lib_exit_status=0

# --- the collection and the tools --------------------------------------------------------------

# export_collections_path: export ANSIBLE_COLLECTIONS_PATH. ansible-test sets it; from a checkout
# it is the ansible_collections/ tree the checkout sits in, else the checkout's build/collections
# (`make collection`). Fails, saying so, when idmops.lifecycle is not there.
export_collections_path() {
    local root path
    if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
        root="$(cd "$_shell_lib_dir/../../../.." && pwd)"
        if [[ "$(basename "$(dirname "$(dirname "$root")")")" == ansible_collections ]]; then
            path="$(dirname "$(dirname "$(dirname "$root")")")"
        else
            path="$(cd "$root" && pwd -P)/build/collections"
        fi
        if [[ ! -e "$path/ansible_collections/idmops/lifecycle/galaxy.yml" ]]; then
            echo "runme.sh: idmops.lifecycle is not under $path (make collection, or set ANSIBLE_COLLECTIONS_PATH)" >&2
            return 1
        fi
        ANSIBLE_COLLECTIONS_PATH="$path"
    fi
    export ANSIBLE_COLLECTIONS_PATH
}

# collection_file REL: the path of REL (e.g. tests/simulators/vidm_sim.py) in this checkout, else in
# idmops.lifecycle under ANSIBLE_COLLECTIONS_PATH (where ansible-test installed it; call
# export_collections_path first). Fails, naming REL, when neither has it.
collection_file() {
    local rel="$1" root candidate
    local -a collection_dirs
    root="$(cd "$_shell_lib_dir/../../../.." && pwd -P)"
    IFS=: read -r -a collection_dirs <<<"${ANSIBLE_COLLECTIONS_PATH:-}"
    for candidate in "$root/$rel" "${collection_dirs[@]/%//ansible_collections/idmops/lifecycle/$rel}"; do
        if [[ -e "$candidate" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    echo "runme.sh: $rel not found in $root nor under ANSIBLE_COLLECTIONS_PATH" >&2
    return 1
}

# haproxy_command: $HAPROXY, else haproxy from PATH, else /usr/sbin/haproxy; fails when none runs.
haproxy_command() {
    local haproxy="${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}"
    if [[ ! -x "$haproxy" ]]; then
        echo "runme.sh: haproxy not found (set HAPROXY=/path/to/haproxy)" >&2
        return 1
    fi
    echo "$haproxy"
}

# playbook_command: ansible-playbook from PATH (ansible-test, make), else from the checkout's .venv.
playbook_command() {
    local venv
    command -v ansible-playbook && return 0
    venv="$(cd "$_shell_lib_dir/../../../.." && pwd -P)/.venv/bin/ansible-playbook"
    if [[ ! -x "$venv" ]]; then
        echo "runme.sh: ansible-playbook is neither on PATH nor at $venv (make venv)" >&2
        return 1
    fi
    echo "$venv"
}

# python_command PLAYBOOK: the Python that runs ansible, for the modules (ansible_python_interpreter:
# it has the collection's requirements such as ldap3, and interpreter discovery may pick a
# broken shim on this machine) and for the helpers: ansible-test's, else the one next to
# PLAYBOOK, else python3 from PATH.
python_command() {
    local python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(dirname "$1")/python}"
    [[ -x "$python" ]] || python="$(command -v python3)" || { echo "runme.sh: no python3 on PATH" >&2; return 1; }
    echo "$python"
}

# free_ports N: N different free TCP ports on 127.0.0.1, on one line. The sockets are all held
# open until every port is picked, so no port comes twice.
free_ports() {
    "${ANSIBLE_TEST_PYTHON_INTERPRETER:-python3}" - "$1" <<'PY'
import socket
import sys

held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    held.append(s)
print(*(s.getsockname()[1] for s in held))
for s in held:
    s.close()
PY
}

# --- on exit: stop what was started, show logs on failure, remove the work directory ------------

# on_exit COMMAND [ARG...]: run COMMAND when the script exits (also on SIGINT or SIGTERM, which
# exit 130), in the order registered, each one allowed to fail, before the work directory is
# removed. The script's exit status stays what it was.
on_exit() {
    _shell_lib_arm
    _shell_lib_exit_commands+=("$(printf '%q ' "$@")")
}

# on_failure COMMAND [ARG...]: the same, only when the script fails.
on_failure() {
    on_exit _shell_lib_if_failed "$@"
}

# remove_on_exit DIR [KEEP_VARIABLE]: remove DIR when the script exits, after the on_exit
# commands. When the environment variable named KEEP_VARIABLE is set, keep it and say where it is.
remove_on_exit() {
    _shell_lib_arm
    _shell_lib_work_dir="$1"
    _shell_lib_keep_variable="${2:-}"
}

# show_log FILE [LINES]: the last LINES (30) lines of FILE on stderr, when FILE is not empty.
show_log() {
    [[ -s "$1" ]] || return 0
    echo "---- last lines of $1 ----" >&2
    tail -n "${2:-30}" "$1" >&2
}

_shell_lib_arm() {
    trap _shell_lib_on_exit EXIT
    trap 'exit 130' INT TERM
}

_shell_lib_on_exit() {
    _shell_lib_exit_status=$?
    local command
    for command in "${_shell_lib_exit_commands[@]}"; do
        eval "$command" || true
    done
    if [[ -n "$_shell_lib_work_dir" ]]; then
        if [[ -n "$_shell_lib_keep_variable" && -n "${!_shell_lib_keep_variable:-}" ]]; then
            echo "kept $_shell_lib_work_dir" >&2
        else
            rm -rf "$_shell_lib_work_dir"
        fi
    fi
    exit "$_shell_lib_exit_status"
}

_shell_lib_if_failed() {
    [[ "$_shell_lib_exit_status" -eq 0 ]] || "$@"
}

# --- processes, by PID -----------------------------------------------------------------------------

# stop_pid PID [SECONDS] [NAME]: SIGTERM to PID, up to SECONDS (10) for it to end, then SIGKILL
# (saying so, with NAME). A child of this shell is also waited for. An empty or finished PID is
# left alone.
stop_pid() {
    local pid="$1" seconds="${2:-10}" name="${3:-process}" tick
    [[ "$pid" =~ ^[0-9]+$ ]] || return 0
    if kill -TERM "$pid" 2>/dev/null; then
        for ((tick = 0; tick < seconds * 10; tick++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$pid" 2>/dev/null; then
            echo "runme.sh: $name PID $pid ignored SIGTERM for ${seconds}s, sending SIGKILL" >&2
            kill -KILL "$pid" 2>/dev/null || true
        fi
    fi
    wait "$pid" 2>/dev/null || true
}

# stop_pid_file FILE TEXT [SECONDS] [NAME]: stop_pid for the PID in FILE, but only when that
# process's command line contains TEXT, so that a PID reused by another program is left alone.
stop_pid_file() {
    local pid cmdline
    [[ -s "$1" ]] || return 0
    pid="$(cat "$1")"
    [[ "$pid" =~ ^[0-9]+$ && -r "/proc/$pid/cmdline" ]] || return 0
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
    [[ "$cmdline" == *"$2"* ]] || return 0
    stop_pid "$pid" "${3:-10}" "${4:-process}"
}

# start_catalina CATALINA_HOME CATALINA_BASE LOG [VARIABLE=VALUE...]: `catalina.sh run` in the
# background, with CATALINA_TMPDIR=<base>/temp and the given environment, output to LOG. $! is
# then Tomcat's PID (catalina.sh execs the JVM): stop it with stop_pid.
start_catalina() {
    local home="$1" base="$2" log="$3"
    shift 3
    env CATALINA_HOME="$home" CATALINA_BASE="$base" CATALINA_TMPDIR="$base/temp" "$@" \
        "$home/bin/catalina.sh" run >"$log" 2>&1 &
}
