#!/usr/bin/env bash
# Integration test of idmops.lifecycle.ldif_apply against a real OpenLDAP slapd (Debian slapd 2.5).
#
# Starts its own slapd under a temp dir: cn=config from slapadd -n0 (core, cosine, inetorgperson
# schema), an mdb database for dc=example,dc=com with a rootdn and password, a throw-away CA and
# server certificate (openssl) for ldaps:// and StartTLS, and listeners on
#   ldap://127.0.0.1:<free port>   ldaps://127.0.0.1:<free port>   ldaps://127.0.0.2:<same port>
#   ldapi://<socket in the temp dir>
# (127.0.0.2 is loopback too; the certificate does not name it, for the host name check).
# The process running this script (normally root) manages cn=config and the database over ldapi
# with SASL EXTERNAL. slapd is stopped by the PID in its PID file on exit.
#
#   tests/integration/targets/ldif_apply/runme.sh        (ansible-playbook from PATH or .venv)
# or through `make integration` (ansible-test integration --local).
# KEEP_LDIF_APPLY_IT=1 keeps the temp dir (and prints where it is).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
# shellcheck source-path=SCRIPTDIR source=../setup_shell_lib/lib.sh
source "$here/../setup_shell_lib/lib.sh"
SLAPD="${SLAPD:-/usr/sbin/slapd}"
SLAPADD="${SLAPADD:-/usr/sbin/slapadd}"
SLAPD_MODULES="${SLAPD_MODULES:-/usr/lib/ldap}"
SCHEMA_DIR="${SCHEMA_DIR:-/etc/ldap/schema}"

# ansible-playbook: the one on PATH (ansible-test, make), else the checkout's venv.
playbook_bin="$(playbook_command)"
# The module runs under the same python as ansible itself, which has ldap3 (interpreter
# discovery may pick a broken shim on this machine).
python="$(python_command "$playbook_bin")"
export_collections_path

for needed in "$SLAPD" "$SLAPADD" "$SCHEMA_DIR/core.ldif" "$(command -v ldapsearch || echo /usr/bin/ldapsearch)" \
              "$(command -v openssl || echo /usr/bin/openssl)"; do
    [[ -e "$needed" ]] || { echo "runme.sh: $needed not found (install slapd, ldap-utils and openssl)" >&2; exit 1; }
done
"$python" -c 'import ldap3' 2>/dev/null || { echo "runme.sh: $python cannot import ldap3 (make venv)" >&2; exit 1; }

work="$(mktemp -d /tmp/ldif_apply_it.XXXXXX)"
chmod 700 "$work"
pid_file="$work/run/slapd.pid"
# Only the slapd our PID file names, and only if it runs with our config directory.
on_exit stop_pid_file "$pid_file" "-F $work/slapd.d " 10 slapd
on_failure show_log "$work/slapd.log" 30
remove_on_exit "$work" KEEP_LDIF_APPLY_IT

# Three free loopback ports (ldap, ldaps, and one nobody listens on), held together while picked.
ports="$(free_ports 3)"
read -r ldap_port ldaps_port closed_port <<<"$ports"

mkdir -p "$work"/{slapd.d,db,run,tls}
tls="$work/tls"

# A throw-away CA and a server certificate for localhost / 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=ldif_apply test CA" \
    -addext "basicConstraints=critical,CA:true" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -sha256 -subj "/CN=localhost" \
    -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=CA:false" \
    "keyUsage=critical,digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >"$tls/server.ext"
openssl x509 -req -sha256 -days 2 -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
    -CAcreateserial -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
chmod 600 "$tls/server.key" "$tls/ca.key"

bind_dn='cn=admin,dc=example,dc=com'
bind_password="$("$python" -c 'import secrets; print(secrets.token_urlsafe(18))')"
password_file="$work/admin.pw"
( umask 077; printf '%s' "$bind_password" >"$password_file"
  "$python" -c 'import json, sys; print(json.dumps({"bind_password": sys.argv[1]}))' "$bind_password" >"$work/secret-vars.json" )
root_pw_hash="$(/usr/sbin/slappasswd -h '{SSHA}' -T "$password_file")"
peer="gidNumber=$(id -g)+uidNumber=$(id -u),cn=peercred,cn=external,cn=auth"

cat >"$work/config.ldif" <<LDIF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $pid_file
olcArgsFile: $work/run/slapd.args
olcTLSCACertificateFile: $tls/ca.crt
olcTLSCertificateFile: $tls/server.crt
olcTLSCertificateKeyFile: $tls/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $SLAPD_MODULES
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$SCHEMA_DIR/core.ldif
include: file://$SCHEMA_DIR/cosine.ldif
include: file://$SCHEMA_DIR/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=$peer manage by * break

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: dc=example,dc=com
olcDbDirectory: $work/db
olcDbMaxSize: 67108864
olcRootDN: $bind_dn
olcRootPW: $root_pw_hash
olcAccess: {0}to * by dn.exact=$peer manage by * read
LDIF
cat >"$work/base.ldif" <<'LDIF'
dn: dc=example,dc=com
objectClass: dcObject
objectClass: organization
o: Example
dc: example
LDIF
"$SLAPADD" -n0 -F "$work/slapd.d" -l "$work/config.ldif"
"$SLAPADD" -n1 -F "$work/slapd.d" -l "$work/base.ldif"

socket_path="$work/run/ldapi"
socket_enc="$("$python" -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$socket_path")"
ldapi_uri="ldapi://$socket_enc"
ldap_uri="ldap://127.0.0.1:$ldap_port"
ldaps_uri="ldaps://127.0.0.1:$ldaps_port"

# slapd forks into the background and writes its PID file; -d 0 would keep it in front.
"$SLAPD" -F "$work/slapd.d" \
    -h "$ldap_uri/ $ldaps_uri/ ldaps://127.0.0.2:$ldaps_port/ $ldapi_uri" >"$work/slapd.log" 2>&1
for _ in $(seq 1 100); do
    if [[ -s "$pid_file" ]] && ldapsearch -LLL -x -H "$ldap_uri" -b dc=example,dc=com -s base dn >/dev/null 2>&1; then
        break
    fi
    sleep 0.1
done
ldapsearch -LLL -x -H "$ldap_uri" -b dc=example,dc=com -s base dn >/dev/null \
    || { echo "runme.sh: slapd did not come up on $ldap_uri" >&2; exit 1; }

echo "runme.sh: slapd PID $(cat "$pid_file") on $ldap_uri $ldaps_uri $ldapi_uri (work dir $work)"
echo "runme.sh: python=$python ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH"

cd "$here"
timeout 600 "$playbook_bin" ldif_apply.yml -i localhost, -c local \
    -e "ansible_python_interpreter=$python" \
    -e "ldap_uri=$ldap_uri" \
    -e "ldap_name_uri=ldap://localhost:$ldap_port" \
    -e "ldaps_uri=$ldaps_uri" \
    -e "ldaps_wrong_name_uri=ldaps://127.0.0.2:$ldaps_port" \
    -e "ldapi_uri=$ldapi_uri" \
    -e "closed_uri=ldap://127.0.0.1:$closed_port" \
    -e "ca_file=$tls/ca.crt" \
    -e "bind_dn=$bind_dn" \
    -e "password_file=$password_file" \
    -e "files_dir=$here/files" \
    -e "@$work/secret-vars.json" \
    "$@"
