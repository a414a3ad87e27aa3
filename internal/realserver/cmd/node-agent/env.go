package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// environment builds a container's environment as the kubelet would, on the
// host: PATH and HOME from the agent, HOSTNAME, the API server's loopback
// address as KUBERNETES_SERVICE_HOST/PORT (relayed into the pod network,
// netns.go), then envFrom and env in order
// (values, field references, ConfigMap and Secret keys; $(VAR) references
// to earlier variables expanded). Resource field references are not
// supported and yield an empty value.
func (a *agent) environment(ctx context.Context, pod *v1.Pod, c *v1.Container) ([]string, error) {
	var keys []string
	vals := map[string]string{}
	set := func(k, v string) {
		if _, ok := vals[k]; !ok {
			keys = append(keys, k)
		}
		vals[k] = v
	}
	set("PATH", os.Getenv("PATH"))
	if h := os.Getenv("HOME"); h != "" {
		set("HOME", h)
	}
	set("HOSTNAME", pod.Name)
	if a.apiHost != "" {
		set("KUBERNETES_SERVICE_HOST", a.apiHost)
		set("KUBERNETES_SERVICE_PORT", a.apiPort)
		set("KUBERNETES_SERVICE_PORT_HTTPS", a.apiPort)
	}
	for _, from := range c.EnvFrom {
		data, err := a.sourceData(ctx, pod.Namespace, from.ConfigMapRef, from.SecretRef)
		if err != nil {
			return nil, err
		}
		for k, v := range data {
			set(from.Prefix+k, v)
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vals))
			continue
		}
		v, err := a.valueFrom(ctx, pod, e.ValueFrom)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		set(e.Name, v)
	}
	env := make([]string, 0, len(keys))
	for _, k := range keys {
		env = append(env, k+"="+vals[k])
	}
	return env, nil
}

func (a *agent) sourceData(ctx context.Context, ns string, cm *v1.ConfigMapEnvSource, sec *v1.SecretEnvSource) (map[string]string, error) {
	out := map[string]string{}
	switch {
	case cm != nil:
		obj, err := a.client.CoreV1().ConfigMaps(ns).Get(ctx, cm.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) && cm.Optional != nil && *cm.Optional {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("configmap %q: %w", cm.Name, err)
		}
		for k, v := range obj.Data {
			out[k] = v
		}
	case sec != nil:
		obj, err := a.client.CoreV1().Secrets(ns).Get(ctx, sec.Name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) && sec.Optional != nil && *sec.Optional {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("secret %q: %w", sec.Name, err)
		}
		for k, v := range obj.Data {
			out[k] = string(v)
		}
	}
	return out, nil
}

func (a *agent) valueFrom(ctx context.Context, pod *v1.Pod, src *v1.EnvVarSource) (string, error) {
	switch {
	case src.FieldRef != nil:
		return fieldValue(pod, src.FieldRef.FieldPath, a.podIPOf(pod), a.nodeIP)
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		obj, err := a.client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && r.Optional != nil && *r.Optional {
				return "", nil
			}
			return "", fmt.Errorf("configmap %q: %w", r.Name, err)
		}
		v, ok := obj.Data[r.Key]
		if !ok && (r.Optional == nil || !*r.Optional) {
			return "", fmt.Errorf("configmap %q has no key %q", r.Name, r.Key)
		}
		return v, nil
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		obj, err := a.client.CoreV1().Secrets(pod.Namespace).Get(ctx, r.Name, metav1.GetOptions{})
		if err != nil {
			if apierrors.IsNotFound(err) && r.Optional != nil && *r.Optional {
				return "", nil
			}
			return "", fmt.Errorf("secret %q: %w", r.Name, err)
		}
		v, ok := obj.Data[r.Key]
		if !ok && (r.Optional == nil || !*r.Optional) {
			return "", fmt.Errorf("secret %q has no key %q", r.Name, r.Key)
		}
		return string(v), nil
	}
	return "", nil
}

// fieldValue reads the downward-API fields the kubelet supports for env;
// podIP is the pod's address, hostIP its node's.
func fieldValue(pod *v1.Pod, path, podIP, hostIP string) (string, error) {
	if k, ok := strings.CutPrefix(path, "metadata.labels['"); ok {
		return pod.Labels[strings.TrimSuffix(k, "']")], nil
	}
	if k, ok := strings.CutPrefix(path, "metadata.annotations['"); ok {
		return pod.Annotations[strings.TrimSuffix(k, "']")], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return hostIP, nil
	case "status.podIP", "status.podIPs":
		return podIP, nil
	}
	return "", fmt.Errorf("unsupported field path %q", path)
}
