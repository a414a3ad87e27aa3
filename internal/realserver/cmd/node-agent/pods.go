package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Restart back-off of a container that keeps exiting: shorter than the
// kubelet's 10 s doubling to 5 min, so tests that crash-loop on purpose see
// restarts within seconds.
const (
	backoffBase = time.Second
	backoffMax  = 30 * time.Second
)

// podRuntime runs one pod bound to one of the agent's nodes. Its fields
// below mu are guarded by mu.
type podRuntime struct {
	a        *agent
	uid      types.UID
	ns, name string
	dir      string

	stopping chan struct{} // closed once: deletion requested or agent shutting down
	stopOnce sync.Once
	removed  chan struct{} // closed once the pod has left the API
	remOnce  sync.Once
	dirty    chan struct{} // buffered 1: the status changed
	done     chan struct{} // closed when run has finished its work
	pushMu   sync.Mutex

	mu        sync.Mutex
	pod       *v1.Pod
	startTime metav1.Time
	inits     []*ctr
	ctrs      []*ctr
	initDone  bool
	final     v1.PodPhase // set once the pod is terminal
	grace     time.Duration
	execs     map[*proc]struct{}
	ip        string     // the pod's IP, set before its containers start
	netAddr   netip.Addr // ip when it is the pod network's (released at the end)

	hostNetwork bool // spec.hostNetwork (immutable)
}

// ctr is one container of a pod. Guarded by its pod's mu.
type ctr struct {
	spec         v1.Container
	init         bool
	sidecar      bool // an init container with restartPolicy Always
	restartCount int32
	id           string
	state        v1.ContainerState
	last         v1.ContainerState
	proc         *proc    // the current run, nil when none
	idle         bool     // no command: it "runs" until stopped, with no process
	stdin        *os.File // where the current run's stdin is written, when spec.Stdin
	term         *os.File // the current run's terminal (master side), when spec.TTY
	log, prevLog *logFile
}

func newPodRuntime(a *agent, pod *v1.Pod) *podRuntime {
	p := &podRuntime{
		a: a, uid: pod.UID, ns: pod.Namespace, name: pod.Name,
		dir:      filepath.Join(a.root, "pods", string(pod.UID)),
		stopping: make(chan struct{}),
		removed:  make(chan struct{}),
		dirty:    make(chan struct{}, 1),
		done:     make(chan struct{}),
		pod:      pod,
		execs:    map[*proc]struct{}{},

		hostNetwork: pod.Spec.HostNetwork,
	}
	for _, c := range pod.Spec.InitContainers {
		p.inits = append(p.inits, &ctr{spec: c, init: true,
			sidecar: c.RestartPolicy != nil && *c.RestartPolicy == v1.ContainerRestartPolicyAlways,
			state:   waiting("PodInitializing", "")})
	}
	for _, c := range pod.Spec.Containers {
		reason := "ContainerCreating"
		if len(pod.Spec.InitContainers) > 0 {
			reason = "PodInitializing"
		}
		p.ctrs = append(p.ctrs, &ctr{spec: c, state: waiting(reason, "")})
	}
	return p
}

// event records an event about the pod, from its node, as the kubelet does.
func (p *podRuntime) event(typ, reason, format string, args ...any) {
	p.mu.Lock()
	pod := p.pod
	p.mu.Unlock()
	if rec := p.a.events[pod.Spec.NodeName]; rec != nil {
		rec.Eventf(pod, typ, reason, format, args...)
	}
}

func waiting(reason, msg string) v1.ContainerState {
	return v1.ContainerState{Waiting: &v1.ContainerStateWaiting{Reason: reason, Message: msg}}
}

// update records a newer version of the pod and notices a deletion request.
func (p *podRuntime) update(pod *v1.Pod) {
	p.mu.Lock()
	p.pod = pod
	p.mu.Unlock()
	if pod.DeletionTimestamp != nil {
		grace := 30 * time.Second
		if pod.DeletionGracePeriodSeconds != nil {
			grace = time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
		}
		p.stop(grace)
	}
}

// stop asks every container to end within grace (SIGTERM, then SIGKILL).
func (p *podRuntime) stop(grace time.Duration) {
	p.stopOnce.Do(func() {
		p.mu.Lock()
		p.grace = grace
		p.mu.Unlock()
		close(p.stopping)
	})
}

// gone is called when the pod has left the API (or the agent stops): kill
// at once.
func (p *podRuntime) gone() {
	p.remOnce.Do(func() { close(p.removed) })
	p.stop(0)
}

