#!/usr/bin/env bash
# Installs and starts what Tango's tests need on a fresh Debian machine:
# PostgreSQL (the scale-out store), OpenLDAP's slapd (a directory app),
# Node.js packages for the independent SCIM server used as an app, the
# SMTP server notifications are sent to and the OpenID Connect provider
# sign-in is tested against, and Chromium for the browser tests of the
# web pages.
# Safe to run again: every step checks first.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v pg_ctlcluster >/dev/null 2>&1 || need_apt+=(postgresql)
[ -x /usr/sbin/slapd ] || need_apt+=(slapd)
command -v ldapadd >/dev/null 2>&1 || need_apt+=(ldap-utils)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test-deps: installing ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# PostgreSQL: start the cluster if it is not up, and make sure TCP trust or a
# password-less role works for the tests' DSN.
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  ver=$(ls /etc/postgresql | sort -n | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  for _ in $(seq 1 50); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 0.2; done
fi
if [ -z "${TANGO_TEST_POSTGRES:-}" ]; then
  # Ensure the role the tests use can connect over TCP without a password.
  if ! psql "postgres://postgres@127.0.0.1:5432/postgres" -Atc 'select 1' >/dev/null 2>&1; then
    hba=$(su postgres -c "psql -Atc 'show hba_file'")
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    su postgres -c "psql -Atc 'select pg_reload_conf()'" >/dev/null
  fi
fi

# The slapd service started by the package is not used (tests start their
# own slapd on a loopback port); stop it so it holds no port.
if command -v service >/dev/null 2>&1 && pgrep -x slapd >/dev/null 2>&1; then
  service slapd stop >/dev/null 2>&1 || true
fi

# Node packages for the test servers: SCIM (an app), SMTP (notifications)
# and the OpenID Connect provider (sign-in).
for d in testdata/scim-server testdata/smtp-server testdata/oidc-provider; do
  if [ -f "$d/package.json" ] && [ ! -d "$d/node_modules" ]; then
    (cd "$d" && npm ci --no-audit --no-fund --silent 2>/dev/null || npm install --no-audit --no-fund --silent)
  fi
done
echo "test-deps: ready"
