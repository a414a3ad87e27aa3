package unstructured

import (
	"fmt"
	"strings"
)

// GroupVersion names an API group and version, such as apps/v1. The core group
// has an empty Group. GroupVersion is a plain value, safe to copy and share.
type GroupVersion struct {
	Group   string // "" for the core group, else a DNS name such as "apps"
	Version string // such as "v1" or "v2beta1"
}

// ParseGroupVersion parses an apiVersion such as "v1" or "apps/v1".
// It returns an error for an empty string, more than one slash, or an empty part.
func ParseGroupVersion(apiVersion string) (GroupVersion, error) {
	if apiVersion == "" {
		return GroupVersion{}, fmt.Errorf("parse apiVersion: empty")
	}
	group, version, found := strings.Cut(apiVersion, "/")
	if !found {
		return GroupVersion{Version: apiVersion}, nil
	}
	if group == "" || version == "" || strings.Contains(version, "/") {
		return GroupVersion{}, fmt.Errorf("parse apiVersion %q: want \"version\" or \"group/version\"", apiVersion)
	}
	return GroupVersion{Group: group, Version: version}, nil
}

// String returns the apiVersion form: "v1" for the core group, "apps/v1" otherwise.
func (gv GroupVersion) String() string {
	if gv.Group == "" {
		return gv.Version
	}
	return gv.Group + "/" + gv.Version
}

// WithKind returns the GroupVersionKind of kind in gv.
func (gv GroupVersion) WithKind(kind string) GroupVersionKind {
	return GroupVersionKind{Group: gv.Group, Version: gv.Version, Kind: kind}
}

// WithResource returns the GroupVersionResource of resource in gv.
func (gv GroupVersion) WithResource(resource string) GroupVersionResource {
	return GroupVersionResource{Group: gv.Group, Version: gv.Version, Resource: resource}
}

// GroupVersionKind names a kind in an API group and version. It is a plain
// value, safe to copy and share.
type GroupVersionKind struct {
	Group   string // "" for the core group
	Version string // such as "v1"
	Kind    string // CamelCase, such as "Deployment"
}

// GroupVersion returns the group and version of gvk.
func (gvk GroupVersionKind) GroupVersion() GroupVersion {
	return GroupVersion{Group: gvk.Group, Version: gvk.Version}
}

// APIVersion returns the apiVersion field value for gvk, such as "apps/v1".
func (gvk GroupVersionKind) APIVersion() string { return gvk.GroupVersion().String() }

// String returns "apps/v1, Kind=Deployment".
func (gvk GroupVersionKind) String() string { return gvk.APIVersion() + ", Kind=" + gvk.Kind }

// GroupVersionResource names a resource (the plural, lower-case URL segment)
// in an API group and version. It is a plain value, safe to copy and share.
type GroupVersionResource struct {
	Group    string // "" for the core group
	Version  string // such as "v1"
	Resource string // the plural URL segment, such as "deployments"
}

// GroupVersion returns the group and version of gvr.
func (gvr GroupVersionResource) GroupVersion() GroupVersion {
	return GroupVersion{Group: gvr.Group, Version: gvr.Version}
}

// GroupResource returns gvr without its version.
func (gvr GroupVersionResource) GroupResource() GroupResource {
	return GroupResource{Group: gvr.Group, Resource: gvr.Resource}
}

// String returns "deployments.v1.apps", or "pods.v1" for the core group.
func (gvr GroupVersionResource) String() string {
	if gvr.Group == "" {
		return gvr.Resource + "." + gvr.Version
	}
	return gvr.Resource + "." + gvr.Version + "." + gvr.Group
}

// GroupResource names a resource in a group without a version, such as
// deployments.apps. It is a plain value, safe to copy and share.
type GroupResource struct {
	Group    string // "" for the core group
	Resource string // the plural URL segment, such as "deployments"
}

// String returns "deployments.apps", or "pods" for the core group.
func (gr GroupResource) String() string {
	if gr.Group == "" {
		return gr.Resource
	}
	return gr.Resource + "." + gr.Group
}
