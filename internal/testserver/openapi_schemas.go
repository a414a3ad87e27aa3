package testserver

// The OpenAPI v3 definitions of the built-in kinds the server serves: the
// fields clients commonly write, with their types, list types and
// references, shaped like the real server's definitions (descriptions are
// short and the server's own).

const (
	metaV1 = "io.k8s.apimachinery.pkg.apis.meta.v1."
	coreV1 = "io.k8s.api.core.v1."
	appsV1 = "io.k8s.api.apps.v1."
	rbacV1 = "io.k8s.api.rbac.v1."
	apixV1 = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."

	quantityRef = "io.k8s.apimachinery.pkg.api.resource.Quantity"
	intstrRef   = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	timeRef     = metaV1 + "Time"
)

type props = map[string]any

func withDesc(s map[string]any, desc string) map[string]any {
	if desc != "" {
		s["description"] = desc
	}
	return s
}

func tString(desc string) map[string]any { return withDesc(props{"type": "string"}, desc) }
func tBool(desc string) map[string]any   { return withDesc(props{"type": "boolean"}, desc) }
func tInt32(desc string) map[string]any {
	return withDesc(props{"type": "integer", "format": "int32"}, desc)
}
func tInt64(desc string) map[string]any {
	return withDesc(props{"type": "integer", "format": "int64"}, desc)
}
func tOpen(desc string) map[string]any {
	return withDesc(props{"type": "object", "x-kubernetes-preserve-unknown-fields": true}, desc)
}

// tMap is an object of string keys whose values follow value.
func tMap(desc string, value map[string]any) map[string]any {
	return withDesc(props{"type": "object", "additionalProperties": value}, desc)
}

func tStrings(desc string) map[string]any {
	return withDesc(props{"type": "array", "items": props{"type": "string", "default": ""}, "x-kubernetes-list-type": "atomic"}, desc)
}

// tRef refers to a definition the way the real server embeds structs.
func tRef(name, desc string) map[string]any {
	return withDesc(props{"allOf": []any{props{"$ref": "#/components/schemas/" + name}}, "default": props{}}, desc)
}

// tList is a list of definitions; with keys it is a map list keyed by them.
func tList(desc, item string, keys ...string) map[string]any {
	s := props{"type": "array", "items": tRef(item, "")}
	if len(keys) > 0 {
		ks := make([]any, len(keys))
		for i, k := range keys {
			ks[i] = k
		}
		s["x-kubernetes-list-type"] = "map"
		s["x-kubernetes-list-map-keys"] = ks
	} else {
		s["x-kubernetes-list-type"] = "atomic"
	}
	return withDesc(s, desc)
}

// tConditions is a status.conditions list: items keyed by type, merged by
// type in a strategic merge patch.
func tConditions(desc, item string) map[string]any {
	return withDesc(props{
		"type": "array", "items": props{"$ref": "#/components/schemas/" + item},
		"x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": []any{"type"},
		"x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge",
	}, desc)
}

func tObject(desc string, required []string, p props) map[string]any {
	s := props{"type": "object", "properties": p}
	if len(required) > 0 {
		r := make([]any, len(required))
		for i, k := range required {
			r[i] = k
		}
		s["required"] = r
	}
	return withDesc(s, desc)
}

// withGVK names the one kind a definition is the schema of.
func withGVK(s map[string]any, group, version, kind string) map[string]any {
	s["x-kubernetes-group-version-kind"] = []any{props{"group": group, "version": version, "kind": kind}}
	return s
}

// topLevel adds apiVersion, kind and metadata to a kind's properties.
func topLevel(desc string, required []string, p props) map[string]any {
	p["apiVersion"] = tString("APIVersion is the versioned schema of this representation of an object.")
	p["kind"] = tString("Kind is the REST resource this object represents, in CamelCase.")
	p["metadata"] = tRef(objectMetaRef, "Standard object metadata.")
	return tObject(desc, required, p)
}

var dataDesc = "Data is a map of string keys to string values."

