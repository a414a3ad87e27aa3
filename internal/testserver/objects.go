package testserver

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// applyCreateDefaults fills the defaults of every write (normalize) and
// then what the real server sets on create only (admitCreate). Callers
// hold s.mu.
func (s *Server) applyCreateDefaults(d *resourceDef, obj map[string]any) {
	s.normalize(d, obj)
	s.admitCreate(d, obj)
}

// admitCreate fills what the real server sets on create only, after its
// field manager has recorded the object: admission defaults, initial
// status, allocated addresses. Callers hold s.mu.
func (s *Server) admitCreate(d *resourceDef, obj map[string]any) {
	if d.crd != "" {
		return
	}
	spec := getMap(obj, "spec", d.known["spec"] != nil)
	switch d.group + "/" + d.resource {
	case "/namespaces":
		if _, ok := spec["finalizers"]; !ok {
			spec["finalizers"] = []any{"kubernetes"}
		}
		obj["status"] = map[string]any{"phase": "Active"}
		// A generated name was not known to the decoding defaults.
		getMap(meta(obj), "labels", true)["kubernetes.io/metadata.name"] = getString(obj, "metadata", "name")
	case "/pods":
		// What the Priority and DefaultTolerationSeconds admission plugins
		// add.
		setDefault(spec, "priority", json.Number("0"))
		setDefault(spec, "preemptionPolicy", "PreemptLowerPriority")
		addDefaultTolerations(spec)
		obj["status"] = map[string]any{"phase": "Pending", "qosClass": "BestEffort"}
	case "apps/deployments":
		obj["status"] = map[string]any{}
	case "/services":
		if getString(obj, "spec", "type") != "ExternalName" {
			if _, ok := spec["clusterIP"]; !ok {
				s.ipCounter++
				ip := fmt.Sprintf("10.96.%d.%d", (s.ipCounter/250)%250, s.ipCounter%250+1)
				spec["clusterIP"] = ip
				spec["clusterIPs"] = []any{ip}
			}
		}
		if getString(obj, "spec", "type") != "ExternalName" {
			setDefault(spec, "ipFamilies", []any{"IPv4"})
			setDefault(spec, "ipFamilyPolicy", "SingleStack")
		}
		obj["status"] = map[string]any{"loadBalancer": map[string]any{}}
	}
}

// normalize applies the defaults and conversions the real server applies
// on every write (its decoding defaults).
func (s *Server) normalize(d *resourceDef, obj map[string]any) {
	if d.crd != "" {
		return
	}
	switch d.group + "/" + d.resource {
	case "apiextensions.k8s.io/customresourcedefinitions":
		defaultCRDSpec(obj)
	case "/namespaces":
		if name := getString(obj, "metadata", "name"); name != "" {
			getMap(meta(obj), "labels", true)["kubernetes.io/metadata.name"] = name
		}
	case "/pods":
		spec := getMap(obj, "spec", true)
		defaultPodSpec(spec)
		setDefault(spec, "enableServiceLinks", true)
		nullTimes(getMap(obj, "status", false), "lastProbeTime", "lastTransitionTime")
	case "apps/deployments":
		nullTimes(getMap(obj, "status", false), "lastUpdateTime", "lastTransitionTime")
		spec := getMap(obj, "spec", true)
		setDefault(spec, "replicas", json.Number("1"))
		setDefault(spec, "revisionHistoryLimit", json.Number("10"))
		setDefault(spec, "progressDeadlineSeconds", json.Number("600"))
		setDefault(spec, "strategy", map[string]any{"type": "RollingUpdate"})
		if st := getMap(spec, "strategy", true); st["type"] == "RollingUpdate" {
			ru := getMap(st, "rollingUpdate", true)
			setDefault(ru, "maxUnavailable", "25%")
			setDefault(ru, "maxSurge", "25%")
		}
		if tmpl := getMap(spec, "template", false); tmpl != nil {
			defaultPodSpec(getMap(tmpl, "spec", true))
		}
	case "/secrets":
		setDefault(obj, "type", "Opaque")
		if sd, ok := obj["stringData"].(map[string]any); ok {
			data := getMap(obj, "data", true)
			for k, v := range sd {
				data[k] = encodeBase64([]byte(fmt.Sprint(v)))
			}
			delete(obj, "stringData")
		}
	case "/events":
		for _, f := range []string{"eventTime", "firstTimestamp", "lastTimestamp"} {
			setDefault(obj, f, nil)
		}
		setDefault(obj, "reportingComponent", "")
		setDefault(obj, "reportingInstance", "")
		setDefault(obj, "source", map[string]any{})
	case "rbac.authorization.k8s.io/clusterroles", "rbac.authorization.k8s.io/roles":
		if r, ok := obj["rules"].([]any); ok && len(r) == 0 {
			obj["rules"] = nil // an empty list is stored as none
		}
	case "/services":
		spec := getMap(obj, "spec", true)
		setDefault(spec, "type", "ClusterIP")
		setDefault(spec, "sessionAffinity", "None")
		if spec["type"] != "ExternalName" {
			setDefault(spec, "internalTrafficPolicy", "Cluster")
		}
		if spec["type"] == "NodePort" || spec["type"] == "LoadBalancer" || len(asSlice(spec["externalIPs"])) > 0 {
			setDefault(spec, "externalTrafficPolicy", "Cluster")
		}
		for _, p := range asSlice(getMap(obj, "spec", true)["ports"]) {
			if pm, ok := p.(map[string]any); ok {
				setDefault(pm, "protocol", "TCP")
				if port, ok := pm["port"]; ok {
					setDefault(pm, "targetPort", port)
				}
			}
		}
	}
}

