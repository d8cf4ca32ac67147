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
