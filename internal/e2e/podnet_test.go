package e2e_test

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kubedyn/kubedyn/unstructured"
)

// TestPodNetworkAddresses checks the node agent's pod network from the
// machine's side: each running pod has an address of its own on the
// namespace's eth0, in the node's subnet; a pod that finished gives its
// address back (its status keeps it) and a deleted one too.
func TestPodNetworkAddresses(t *testing.T) {
	t.Parallel()
	ns := planeNamespace(t)
	pods := planeAdmin(t).Resource("v1", "Pod").Namespace(ns)
	for _, name := range []string{"one", "two"} {
		_, err := pods.Create(testContext(t), shellPod(t, name, "Never", "exec sleep 3600"), nil)
		require.NoError(t, err)
	}
	_, err := pods.Create(testContext(t), shellPod(t, "done", "Never", "exit 0"), nil)
	require.NoError(t, err)
	running := func(p unstructured.Object) bool { return p.Get("status.phase").String() == "Running" }
	one := waitPod(t, pods, "one", "pod one to be Running", running)
	two := waitPod(t, pods, "two", "pod two to be Running", running)
	done := waitPod(t, pods, "done", "pod done to be Succeeded", func(p unstructured.Object) bool {
		return p.Get("status.phase").String() == "Succeeded"
	})
	ipOne, ipTwo, ipDone := one.Get("status.podIP").String(), two.Get("status.podIP").String(), done.Get("status.podIP").String()
	if !podNetworkUp(t, ipOne) {
		for _, ip := range []string{ipOne, ipTwo, ipDone} {
			assert.Equal(t, "127.0.0.1", ip, "the loopback fallback")
		}
		return
	}
	assert.NotEqual(t, ipOne, ipTwo, "each pod has an address of its own")
	assert.NotEmpty(t, ipDone, "a finished pod's status keeps its address")
	hostIP := net.ParseIP(one.Get("status.hostIP").String())
	require.NotNil(t, hostIP)
	subnet := &net.IPNet{IP: hostIP.Mask(net.CIDRMask(24, 32)), Mask: net.CIDRMask(24, 32)}
	for _, ip := range []string{ipOne, ipTwo, ipDone} {
		assert.True(t, subnet.Contains(net.ParseIP(ip)), "%s in the node's subnet %s", ip, subnet)
	}

	pids := plane(t).PIDs()
	netns := "kubedyn-" + strconv.Itoa(pids[len(pids)-1]) // the node agent starts last
	addrs := func() string {
		out, err := exec.CommandContext(testContext(t), "ip", "-n", netns, "-o", "-4", "addr", "show", "dev", "eth0").CombinedOutput()
		require.NoError(t, err, "%s", out)
		return string(out)
	}
	has := func(out, ip string) bool { return strings.Contains(out, " "+ip+"/") }
	now := addrs()
	assert.True(t, has(now, ipOne), "pod one's address on the namespace's eth0:\n%s", now)
	assert.True(t, has(now, ipTwo), "pod two's address on the namespace's eth0:\n%s", now)
	if ipDone != ipOne && ipDone != ipTwo {
		assert.False(t, has(now, ipDone), "the finished pod's address was given back:\n%s", now)
	}

	_, err = pods.Delete(testContext(t), "one", nil)
	require.NoError(t, err)
	eventually(t, planeWait, "the deleted pod's address to be given back", func() bool {
		return !has(addrs(), ipOne)
	})
}