// addDefaultTolerations adds what the DefaultTolerationSeconds admission
// plugin adds to a pod spec on create and update: tolerating not-ready and
// unreachable nodes for 300 s, unless the spec tolerates them already.
func addDefaultTolerations(spec map[string]any) {
	tols := asSlice(spec["tolerations"])
	for _, key := range []string{"node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"} {
		has := slices.ContainsFunc(tols, func(t any) bool {
			tm, _ := t.(map[string]any)
			k, _ := tm["key"].(string)
			e, _ := tm["effect"].(string)
			return (k == key || (k == "" && tm["operator"] == "Exists")) && (e == "" || e == "NoExecute")
		})
		if !has {
			tols = append(tols, map[string]any{"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": json.Number("300")})
		}
	}
	spec["tolerations"] = tols
}

// nullTimes writes the unset timestamps of status conditions as null, as
// the real server encodes a zero time.
func nullTimes(status map[string]any, fields ...string) {
	for _, c := range asSlice(status["conditions"]) {
		if cm, ok := c.(map[string]any); ok {
			for _, f := range fields {
				setDefault(cm, f, nil)
			}
		}
	}
}

// defaultPodSpec sets the defaults of a pod spec (also a template's).
func defaultPodSpec(spec map[string]any) {
	setDefault(spec, "restartPolicy", "Always")
	setDefault(spec, "dnsPolicy", "ClusterFirst")
	setDefault(spec, "schedulerName", "default-scheduler")
	setDefault(spec, "terminationGracePeriodSeconds", json.Number("30"))
	setDefault(spec, "securityContext", map[string]any{})
	for _, list := range []string{"initContainers", "containers"} {
		for _, c := range asSlice(spec[list]) {
			cm, ok := c.(map[string]any)
			if !ok {
				continue
			}
			policy := "IfNotPresent"
			if img, _ := cm["image"].(string); !strings.Contains(img, ":") || strings.HasSuffix(img, ":latest") {
				policy = "Always"
			}
			setDefault(cm, "imagePullPolicy", policy)
			setDefault(cm, "terminationMessagePath", "/dev/termination-log")
			setDefault(cm, "terminationMessagePolicy", "File")
			setDefault(cm, "resources", map[string]any{})
			for _, p := range asSlice(cm["ports"]) {
				if pm, ok := p.(map[string]any); ok {
					setDefault(pm, "protocol", "TCP")
				}
			}
		}
	}
}

func setDefault(m map[string]any, key string, v any) {
	if m == nil {
		return
	}
	if _, ok := m[key]; !ok {
		m[key] = v
	}
}

const (
	dns1123SubdomainMsg = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
	dns1123LabelMsg     = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
	dns1035LabelMsg     = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
	labelValueMsg       = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
	qualifiedNameMsg    = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)