func (p *podRuntime) isStopping() bool {
	select {
	case <-p.stopping:
		return true
	default:
		return false
	}
}

func (p *podRuntime) markDirty() {
	select {
	case p.dirty <- struct{}{}:
	default:
	}
}

// run is the pod's life: init containers in order, then the containers
// under their restart policy, then termination on deletion.
func (p *podRuntime) run(ctx context.Context) {
	defer close(p.done)
	if err := os.MkdirAll(p.dir, 0o755); err != nil {
		slog.Error("pod directory", "pod", p.ns+"/"+p.name, "err", err)
	}
	p.mu.Lock()
	p.startTime = metav1.Now()
	p.mu.Unlock()
	attached := p.attachNetwork(ctx)
	defer p.detachNetwork()
	go p.pushLoop(ctx)
	p.markDirty()

	var wg sync.WaitGroup
	ok := attached && p.runInits(ctx, &wg)
	if ok {
		p.mu.Lock()
		p.initDone = true
		p.mu.Unlock()
		p.markDirty()
		for _, c := range p.ctrs {
			wg.Go(func() { p.supervise(ctx, c) })
		}
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()

	select {
	case <-allDone: // every container finished for good: the pod is terminal
		p.mu.Lock()
		if p.final == "" {
			p.final = p.terminalPhase()
		}
		p.mu.Unlock()
		p.markDirty()
		// Like a sandbox torn down: the address goes back to the pod
		// network (status keeps it), so finished pods that stay in the
		// API do not use the subnet up.
		p.detachNetwork()
		<-p.stopping
	case <-p.stopping:
	}
	p.kill()
	<-allDone
	p.mu.Lock()
	if p.final == "" {
		p.final = p.terminalPhase()
	}
	p.mu.Unlock()

	select {
	case <-p.removed:
		return
	default:
	}
	// Like the kubelet: the last status, then the final delete that removes
	// the object (its deletionTimestamp is set, so this only ends the grace
	// period; a terminal pod that was never deleted is not reached here).
	pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := p.push(pctx); err != nil {
		slog.Warn("final pod status", "pod", p.ns+"/"+p.name, "err", err)
	}
	zero := int64(0)
	err := p.a.client.CoreV1().Pods(p.ns).Delete(pctx, p.name, metav1.DeleteOptions{
		GracePeriodSeconds: &zero,
		Preconditions:      &metav1.Preconditions{UID: &p.uid},
	})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		slog.Warn("delete pod", "pod", p.ns+"/"+p.name, "err", err)
	}
}

// runInits runs the init containers in order; sidecars are started and
// left running. It reports false when the pod failed or is stopping.
func (p *podRuntime) runInits(ctx context.Context, wg *sync.WaitGroup) bool {
	for _, c := range p.inits {
		if c.sidecar {
			started := make(chan struct{})
			wg.Go(func() { p.superviseSidecar(ctx, c, started) })
			select {
			case <-started:
				continue
			case <-p.stopping:
				return false
			}
		}
		backoff := backoffBase
		for {
			code, stopped := p.runOnce(ctx, c)
			if stopped {
				return false
			}
			if code == 0 {
				break
			}
			if p.restartPolicy() == v1.RestartPolicyNever {
				p.mu.Lock()
				p.final = v1.PodFailed
				p.mu.Unlock()
				p.markDirty()
				return false
			}
			if !p.backoff(c, &backoff) {
				return false
			}
		}
	}
	return true
}

func (p *podRuntime) restartPolicy() v1.RestartPolicy {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pod.Spec.RestartPolicy
}

// supervise runs a regular container until its restart policy says it is
// finished, or the pod stops.
func (p *podRuntime) supervise(ctx context.Context, c *ctr) {
	backoff := backoffBase
	for {
		code, stopped := p.runOnce(ctx, c)
		if stopped {
			return
		}
		switch policy := p.restartPolicy(); {
		case policy == v1.RestartPolicyNever,
			policy == v1.RestartPolicyOnFailure && code == 0:
			return
		}
		if !p.backoff(c, &backoff) {
			return
		}
	}
}

// superviseSidecar runs a restartable init container, restarting it
// whenever it exits. started is closed after its first start.
func (p *podRuntime) superviseSidecar(ctx context.Context, c *ctr, started chan struct{}) {
	var once sync.Once
	backoff := backoffBase
	for {
		_, stopped := p.runOnceNotify(ctx, c, func() { once.Do(func() { close(started) }) })
		if stopped {
			return
		}
		if !p.backoff(c, &backoff) {
			return
		}
	}
}

