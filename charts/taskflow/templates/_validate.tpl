{{/*
Checks that span several values (the schema checks each value on its own). Every problem is collected,
then reported at once, each with a hint. Secret values never appear in a message.
*/}}
{{- define "taskflow.validateValues" -}}
{{- $msgs := list -}}
{{- $v := .Values -}}

{{- /* Image tags: never latest (a rebuild would not roll the pods). */ -}}
{{- $tags := dict "global.imageTag" $v.global.imageTag "sso.image.tag" $v.sso.image.tag "sso.migrations.image.tag" $v.sso.migrations.image.tag "api.image.tag" $v.api.image.tag "mcp.image.tag" $v.mcp.image.tag "web.image.tag" $v.web.image.tag "postgres.image.tag" $v.postgres.image.tag "pgadmin.image.tag" $v.pgadmin.image.tag "mailpit.image.tag" $v.mailpit.image.tag -}}
{{- range $path, $tag := $tags -}}
{{- if eq (toString $tag) "latest" -}}
{{- $msgs = append $msgs (printf "%s: the tag \"latest\" is not allowed (with IfNotPresent a rebuilt image never reaches the pods).\n  hint: tag images by content or commit, e.g. npm run deploy -- --build" $path) -}}
{{- end -}}
{{- end -}}

{{- if $v.sso.enabled -}}
{{- $auth := urlParse $v.sso.auth.url -}}
{{- $authOrigin := include "taskflow.origin" $v.sso.auth.url -}}
{{- $authHost := regexReplaceAll ":[0-9]+$" $auth.host "" -}}
{{- if and (eq $auth.scheme "http") (not (has $authHost (list "localhost" "127.0.0.1"))) -}}
{{- $msgs = append $msgs (printf "sso.auth.url: %s uses plain http on a host other than localhost; the SSO's cookies are Secure, so browsers drop them and sign-in fails.\n  hint: use https:// (ingress with TLS), or port-forward and use http://localhost:3001" $v.sso.auth.url) -}}
{{- end -}}
{{- if not (has $authOrigin $v.sso.auth.allowedOrigins) -}}
{{- $msgs = append $msgs (printf "sso.auth.allowedOrigins: misses the SSO's own origin %s (from sso.auth.url); requests from its own pages fail with \"Invalid origin\".\n  hint: add %s to sso.auth.allowedOrigins (ALLOWED_ORIGINS)" $authOrigin $authOrigin) -}}
{{- end -}}
{{- if and $v.sso.existingSecret $v.sso.auth.secret -}}
{{- $msgs = append $msgs "sso.auth.secret and sso.existingSecret are both set; a secret has one source.\n  hint: keep one of them" -}}
{{- end -}}
{{- /* mailpit.enabled with sso.smtp.host is no conflict: Mailpit wins while it is on (taskflow.sso.smtp), NOTES.txt says so. */ -}}
{{- if and $v.sso.smtp.host (not $v.mailpit.enabled) -}}
{{- if or (not $v.sso.smtp.user) (not $v.sso.smtp.password) -}}
{{- $msgs = append $msgs "sso.smtp: host is set but user or password is empty; the SSO counts SMTP as configured only with all three, so it would send no mail and new users could never verify their e-mail.\n  hint: set sso.smtp.user and sso.smtp.password (SMTP_USER, SMTP_PASS), or unset sso.smtp.host" -}}
{{- end -}}
{{- $port := int $v.sso.smtp.port -}}
{{- if or (and (eq $port 465) (not $v.sso.smtp.secure)) (and $v.sso.smtp.secure (has $port (list 25 587))) -}}
{{- $msgs = append $msgs (printf "sso.smtp: port %d and secure=%t disagree; port 465 speaks TLS from the start (secure: true), ports 25 and 587 start plain and upgrade (secure: false).\n  hint: use port 465 with secure: true, or port 587 with secure: false" $port $v.sso.smtp.secure) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- range $db := list "sso" "api" -}}
{{- $cfg := (index $v $db).database -}}
{{- if (index $v $db).enabled -}}
{{- if and $cfg.password $cfg.existingSecret -}}
{{- $msgs = append $msgs (printf "%s.database.password and %s.database.existingSecret are both set; a password has one source.\n  hint: keep one of them" $db $db) -}}
{{- end -}}
{{- if and (eq $db "sso") $cfg.host (not (hasSuffix ".neon.tech" (lower $cfg.host))) (ne (include "taskflow.db.sslmode" (dict "root" $ "db" $db)) "disable") -}}
{{- $msgs = append $msgs (printf "sso.database.host: %s is not a Neon host, and the SSO would talk to it with Neon's HTTP driver: it uses plain PostgreSQL only when DATABASE_URL holds localhost, 127.0.0.1 or sslmode=disable (src/lib/db/index.ts and scripts/seed-setup.ts), so its migrations and every sign-in would fail.\n  hint: use a Neon database (host *.neon.tech, sslmode require), or set sso.database.sslmode: disable for a PostgreSQL reachable without TLS (inside your network only)" $cfg.host) -}}
{{- end -}}
{{- if and (eq $db "api") (has (include "taskflow.db.sslmode" (dict "root" $ "db" $db)) (list "verify-ca" "verify-full")) (not $v.api.database.caSecret) -}}
{{- $msgs = append $msgs (printf "api.database.sslmode: %s makes the API verify the server certificate, but no CA is given; asyncpg then fails at start-up (root certificate file does not exist).\n  hint: set api.database.caSecret to a Secret holding the CA (key api.database.caSecretKey, default ca.crt), or use sslmode require" (include "taskflow.db.sslmode" (dict "root" $ "db" $db))) -}}
{{- end -}}
{{- if and $cfg.host (not $cfg.password) (not $cfg.existingSecret) -}}
{{- $kept := lookup "v1" "Secret" $.Release.Namespace (printf "%s-postgres" $db) -}}
{{- if not $kept -}}
{{- $msgs = append $msgs (printf "%s.database.host: the database is external (%s) but no password is given; a generated one would not match it.\n  hint: set %s.database.password, or %s.database.existingSecret to a Secret holding it" $db $cfg.host $db $db) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- if and $v.pgadmin.enabled (hasSuffix ".local" (lower $v.pgadmin.email)) -}}
{{- $msgs = append $msgs (printf "pgadmin.email: %s ends in .local, which pgAdmin rejects as a special-use domain (the pod would exit at start).\n  hint: use an address such as admin@example.com" $v.pgadmin.email) -}}
{{- end -}}

