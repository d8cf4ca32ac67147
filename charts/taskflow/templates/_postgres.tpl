{{/* Database objects shared by sso-postgres and api-postgres; call each with (dict "root" $ "db" "sso"). */}}

{{/* The StatefulSet of an in-cluster PostgreSQL (1 replica, volume claim "data", kept when deleted). */}}
{{- define "taskflow.postgres.statefulset" -}}
{{- $name := include "taskflow.db.name" . -}}
{{- $cfg := (index .root.Values .db).database -}}
{{- $component := $name -}}
{{- $probe := list "pg_isready" "-q" "-h" "127.0.0.1" "-p" "5432" "-U" $cfg.user "-d" $cfg.name -}}
apiVersion: apps/v1
kind: StatefulSet
metadata:
  {{- include "taskflow.metadata" (dict "root" .root "name" $name "component" $component) | nindent 2 }}
spec:
  serviceName: {{ $name }}
  replicas: 1
  revisionHistoryLimit: 3
  selector:
    matchLabels:
      {{- include "taskflow.selectorLabels" (dict "root" .root "component" $component) | nindent 6 }}
  # Data outlives the StatefulSet: only `npm run deploy -- --fresh` deletes the claims, after a backup.
  persistentVolumeClaimRetentionPolicy:
    whenDeleted: Retain
    whenScaled: Retain
  template:
    metadata:
      labels:
        {{- include "taskflow.labels" (dict "root" .root "component" $component) | nindent 8 }}
    spec:
      {{- include "taskflow.podDefaults" .root | nindent 6 }}
      # uid/gid 70: the postgres user of the alpine image.
      {{- include "taskflow.podSecurityContext" (dict "runAsUser" 70 "runAsGroup" 70 "fsGroup" 70) | nindent 6 }}
      terminationGracePeriodSeconds: 30
      containers:
        - name: postgres
          {{- include "taskflow.imageLines" (dict "root" .root "image" (include "taskflow.pinnedImage" .root.Values.postgres.image)) | nindent 10 }}
          ports:
            - name: postgres
              containerPort: 5432
              protocol: TCP
          env:
            - name: POSTGRES_DB
              value: {{ $cfg.name | quote }}
            - name: POSTGRES_USER
              value: {{ $cfg.user | quote }}
            # Applied only when the data directory is empty (first start); see npm run reset-db-password.
            - name: POSTGRES_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: {{ include "taskflow.db.secretName" . | quote }}
                  key: {{ include "taskflow.db.secretKey" . | quote }}
            # A subdirectory: the mount point itself may hold lost+found, which initdb refuses.
            - name: PGDATA
              value: /var/lib/postgresql/data/pgdata
          # initdb on a fresh volume takes a while; liveness starts only after this passed.
          startupProbe:
            exec:
              command: {{ toJson $probe }}
            periodSeconds: 5
            timeoutSeconds: 5
            failureThreshold: 60
          readinessProbe:
            exec:
              command: {{ toJson $probe }}
            periodSeconds: 10
            timeoutSeconds: 5
            failureThreshold: 3
          livenessProbe:
            exec:
              command: {{ toJson $probe }}
            periodSeconds: 20
            timeoutSeconds: 5
            failureThreshold: 6
          {{- include "taskflow.containerSecurityContext" (dict "readOnly" true) | nindent 10 }}
          resources:
            {{- toYaml $cfg.resources | nindent 12 }}
          volumeMounts:
            - name: data
              mountPath: /var/lib/postgresql/data
            - name: run
              mountPath: /var/run/postgresql
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: run
          emptyDir: {}
        - name: tmp
          emptyDir:
            sizeLimit: 256Mi
  volumeClaimTemplates:
    - metadata:
        name: data
        # volumeClaimTemplates are immutable: only labels that never change on upgrade.
        labels:
          app.kubernetes.io/name: taskflow
          {{- include "taskflow.selectorLabels" (dict "root" .root "component" $component) | nindent 10 }}
      spec:
        accessModes:
          - ReadWriteOnce
        {{- with .root.Values.global.storageClass }}
        storageClassName: {{ . | quote }}
        {{- end }}
        resources:
          requests:
            storage: {{ $cfg.persistence.size | quote }}
{{- end -}}

{{/* The headless Service of a database (stable DNS for the StatefulSet pod). */}}
{{- define "taskflow.postgres.service" -}}
{{- $name := include "taskflow.db.name" . -}}
apiVersion: v1
kind: Service
metadata:
  {{- include "taskflow.metadata" (dict "root" .root "name" $name "component" $name) | nindent 2 }}
spec:
  clusterIP: None
  selector:
    {{- include "taskflow.selectorLabels" (dict "root" .root "component" $name) | nindent 4 }}
  ports:
    - name: postgres
      port: 5432
      targetPort: postgres
      protocol: TCP
{{- end -}}

{{/* The password Secret of a database (given, kept or generated), unless existingSecret is set. */}}
{{- define "taskflow.postgres.secret" -}}
{{- $name := include "taskflow.db.name" . -}}
apiVersion: v1
kind: Secret
metadata:
  {{- include "taskflow.metadata" (dict "root" .root "name" $name "component" $name) | nindent 2 }}
  {{- include "taskflow.keepAnnotations" . | nindent 2 }}
type: Opaque
data:
  password: {{ include "taskflow.db.password" . | b64enc | quote }}
{{- end -}}

{{/* Only the database's own app, its migration Jobs, pgAdmin and the add-ons listing it may open connections to it. */}}
{{- define "taskflow.postgres.networkPolicy" -}}
{{- $name := include "taskflow.db.name" . -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  {{- include "taskflow.metadata" (dict "root" .root "name" $name "component" $name) | nindent 2 }}
spec:
  podSelector:
    matchLabels:
      {{- include "taskflow.selectorLabels" (dict "root" .root "component" $name) | nindent 6 }}
  policyTypes:
    - Ingress
  ingress:
    - from:
        {{- range uniq (concat (list .db (printf "%s-migrate" .db) "pgadmin") (include "taskflow.addons.reaching" . | fromJsonArray)) }}
        - podSelector:
            matchLabels:
              {{- include "taskflow.selectorLabels" (dict "root" $.root "component" .) | nindent 14 }}
        {{- end }}
      ports:
        - port: postgres
          protocol: TCP
{{- end -}}