var (
	dns1123LabelRe     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	dns1123SubdomainRe = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
	dns1035LabelRe     = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)
	labelValueRe       = regexp.MustCompile(`^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$`)
)

// validateName checks a new object's name by the rule of its kind.
func validateName(d *resourceDef, name string) []statusCause {
	switch {
	case d.group == "" && d.resource == "namespaces":
		if len(name) > 63 || !dns1123LabelRe.MatchString(name) {
			return []statusCause{causeInvalid("metadata.name", name, dns1123LabelMsg)}
		}
	case d.group == "" && d.resource == "services":
		if len(name) > 63 || !dns1035LabelRe.MatchString(name) {
			return []statusCause{causeInvalid("metadata.name", name, dns1035LabelMsg)}
		}
	case d.group == "rbac.authorization.k8s.io":
		if name == "." || name == ".." || strings.ContainsAny(name, "/%") {
			return []statusCause{causeInvalid("metadata.name", name, "may not contain '/' or '%' and may not be '.' or '..'")}
		}
	default:
		if len(name) > 253 || !dns1123SubdomainRe.MatchString(name) {
			return []statusCause{causeInvalid("metadata.name", name, dns1123SubdomainMsg)}
		}
	}
	return nil
}

// qualifiedKeyCauses checks a label or annotation key: an optional DNS
// subdomain prefix and "/", then a name of at most 63 characters.
func qualifiedKeyCauses(field, k string) []statusCause {
	name := k
	if i := strings.LastIndex(k, "/"); i >= 0 {
		prefix := k[:i]
		name = k[i+1:]
		if len(prefix) > 253 || !dns1123SubdomainRe.MatchString(prefix) {
			return []statusCause{causeInvalid(field, k, "prefix part "+dns1123SubdomainMsg)}
		}
	}
	if name == "" || len(name) > 63 || !labelValueRe.MatchString(name) {
		return []statusCause{causeInvalid(field, k, qualifiedNameMsg)}
	}
	return nil
}

// validateContainers checks the containers of a pod spec at field
// ("spec" or "spec.template.spec"): names required, DNS labels and unique
// across init and regular containers, images required.
func validateContainers(spec map[string]any, field string) []statusCause {
	var causes []statusCause
	seen := map[string]bool{}
	for _, list := range []string{"initContainers", "containers"} {
		for i, c := range asSlice(spec[list]) {
			cm, _ := c.(map[string]any)
			p := fmt.Sprintf("%s.%s[%d]", field, list, i)
			switch n, _ := cm["name"].(string); {
			case n == "":
				causes = append(causes, causeRequired(p+".name", ""))
			case len(n) > 63 || !dns1123LabelRe.MatchString(n):
				causes = append(causes, causeInvalid(p+".name", n, dns1123LabelMsg))
			case seen[n]:
				causes = append(causes, statusCause{Reason: "FieldValueDuplicate", Field: p + ".name", Message: fmt.Sprintf("Duplicate value: %q", n)})
			default:
				seen[n] = true
			}
			if img, _ := cm["image"].(string); img == "" && list == "containers" {
				causes = append(causes, causeRequired(p+".image", ""))
			}
			causes = append(causes, enumCauses(p+".imagePullPolicy", cm["imagePullPolicy"], "Always", "IfNotPresent", "Never")...)
		}
	}
	return causes
}

// podUpdateMsg is the first line of the real server's answer to a pod
// update that changes what may not change; the real one goes on with a
// diff of its internal PodSpec.
const podUpdateMsg = "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"

