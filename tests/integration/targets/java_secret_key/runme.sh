#!/usr/bin/env bash
# Integration test for idmops.lifecycle.java_secret_key against the real keytool of this host.
# Self-contained: every keystore lives in a temporary directory that is removed on exit.
set -eux

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
collection_root="$(cd "$here/../../../.." && pwd)"

# ansible-test exports ANSIBLE_COLLECTIONS_PATH; from a checkout use its build/collections symlink tree.
if [[ -z "${ANSIBLE_COLLECTIONS_PATH:-}" ]]; then
    if [[ "$(basename "$(dirname "$(dirname "$collection_root")")")" == ansible_collections ]]; then
        ANSIBLE_COLLECTIONS_PATH="$(dirname "$(dirname "$(dirname "$collection_root")")")"
    else
        ANSIBLE_COLLECTIONS_PATH="$collection_root/build/collections"
    fi
fi
export ANSIBLE_COLLECTIONS_PATH
python="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python)}"

command -v keytool >/dev/null || { echo "keytool is needed for this test" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ansible-playbook -i localhost, -c local "$here/playbook.yml" \
    -e "work_dir=$work" -e "ansible_python_interpreter=$python" "$@"
