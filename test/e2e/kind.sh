#!/usr/bin/env bash
# End-to-end on a kind cluster, for machines with Docker (CI here has none: see docs/kube-test-env.md).
#   1. builds the image from the project's Dockerfile as tollgate:dev
#   2. creates a kind cluster (or reuses one of the same name) and loads the image into it
#   3. helm-installs charts/tollgate with that image and waits for it to be ready
#   4. applies test/e2e/manifests.yaml (`tollgate simulate` from the same image as the upstream, providers,
#      routes, a quota) and a client key Secret with a random key, and waits until the routes are Programmed
#   5. port-forwards the data-plane Service and runs the end-to-end suite (`npm run test:e2e`, which the
#      default `npm test` never runs) with TOLLGATE_E2E_URL and TOLLGATE_E2E_KEY
# Env: KIND_CLUSTER (tollgate-e2e), NAMESPACE (tollgate-system), KEEP_CLUSTER=1 to keep a cluster it creates,
#      HELM_ARGS (extra `helm upgrade --install` arguments), KIND_NODE_IMAGE (kind's node image),
#      LOCAL_PORT (18080: where the data-plane Service is forwarded to).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

cluster="${KIND_CLUSTER:-tollgate-e2e}"
namespace="${NAMESPACE:-tollgate-system}"
release=tollgate
# The chart's values: image.repository, image.tag, image.pullPolicy (charts/tollgate/values.yaml).
image_repo=tollgate
image_tag=dev
app_namespace=tollgate-e2e   # where test/e2e/manifests.yaml puts the upstream, providers and routes
local_port="${LOCAL_PORT:-18080}"

die() { echo "kind.sh: ERROR: $*" >&2; exit 1; }
for tool in docker kind npm openssl curl; do
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
delete_cluster=0
forward_pid=""
cleanup() {
  [[ -n "$forward_pid" ]] && kill "$forward_pid" 2>/dev/null || true
  if [[ "$delete_cluster" == 1 ]]; then kind delete cluster --name "$cluster"; fi
}
trap cleanup EXIT
if ! kind get clusters | grep -qx "$cluster"; then
  kind create cluster --name "$cluster" ${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"} --wait 120s
  [[ "${KEEP_CLUSTER:-0}" == 1 ]] || delete_cluster=1
fi
kind load docker-image "${image_repo}:${image_tag}" --name "$cluster"

KUBECONFIG="$(mktemp)"
export KUBECONFIG
kind get kubeconfig --name "$cluster" >"$KUBECONFIG"

# The image exists only inside the nodes: never pull it.
# shellcheck disable=SC2086 # HELM_ARGS is a list of arguments
helm upgrade --install "$release" charts/tollgate \
  --namespace "$namespace" --create-namespace \
  --set image.repository="$image_repo" --set image.tag="$image_tag" --set image.pullPolicy=Never \
  --wait --timeout 5m ${HELM_ARGS:-}
kubectl -n "$namespace" get pods -o wide

# The upstream (same image, `tollgate simulate`), providers, routes and quota; then a client key.
sed "s#TOLLGATE_IMAGE#${image_repo}:${image_tag}#" test/e2e/manifests.yaml | kubectl apply -f -
key="tg-e2e-$(openssl rand -hex 24)"
kubectl -n "$app_namespace" create secret generic e2e-client --from-literal=key="$key" \
  --dry-run=client -o yaml | kubectl apply -f -
kubectl -n "$app_namespace" label secret e2e-client tollgate.dev/api-key=true team=e2e --overwrite
kubectl -n "$app_namespace" rollout status deployment/simulate --timeout=120s
for route in chat claude cross; do
  kubectl -n "$app_namespace" wait --for=condition=Programmed "llmroute/$route" --timeout=120s
done
kubectl -n "$app_namespace" get llmproviders,llmroutes,quotapolicies

# The data-plane Service is named after the release (chart helper tollgate.fullname), port 80 by default.
service="svc/${release}"
kubectl -n "$namespace" port-forward "$service" "${local_port}:80" >/dev/null &
forward_pid=$!
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:${local_port}/readyz" >/dev/null 2>&1 && break
  sleep 1
done
curl -fsS "http://127.0.0.1:${local_port}/readyz" >/dev/null || die "the data plane is not reachable on :${local_port}"

export TOLLGATE_E2E_URL="http://127.0.0.1:${local_port}" TOLLGATE_E2E_KEY="$key"
export TOLLGATE_E2E_APP_NAMESPACE="$app_namespace" TOLLGATE_E2E_NAMESPACE="$namespace" TOLLGATE_E2E_RELEASE="$release"
npm run test:e2e