// podSpecUpdateCauses refuses changes to a pod's spec beyond the images,
// activeDeadlineSeconds, terminationGracePeriodSeconds and added
// tolerations. The message's diff names the changed fields of the spec.
func podSpecUpdateCauses(old, spec map[string]any) []statusCause {
	strip := func(sp map[string]any) map[string]any {
		sp = copyObj(sp)
		for _, f := range []string{"activeDeadlineSeconds", "terminationGracePeriodSeconds"} {
			delete(sp, f)
		}
		for _, list := range []string{"initContainers", "containers"} {
			for _, c := range asSlice(sp[list]) {
				if cm, ok := c.(map[string]any); ok {
					delete(cm, "image")
				}
			}
		}
		return sp
	}
	o, n := strip(old), strip(spec)
	// Tolerations may only be added to.
	oldTol, newTol := asSlice(o["tolerations"]), asSlice(n["tolerations"])
	kept := true
	for _, t := range oldTol {
		kept = kept && slices.ContainsFunc(newTol, func(u any) bool { return equalJSON(t, u) })
	}
	if kept {
		delete(o, "tolerations")
		delete(n, "tolerations")
	}
	if equalJSON(o, n) {
		return nil
	}
	var diff strings.Builder
	for _, k := range sortedKeys(mergeKeys(o, n)) {
		if !equalJSON(o[k], n[k]) {
			fmt.Fprintf(&diff, "\n- %q: %s,\n+ %q: %s,", k, compactJSON(o[k]), k, compactJSON(n[k]))
		}
	}
	return []statusCause{{Reason: "FieldValueForbidden", Field: "spec", Message: podUpdateMsg + diff.String() + "\n"}}
}

// mergeKeys is the union of two objects' keys, each with a nil value.
func mergeKeys(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k := range a {
		out[k] = nil
	}
	for k := range b {
		out[k] = nil
	}
	return out
}

// enumCauses refuses a value (when set) that is not one of supported, listed
// in the real server's order.
func enumCauses(field string, v any, supported ...string) []statusCause {
	if v == nil || slices.Contains(supported, fmt.Sprint(v)) {
		return nil
	}
	return []statusCause{causeUnsupported(field, v, supported)}
}

// portCauses checks that v, when a number, is a valid port.
func portCauses(field string, v any) []statusCause {
	n, ok := v.(json.Number)
	if !ok {
		return nil
	}
	if i, err := n.Int64(); err != nil || i < 1 || i > 65535 {
		return []statusCause{causeInvalid(field, rawValue(n.String()), "must be between 1 and 65535, inclusive")}
	}
	return nil
}

func validateLabels(labels map[string]any) []statusCause {
	var causes []statusCause
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if c := qualifiedKeyCauses("metadata.labels", k); len(c) > 0 {
			causes = append(causes, c...)
			continue
		}
		v, ok := labels[k].(string)
		if !ok {
			causes = append(causes, causeInvalid("metadata.labels", labels[k], "label values must be strings"))
			continue
		}
		if len(v) > 63 || !labelValueRe.MatchString(v) {
			causes = append(causes, causeInvalid("metadata.labels", v, labelValueMsg))
		}
	}
	return causes
}

