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

{{/* The image: repository@digest when a digest is given, else repository:tag. */}}
{{- define "taskflow.addon.image" -}}
{{- $i := .addon.image -}}
{{- if $i.digest -}}
{{- printf "%s@%s" $i.repository $i.digest -}}
{{- else -}}
{{- include "taskflow.pinnedImage" $i -}}
{{- end -}}
{{- end -}}

{{/* The pod and container security settings (JSON), defaults filled in: uid/gid/fsGroup 1000, read-only root. */}}
{{- define "taskflow.addon.security" -}}
{{- $sc := .addon.securityContext | default dict -}}
{{- $out := dict "runAsUser" 1000 "runAsGroup" 1000 "fsGroup" 1000 "readOnly" true -}}
{{- range list "runAsUser" "runAsGroup" "fsGroup" -}}
{{- if hasKey $sc . -}}{{- $_ := set $out . (int (get $sc .)) -}}{{- end -}}
{{- end -}}
{{- if hasKey $sc "readOnlyRootFilesystem" -}}{{- $_ := set $out "readOnly" $sc.readOnlyRootFilesystem -}}{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* Requests and limits: the values', else 10m/32Mi requested and 200m/256Mi at most. */}}
{{- define "taskflow.addon.resources" -}}
{{- toYaml (.addon.resources | default (dict "requests" (dict "cpu" "10m" "memory" "32Mi") "limits" (dict "cpu" "200m" "memory" "256Mi"))) -}}
{{- end -}}

{{/* Pod defaults of the chart, with automountServiceAccountToken from the add-on (default false). */}}
{{- define "taskflow.addon.podDefaults" -}}
{{- $pod := include "taskflow.podDefaults" .root | fromYaml -}}
{{- $_ := set $pod "automountServiceAccountToken" (eq (toString .addon.automountServiceAccountToken) "true") -}}
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
{{- range $name, $a := .root.Values.addons -}}
{{- if and $a.enabled (has $.db ($a.databases | default list)) -}}
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
{{- with $a.readiness -}}
{{- if not (has (toString .port) $ports) -}}
{{- $msgs = append $msgs (printf "addons.%s.readiness.port: %s is not one of its ports (%s).\n  hint: name one of the ports listed under ports" $name (toString .port) (join ", " $ports)) -}}
{{- end -}}
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