{{- if and $v.web.enabled $v.sso.enabled (not (has $v.web.url $v.sso.auth.allowedOrigins)) -}}
{{- $msgs = append $msgs (printf "sso.auth.allowedOrigins: misses the web origin %s (web.url); sign-in from the dashboard fails with \"Invalid origin\".\n  hint: add %s to sso.auth.allowedOrigins (ALLOWED_ORIGINS), or set web.url to the URL the browser opens" $v.web.url $v.web.url) -}}
{{- end -}}
{{- if and $v.web.enabled $v.api.enabled (not (has $v.web.url $v.api.allowedOrigins)) -}}
{{- $msgs = append $msgs (printf "api.allowedOrigins: misses the web origin %s (web.url); the browser's API calls fail CORS.\n  hint: add %s to api.allowedOrigins" $v.web.url $v.web.url) -}}
{{- end -}}

{{- if $v.ingress.enabled -}}
{{- $hosts := $v.ingress.hosts -}}
{{- if not (or $hosts.web $hosts.sso $hosts.api) -}}
{{- $msgs = append $msgs "ingress.hosts: ingress is enabled but no host is set.\n  hint: set ingress.hosts.web, ingress.hosts.sso and ingress.hosts.api" -}}
{{- end -}}
{{- if and $v.sso.enabled $hosts.sso (ne (urlParse $v.sso.auth.url).host $hosts.sso) -}}
{{- $msgs = append $msgs (printf "sso.auth.url: %s does not point at ingress.hosts.sso (%s); the browser must reach the SSO at BETTER_AUTH_URL.\n  hint: set sso.auth.url to https://%s" $v.sso.auth.url $hosts.sso $hosts.sso) -}}
{{- end -}}
{{- if $hosts.web -}}
{{- $tls := false -}}
{{- range $v.ingress.tls -}}{{- if has $hosts.web .hosts -}}{{- $tls = true -}}{{- end -}}{{- end -}}
{{- $webOrigin := printf "%s://%s" (ternary "https" "http" $tls) $hosts.web -}}
{{- if and $v.web.enabled (ne $v.web.url $webOrigin) -}}
{{- $msgs = append $msgs (printf "web.url: %s is not the dashboard's ingress origin %s (ingress.hosts.web); after sign-in the browser is sent to web.url, and the OAuth redirect is built from it.\n  hint: set web.url to %s (and keep it in sso.auth.allowedOrigins and api.allowedOrigins)" $v.web.url $webOrigin $webOrigin) -}}
{{- end -}}
{{- end -}}
{{- if and $hosts.api $v.api.enabled (ne (urlParse $v.api.url).host $hosts.api) -}}
{{- $msgs = append $msgs (printf "api.url: %s does not point at ingress.hosts.api (%s); the web image calls the API at api.url.\n  hint: set api.url to https://%s" $v.api.url $hosts.api $hosts.api) -}}
{{- end -}}
{{- end -}}

{{- $msgs = concat $msgs (include "taskflow.addons.problems" . | fromJsonArray) -}}

{{- if $msgs -}}
{{- fail (printf "\n\nVALUES VALIDATION: %d problem(s) in the values of release %s:\n\n- %s\n" (len $msgs) .Release.Name (join "\n\n- " $msgs)) -}}
{{- end -}}
{{- end -}}
