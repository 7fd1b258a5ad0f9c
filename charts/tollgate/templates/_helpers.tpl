{{- define "tollgate.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "tollgate.labels" -}}
app.kubernetes.io/name: tollgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tollgate.operator.selector" -}}
app.kubernetes.io/name: tollgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "tollgate.dataplane.selector" -}}
app.kubernetes.io/name: tollgate
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: dataplane
{{- end -}}

{{- define "tollgate.operator.name" -}}{{ include "tollgate.fullname" . }}-operator{{- end -}}
{{- define "tollgate.dataplane.name" -}}{{ include "tollgate.fullname" . }}-dataplane{{- end -}}
{{- define "tollgate.tlsSecret" -}}{{ include "tollgate.fullname" . }}-operator-tls{{- end -}}
{{- define "tollgate.snapshotSecret" -}}{{ include "tollgate.fullname" . }}-config-snapshot{{- end -}}
{{- define "tollgate.image" -}}{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}{{- end -}}

{{- define "tollgate.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "tollgate.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "tollgate.otelEnv" -}}
{{- if .Values.otel.endpoint }}
- name: OTEL_EXPORTER_OTLP_ENDPOINT
  value: {{ .Values.otel.endpoint | quote }}
- name: OTEL_SERVICE_NAME
  value: {{ .Values.otel.serviceName | quote }}
{{- end }}
{{- end -}}

{{/* The Redis URL from redis.existingSecret, as TOLLGATE_REDIS_URL (the kubelet reads the Secret: no RBAC
   needed). redis.url instead stays the --redis flag; both at once is an error. */}}
{{- define "tollgate.redisEnv" -}}
{{- if and .Values.redis.url .Values.redis.existingSecret.name }}
{{- fail "redis.url and redis.existingSecret.name are both set: set only one (existingSecret keeps a password out of the pod spec)" }}
{{- end }}
{{- with .Values.redis.existingSecret.name -}}
- name: TOLLGATE_REDIS_URL
  valueFrom:
    secretKeyRef: { name: {{ . | quote }}, key: {{ $.Values.redis.existingSecret.key | default "url" | quote }} }
{{- end }}
{{- end -}}

{{/* Rules the operator needs in every watched namespace: read the Tollgate kinds and Secrets, write
   their status, record Events. */}}
{{- define "tollgate.watchRules" -}}
- apiGroups: ["tollgate.dev"]
  resources: ["llmproviders", "llmroutes", "quotapolicies"]
  verbs: ["get", "list", "watch"]
- apiGroups: ["tollgate.dev"]
  resources: ["llmproviders/status", "llmroutes/status", "quotapolicies/status"]
  verbs: ["get", "update", "patch"]
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create", "patch"]
{{- end }}
