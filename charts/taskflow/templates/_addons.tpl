{{/* Data add-ons (values addons.<name>): helpers of templates/addons/*.yaml. Call with (dict "root" $ "name" "x" "addon" $a). */}}

{{/* metadata of an add-on's object: the chart's, plus the label taskflow.dev/addon; "object" names it (default: the add-on). */}}
{{- define "taskflow.addon.metadata" -}}
{{- $m := include "taskflow.metadata" (dict "root" .root "name" (.object | default .name) "component" .name) | fromYaml -}}
{{- $_ := set $m.labels "taskflow.dev/addon" .name -}}
{{- toYaml $m -}}
{{- end -}}

{{/* Labels of an add-on's pods: the chart's, plus taskflow.dev/addon. */}}
{{- define "taskflow.addon.labels" -}}
{{- include "taskflow.labels" (dict "root" .root "component" .name) }}
taskflow.dev/addon: {{ .name | quote }}
{{- end -}}

{{/* The add-ons to render, by name (JSON): those of values addons.<name> that are on, plus the chart's own
     built-in definitions switched on by their contract switch (pgadmin.enabled, mailpit.enabled), read from
     addons/<name>.yaml with the image and resources of their values section. */}}
{{- define "taskflow.addons.on" -}}
{{- $out := dict -}}
{{- range $name, $a := .Values.addons -}}
{{- if $a.enabled -}}{{- $_ := set $out $name $a -}}{{- end -}}
{{- end -}}
{{- range $name := list "pgadmin" "mailpit" -}}
{{- $cfg := index $.Values $name -}}
{{- if $cfg.enabled -}}
{{- $def := $.Files.Get (printf "addons/%s.yaml" $name) | fromYaml -}}
{{- $_ := set $def "enabled" true -}}
{{- $_ := set $def "image" (include "taskflow.pinnedImage" $cfg.image) -}}
{{- $_ := set $def "resources" $cfg.resources -}}
{{- $_ := set $out $name $def -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* A fact of the release (env fact:), from the chart's own values: service URLs, database host/port/name/user. */}}
{{- define "taskflow.addon.fact" -}}
{{- $f := .fact -}}
{{- $urls := dict "sso.url" "http://sso-platform:3001" "api.url" "http://taskflow-api:8000" "mcp.url" "http://mcp-server:8001/mcp" "web.url" "http://web-dashboard:3000" -}}
{{- if eq $f "release" -}}{{- .root.Release.Name -}}
{{- else if eq $f "namespace" -}}{{- .root.Release.Namespace -}}
{{- else if hasKey $urls $f -}}{{- get $urls $f -}}
{{- else -}}
{{- $parts := splitList "." $f -}}
{{- $db := index $parts 0 -}}
{{- $field := index $parts 2 -}}
{{- $cfg := (index .root.Values $db).database -}}
{{- if eq $field "host" -}}{{- include "taskflow.db.host" (dict "root" .root "db" $db) -}}
{{- else -}}{{- toString (get $cfg $field) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The pod and container security settings (JSON), defaults filled in: uid/gid/fsGroup 1000, read-only root. */}}
{{- define "taskflow.addon.security" -}}
{{- $sc := .addon.securityContext | default dict -}}
{{- $out := dict "runAsUser" 1000 "runAsGroup" 1000 "fsGroup" 1000 "readOnly" true "add" (list) -}}
{{- range list "runAsUser" "runAsGroup" "fsGroup" -}}
{{- if hasKey $sc . -}}{{- $_ := set $out . (int (get $sc .)) -}}{{- end -}}
{{- end -}}
{{- if hasKey $sc "readOnlyRootFilesystem" -}}{{- $_ := set $out "readOnly" $sc.readOnlyRootFilesystem -}}{{- end -}}
{{- with $sc.addCapabilities -}}{{- $_ := set $out "add" . -}}{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Requests and limits: each one given, else 10m/32Mi requested and 200m/256Mi at most. */}}
{{- define "taskflow.addon.resources" -}}
{{- $r := .addon.resources | default dict -}}
{{- $req := merge (deepCopy ($r.requests | default dict)) (dict "cpu" "10m" "memory" "32Mi") -}}
{{- $lim := merge (deepCopy ($r.limits | default dict)) (dict "cpu" "200m" "memory" "256Mi") -}}
{{- toYaml (dict "requests" $req "limits" $lim) -}}
{{- end -}}

{{/* Pod defaults of the chart, with automountServiceAccountToken from the add-on's serviceAccountToken (default false). */}}
{{- define "taskflow.addon.podDefaults" -}}
{{- $pod := include "taskflow.podDefaults" .root | fromYaml -}}
{{- $_ := set $pod "automountServiceAccountToken" (eq (toString .addon.serviceAccountToken) "true") -}}
{{- toYaml $pod -}}
{{- end -}}

{{/* "true" when a file of the add-on has inline content (then ConfigMap <name>-files holds it). */}}
{{- define "taskflow.addon.hasContent" -}}
{{- range .addon.files -}}{{- if hasKey . "content" -}}true{{- end -}}{{- end -}}
{{- end -}}

{{/* "true" when /tmp is mounted by a file or volume of the add-on itself. */}}
{{- define "taskflow.addon.ownsTmp" -}}
{{- range concat (.addon.files | default list) (.addon.volumes | default list) -}}
{{- if eq (trimSuffix "/" .path) "/tmp" -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/* The enabled add-ons' names that list this database (JSON list); call with (dict "root" $ "db" "sso"). */}}
{{- define "taskflow.addons.reaching" -}}
{{- $names := list -}}
{{- range $name, $a := include "taskflow.addons.on" .root | fromJson -}}
{{- if has $.db ($a.databases | default list) -}}
{{- $names = append $names $name -}}
{{- end -}}
{{- end -}}
{{- toJson $names -}}
{{- end -}}

{{/* Problems the schema cannot see (JSON list of messages with hints), collected by taskflow.validateValues. */}}
{{- define "taskflow.addons.problems" -}}
{{- $msgs := list -}}
{{- range $name, $a := .Values.addons -}}
{{- if $a.enabled -}}
{{- $ports := list -}}
{{- $numbers := list -}}
{{- range $a.ports -}}
{{- if has .name $ports -}}
{{- $msgs = append $msgs (printf "addons.%s.ports: the port name %s is used twice.\n  hint: give each port its own name" $name .name) -}}
{{- end -}}
{{- if has (int .port) $numbers -}}
{{- $msgs = append $msgs (printf "addons.%s.ports: port %d is listed twice.\n  hint: list each port once" $name (int .port)) -}}
{{- end -}}
{{- $ports = append $ports .name -}}
{{- $numbers = append $numbers (int .port) -}}
{{- end -}}
{{- range $probe := list "readiness" "liveness" -}}
{{- with get $a $probe -}}
{{- if not (has (toString .port) $ports) -}}
{{- $msgs = append $msgs (printf "addons.%s.%s.port: %s is not one of its ports (%s).\n  hint: name one of the ports listed under ports" $name $probe (toString .port) (join ", " $ports)) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and $a.startupSeconds (not $a.readiness) -}}
{{- $msgs = append $msgs (printf "addons.%s.startupSeconds: the startup probe uses the readiness path, and there is no readiness.\n  hint: add readiness: { path: /, port: <a port name> }" $name) -}}
{{- end -}}
{{- $volumes := list -}}
{{- range $a.volumes -}}
{{- if has .name $volumes -}}
{{- $msgs = append $msgs (printf "addons.%s.volumes: the volume name %s is used twice.\n  hint: give each volume its own name" $name .name) -}}
{{- end -}}
{{- $volumes = append $volumes .name -}}
{{- end -}}
{{- $paths := list -}}
{{- range concat ($a.files | default list) ($a.volumes | default list) -}}
{{- $p := trimSuffix "/" .path -}}
{{- if has $p $paths -}}
{{- $msgs = append $msgs (printf "addons.%s: %s is mounted twice (files and volumes each need a path of their own).\n  hint: change one of the paths" $name $p) -}}
{{- end -}}
{{- $paths = append $paths $p -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- toJson $msgs -}}
{{- end -}}

{{/* data of ConfigMap <name>-files: the inline file contents, key f<index in the files list>. */}}
{{- define "taskflow.addon.fileData" -}}
{{- $data := dict -}}
{{- range $i, $f := .addon.files -}}
{{- if hasKey $f "content" -}}{{- $_ := set $data (printf "f%d" $i) (toString $f.content) -}}{{- end -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}
