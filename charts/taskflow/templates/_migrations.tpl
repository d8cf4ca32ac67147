{{/*
The SSO migration container (drizzle push, then the seed), shared by the SSO pod's init container and
the suspended CronJob sso-migrate, so an on-demand run is exactly what a deploy runs.
*/}}
{{- define "taskflow.sso.migrateContainer" -}}
{{- $db := dict "root" . "db" "sso" -}}
{{- /* seed:setup is `npx tsx scripts/seed-setup.ts`, seed:prod adds --prod (sso package.json) */ -}}
{{- $seed := ternary "scripts/seed-setup.ts --prod" "scripts/seed-setup.ts" (eq .Values.sso.nodeEnv "production") -}}
- name: migrate
  {{- include "taskflow.imageLines" (dict "root" . "image" (include "taskflow.appImage" (dict "root" . "image" .Values.sso.migrations.image))) | nindent 2 }}
  workingDir: /app
  # The binaries the builder stage installed, not pnpm: its pnpm was activated by corepack as root, so as
  # this non-root user corepack would download pnpm again on every start (no internet: the pod fails).
  # They are what `pnpm exec drizzle-kit push` and `pnpm seed:setup` / `seed:prod` run (package.json).
  # The push runs under files/schema-push.cjs ($1): drizzle-kit 0.28 exits 0 when the push fails.
  command:
    - sh
    - -c
    - node -e "$1" && ./node_modules/.bin/tsx {{ $seed }}
    - migrate
    - {{ .Files.Get "files/schema-push.cjs" | quote }}
  env:
    # tsx keeps its cache under HOME and the temp dir: both on the writable emptyDir.
    - name: HOME
      value: /tmp
    {{- if .Values.sso.database.existingSecret }}
    {{- include "taskflow.db.urlEnv" (merge (dict "names" (list "DATABASE_URL")) $db) | nindent 4 }}
    {{- else }}
    - name: DATABASE_URL
      valueFrom:
        secretKeyRef:
          name: sso-platform
          key: DATABASE_URL
    {{- end }}
  {{- include "taskflow.containerSecurityContext" (dict "readOnly" true) | nindent 2 }}
  resources:
    {{- toYaml .Values.sso.migrations.resources | nindent 4 }}
  volumeMounts:
    - name: migrate-tmp
      mountPath: /tmp
{{- end -}}

{{/* The volume the migration container writes to. */}}
{{- define "taskflow.sso.migrateVolume" -}}
- name: migrate-tmp
  emptyDir:
    sizeLimit: 512Mi
{{- end -}}