// validate checks obj; old is nil on create. It covers names, labels and a
// few required fields per kind, not the real server's full validation.
func (s *Server) validate(d *resourceDef, obj, old map[string]any) []statusCause {
	var causes []statusCause
	md := meta(obj)
	name, _ := md["name"].(string)
	if old == nil {
		if name == "" {
			return []statusCause{causeRequired("metadata.name", "name or generateName is required")}
		}
		causes = append(causes, validateName(d, name)...)
	}
	if l, ok := md["labels"].(map[string]any); ok {
		causes = append(causes, validateLabels(l)...)
	} else if md["labels"] != nil {
		causes = append(causes, causeInvalid("metadata.labels", md["labels"], "must be an object"))
	}
	for _, k := range sortedKeys(getMap(md, "annotations", false)) {
		causes = append(causes, qualifiedKeyCauses("metadata.annotations", k)...)
	}
	spec, _ := obj["spec"].(map[string]any)
	switch d.group + "/" + d.resource {
	case "/pods":
		if len(asSlice(spec["containers"])) == 0 {
			causes = append(causes, causeRequired("spec.containers", ""))
		}
		causes = append(causes, validateContainers(spec, "spec")...)
		causes = append(causes, enumCauses("spec.restartPolicy", spec["restartPolicy"], "Always", "OnFailure", "Never")...)
		if old != nil {
			causes = append(causes, podSpecUpdateCauses(getMap(old, "spec", true), spec)...)
		}
	case "apps/deployments":
		if n, ok := spec["replicas"].(json.Number); ok && strings.HasPrefix(n.String(), "-") {
			causes = append(causes, causeInvalid("spec.replicas", rawValue(n.String()), "must be greater than or equal to 0"))
		}
		sel, _ := spec["selector"].(map[string]any)
		if len(sel) == 0 {
			causes = append(causes, causeRequired("spec.selector", ""))
		}
		tmplLabels := stringMap(getMap(getMap(spec, "template", true), "metadata", true)["labels"])
		for k, v := range stringMap(sel["matchLabels"]) {
			if tmplLabels[k] != v {
				causes = append(causes, causeInvalid("spec.template.metadata.labels", tmplLabels, "`selector` does not match template `labels`"))
				break
			}
		}
		if len(asSlice(getMap(getMap(spec, "template", true), "spec", true)["containers"])) == 0 {
			causes = append(causes, causeRequired("spec.template.spec.containers", ""))
		}
		tmplSpec := getMap(getMap(spec, "template", true), "spec", true)
		causes = append(causes, validateContainers(tmplSpec, "spec.template.spec")...)
		causes = append(causes, enumCauses("spec.template.spec.restartPolicy", tmplSpec["restartPolicy"], "Always")...)
		strategy := getMap(spec, "strategy", false)
		causes = append(causes, enumCauses("spec.strategy.type", strategy["type"], "Recreate", "RollingUpdate")...)
		if strategy["type"] == "Recreate" && strategy["rollingUpdate"] != nil {
			causes = append(causes, statusCause{Reason: "FieldValueForbidden", Field: "spec.strategy.rollingUpdate",
				Message: "Forbidden: may not be specified when strategy `type` is 'Recreate'"})
		}
		if old != nil {
			if oldSel := getMap(getMap(old, "spec", true), "selector", false); !equalJSON(oldSel, sel) {
				causes = append(causes, causeInvalid("spec.selector", rawValue(labelSelectorJSON(sel)), "field is immutable"))
			}
		}
	case "/configmaps":
		for k, v := range getMap(obj, "data", false) {
			if _, ok := v.(string); !ok {
				causes = append(causes, causeInvalid("data["+k+"]", v, "must be a string"))
			}
		}
		causes = append(causes, validateDataKeys(obj, "data")...)
		causes = append(causes, validateDataKeys(obj, "binaryData")...)
		for _, k := range sortedKeys(getMap(obj, "binaryData", false)) {
			if _, dup := getMap(obj, "data", false)[k]; dup {
				causes = append(causes, causeInvalid("binaryData["+k+"]", k, "duplicate of key present in data"))
			}
		}
		causes = append(causes, validateImmutableData(obj, old, "data", "binaryData")...)
	case "/secrets":
		causes = append(causes, validateDataKeys(obj, "data")...)
		causes = append(causes, validateImmutableData(obj, old, "data")...)
		if old != nil && getString(old, "type") != getString(obj, "type") {
			causes = append(causes, causeInvalid("type", getString(obj, "type"), "field is immutable"))
		}
	case "/services":
		causes = append(causes, enumCauses("spec.type", spec["type"], "ClusterIP", "ExternalName", "LoadBalancer", "NodePort")...)
		if spec["type"] != "ExternalName" && len(asSlice(spec["ports"])) == 0 && spec["clusterIP"] != "None" {
			causes = append(causes, causeRequired("spec.ports", ""))
		}
		for i, p := range objects(spec["ports"]) {
			causes = append(causes, portCauses(fmt.Sprintf("spec.ports[%d].port", i), p["port"])...)
			causes = append(causes, portCauses(fmt.Sprintf("spec.ports[%d].targetPort", i), p["targetPort"])...)
		}
		if ports := objects(spec["ports"]); len(ports) > 1 {
			// Ports of a multi-port service must be named.
			for i, p := range ports {
				if getString(p, "name") == "" {
					causes = append(causes, causeRequired(fmt.Sprintf("spec.ports[%d].name", i), ""))
				}
			}
		}
	case "apiextensions.k8s.io/customresourcedefinitions":
		causes = append(causes, validateCRD(obj, old)...)
	}
	if d.schema != nil {
		causes = append(causes, validateSchema(obj, d.schema, "")...)
	}
	return causes
}