// backoff waits before a restart, with the container Waiting in
// CrashLoopBackOff. It reports false if the pod stopped meanwhile.
func (p *podRuntime) backoff(c *ctr, d *time.Duration) bool {
	p.mu.Lock()
	c.last = c.state
	c.restartCount++
	c.state = waiting("CrashLoopBackOff", fmt.Sprintf("back-off %s restarting failed container=%s pod=%s_%s(%s)", *d, c.spec.Name, p.name, p.ns, p.uid))
	p.mu.Unlock()
	p.markDirty()
	p.event(v1.EventTypeWarning, "BackOff", "Back-off restarting failed container %s in pod %s_%s(%s)", c.spec.Name, p.name, p.ns, p.uid)
	t := time.NewTimer(*d)
	defer t.Stop()
	*d = min(*d*2, backoffMax)
	select {
	case <-t.C:
		return true
	case <-p.stopping:
		return false
	}
}

func (p *podRuntime) runOnce(ctx context.Context, c *ctr) (code int, stopped bool) {
	return p.runOnceNotify(ctx, c, func() {})
}

// runOnceNotify runs the container once and waits for it to end. stopped
// reports that it ended because the pod is stopping.
func (p *podRuntime) runOnceNotify(ctx context.Context, c *ctr, onStart func()) (code int, stopped bool) {
	if p.isStopping() {
		return 0, true
	}
	p.mu.Lock()
	pod := p.pod
	run := c.restartCount
	p.mu.Unlock()
	id := containerID(p.uid, c.spec.Name, run)
	started := metav1.Now()
	fail := func(reason string, err error) (int, bool) {
		p.mu.Lock()
		c.id = id
		c.state = v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
			ExitCode: 128, Reason: reason, Message: err.Error(), StartedAt: started, FinishedAt: metav1.Now(), ContainerID: "kubedyn://" + id}}
		p.mu.Unlock()
		p.markDirty()
		return 128, p.isStopping()
	}
	env, err := p.a.environment(ctx, pod, &c.spec)
	if err != nil {
		p.event(v1.EventTypeWarning, "Failed", "Error: %v", err)
		return fail("CreateContainerConfigError", err)
	}
	if run == 0 {
		p.event(v1.EventTypeNormal, "Pulled", "Container image %q already present on machine (images are not pulled)", c.spec.Image)
	}
	argv := containerArgv(&c.spec, env)
	log, err := newLogFile(filepath.Join(p.dir, fmt.Sprintf("%s-%d.log", c.spec.Name, run)))
	if err != nil {
		return fail("StartError", err)
	}
	p.mu.Lock()
	c.prevLog, c.log, c.id = c.log, log, id
	p.mu.Unlock()

	if len(argv) == 0 { // no command: an idle container that runs until stopped
		log.close()
		p.mu.Lock()
		c.idle = true
		c.state = v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: started}}
		p.mu.Unlock()
		p.markDirty()
		onStart()
		<-p.stopping
		p.mu.Lock()
		c.state = v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
			ExitCode: 0, Reason: "Completed", StartedAt: started, FinishedAt: metav1.Now(), ContainerID: "kubedyn://" + id}}
		p.mu.Unlock()
		p.markDirty()
		return 0, true
	}
	if path, err := lookPath(argv[0], envValue(env, "PATH")); err != nil {
		log.close()
		p.event(v1.EventTypeWarning, "Failed", "Error: failed to start container %q: %v", c.spec.Name, err)
		return fail("StartError", err)
	} else {
		argv[0] = path
	}
	argv = p.procArgv(argv)

	rio, err := newRunIO(&c.spec)
	if err != nil {
		log.close()
		return fail("StartError", err)
	}
	pr, err := p.a.starter.start(argv, env, workingDir(&c.spec, p.dir), rio.child)
	rio.started()
	if err != nil {
		rio.close()
		log.close()
		return fail("StartError", err)
	}
	var copies sync.WaitGroup
	rio.copyTo(log, &copies)

	p.mu.Lock()
	c.proc, c.stdin, c.term, c.idle = pr, rio.stdin, rio.term, false
	c.state = v1.ContainerState{Running: &v1.ContainerStateRunning{StartedAt: started}}
	p.mu.Unlock()
	p.markDirty()
	p.event(v1.EventTypeNormal, "Created", "Created container: %s", c.spec.Name)
	p.event(v1.EventTypeNormal, "Started", "Started container %s", c.spec.Name)
	onStart()
	// A stop that began before the process was recorded must reach it.
	if p.isStopping() {
		p.signalAll(syscall.SIGTERM)
	}

	<-pr.done
	copies.Wait()
	log.close()
	rio.close()
	reason := "Completed"
	if pr.code != 0 {
		reason = "Error"
	}
	p.mu.Lock()
	c.proc, c.stdin, c.term = nil, nil, nil
	c.state = v1.ContainerState{Terminated: &v1.ContainerStateTerminated{
		ExitCode: int32(pr.code), Reason: reason, StartedAt: started, FinishedAt: metav1.Now(), ContainerID: "kubedyn://" + id}}
	if pr.code > 128 && pr.code < 128+65 {
		c.state.Terminated.Signal = int32(pr.code - 128)
	}
	p.mu.Unlock()
	p.markDirty()
	return pr.code, p.isStopping()
}

