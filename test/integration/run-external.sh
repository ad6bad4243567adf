#!/usr/bin/env bash
# Runs the integration suite against an AWS-compatible endpoint, the way it runs against any
# AWS_ENDPOINT_URL: starts the local AWS as a separate process (test/local-aws/serve.ts, on a free
# port), points the suite at it, and stops it afterwards. Exits with the suite's status.
#   test/integration/run-external.sh [extra vitest arguments]
set -euo pipefail
cd "$(dirname "$0")/../.."

log=$(mktemp)
node --import tsx test/local-aws/serve.ts --port 0 >"$log" 2>&1 &
server=$!
stop() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -f "$log"
}
trap stop EXIT

endpoint=''
for _ in $(seq 1 100); do
  endpoint=$(sed -n 's/^local AWS listening on \(http:[^ ]*\).*/\1/p' "$log")
  [ -n "$endpoint" ] && break
  kill -0 "$server" 2>/dev/null || { cat "$log" >&2; echo "the local AWS did not start" >&2; exit 1; }
  sleep 0.1
done
[ -n "$endpoint" ] || { cat "$log" >&2; echo "the local AWS did not report its endpoint" >&2; exit 1; }
echo "integration suite against $endpoint (separate process $server)"

AWS_ENDPOINT_URL="$endpoint" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIALOCALAWS00000000 AWS_SECRET_ACCESS_KEY=local-aws-secret-access-key \
  npx vitest run test/integration "$@"