// labelSelectorJSON writes a LabelSelector as the real server's messages
// quote one: Go's encoding of the struct, matchLabels first.
func labelSelectorJSON(sel map[string]any) string {
	var parts []string
	for _, f := range []string{"matchLabels", "matchExpressions"} {
		if v, ok := sel[f]; ok && v != nil {
			b, _ := json.Marshal(v)
			parts = append(parts, fmt.Sprintf("%q:%s", f, b))
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// configKeyRe is what a ConfigMap's or a Secret's data key may consist of.
var configKeyRe = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)

const configKeyMsg = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"

// validateDataKeys checks the keys of the map obj[field] as the real
// server checks config keys: they become file names in a volume.
func validateDataKeys(obj map[string]any, field string) []statusCause {
	var causes []statusCause
	for _, k := range sortedKeys(getMap(obj, field, false)) {
		p := field + "[" + k + "]"
		if len(k) > 253 {
			causes = append(causes, causeInvalid(p, k, "must be no more than 253 characters"))
		}
		if !configKeyRe.MatchString(k) {
			causes = append(causes, causeInvalid(p, k, configKeyMsg))
		}
		switch {
		case k == ".":
			causes = append(causes, causeInvalid(p, k, "must not be '.'"))
		case k == "..":
			causes = append(causes, causeInvalid(p, k, "must not be '..'"))
		case strings.HasPrefix(k, ".."):
			causes = append(causes, causeInvalid(p, k, "must not start with '..'"))
		}
	}
	return causes
}

// validateImmutableData refuses an update of an object whose stored
// version has immutable: true if it unsets immutable or changes any of
// fields.
func validateImmutableData(obj, old map[string]any, fields ...string) []statusCause {
	if old == nil || old["immutable"] != true {
		return nil
	}
	const msg = "Forbidden: field is immutable when `immutable` is set"
	var causes []statusCause
	if obj["immutable"] != true {
		causes = append(causes, statusCause{Reason: "FieldValueForbidden", Field: "immutable", Message: msg})
	}
	for _, f := range fields {
		if !equalJSON(emptyAsNil(old[f]), emptyAsNil(obj[f])) {
			causes = append(causes, statusCause{Reason: "FieldValueForbidden", Field: f, Message: msg})
		}
	}
	return causes
}

// emptyAsNil is nil for an empty map, which the real server stores as none.
func emptyAsNil(v any) any {
	if m, ok := v.(map[string]any); ok && len(m) == 0 {
		return nil
	}
	return v
}

var metadataFields = strings.Fields("name generateName namespace selfLink uid resourceVersion generation creationTimestamp deletionTimestamp deletionGracePeriodSeconds labels annotations ownerReferences finalizers managedFields")

// unknownFields lists, and removes from obj, the fields the kind does not
// know: top-level fields, metadata fields and the fields of the objects
// listed in d.known for built-ins; the whole structural schema for custom
// resources.
func unknownFields(d *resourceDef, obj map[string]any) []string {
	var unknown []string
	if md, ok := obj["metadata"].(map[string]any); ok {
		for _, k := range sortedKeys(md) {
			if !slices.Contains(metadataFields, k) {
				unknown = append(unknown, "metadata."+k)
				delete(md, k)
			}
		}
	}
	if d.schema != nil {
		return append(unknown, pruneSchema(obj, d.schema, "", true)...)
	}
	if d.known == nil {
		return unknown
	}
	for _, k := range sortedKeys(obj) {
		switch {
		case k == "apiVersion" || k == "kind" || k == "metadata":
		case !d.known[""][k]:
			unknown = append(unknown, k)
			delete(obj, k)
		case d.known[k] != nil:
			if m, ok := obj[k].(map[string]any); ok {
				for _, f := range sortedKeys(m) {
					if !d.known[k][f] {
						unknown = append(unknown, k+"."+f)
						delete(m, f)
					}
				}
			}
		}
	}
	return unknown
}

// fieldCheck applies fieldValidation: unknown fields are dropped (Ignore),
// dropped with a warning (Warn) or refused with 400 (Strict).
func (s *Server) fieldCheck(d *resourceDef, obj map[string]any, opts *writeOptions) error {
	unknown := unknownFields(d, obj)
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	switch opts.fieldValidation {
	case "Strict":
		parts := make([]string, len(unknown))
		for i, u := range unknown {
			parts[i] = fmt.Sprintf("unknown field %q", u)
		}
		return errBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: strict decoding error: %s", d.kind, d.version, d.kind, strings.Join(parts, ", ")))
	case "Warn":
		for _, u := range unknown {
			opts.warnings = append(opts.warnings, fmt.Sprintf("unknown field %q", u))
		}
	}
	return nil
}
