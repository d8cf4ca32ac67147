{{/* Chart label value: name-version. */}}
{{- define "taskflow.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object; call with (dict "root" $ "component" "sso"). */}}
{{- define "taskflow.labels" -}}
app.kubernetes.io/name: taskflow
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service | quote }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .component | quote }}
helm.sh/chart: {{ include "taskflow.chart" .root | quote }}
{{- end -}}

{{/* Pod selector of a component: release and component only, so it never changes on upgrade. */}}
{{- define "taskflow.selectorLabels" -}}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end -}}

{{/* metadata block (name, namespace, labels); call with (dict "root" $ "name" "x" "component" "sso"). */}}
{{- define "taskflow.metadata" -}}
name: {{ .name }}
namespace: {{ .root.Release.Namespace | quote }}
labels:
  {{- include "taskflow.labels" . | nindent 2 }}
{{- end -}}

{{/* A TaskFlow image: repository:tag, the tag defaulting to global.imageTag, then the chart's appVersion. */}}
{{- define "taskflow.appImage" -}}
{{- $tag := .image.tag | default .root.Values.global.imageTag | default .root.Chart.AppVersion -}}
{{- printf "%s:%s" .image.repository (toString $tag) -}}
{{- end -}}

{{/* A third-party image with its pinned tag. */}}
{{- define "taskflow.pinnedImage" -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end -}}

