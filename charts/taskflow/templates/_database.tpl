{{/* Database helpers. Call each with (dict "root" $ "db" "sso") or "api". */}}

{{/* "true" when this database runs in the cluster (its app is enabled and no external host is set). */}}
{{- define "taskflow.db.inCluster" -}}
{{- $cfg := (index .root.Values .db) -}}
{{- if and $cfg.enabled (not $cfg.database.host) -}}true{{- end -}}
{{- end -}}

{{/* StatefulSet, headless Service and Secret name of an in-cluster database. */}}
{{- define "taskflow.db.name" -}}
{{- printf "%s-postgres" .db -}}
{{- end -}}

{{/* Host the apps connect to: the external host, else the headless Service. */}}
{{- define "taskflow.db.host" -}}
{{- (index .root.Values .db).database.host | default (include "taskflow.db.name" .) -}}
{{- end -}}

{{/* sslmode: the value given, else disable in the cluster (the SSO picks its driver by it) and require outside. */}}
{{- define "taskflow.db.sslmode" -}}
{{- $cfg := (index .root.Values .db).database -}}
{{- $cfg.sslmode | default (ternary "require" "disable" (ne ($cfg.host | default "") "")) -}}
{{- end -}}

{{/* The Secret and key holding the password: the user's existingSecret, else the chart's <db>-postgres. */}}
{{- define "taskflow.db.secretName" -}}
{{- (index .root.Values .db).database.existingSecret | default (include "taskflow.db.name" .) -}}
{{- end -}}
{{- define "taskflow.db.secretKey" -}}
{{- $cfg := (index .root.Values .db).database -}}
{{- ternary ($cfg.existingSecretKey | default "password") "password" (ne ($cfg.existingSecret | default "") "") -}}
{{- end -}}

{{/* The password (given, kept or generated); only meaningful without existingSecret. */}}
{{- define "taskflow.db.password" -}}
{{- include "taskflow.keptValue" (dict "root" .root "secret" (include "taskflow.db.name" .) "key" "password" "value" (index .root.Values .db).database.password "length" 32) -}}
{{- end -}}

{{/*
Percent-encodes one URL component. Go's urlquery escapes everything but A-Za-z0-9-_.~ and writes a
space as "+"; a literal "+" comes out as %2B, so any "+" left is a space, which userinfo needs as %20.
*/}}
{{- define "taskflow.urlEncode" -}}
{{- urlquery . | replace "+" "%20" -}}
{{- end -}}

{{/*
postgresql:// URL with the percent-encoded credentials; "rawPassword" in the dict overrides the encoded one,
"noPassword" true leaves the password out (the driver then takes PGPASSWORD).
"chat" true: the URL of the API's chat store, which turns only sslmode=require/prefer/allow/disable into
asyncpg's ssl= (chatkit_store/config.py, see app-contract.yaml); verify-ca/verify-full are written as
ssl= directly, which it passes through unchanged, instead of an sslmode asyncpg would reject.
*/}}
{{- define "taskflow.db.url" -}}
{{- $cfg := (index .root.Values .db).database -}}
{{- $auth := include "taskflow.urlEncode" $cfg.user -}}
{{- if not .noPassword -}}
{{- $auth = printf "%s:%s" $auth (.rawPassword | default (include "taskflow.urlEncode" (include "taskflow.db.password" .))) -}}
{{- end -}}
{{- $mode := include "taskflow.db.sslmode" . -}}
{{- $param := ternary "ssl" "sslmode" (and (eq (toString .chat) "true") (has $mode (list "verify-ca" "verify-full"))) -}}
{{- printf "postgresql://%s@%s:%d/%s?%s=%s" $auth (include "taskflow.db.host" .) (int $cfg.port) (include "taskflow.urlEncode" $cfg.name) $param $mode -}}
{{- end -}}

{{/*
"true" when a URL of this database must carry the password itself: only the SSO's Neon HTTP driver
(chosen when the URL holds none of localhost, 127.0.0.1, sslmode=disable: src/lib/db/index.ts) sends the
URL as it is. postgres.js (the SSO's plain driver, its seed and drizzle-kit push) and asyncpg (both URLs
of the API) take PGPASSWORD when the URL has no password (see app-contract.yaml).
*/}}
{{- define "taskflow.db.passwordInUrl" -}}
{{- if eq .db "sso" -}}
{{- $probe := include "taskflow.db.url" (merge (dict "noPassword" true) .) -}}
{{- if not (or (contains "localhost" $probe) (contains "127.0.0.1" $probe) (contains "sslmode=disable" $probe)) -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Container env for the URLs when the password lives in an existingSecret (unknown at render time):
PGPASSWORD from that Secret, then each URL without a password, so that any password works (Kubernetes'
$(PGPASSWORD) expansion cannot percent-encode). Only the SSO on Neon's driver gets $(PGPASSWORD) in its URL,
so its password must be URL-safe (deploy and validate check the Secret). Renders nothing without
existingSecret: the URLs are then in the chart's Secret.
Call with (dict "root" $ "db" "api" "names" (list "DATABASE_URL" ...)).
*/}}
{{- define "taskflow.db.urlEnv" -}}
{{- if (index .root.Values .db).database.existingSecret -}}
- name: PGPASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "taskflow.db.secretName" . | quote }}
      key: {{ include "taskflow.db.secretKey" . | quote }}
{{- $ctx := omit . "names" }}
{{- $inUrl := eq (include "taskflow.db.passwordInUrl" $ctx) "true" }}
{{- range .names }}
- name: {{ . }}
  value: {{ include "taskflow.db.url" (merge (dict "rawPassword" "$(PGPASSWORD)" "noPassword" (not $inUrl) "chat" (eq . "TASKFLOW_CHATKIT_DATABASE_URL")) $ctx) | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Init container that waits, bounded, until the database accepts connections, then fails with a hint. */}}
{{- define "taskflow.db.waitContainer" -}}
{{- $cfg := (index .root.Values .db).database -}}
- name: wait-for-db
  {{- include "taskflow.imageLines" (dict "root" .root "image" (include "taskflow.pinnedImage" .root.Values.postgres.image)) | nindent 2 }}
  command:
    - sh
    - -c
    - |
      start=$(date +%s)
      until pg_isready -q -t 3 -h "$1" -p "$2" -U "$3" -d "$4"; do
        if [ $(( $(date +%s) - start )) -ge "$5" ]; then
          echo "wait-for-db: $1:$2 did not accept connections within $5s." >&2
          echo "$6" >&2
          exit 1
        fi
        echo "wait-for-db: waiting for $1:$2"
        sleep 2
      done
      echo "wait-for-db: $1:$2 is ready"
    - wait-for-db
    - {{ include "taskflow.db.host" . | quote }}
    - {{ $cfg.port | quote }}
    - {{ $cfg.user | quote }}
    - {{ $cfg.name | quote }}
    - {{ .root.Values.initContainers.waitTimeoutSeconds | quote }}
    {{- if $cfg.host }}
    - "Check that the external database accepts connections from the cluster, or run: npm run doctor"
    {{- else }}
    - {{ printf "Check the database pod (kubectl logs statefulset/%s), or run: npm run doctor" (include "taskflow.db.name" .) | quote }}
    {{- end }}
  {{- include "taskflow.containerSecurityContext" (dict "readOnly" true) | nindent 2 }}
  resources:
    {{- toYaml .root.Values.initContainers.resources | nindent 4 }}
{{- end -}}
