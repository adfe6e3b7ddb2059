#!/usr/bin/env bash
# Checks the deployment files without a Docker engine: docker-compose.yml with
# docker-compose's own validator, the Kubernetes manifests against the Kubernetes
# schemas, and that every image in the compose file builds, by running the exact
# cargo command its Dockerfile runs for each BIN. The validators come from PyPI into
# target/deploy-tools (once).
set -euo pipefail
cd "$(dirname "$0")/../.."

tools=target/deploy-tools
if [ ! -x "$tools/compose/bin/docker-compose" ]; then
  python3 -m venv "$tools/compose"
  # docker-compose 1.29's PyYAML does not build under Cython 3.
  echo 'cython<3' > "$tools/constraints.txt"
  PIP_CONSTRAINT="$PWD/$tools/constraints.txt" "$tools/compose/bin/pip" install --quiet docker-compose==1.29.2
fi
if [ ! -x "$tools/kubernetes/bin/kubernetes-validate" ]; then
  # Its own environment: it needs a newer jsonschema than docker-compose allows.
  python3 -m venv "$tools/kubernetes"
  "$tools/kubernetes/bin/pip" install --quiet kubernetes-validate==1.37.0
fi

echo "docker-compose.yml: docker-compose config (with secrets from setup-env.sh)"
env_file=target/deploy-check.env
rm -f "$env_file"
deploy/scripts/setup-env.sh "$env_file" >/dev/null
"$tools/compose/bin/docker-compose" --env-file "$env_file" -f docker-compose.yml config -q

echo "docker-compose.yml: refuses to start without generated secrets"
: > target/empty.env
if missing=$("$tools/compose/bin/docker-compose" --env-file target/empty.env -f docker-compose.yml config -q 2>&1); then
  echo "docker-compose.yml has a fallback for a secret: it validated without any" >&2
  exit 1
fi
grep -q "setup-env.sh" <<<"$missing" || { echo "unexpected refusal: $missing" >&2; exit 1; }

echo "deploy/kubernetes: no published secret"
for published in replace-with-a-long-random-value caravan-local-development-service-secret \
  compose-local-service-secret test-gateway-secret caravan-demo-2026; do
  if grep -rq -- "$published" deploy/kubernetes docker-compose.yml; then
    echo "a published secret ($published) is in the deployment files" >&2
    exit 1
  fi
done

echo "deploy/kubernetes: kubernetes-validate --strict"
"$tools/kubernetes/bin/kubernetes-validate" --strict --quiet deploy/kubernetes/*.yaml

# The cargo command of the Dockerfile's build stage, run for every BIN the compose
# file builds.
build=$(grep -o 'cargo build --release --locked --bin "\$BIN"' deploy/Dockerfile | tail -n 1)
[ -n "$build" ] || { echo "no cargo build command found in deploy/Dockerfile" >&2; exit 1; }
bins=$("$tools/compose/bin/docker-compose" --env-file "$env_file" -f docker-compose.yml config | awk '/^ +BIN: /{print $2}' | sort -u)
[ -n "$bins" ] || { echo "no BIN build arguments in docker-compose.yml" >&2; exit 1; }
# Whether an image builds does not depend on the profile it is compiled with, and
# CI's time does: the check runs the Dockerfile's command in the development profile,
# whose libraries the test run has compiled already (the images themselves are built
# with the Dockerfile's release settings).
here=${build/ --release/}
for BIN in $bins; do
  echo "image $BIN: $build (checked as: $here)"
  BIN=$BIN bash -c "$here"
done
