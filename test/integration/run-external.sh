#!/usr/bin/env bash
# Runs the integration suite against an AWS-compatible endpoint and prints, per file, what ran,
# what was skipped and why, what passed and failed, and the requests the endpoint answered
# (test/integration/run-external.ts).
#   AWS_ENDPOINT_URL=http://127.0.0.1:4566 npm run test:external   # an endpoint already running
#   npm run test:external                                          # starts the local AWS for it
# Without AWS_ENDPOINT_URL it starts the local AWS as a separate process (local-aws/serve.ts,
# on a free port), points the suite at it, and stops it afterwards. Exits with the suite's status.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ -n "${AWS_ENDPOINT_URL:-}" ] || [ "${INTEGRATION_TARGET:-}" = aws ]; then
  exec npx tsx test/integration/run-external.ts "$@"
fi

log=$(mktemp)
node --import tsx local-aws/serve.ts --port 0 >"$log" 2>&1 &
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
echo "the local AWS started as a separate process ($server) at $endpoint"

AWS_ENDPOINT_URL="$endpoint" AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=AKIALOCALAWS00000000 AWS_SECRET_ACCESS_KEY=local-aws-secret-access-key \
  npx tsx test/integration/run-external.ts "$@"