// kill ends every process of the pod: SIGTERM, and SIGKILL after the grace
// period (at once when the pod has left the API).
func (p *podRuntime) kill() {
	p.mu.Lock()
	grace := p.grace
	p.mu.Unlock()
	select {
	case <-p.removed:
		grace = 0
	default:
	}
	if p.running() {
		for _, c := range p.ctrs {
			p.event(v1.EventTypeNormal, "Killing", "Stopping container %s", c.spec.Name)
		}
	}
	if grace > 0 {
		p.signalAll(syscall.SIGTERM)
		t := time.NewTimer(grace)
		defer t.Stop()
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for p.running() {
			select {
			case <-t.C:
				p.signalAll(syscall.SIGKILL)
				return
			case <-p.removed:
				p.signalAll(syscall.SIGKILL)
				return
			case <-tick.C:
			}
		}
		return
	}
	p.signalAll(syscall.SIGKILL)
}

func (p *podRuntime) signalAll(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range append(append([]*ctr(nil), p.inits...), p.ctrs...) {
		if c.proc != nil {
			c.proc.signal(sig)
		}
	}
	for e := range p.execs {
		e.signal(syscall.SIGKILL)
	}
}

func (p *podRuntime) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range append(append([]*ctr(nil), p.inits...), p.ctrs...) {
		if c.proc != nil {
			return true
		}
	}
	return false
}

// terminalPhase is Succeeded when every container ended with 0, else
// Failed. Called with mu held.
func (p *podRuntime) terminalPhase() v1.PodPhase {
	for _, c := range append(append([]*ctr(nil), p.inits...), p.ctrs...) {
		if c.state.Terminated != nil && c.state.Terminated.ExitCode != 0 {
			return v1.PodFailed
		}
		if c.state.Terminated == nil && !c.sidecar {
			return v1.PodFailed
		}
	}
	if !p.initDone {
		return v1.PodFailed
	}
	return v1.PodSucceeded
}

// pushLoop writes the status whenever it changed, until the pod is gone.
func (p *podRuntime) pushLoop(ctx context.Context) {
	for {
		select {
		case <-p.removed:
			return
		case <-p.done:
			return
		case <-p.dirty:
		}
		if err := p.push(ctx); err != nil {
			slog.Warn("pod status", "pod", p.ns+"/"+p.name, "err", err)
			// try again shortly
			select {
			case <-time.After(500 * time.Millisecond):
				p.markDirty()
			case <-p.removed:
				return
			}
		}
	}
}

// push writes the pod's status with UpdateStatus, retrying conflicts.
func (p *podRuntime) push(ctx context.Context) error {
	p.pushMu.Lock() // one writer of this pod's status at a time
	defer p.pushMu.Unlock()
	cur, err := p.a.podLister.Pods(p.ns).Get(p.name)
	for attempt := 0; attempt < 8; attempt++ {
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if cur.UID != p.uid {
			return nil
		}
		next := cur.DeepCopy()
		p.mu.Lock()
		next.Status = p.buildStatus(cur)
		p.mu.Unlock()
		if equality.Semantic.DeepEqual(cur.Status, next.Status) {
			return nil
		}
		_, err = p.a.client.CoreV1().Pods(p.ns).UpdateStatus(ctx, next, metav1.UpdateOptions{})
		if err == nil || apierrors.IsNotFound(err) {
			return nil
		}
		if !apierrors.IsConflict(err) {
			return err
		}
		cur, err = p.a.client.CoreV1().Pods(p.ns).Get(ctx, p.name, metav1.GetOptions{})
	}
	return err
}