{{/* Pod-level settings every pod shares: no service account token, pull secrets. */}}
{{- define "taskflow.podDefaults" -}}
automountServiceAccountToken: false
{{- with .Values.global.imagePullSecrets }}
imagePullSecrets:
  {{- range . }}
  - name: {{ . | quote }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* Pod securityContext: non-root with the given ids and the runtime's default seccomp profile. */}}
{{- define "taskflow.podSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  runAsUser: {{ .runAsUser }}
  runAsGroup: {{ .runAsGroup }}
  fsGroup: {{ .fsGroup }}
  fsGroupChangePolicy: OnRootMismatch
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* Container securityContext; call with (dict "readOnly" true) or a list of capabilities to keep in "add". */}}
{{- define "taskflow.containerSecurityContext" -}}
securityContext:
  runAsNonRoot: true
  allowPrivilegeEscalation: false
  privileged: false
  readOnlyRootFilesystem: {{ .readOnly }}
  capabilities:
    drop:
      - ALL
    {{- with .add }}
    add:
      {{- toYaml . | nindent 6 }}
    {{- end }}
  seccompProfile:
    type: RuntimeDefault
{{- end -}}

{{/* Image and pull policy lines of a container. */}}
{{- define "taskflow.imageLines" -}}
image: {{ .image | quote }}
imagePullPolicy: {{ .root.Values.global.imagePullPolicy }}
{{- end -}}

{{/* Pod annotation with the hash of rendered templates, so a config change rolls the pods. */}}
{{- define "taskflow.checksum" -}}
{{- $out := "" -}}
{{- range .files -}}
{{- $out = print $out (include (print $.root.Template.BasePath "/" .) $.root) -}}
{{- end -}}
{{- $out | sha256sum -}}
{{- end -}}

{{/* Comma-joined list (ALLOWED_ORIGINS). */}}
{{- define "taskflow.join" -}}
{{- join "," . -}}
{{- end -}}

{{/* The origin (scheme://host[:port]) of a URL. */}}
{{- define "taskflow.origin" -}}
{{- $u := urlParse . -}}
{{- printf "%s://%s" $u.scheme $u.host -}}
{{- end -}}

{{/* In-cluster URLs of the services (fixed names, same namespace). */}}
{{- define "taskflow.ssoInternalUrl" -}}http://sso-platform:3001{{- end -}}
{{- define "taskflow.apiInternalUrl" -}}http://taskflow-api:8000{{- end -}}
{{- define "taskflow.mcpInternalUrl" -}}http://mcp-server:8001/mcp{{- end -}}

{{/* An Ingress for one Service; call with (dict "root" $ "name" "web-dashboard" "component" "web" "host" "x" "port" 3000). */}}
{{- define "taskflow.ingress" -}}
{{- $host := .host -}}
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  {{- include "taskflow.metadata" . | nindent 2 }}
  {{- with .root.Values.ingress.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- with .root.Values.ingress.className }}
  ingressClassName: {{ . | quote }}
  {{- end }}
  {{- $tls := list -}}
  {{- range .root.Values.ingress.tls -}}
  {{- if has $host .hosts -}}
  {{- $tls = append $tls (dict "secretName" .secretName "hosts" (list $host)) -}}
  {{- end -}}
  {{- end }}
  {{- with $tls }}
  tls:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  rules:
    - host: {{ $host | quote }}
      http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service:
                name: {{ .name }}
                port:
                  number: {{ .port }}
{{- end -}}

{{/* A `helm test` pod that fetches health URLs with the postgres image's busybox wget (`helm test <release>`). */}}
{{- define "taskflow.testPod" -}}
apiVersion: v1
kind: Pod
metadata:
  {{- include "taskflow.metadata" . | nindent 2 }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  {{- include "taskflow.podDefaults" .root | nindent 2 }}
  {{- include "taskflow.podSecurityContext" (dict "runAsUser" 70 "runAsGroup" 70 "fsGroup" 70) | nindent 2 }}
  containers:
    - name: health
      {{- include "taskflow.imageLines" (dict "root" .root "image" (include "taskflow.pinnedImage" .root.Values.postgres.image)) | nindent 6 }}
      command:
        - sh
        - -c
        - |
          for url in "$@"; do
            echo "GET $url"
            wget -q -T 10 -O - "$url" || { echo "FAILED: $url" >&2; exit 1; }
            echo
          done
        - health
        {{- range .urls }}
        - {{ . | quote }}
        {{- end }}
      {{- include "taskflow.containerSecurityContext" (dict "readOnly" true) | nindent 6 }}
      resources:
        {{- toYaml .root.Values.initContainers.resources | nindent 8 }}
{{- end -}}

{{/* Image, configuration and security of the API container, shared by the Deployment and api-migrate. */}}
{{- define "taskflow.apiContainerBody" -}}
{{- include "taskflow.imageLines" (dict "root" . "image" (include "taskflow.appImage" (dict "root" . "image" .Values.api.image))) }}
envFrom:
  - configMapRef:
      name: taskflow-api
  - secretRef:
      name: taskflow-api
{{- if or .Values.api.database.existingSecret .Values.api.database.caSecret }}
env:
  {{- with .Values.api.database.caSecret }}
  # asyncpg reads the CA of sslmode verify-ca/verify-full from here (app-contract.yaml: api, PGSSLROOTCERT).
  - name: PGSSLROOTCERT
    value: {{ printf "/etc/taskflow/db-ca/%s" $.Values.api.database.caSecretKey | quote }}
  {{- end }}
  {{- include "taskflow.db.urlEnv" (dict "root" . "db" "api" "names" (list "DATABASE_URL" "TASKFLOW_CHATKIT_DATABASE_URL")) | nindent 2 }}
{{- end }}
{{ include "taskflow.containerSecurityContext" (dict "readOnly" true) }}
{{- end -}}

{{/* The API containers' volume mounts: /tmp, and the database CA when api.database.caSecret is set. */}}
{{- define "taskflow.api.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if .Values.api.database.caSecret }}
- name: db-ca
  mountPath: /etc/taskflow/db-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* The API pods' volumes matching taskflow.api.volumeMounts. */}}
{{- define "taskflow.api.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 256Mi
{{- with .Values.api.database.caSecret }}
- name: db-ca
  secret:
    secretName: {{ . | quote }}
    defaultMode: 0444
{{- end }}
{{- end -}}

{{/*
Replicas of the API. Each replica creates the tables and the chat schema at start-up without a lock, so
replicas starting together on an empty database race (a lost race leaves chat off on that replica). Until
the Deployment exists with a Ready replica (Helm lookup), one replica starts; `npm run deploy` then
upgrades again and the configured count starts against a database that is already set up.
*/}}
{{- define "taskflow.api.replicas" -}}
{{- $want := int .Values.api.replicaCount -}}
{{- if le $want 1 -}}
{{- $want -}}
{{- else -}}
{{- $live := lookup "apps/v1" "Deployment" .Release.Namespace "taskflow-api" -}}
{{- $ready := int (dig "status" "readyReplicas" 0 ($live | default dict)) -}}
{{- $had := int (dig "spec" "replicas" 0 ($live | default dict)) -}}
{{- ternary $want 1 (or (ge $ready 1) (ge $had 2)) -}}
{{- end -}}
{{- end -}}
