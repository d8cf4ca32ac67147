{{/*
pgAdmin runs in server mode, where a server's PassFile is not an absolute path: pgAdmin joins it (leading
"/" stripped) to the logged-in user's storage directory, <STORAGE_DIR>/<name>, and ignores it (and prompts
for the password) when no file is there. STORAGE_DIR is /var/lib/pgadmin/storage; <name> is the login
e-mail with "@" replaced by "_" ("/" and "\" by "slash", and "pga_user_" in front when it starts with a
digit). The image's own PGPASS_FILE copy uses the same place, but only on first start.
*/}}

{{/* The admin user's storage directory, where pgAdmin looks for the PassFile. */}}
{{- define "taskflow.pgadmin.storageDir" -}}
{{- $name := .Values.pgadmin.email -}}
{{- if regexMatch "^[0-9]" $name -}}
{{- $name = printf "pga_user_%s" $name -}}
{{- end -}}
{{- printf "/var/lib/pgadmin/storage/%s" ($name | replace "@" "_" | replace "/" "slash" | replace "\\" "slash") -}}
{{- end -}}

{{/* The pgpass file's name inside the storage directory (servers.json's PassFile is "/" + this). */}}
{{- define "taskflow.pgadmin.passFileName" -}}.pgpass{{- end -}}

{{/*
pgAdmin's hook into the generic add-on templates (templates/addons/deployment.yaml), for what its definition
(addons/pgadmin.yaml) cannot say as data: the admin e-mail of values pgadmin.email, the init container that
writes the pgpass file from the databases' own Secrets, and the checksums that restart it when they change.
Called with (dict "root" $ "part" "env|initContainers|annotations").
*/}}
{{- define "taskflow.pgadmin.hook" -}}
{{- $root := .root -}}
{{- if eq .part "env" }}
- name: PGADMIN_DEFAULT_EMAIL
  value: {{ $root.Values.pgadmin.email | quote }}
{{- else if eq .part "annotations" }}
checksum/config: {{ include "taskflow.checksum" (dict "root" $root "files" (list "pgadmin/configmap-servers.yaml")) }}
# The databases' Secrets too: its pgpass is written from them at start, so a rotated password
# (npm run reset-db-password -- --rotate upgrades the release) restarts pgAdmin with it.
checksum/secret: {{ include "taskflow.checksum" (dict "root" $root "files" (list "pgadmin/secret.yaml" "sso-postgres/secret.yaml" "api-postgres/secret.yaml")) }}
{{- else if eq .part "initContainers" }}
{{- $dbs := list }}
{{- range list "sso" "api" }}
{{- if (index $root.Values .).enabled }}
{{- $dbs = append $dbs (dict "root" $root "db" .) }}
{{- end }}
{{- end }}
# Writes the pgpass file pgAdmin's servers point at, from each database's own Secret (one source
# per password), mode 0600 as libpq requires; backslash and colon escaped as pgpass requires.
# Server mode reads a PassFile only inside the admin's storage directory (see _pgadmin.tpl), so
# the file goes there, in the data volume pgAdmin mounts at the same path; the directory is 0700
# as pgAdmin makes it, and both belong to uid 5050 (the pod's user), which pgAdmin runs as.
- name: pgpass
  {{- include "taskflow.imageLines" (dict "root" $root "image" (include "taskflow.pinnedImage" $root.Values.postgres.image)) | nindent 2 }}
  command:
    - sh
    - -c
    - |
      set -eu
      umask 077
      f="$PGPASSFILE"
      mkdir -p "$(dirname "$f")"
      : > "$f"
      esc() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/:/\\:/g'; }
      {{- range $dbs }}
      {{- $cfg := (index .root.Values .db).database }}
      printf '%s:%s:*:%s:%s\n' {{ include "taskflow.db.host" . | squote }} {{ $cfg.port | toString | squote }} {{ $cfg.user | squote }} "$(esc "${{ upper .db }}_DB_PASSWORD")" >> "$f"
      {{- end }}
      chmod 600 "$f"
  env:
    - name: PGPASSFILE
      value: {{ printf "%s/%s" (include "taskflow.pgadmin.storageDir" $root) (include "taskflow.pgadmin.passFileName" $root) | quote }}
    {{- range $dbs }}
    - name: {{ upper .db }}_DB_PASSWORD
      valueFrom:
        secretKeyRef:
          name: {{ include "taskflow.db.secretName" . | quote }}
          key: {{ include "taskflow.db.secretKey" . | quote }}
    {{- end }}
  {{- include "taskflow.containerSecurityContext" (dict "readOnly" true) | nindent 2 }}
  resources:
    {{- toYaml $root.Values.initContainers.resources | nindent 4 }}
  volumeMounts:
    - name: vol-data
      mountPath: /var/lib/pgadmin
{{- end }}
{{- end -}}