// buildStatus computes the pod's status from what runs. Called with mu held.
func (p *podRuntime) buildStatus(cur *v1.Pod) v1.PodStatus {
	st := *cur.Status.DeepCopy()
	st.HostIP, st.HostIPs = p.a.nodeIP, []v1.HostIP{{IP: p.a.nodeIP}}
	st.PodIP, st.PodIPs = p.ip, nil
	if p.ip != "" {
		st.PodIPs = []v1.PodIP{{IP: p.ip}}
	}
	st.StartTime = &p.startTime

	st.InitContainerStatuses = st.InitContainerStatuses[:0]
	for _, c := range p.inits {
		st.InitContainerStatuses = append(st.InitContainerStatuses, c.status())
	}
	if len(st.InitContainerStatuses) == 0 {
		st.InitContainerStatuses = nil
	}
	st.ContainerStatuses = st.ContainerStatuses[:0]
	allReady := p.initDone && p.final == ""
	for _, c := range p.ctrs {
		cs := c.status()
		st.ContainerStatuses = append(st.ContainerStatuses, cs)
		allReady = allReady && cs.Ready
	}
	for _, c := range p.inits {
		if c.sidecar {
			allReady = allReady && c.state.Running != nil
		}
	}

	switch {
	case p.final != "":
		st.Phase = p.final
	case !p.initDone:
		st.Phase = v1.PodPending
	default:
		st.Phase = v1.PodRunning
		for _, c := range p.ctrs {
			if c.restartCount == 0 && c.state.Waiting != nil {
				st.Phase = v1.PodPending
			}
		}
	}

	cond := func(t v1.PodConditionType, ok bool, reason string) {
		status := v1.ConditionFalse
		if ok {
			status, reason = v1.ConditionTrue, ""
		}
		for i := range st.Conditions {
			if st.Conditions[i].Type == t {
				if st.Conditions[i].Status != status {
					st.Conditions[i].LastTransitionTime = metav1.Now()
				}
				st.Conditions[i].Status, st.Conditions[i].Reason = status, reason
				return
			}
		}
		st.Conditions = append(st.Conditions, v1.PodCondition{Type: t, Status: status, Reason: reason, LastTransitionTime: metav1.Now()})
	}
	notReady := "ContainersNotReady"
	if p.final != "" {
		notReady = "PodCompleted"
	}
	cond(v1.PodReadyToStartContainers, p.final == "" || p.initDone, "")
	cond(v1.PodInitialized, p.initDone, "ContainersNotInitialized")
	cond(v1.ContainersReady, allReady, notReady)
	cond(v1.PodReady, allReady, notReady)
	return st
}

// status is the container's status. Called with the pod's mu held.
func (c *ctr) status() v1.ContainerStatus {
	running := c.state.Running != nil
	return v1.ContainerStatus{
		Name:                 c.spec.Name,
		Image:                c.spec.Image,
		ImageID:              imageID(c.spec.Image),
		ContainerID:          containerIDOrEmpty(c.id),
		State:                c.state,
		LastTerminationState: c.last,
		Ready:                running && !c.init || running && c.sidecar,
		RestartCount:         c.restartCount,
		Started:              &running,
	}
}

func containerID(uid types.UID, name string, run int32) string {
	h := sha256.Sum256(fmt.Appendf(nil, "%s/%s/%d", uid, name, run))
	return hex.EncodeToString(h[:])
}

func containerIDOrEmpty(id string) string {
	if id == "" {
		return ""
	}
	return "kubedyn://" + id
}

// imageID is a stable made-up digest: images are recorded, never pulled.
func imageID(image string) string {
	h := sha256.Sum256([]byte(image))
	name, _, _ := strings.Cut(image, "@")
	return name + "@sha256:" + hex.EncodeToString(h[:])
}

// containerArgv is command+args with $(VAR) references expanded; a
// container with neither has no process.
func containerArgv(c *v1.Container, env []string) []string {
	cmd, args := c.Command, c.Args
	if len(cmd) == 0 {
		cmd, args = args, nil
	}
	vars := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	var argv []string
	for _, s := range append(append([]string(nil), cmd...), args...) {
		argv = append(argv, expand(s, vars))
	}
	return argv
}

func workingDir(c *v1.Container, podDir string) string {
	if c.WorkingDir != "" {
		if fi, err := os.Stat(c.WorkingDir); err == nil && fi.IsDir() {
			return c.WorkingDir
		}
	}
	return podDir
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// expand replaces $(NAME) with vars[NAME] as the kubelet does: $$ is a
// literal $, and a reference to an unknown name stays as written.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := vars[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+3+end])
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}
