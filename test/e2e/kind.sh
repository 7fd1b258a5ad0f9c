#!/usr/bin/env bash
# End-to-end on a kind cluster, for machines with Docker (CI here has none: see docs/kube-test-env.md).
#   1. builds the image from the project's Dockerfile as tollgate:dev
#   2. creates a kind cluster (or reuses one of the same name) and loads the image into it
#   3. helm-installs charts/tollgate with that image and waits for it to be ready
#   4. runs the end-to-end suite (`npm run test:e2e`) with KUBECONFIG pointing at the cluster
# Env: KIND_CLUSTER (tollgate-e2e), NAMESPACE (tollgate-system), KEEP_CLUSTER=1 to keep a cluster it creates,
#      HELM_ARGS (extra `helm upgrade --install` arguments), KIND_NODE_IMAGE (kind's node image).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

cluster="${KIND_CLUSTER:-tollgate-e2e}"
namespace="${NAMESPACE:-tollgate-system}"
image_repo=tollgate
image_tag=dev

die() { echo "kind.sh: ERROR: $*" >&2; exit 1; }
for tool in docker kind; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not on PATH (this script needs Docker and kind)"
done
docker info >/dev/null 2>&1 || die "the Docker daemon is not reachable"
# kubectl and helm: the ones on PATH, else the project's pinned builds (test/kube/ensure-binaries.sh).
if ! command -v kubectl >/dev/null 2>&1 || ! command -v helm >/dev/null 2>&1; then
  PATH="$(bash test/kube/ensure-binaries.sh):$PATH"
fi
[[ -f Dockerfile ]] || die "no Dockerfile at the repository root"
[[ -f charts/tollgate/Chart.yaml ]] || die "no chart at charts/tollgate"

echo "kind.sh: building ${image_repo}:${image_tag}"
docker build -t "${image_repo}:${image_tag}" .

# A cluster this script creates is deleted on exit unless KEEP_CLUSTER=1; an existing one is reused and kept.
if ! kind get clusters | grep -qx "$cluster"; then
  kind create cluster --name "$cluster" ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 120s
  if [[ "${KEEP_CLUSTER:-0}" != 1 ]]; then
    trap 'kind delete cluster --name "$cluster"' EXIT
  fi
fi
kind load docker-image "${image_repo}:${image_tag}" --name "$cluster"

KUBECONFIG="$(mktemp)"
export KUBECONFIG
kind get kubeconfig --name "$cluster" >"$KUBECONFIG"

# The image exists only inside the nodes: never pull it.
# shellcheck disable=SC2086 # HELM_ARGS is a list of arguments
helm upgrade --install tollgate charts/tollgate \
  --namespace "$namespace" --create-namespace \
  --set image.repository="$image_repo" --set image.tag="$image_tag" --set image.pullPolicy=Never \
  --wait --timeout 5m ${HELM_ARGS:-}
kubectl -n "$namespace" get pods -o wide

export TOLLGATE_E2E_NAMESPACE="$namespace" TOLLGATE_E2E_RELEASE=tollgate
npm run test:e2e
