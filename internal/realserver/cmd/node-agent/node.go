package main

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Heartbeats, as the kubelet's defaults: the Lease is renewed every 10 s
// and lasts 40 s; the Ready condition's heartbeat is refreshed less often.
const (
	leaseDuration   = 40
	leaseRenewEvery = 10 * time.Second
	statusEvery     = 30 * time.Second
	nodeLeaseNS     = "kube-node-lease"
	kubeletVersion  = "v1.37.2"
)

// capacity is what each node advertises: generous, fixed numbers (nothing
// is enforced), so that the scheduler never refuses a test's pod for lack of
// room.
func capacity() v1.ResourceList {
	return v1.ResourceList{
		v1.ResourceCPU:              resource.MustParse("16"),
		v1.ResourceMemory:           resource.MustParse("64Gi"),
		v1.ResourcePods:             resource.MustParse("110"),
		v1.ResourceEphemeralStorage: resource.MustParse("100Gi"),
	}
}

func (a *agent) nodeStatus(now metav1.Time) v1.NodeStatus {
	cond := func(t v1.NodeConditionType, s v1.ConditionStatus, reason, msg string) v1.NodeCondition {
		return v1.NodeCondition{Type: t, Status: s, Reason: reason, Message: msg, LastHeartbeatTime: now, LastTransitionTime: now}
	}
	return v1.NodeStatus{
		Capacity:    capacity(),
		Allocatable: capacity(),
		Conditions: []v1.NodeCondition{
			cond(v1.NodeMemoryPressure, v1.ConditionFalse, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
			cond(v1.NodeDiskPressure, v1.ConditionFalse, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
			cond(v1.NodePIDPressure, v1.ConditionFalse, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
			cond(v1.NodeReady, v1.ConditionTrue, "KubeletReady", "kubelet is posting ready status"),
		},
		Phase: v1.NodeRunning,
		DaemonEndpoints: v1.NodeDaemonEndpoints{
			KubeletEndpoint: v1.DaemonEndpoint{Port: int32(a.port)},
		},
		NodeInfo: v1.NodeSystemInfo{
			KubeletVersion:          kubeletVersion,
			OperatingSystem:         runtime.GOOS,
			Architecture:            runtime.GOARCH,
			ContainerRuntimeVersion: "kubedyn-node-agent://" + kubeletVersion,
			KernelVersion:           "",
			OSImage:                 "kubedyn node agent (host processes)",
		},
	}
}

// registerNode creates the Node (or takes over an existing one) with its
// status, then its Lease.
func (a *agent) registerNode(ctx context.Context, name string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	nodes := a.client.CoreV1().Nodes()
	node := &v1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name: name,
			Labels: map[string]string{
				"kubernetes.io/hostname":  name,
				"kubernetes.io/os":        runtime.GOOS,
				"kubernetes.io/arch":      runtime.GOARCH,
				"beta.kubernetes.io/os":   runtime.GOOS,
				"beta.kubernetes.io/arch": runtime.GOARCH,
				"type":                    "kubedyn-node-agent",
			},
			Annotations: map[string]string{"node.alpha.kubernetes.io/ttl": "0"},
		},
	}
	node.Status = a.nodeStatus(metav1.Now())
	node.Status.Addresses = []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: a.nodeIP}, {Type: v1.NodeHostName, Address: name}}
	var cur *v1.Node
	for {
		var err error
		cur, err = nodes.Create(ctx, node, metav1.CreateOptions{})
		if apierrors.IsAlreadyExists(err) {
			cur, err = nodes.Get(ctx, name, metav1.GetOptions{})
		}
		if err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := a.updateNodeStatus(ctx, cur); err != nil {
		return err
	}
	return a.renewLease(ctx, cur)
}

// updateNodeStatus writes a fresh status (heartbeat) on node.
func (a *agent) updateNodeStatus(ctx context.Context, node *v1.Node) error {
	now := metav1.Now()
	next := node.DeepCopy()
	fresh := a.nodeStatus(now)
	for i, c := range fresh.Conditions {
		for _, old := range node.Status.Conditions {
			if old.Type == c.Type && old.Status == c.Status {
				fresh.Conditions[i].LastTransitionTime = old.LastTransitionTime
			}
		}
	}
	next.Status.Capacity, next.Status.Allocatable = fresh.Capacity, fresh.Allocatable
	next.Status.Conditions, next.Status.Phase = fresh.Conditions, fresh.Phase
	next.Status.DaemonEndpoints, next.Status.NodeInfo = fresh.DaemonEndpoints, fresh.NodeInfo
	next.Status.Addresses = []v1.NodeAddress{{Type: v1.NodeInternalIP, Address: a.nodeIP}, {Type: v1.NodeHostName, Address: node.Name}}
	_, err := a.client.CoreV1().Nodes().UpdateStatus(ctx, next, metav1.UpdateOptions{})
	return err
}

// renewLease creates or renews the node's Lease in kube-node-lease, owned by
// the Node so that it goes when the Node does.
func (a *agent) renewLease(ctx context.Context, node *v1.Node) error {
	leases := a.client.CoordinationV1().Leases(nodeLeaseNS)
	now := metav1.NewMicroTime(time.Now())
	holder, dur := node.Name, int32(leaseDuration)
	l, err := leases.Get(ctx, node.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = leases.Create(ctx, &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{
				Name: node.Name, Namespace: nodeLeaseNS,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Node", Name: node.Name, UID: node.UID}},
			},
			Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &dur, RenewTime: &now},
		}, metav1.CreateOptions{})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.HolderIdentity, l.Spec.LeaseDurationSeconds, l.Spec.RenewTime = &holder, &dur, &now
	_, err = leases.Update(ctx, l, metav1.UpdateOptions{})
	return err
}

// heartbeat keeps the node's Lease and Ready condition fresh, registering
// the node again if someone deleted it.
func (a *agent) heartbeat(ctx context.Context, name string) {
	lease := time.NewTicker(leaseRenewEvery)
	defer lease.Stop()
	status := time.NewTicker(statusEvery)
	defer status.Stop()
	for {
		var statusDue bool
		select {
		case <-ctx.Done():
			return
		case <-lease.C:
		case <-status.C:
			statusDue = true
		}
		node, err := a.client.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			err = a.registerNode(ctx, name)
			if err != nil {
				slog.Warn("register node again", "node", name, "err", err)
			}
			continue
		}
		if err != nil {
			slog.Warn("heartbeat", "node", name, "err", err)
			continue
		}
		if statusDue {
			if err := a.updateNodeStatus(ctx, node); err != nil {
				slog.Warn("node status", "node", name, "err", err)
			}
		}
		if err := a.renewLease(ctx, node); err != nil {
			slog.Warn("node lease", "node", name, "err", err)
		}
	}
}
