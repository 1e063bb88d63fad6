#!/usr/bin/env bash
# Integration test for idmops.lifecycle.java_secret_key against the real keytool of this host.
# Self-contained: every keystore lives in a temporary directory that is removed on exit.
set -eux

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"

export_collections_path
playbook_bin="$(playbook_command)"
python="$(python_command "$playbook_bin")"

command -v keytool >/dev/null || { echo "keytool is needed for this test" >&2; exit 1; }

work="$(mktemp -d)"
remove_on_exit "$work"

"$playbook_bin" -i localhost, -c local "$here/playbook.yml" \
    -e "work_dir=$work" -e "ansible_python_interpreter=$python" "$@"
