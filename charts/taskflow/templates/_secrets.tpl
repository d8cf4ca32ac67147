{{/*
A kept secret value: the value given in values, else the one already stored in the cluster's Secret
(Helm lookup; empty under `helm template`), else a new random hex string. Memoised per render, so every
template that needs it (the Secret itself, a URL built from it) sees the same value.
Call with (dict "root" $ "secret" "sso-postgres" "key" "password" "value" <given> "length" 32).
*/}}
{{- define "taskflow.keptValue" -}}
{{- if not (hasKey .root.Values "__taskflowKept") -}}
{{- $_ := set .root.Values "__taskflowKept" (dict) -}}
{{- end -}}
{{- $memo := index .root.Values "__taskflowKept" -}}
{{- $id := printf "%s/%s" .secret .key -}}
{{- if not (hasKey $memo $id) -}}
{{- $v := toString (.value | default "") -}}
{{- if eq $v "" -}}
{{- $found := lookup "v1" "Secret" .root.Release.Namespace .secret -}}
{{- if and $found (hasKey ($found.data | default dict) .key) -}}
{{- $v = index $found.data .key | b64dec -}}
{{- end -}}
{{- end -}}
{{- if eq $v "" -}}
{{- $v = sha256sum (printf "%s%s" (randAlphaNum 64) $id) | trunc (int .length) -}}
{{- end -}}
{{- $_ := set $memo $id $v -}}
{{- end -}}
{{- index $memo $id -}}
{{- end -}}

{{/* Annotations of the Secrets the chart generates: Helm keeps them on uninstall (the data was initialised with them). */}}
{{- define "taskflow.keepAnnotations" -}}
annotations:
  helm.sh/resource-policy: keep
{{- end -}}

{{/* BETTER_AUTH_SECRET (given, kept or generated); only when sso.existingSecret is not set. */}}
{{- define "taskflow.sso.authSecret" -}}
{{- include "taskflow.keptValue" (dict "root" . "secret" "sso-platform" "key" "BETTER_AUTH_SECRET" "value" .Values.sso.auth.secret "length" 64) -}}
{{- end -}}

{{/* pgAdmin's admin password (given, kept or generated). */}}
{{- define "taskflow.pgadmin.password" -}}
{{- include "taskflow.keptValue" (dict "root" . "secret" "pgadmin" "key" "password" "value" .Values.pgadmin.password "length" 32) -}}
{{- end -}}

{{/* The sender when sso.smtp.from is empty (from the app contract): the SSO has no default and sends nothing without one. */}}
{{- define "taskflow.sso.defaultSender" -}}
{{- (.Files.Get "app-contract.yaml" | fromYaml).apps.sso.facts.mail.defaultSender | required "app-contract.yaml: apps.sso.facts.mail.defaultSender is missing" -}}
{{- end -}}

{{/*
SMTP as the SSO sees it: Mailpit's while it is on, else sso.smtp; host empty means SMTP off. The one rule
for who wins: Mailpit on wins over sso.smtp.* (the env file's SMTP_*), which is set aside, not refused,
and applies again once Mailpit is off; the suite's commands say so (lib/addon-release.ts). Mailpit accepts
any login: its user and password are fixed words (lib/addon-catalog.ts MAILPIT_SMTP, kept equal by a test).
The sender is never empty: the SSO sends mail only with EMAIL_FROM set (auth.ts, see app-contract.yaml).
*/}}
{{- define "taskflow.sso.smtp" -}}
{{- $from := .Values.sso.smtp.from | default (include "taskflow.sso.defaultSender" .) -}}
{{- if .Values.mailpit.enabled -}}
{{- toYaml (dict "host" "mailpit" "port" 1025 "user" "taskflow" "password" "mailpit" "secure" false "from" $from) -}}
{{- else -}}
{{- toYaml (merge (dict "from" $from) (omit .Values.sso.smtp "from")) -}}
{{- end -}}
{{- end -}}