// builtinSchemas are the definitions by name.
var builtinSchemas = map[string]map[string]any{
	timeRef:     tString("Time is an RFC 3339 timestamp in UTC."),
	quantityRef: withDesc(props{"oneOf": []any{props{"type": "string"}, props{"type": "number"}}}, "Quantity is a fixed-point number such as 100m or 1Gi."),
	intstrRef:   withDesc(props{"type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": true}, "IntOrString holds an integer or a string."),
	metaV1 + "LabelSelector": withDesc(props{"type": "object", "x-kubernetes-map-type": "atomic", "properties": props{
		"matchLabels":      tMap("MatchLabels requires every listed label to have the given value.", tString("")),
		"matchExpressions": tList("MatchExpressions lists requirements that must all hold.", metaV1+"LabelSelectorRequirement"),
	}}, "A label selector; an empty one matches everything."),
	metaV1 + "LabelSelectorRequirement": tObject("One requirement of a label selector.", []string{"key", "operator"}, props{
		"key": tString("The label key."), "operator": tString("In, NotIn, Exists or DoesNotExist."), "values": tStrings("The values In and NotIn compare with."),
	}),
	metaV1 + "Status": withGVK(tObject("Status is the result of an operation that returns no object.", nil, props{
		"apiVersion": tString(""), "kind": tString(""), "metadata": tRef(listMetaRef, ""), "status": tString("Success or Failure."),
		"message": tString(""), "reason": tString(""), "details": tOpen(""), "code": tInt32(""),
	}), "", "v1", "Status"),
	metaV1 + "DeleteOptions": tObject("Options of a delete.", nil, props{
		"apiVersion": tString(""), "kind": tString(""), "dryRun": tStrings(""), "gracePeriodSeconds": tInt64(""),
		"preconditions": tOpen(""), "propagationPolicy": tString(""), "orphanDependents": tBool(""),
	}),

	coreV1 + "ConfigMap": topLevel("ConfigMap holds configuration data for pods.", nil, props{
		"data":       tMap(dataDesc, tString("")),
		"binaryData": tMap("BinaryData is a map of string keys to base64-encoded bytes.", props{"type": "string", "format": "byte"}),
		"immutable":  tBool("Immutable set to true forbids changes to the data."),
	}),
	coreV1 + "Secret": topLevel("Secret holds sensitive data.", nil, props{
		"data":       tMap("Data is a map of string keys to base64-encoded bytes.", props{"type": "string", "format": "byte"}),
		"stringData": tMap("StringData is written into data on write and never read back.", tString("")),
		"type":       tString("Type tells how the data is used, such as Opaque."),
		"immutable":  tBool("Immutable set to true forbids changes to the data."),
	}),
	coreV1 + "Namespace": topLevel("Namespace is a scope for names.", nil, props{
		"spec":   tRef(coreV1+"NamespaceSpec", "The desired state."),
		"status": tRef(coreV1+"NamespaceStatus", "The observed state."),
	}),
	coreV1 + "NamespaceSpec": tObject("The desired state of a namespace.", nil, props{"finalizers": tStrings("Finalizers run before the namespace goes away.")}),
	coreV1 + "NamespaceStatus": tObject("The observed state of a namespace.", nil, props{
		"phase":      tString("Active or Terminating."),
		"conditions": tConditions("The latest observations of the namespace's state.", coreV1+"NamespaceCondition"),
	}),
	coreV1 + "NamespaceCondition": tObject("A condition of a namespace.", []string{"type", "status"}, props{
		"type": tString(""), "status": tString("True, False or Unknown."), "reason": tString(""), "message": tString(""),
		"lastTransitionTime": tRef(timeRef, ""),
	}),
	coreV1 + "Pod": topLevel("Pod is a group of containers run together on a host.", nil, props{
		"spec":   tRef(coreV1+"PodSpec", "The desired state."),
		"status": tRef(coreV1+"PodStatus", "The observed state."),
	}),
	coreV1 + "PodSpec": tObject("The desired state of a pod.", []string{"containers"}, props{
		"containers":                    tList("The containers of the pod.", coreV1+"Container", "name"),
		"initContainers":                tList("Containers run to completion before the others start.", coreV1+"Container", "name"),
		"volumes":                       tList("Volumes the containers may mount.", coreV1+"Volume", "name"),
		"restartPolicy":                 tString("Always, OnFailure or Never."),
		"dnsPolicy":                     tString("How the pod's DNS is set up."),
		"nodeName":                      tString("The node the pod is bound to."),
		"nodeSelector":                  tMap("Labels a node must have to run the pod.", tString("")),
		"serviceAccountName":            tString("The service account the pod runs as."),
		"automountServiceAccountToken":  tBool(""),
		"terminationGracePeriodSeconds": tInt64("Seconds the pod gets to stop."),
		"schedulerName":                 tString("The scheduler that places the pod."),
		"securityContext":               tOpen("Pod-level security settings."),
		"affinity":                      tOpen("Scheduling constraints."),
		"tolerations":                   tList("Taints the pod tolerates.", coreV1+"Toleration"),
		"priority":                      tInt32(""),
		"priorityClassName":             tString(""),
		"preemptionPolicy":              tString(""),
		"enableServiceLinks":            tBool("Whether service environment variables are injected."),
		"hostNetwork":                   tBool(""),
		"hostname":                      tString(""),
		"subdomain":                     tString(""),
		"imagePullSecrets":              tList("Secrets for pulling images.", coreV1+"LocalObjectReference", "name"),
		"activeDeadlineSeconds":         tInt64(""),
	}),
	coreV1 + "Container": tObject("A container of a pod.", []string{"name"}, props{
		"name":                     tString("The container's name, a DNS label."),
		"image":                    tString("The image to run."),
		"command":                  tStrings("The entrypoint; the image's when empty."),
		"args":                     tStrings("Arguments to the entrypoint."),
		"workingDir":               tString(""),
		"ports":                    tList("Ports the container exposes.", coreV1+"ContainerPort", "containerPort", "protocol"),
		"env":                      tList("Environment variables.", coreV1+"EnvVar", "name"),
		"envFrom":                  withDesc(props{"type": "array", "items": tOpen(""), "x-kubernetes-list-type": "atomic"}, ""),
		"resources":                tRef(coreV1+"ResourceRequirements", "Compute resources."),
		"volumeMounts":             tList("Volumes mounted into the container.", coreV1+"VolumeMount", "mountPath"),
		"imagePullPolicy":          tString("Always, Never or IfNotPresent."),
		"terminationMessagePath":   tString(""),
		"terminationMessagePolicy": tString(""),
		"securityContext":          tOpen(""),
		"livenessProbe":            tOpen(""),
		"readinessProbe":           tOpen(""),
		"startupProbe":             tOpen(""),
		"lifecycle":                tOpen(""),
		"stdin":                    tBool(""),
		"stdinOnce":                tBool(""),
		"tty":                      tBool(""),
	}),
	coreV1 + "ContainerPort": tObject("A network port of a container.", []string{"containerPort"}, props{
		"containerPort": tInt32("The port number."), "protocol": tString("TCP, UDP or SCTP."), "name": tString(""),
		"hostPort": tInt32(""), "hostIP": tString(""),
	}),
	coreV1 + "EnvVar": tObject("An environment variable.", []string{"name"}, props{
		"name": tString(""), "value": tString(""), "valueFrom": tOpen("Where the value comes from."),
	}),
	coreV1 + "VolumeMount": tObject("A volume mounted into a container.", []string{"name", "mountPath"}, props{
		"name": tString("The volume's name."), "mountPath": tString("Where it is mounted."), "readOnly": tBool(""), "subPath": tString(""),
	}),
	coreV1 + "Volume": tObject("A named volume of a pod.", []string{"name"}, props{
		"name": tString(""), "configMap": tOpen(""), "secret": tOpen(""), "emptyDir": tOpen(""), "hostPath": tOpen(""),
		"persistentVolumeClaim": tOpen(""), "projected": tOpen(""), "downwardAPI": tOpen(""), "ephemeral": tOpen(""), "csi": tOpen(""),
	}),
	coreV1 + "ResourceRequirements": tObject("Compute resources of a container.", nil, props{
		"limits":   tMap("The most the container may use.", tRef(quantityRef, "")),
		"requests": tMap("What the container is guaranteed.", tRef(quantityRef, "")),
	}),
	coreV1 + "Toleration": tObject("A taint a pod tolerates.", nil, props{
		"key": tString(""), "operator": tString(""), "value": tString(""), "effect": tString(""), "tolerationSeconds": tInt64(""),
	}),
	coreV1 + "LocalObjectReference": withDesc(props{"type": "object", "x-kubernetes-map-type": "atomic", "properties": props{"name": tString("")}}, "Names an object in the same namespace."),
	coreV1 + "ObjectReference": withDesc(props{"type": "object", "x-kubernetes-map-type": "atomic", "properties": props{
		"apiVersion": tString(""), "kind": tString(""), "namespace": tString(""), "name": tString(""), "uid": tString(""),
		"resourceVersion": tString(""), "fieldPath": tString(""),
	}}, "Names an object."),
	coreV1 + "PodStatus": tObject("The observed state of a pod.", nil, props{
		"phase":      tString("Pending, Running, Succeeded, Failed or Unknown."),
		"conditions": tConditions("The pod's conditions.", coreV1+"PodCondition"), "hostIP": tString(""),
		"podIP": tString(""), "startTime": tRef(timeRef, ""), "qosClass": tString(""),
		"containerStatuses": withDesc(props{"type": "array", "items": props{"$ref": "#/components/schemas/" + coreV1 + "ContainerStatus"}, "x-kubernetes-list-type": "atomic"},
			"One status per container of the pod."),
		"message": tString(""), "reason": tString(""),
	}),
	coreV1 + "PodCondition": tObject("A condition of a pod.", []string{"type", "status"}, props{
		"type": tString(""), "status": tString("True, False or Unknown."), "reason": tString(""), "message": tString(""),
		"observedGeneration": tInt64(""), "lastProbeTime": tRef(timeRef, ""), "lastTransitionTime": tRef(timeRef, ""),
	}),
	coreV1 + "ContainerStatus": tObject("The observed state of one container.", []string{"name", "ready", "restartCount", "image", "imageID"}, props{
		"name": tString(""), "ready": tBool(""), "started": tBool(""), "restartCount": tInt32(""), "image": tString(""),
		"imageID": tString(""), "containerID": tString(""), "state": tOpen(""), "lastState": tOpen(""),
	}),
	coreV1 + "PodTemplateSpec": tObject("The pods a workload creates.", nil, props{
		"metadata": tRef(objectMetaRef, "Metadata of the pods."),
		"spec":     tRef(coreV1+"PodSpec", "Spec of the pods."),
	}),
	coreV1 + "Service": topLevel("Service exposes pods under one name and address.", nil, props{
		"spec":   tRef(coreV1+"ServiceSpec", "The desired state."),
		"status": tRef(coreV1+"ServiceStatus", "The observed state."),
	}),
	coreV1 + "ServiceSpec": tObject("The desired state of a service.", nil, props{
		"ports":                    tList("The ports the service exposes.", coreV1+"ServicePort", "port", "protocol"),
		"selector":                 withDesc(props{"type": "object", "additionalProperties": tString(""), "x-kubernetes-map-type": "atomic"}, "Labels of the pods traffic goes to."),
		"clusterIP":                tString(""),
		"clusterIPs":               tStrings(""),
		"type":                     tString("ClusterIP, NodePort, LoadBalancer or ExternalName."),
		"externalName":             tString(""),
		"externalIPs":              tStrings(""),
		"sessionAffinity":          tString(""),
		"ipFamilies":               tStrings(""),
		"ipFamilyPolicy":           tString(""),
		"internalTrafficPolicy":    tString(""),
		"externalTrafficPolicy":    tString(""),
		"loadBalancerIP":           tString(""),
		"publishNotReadyAddresses": tBool(""),
	}),
	coreV1 + "ServicePort": tObject("A port of a service.", []string{"port"}, props{
		"name": tString(""), "protocol": tString(""), "port": tInt32(""), "targetPort": tRef(intstrRef, ""),
		"nodePort": tInt32(""), "appProtocol": tString(""),
	}),
	coreV1 + "ServiceStatus": tObject("The observed state of a service.", nil, props{
		"loadBalancer": tOpen(""),
		"conditions":   tConditions("The service's conditions.", metaV1+"Condition"),
	}),
	metaV1 + "Condition": tObject("One aspect of an object's current state.", []string{"type", "status", "lastTransitionTime", "reason", "message"}, props{
		"type": tString(""), "status": tString("True, False or Unknown."), "observedGeneration": tInt64(""),
		"lastTransitionTime": tRef(timeRef, ""), "reason": tString(""), "message": tString(""),
	}),
	coreV1 + "ServiceAccount": topLevel("ServiceAccount is an identity for processes in pods.", nil, props{
		"secrets":                      tList("", coreV1+"ObjectReference"),
		"imagePullSecrets":             tList("", coreV1+"LocalObjectReference"),
		"automountServiceAccountToken": tBool(""),
	}),
	coreV1 + "Event": topLevel("Event reports something that happened to an object.", []string{"metadata", "involvedObject"}, props{
		"involvedObject": tRef(coreV1+"ObjectReference", "The object the event is about."),
		"reason":         tString(""), "message": tString(""), "type": tString("Normal or Warning."),
		"source":         tRef(coreV1+"EventSource", ""),
		"firstTimestamp": tRef(timeRef, ""), "lastTimestamp": tRef(timeRef, ""), "count": tInt32(""),
		"eventTime": tString(""), "reportingComponent": tString(""), "reportingInstance": tString(""),
		"action": tString(""), "related": tRef(coreV1+"ObjectReference", ""), "series": tOpen(""),
	}),
	coreV1 + "EventSource": tObject("Who reported an event.", nil, props{"component": tString(""), "host": tString("")}),

	appsV1 + "Deployment": topLevel("Deployment keeps a set of identical pods running and updates them.", []string{"spec"}, props{
		"spec":   tRef(appsV1+"DeploymentSpec", "The desired state of the deployment."),
		"status": tRef(appsV1+"DeploymentStatus", "The observed state of the deployment."),
	}),
	appsV1 + "DeploymentSpec": tObject("The desired state of a deployment.", []string{"selector", "template"}, props{
		"replicas":                tInt32("How many pods to run; 1 when unset."),
		"selector":                tRef(metaV1+"LabelSelector", "Selects the pods the deployment owns."),
		"template":                tRef(coreV1+"PodTemplateSpec", "The pods to create."),
		"strategy":                tRef(appsV1+"DeploymentStrategy", "How pods are replaced."),
		"minReadySeconds":         tInt32(""),
		"revisionHistoryLimit":    tInt32(""),
		"paused":                  tBool(""),
		"progressDeadlineSeconds": tInt32(""),
	}),
	appsV1 + "DeploymentStrategy": tObject("How a deployment replaces pods.", nil, props{
		"type":          tString("Recreate or RollingUpdate."),
		"rollingUpdate": tRef(appsV1+"RollingUpdateDeployment", ""),
	}),
	appsV1 + "RollingUpdateDeployment": tObject("Parameters of a rolling update.", nil, props{
		"maxUnavailable": tRef(intstrRef, ""), "maxSurge": tRef(intstrRef, ""),
	}),
	appsV1 + "DeploymentStatus": tObject("The observed state of a deployment.", nil, props{
		"observedGeneration": tInt64(""), "replicas": tInt32(""), "updatedReplicas": tInt32(""), "readyReplicas": tInt32(""),
		"availableReplicas": tInt32(""), "unavailableReplicas": tInt32(""), "terminatingReplicas": tInt32(""),
		"conditions":     tList("", appsV1+"DeploymentCondition", "type"),
		"collisionCount": tInt32(""),
	}),
	// The real apps/v1 schema requires nothing here, unlike the core
	// conditions.
	appsV1 + "DeploymentCondition": tObject("A condition of a deployment.", nil, props{
		"type": tString(""), "status": tString(""), "reason": tString(""), "message": tString(""),
		"lastUpdateTime": tRef(timeRef, ""), "lastTransitionTime": tRef(timeRef, ""),
	}),
	"io.k8s.api.autoscaling.v1.Scale": withGVK(topLevel("Scale is the scale subresource.", nil, props{
		"spec":   tObject("", nil, props{"replicas": tInt32("")}),
		"status": tObject("", []string{"replicas"}, props{"replicas": tInt32(""), "selector": tString("")}),
	}), "autoscaling", "v1", "Scale"),

	rbacV1 + "ClusterRole": topLevel("ClusterRole is a cluster-wide set of permissions.", nil, props{
		"rules":           tList("The permissions.", rbacV1+"PolicyRule"),
		"aggregationRule": tRef(rbacV1+"AggregationRule", ""),
	}),
	rbacV1 + "Role": topLevel("Role is a namespaced set of permissions.", nil, props{
		"rules": tList("The permissions.", rbacV1+"PolicyRule"),
	}),
	rbacV1 + "PolicyRule": tObject("Verbs allowed on resources.", []string{"verbs"}, props{
		"verbs": tStrings(""), "apiGroups": tStrings(""), "resources": tStrings(""), "resourceNames": tStrings(""), "nonResourceURLs": tStrings(""),
	}),
	rbacV1 + "AggregationRule": tObject("How a cluster role collects others' rules.", nil, props{
		"clusterRoleSelectors": tList("", metaV1+"LabelSelector"),
	}),

	apixV1 + "CustomResourceDefinition": topLevel("CustomResourceDefinition adds a resource to the API.", []string{"spec"}, props{
		"spec":   tRef(apixV1+"CustomResourceDefinitionSpec", ""),
		"status": tOpen(""),
	}),
	apixV1 + "CustomResourceDefinitionSpec": tObject("The resource a CRD defines.", []string{"group", "names", "scope", "versions"}, props{
		"group": tString(""), "names": tOpen(""), "scope": tString(""), "versions": withDesc(props{"type": "array", "items": tOpen(""), "x-kubernetes-list-type": "atomic"}, ""),
		"conversion": tOpen(""), "preserveUnknownFields": tBool(""),
	}),
}
