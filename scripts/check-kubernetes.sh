#!/usr/bin/env bash
# Validates deploy/kubernetes against the Kubernetes API schema: every object of the kustomization
# (and the Secret's example) must use only fields its kind has, with the right JSON types, and carry
# the required ones: the official Kubernetes Java client's API models (Maven Central), generated from
# the Kubernetes OpenAPI specification, are the schema. Then the manifests must fit each other and
# config.yml (headless service and discovery name, quorum and disruption budget, probes on the
# application port, grace period and drain, non-root, data on a volume claim).
# To show that the check can fail, broken copies (an unknown field, a string where an integer
# belongs, a ConfigMap key config.yml does not read) must be refused. When kubectl is installed, its
# kustomize must also render the directory.
# Usage: scripts/check-kubernetes.sh   (from anywhere; needs java, javac and mvn)
set -uo pipefail
cd "$(dirname "$0")/.."

DIR=deploy/kubernetes
OUT=target/kubernetes-check
POM=scripts/kubernetes-check/pom.xml
mkdir -p "$OUT"
echo "== Kubernetes manifests ($DIR)"

# the class path: offline when the local repository has it, else from Maven Central once
if ! mvn -q -B -o -f "$POM" dependency:build-classpath -Dmdep.outputFile="$PWD/$OUT/classpath.txt" >"$OUT/mvn.log" 2>&1; then
    mvn -q -B -f "$POM" dependency:build-classpath -Dmdep.outputFile="$PWD/$OUT/classpath.txt" >"$OUT/mvn.log" 2>&1 \
        || { cat "$OUT/mvn.log"; echo "  FAIL cannot resolve the Kubernetes API models"; exit 1; }
fi
CP=$(cat "$OUT/classpath.txt")
javac -nowarn -cp "$CP" -d "$OUT/classes" scripts/kubernetes-check/KubernetesCheck.java || { echo "  FAIL the checker does not compile"; exit 1; }
check() { java -cp "$OUT/classes:$CP" KubernetesCheck "$1" config.yml "$1/secret.example.yaml"; }

failures=0
check "$DIR" || failures=$((failures + 1))

# the check refuses what the API server would refuse: each broken copy must fail
broken() {  # broken NAME FILE SED-EXPRESSION EXPECTED-MESSAGE
    local copy="$OUT/broken-$1"
    rm -rf "$copy" && cp -r "$DIR" "$copy"
    sed -i -E "$3" "$copy/$2"
    cmp -s "$DIR/$2" "$copy/$2" && { echo "  FAIL broken copy '$1': the edit changed nothing"; failures=$((failures + 1)); return; }
    local out
    if out=$(check "$copy" 2>&1); then
        echo "  FAIL broken copy '$1' was accepted"; failures=$((failures + 1))
    elif ! grep -qF "$4" <<<"$out"; then
        echo "  FAIL broken copy '$1' was refused for another reason:"; echo "$out"; failures=$((failures + 1))
    else
        echo "  ok   broken copy refused ($1): $(grep -F "$4" <<<"$out" | head -1 | sed 's/^ *FAIL //')"
    fi
}
broken unknown-field statefulset.yaml 's/^( *)terminationGracePeriodSeconds:/\1terminationGracePeriodSecs:/' \
    "unknown field 'terminationGracePeriodSecs'"
broken wrong-type statefulset.yaml 's/^( *)replicas: 3/\1replicas: "3"/' "/spec/replicas: expected an integer"
broken nested-field services.yaml '0,/publishNotReadyAddresses/s/publishNotReadyAddresses/publishNotReadyAddress/' \
    "unknown field 'publishNotReadyAddress'"
broken unread-setting configmap.yaml 's/HAZELCAST_MIN_CLUSTER_SIZE:/HAZELCAST_MIN_CLUSTERSIZE:/' \
    "ConfigMap key HAZELCAST_MIN_CLUSTERSIZE is not a variable config.yml reads"

if command -v kubectl >/dev/null; then
    if kubectl kustomize "$DIR" >"$OUT/rendered.yaml" 2>"$OUT/kustomize.log"; then
        echo "  ok   kubectl kustomize renders $DIR ($(grep -c '^kind:' "$OUT/rendered.yaml") objects)"
    else
        echo "  FAIL kubectl kustomize $DIR: $(head -3 "$OUT/kustomize.log")"; failures=$((failures + 1))
    fi
else
    echo "  note: kubectl is not installed; kustomize rendering not checked"
fi

[ "$failures" = 0 ] || { echo "== Kubernetes manifests: $failures failure(s)"; exit 1; }
echo "== Kubernetes manifests: valid"
