package framework

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/drill-sre/drill/internal/agent"
	"github.com/drill-sre/drill/internal/cluster"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/internal/preflight"
)

var drillBinary struct {
	sync.Mutex
	path string
}

// DrillBinary returns drill built from this module, once per test process,
// for the suites that run drill as a user would, as a process that can be
// signalled and killed. The binary is removed when the suite ends.
func DrillBinary() string {
	drillBinary.Lock()
	defer drillBinary.Unlock()
	if drillBinary.path != "" {
		return drillBinary.path
	}
	dir, err := os.MkdirTemp("", "drill-harness-")
	Expect(err).NotTo(HaveOccurred())
	path := filepath.Join(dir, "drill")
	cmd := exec.Command("go", "build", "-o", path, "github.com/drill-sre/drill/cmd/drill")
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "build drill: %s", out)
	drillBinary.path = path
	return path
}

// RemoveDrillBinary removes what DrillBinary built; suites call it from
// AfterSuite.
func RemoveDrillBinary() {
	drillBinary.Lock()
	defer drillBinary.Unlock()
	if drillBinary.path != "" {
		Expect(os.RemoveAll(filepath.Dir(drillBinary.path))).To(Succeed())
		drillBinary.path = ""
	}
}

// KindFlags are drill's flags for the suite's kind cluster, or the spec is
// skipped when the suite runs on another provider.
func KindFlags(p cluster.Provider) []string {
	kind, ok := p.(*cluster.Kind)
	if !ok {
		Skip("stopping and killing drill's harness needs a kind cluster")
	}
	return []string{"--name", kind.Name(), "--kubeconfig", p.Kubeconfig().Path}
}

// RunDrillInput is the input of RunDrill.
type RunDrillInput struct {
	// Provider is the suite's cluster (kind).
	Provider cluster.Provider
	// Name is the drill's name in File.
	Name, File string
	ReportDir  string
	JournalDir string
	// Signal, when set, is sent once drill logs the fault in effect.
	Signal syscall.Signal
	// KillAt, when set, is the journal step (a regular expression) at which
	// drill kills itself with SIGKILL (journal.KillAtEnv).
	KillAt string
	// Timeout bounds the drill's whole run; default 20 minutes.
	Timeout time.Duration
	// ProviderFlags, when set, reach the cluster instead of KindFlags (the
	// suite's kind cluster as an existing one, say).
	ProviderFlags []string
	// DryRun runs `drill run --dry-run`; File may then be a directory.
	DryRun bool
}

// DrillProcess is how a `drill run` ended.
type DrillProcess struct {
	// Log is drill's whole stderr.
	Log string
	// Output is drill's whole stdout: the table, or the plans of a dry run.
	Output string
	// ExitCode is drill's exit code, -1 when a signal killed it.
	ExitCode int
	// Killed is the signal that killed drill, if one did.
	Killed syscall.Signal
}

// RunDrill runs `drill run` on one drill file as a user would, and stops
// it as the input says: a signal once the fault is in effect, or a SIGKILL
// at a journal step. It returns when drill has exited.
func RunDrill(ctx context.Context, input RunDrillInput) DrillProcess {
	Expect(input.Name).NotTo(BeEmpty(), "RunDrill: Name is required")
	Expect(input.File).NotTo(BeEmpty(), "RunDrill: File is required")
	Expect(input.ReportDir).NotTo(BeEmpty(), "RunDrill: ReportDir is required")
	Expect(input.JournalDir).NotTo(BeEmpty(), "RunDrill: JournalDir is required")
	timeout := input.Timeout
	if timeout == 0 {
		timeout = 20 * time.Minute
	}
	flags := input.ProviderFlags
	if flags == nil {
		flags = KindFlags(input.Provider)
	}
	args := append(append([]string{"run"}, flags...),
		"--report-dir", input.ReportDir, "--journal-dir", input.JournalDir)
	if input.DryRun {
		args = append(args, "--dry-run")
	}
	cmd := exec.Command(DrillBinary(), append(args, input.File)...)
	cmd.Env = os.Environ()
	if input.KillAt != "" {
		cmd.Env = append(cmd.Env, journal.KillAtEnv+"="+input.KillAt)
	}
	stderr, err := cmd.StderrPipe()
	Expect(err).NotTo(HaveOccurred())
	var stdout lockedBuffer
	cmd.Stdout = io.MultiWriter(GinkgoWriter, &stdout)
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() { _ = cmd.Process.Kill() })

	var mu sync.Mutex
	var log strings.Builder
	logged := func() string { mu.Lock(); defer mu.Unlock(); return log.String() }
	inEffect := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(done)
		s := bufio.NewScanner(stderr)
		s.Buffer(nil, 1<<20)
		signalled := false
		for s.Scan() {
			line := s.Text()
			fmt.Fprintln(GinkgoWriter, line)
			mu.Lock()
			log.WriteString(line + "\n")
			mu.Unlock()
			if !signalled && strings.Contains(line, "drill "+input.Name+": fault in effect") {
				signalled = true
				close(inEffect)
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()

	deadline := time.After(timeout)
	if input.Signal != 0 {
		By("waiting for the fault to be in effect")
		select {
		case <-inEffect:
		case <-done:
			Fail("drill ended before its fault was in effect:\n" + logged())
		case <-deadline:
			Fail(fmt.Sprintf("the fault was not in effect within %s:\n%s", timeout, logged()))
		case <-ctx.Done():
			Fail("interrupted")
		}
		By(fmt.Sprintf("stopping drill with %s", input.Signal))
		Expect(cmd.Process.Signal(input.Signal)).To(Succeed())
	} else if input.KillAt != "" {
		By(fmt.Sprintf("waiting for drill to kill itself at journal step %q", input.KillAt))
	}
	select {
	case <-done:
	case <-deadline:
		Fail(fmt.Sprintf("drill did not exit within %s:\n%s", timeout, logged()))
	case <-ctx.Done():
		Fail("interrupted")
	}
	_ = cmd.Wait()
	p := DrillProcess{Log: logged(), Output: stdout.String(), ExitCode: cmd.ProcessState.ExitCode()}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		p.Killed = ws.Signal()
	}
	if input.KillAt != "" {
		Expect(p.Killed).To(Equal(syscall.SIGKILL), "drill was not killed at %q:\n%s", input.KillAt, p.Log)
	}
	return p
}

// lockedBuffer is a buffer safe to write and read at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// OpenJournal returns the one journal a killed drill left open in dir, and
// checks that it says the harness stopped at step (a regular expression).
func OpenJournal(dir, step string) journal.Entry {
	open, err := (&journal.Store{Dir: dir}).List()
	Expect(err).NotTo(HaveOccurred())
	Expect(open).To(HaveLen(1), "the killed drill's journal is left open on disk")
	Expect(open[0].Step).To(MatchRegexp("^(?:"+step+")$"), "the journal says where the harness stopped")
	return open[0]
}

// DrillCommand runs the drill binary with args, as a user would, and
// returns what it printed (stdout and stderr); a failure carries it too.
func DrillCommand(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, DrillBinary(), args...).CombinedOutput()
	fmt.Fprintf(GinkgoWriter, "drill %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		return string(out), fmt.Errorf("drill %s: %w\n%s", args[0], err, out)
	}
	return string(out), nil
}

// RecoverInput is the input of Recover.
type RecoverInput struct {
	Provider   cluster.Provider
	Clientset  kubernetes.Interface
	JournalDir string
	// Journal is the journal drill recover must revert.
	Journal journal.Entry
	// Retry, when set, retries drill recover until it succeeds or Retry
	// passes: after a machine restart, the API takes a while to answer.
	Retry time.Duration
}

// Recover runs `drill recover` on the suite's cluster, checks that it
// reverted the journal's fault and left no journal open, and returns how
// long it took.
func Recover(ctx context.Context, input RecoverInput) time.Duration {
	Expect(input.Clientset).NotTo(BeNil(), "Recover: Clientset is required")
	Expect(input.JournalDir).NotTo(BeEmpty(), "Recover: JournalDir is required")
	args := append(append([]string{"recover"}, KindFlags(input.Provider)...), "--journal-dir", input.JournalDir)
	start := time.Now()
	var out string
	run := func() error {
		var err error
		out, err = DrillCommand(ctx, args...)
		return err
	}
	if input.Retry > 0 {
		Eventually(run).WithContext(ctx).WithTimeout(input.Retry).WithPolling(30 * time.Second).Should(Succeed())
	} else {
		Expect(run()).To(Succeed())
	}
	took := time.Since(start)
	AddReportEntry("drill recover took", took.Round(time.Millisecond).String())
	Expect(out).To(ContainSubstring("journal "+input.Journal.ID+": "+input.Journal.Fault+" reverted in"), "drill recover says it reverted the fault")
	if _, err := os.Stat(input.JournalDir); err == nil {
		left, err := (&journal.Store{Dir: input.JournalDir}).List()
		Expect(err).NotTo(HaveOccurred())
		Expect(left).To(BeEmpty(), "every journal closed after drill recover")
	}
	copies, err := journal.ConfigMaps{Clientset: input.Clientset}.List(ctx)
	Expect(err).NotTo(HaveOccurred())
	Expect(copies).NotTo(ContainElement(HaveField("ID", input.Journal.ID)), "the journal's cluster copy removed")
	return took
}

// ExpectClusterWholeInput is the input of ExpectClusterWhole.
type ExpectClusterWholeInput struct {
	Provider   cluster.Provider
	RESTConfig *rest.Config
	Clientset  kubernetes.Interface
	// Timeout bounds the wait for the cluster to be whole.
	Timeout time.Duration
}

// ExpectClusterWhole waits until the preflight finds nothing wrong with the
// cluster: every node Ready and schedulable, every etcd member started and
// healthy with one leader, every API server ready. A check the preflight
// could not run fails too: after a drill, "not checked" is not whole.
func ExpectClusterWhole(ctx context.Context, input ExpectClusterWholeInput) {
	access, ok := input.Provider.(cluster.EtcdAccess)
	Expect(ok).To(BeTrue(), "checking etcd needs a provider with etcd access")
	Eventually(func(g Gomega) {
		cfg, err := access.EtcdConfig(ctx)
		g.Expect(err).NotTo(HaveOccurred())
		cli, err := clientv3.New(cfg)
		g.Expect(err).NotTo(HaveOccurred())
		defer cli.Close()
		res := preflight.Run(ctx, preflight.Input{Clientset: input.Clientset, RESTConfig: input.RESTConfig, Etcd: cli})
		g.Expect(res.Problems()).To(BeEmpty(), "nodes schedulable, 3 healthy etcd members, every API server ready")
		for _, c := range res.Checks {
			switch c.Name {
			case preflight.CheckNodes, preflight.CheckEtcd, preflight.CheckAPIServers:
				g.Expect(c.Status).To(Equal(preflight.StatusOK), "preflight check %s: %s", c.Name, c.Detail)
			}
		}
	}).WithContext(ctx).WithTimeout(input.Timeout).WithPolling(10 * time.Second).Should(Succeed())
	expectNoAgentLeft(ctx, input)
}

// expectNoAgentLeft checks that no node agent is left (package agent): no
// pod or lease in its namespace and, where the nodes can be reached as
// root, no isolation chain and no static-pod manifest set aside on any node.
func expectNoAgentLeft(ctx context.Context, input ExpectClusterWholeInput) {
	pods, err := input.Clientset.CoreV1().Pods(agent.Namespace).List(ctx, metav1.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	Expect(pods.Items).To(BeEmpty(), "no agent's pod left in %s", agent.Namespace)
	leases, err := input.Clientset.CoordinationV1().Leases(agent.Namespace).List(ctx, metav1.ListOptions{})
	Expect(err).NotTo(HaveOccurred())
	Expect(leases.Items).To(BeEmpty(), "no agent's lease left in %s", agent.Namespace)
	ex, ok := input.Provider.(cluster.NodeExecer)
	if !ok {
		return
	}
	nodes, err := input.Provider.Nodes(ctx)
	Expect(err).NotTo(HaveOccurred())
	for _, n := range nodes {
		out, err := ex.ExecOnNode(ctx, n.Name, "sh", "-c",
			"iptables -w -S "+agent.IsolateChain+" 2>/dev/null && echo isolation-chain-left; ls /etc/kubernetes/drill-manifests-aside/*.yaml 2>/dev/null; true")
		Expect(err).NotTo(HaveOccurred(), "look for an agent's leftovers on node %s", n.Name)
		Expect(strings.TrimSpace(out)).To(BeEmpty(), "an agent's leftovers on node %s", n.Name)
	}
}

// DeleteDrillNamespaces deletes the namespaces a drill created (labelled
// with its name), which a killed drill leaves for drill recover's report,
// and waits until they are gone.
func DeleteDrillNamespaces(ctx context.Context, cs kubernetes.Interface, drill string) {
	selector := metav1.ListOptions{LabelSelector: "drill.sre/drill=" + drill}
	list, err := cs.CoreV1().Namespaces().List(ctx, selector)
	Expect(err).NotTo(HaveOccurred())
	for _, ns := range list.Items {
		err := cs.CoreV1().Namespaces().Delete(ctx, ns.Name, metav1.DeleteOptions{})
		if !apierrors.IsNotFound(err) {
			Expect(err).NotTo(HaveOccurred(), "delete namespace %s", ns.Name)
		}
	}
	Eventually(func() ([]corev1.Namespace, error) {
		l, err := cs.CoreV1().Namespaces().List(ctx, selector)
		if err != nil {
			return nil, err
		}
		return l.Items, nil
	}).WithContext(ctx).WithTimeout(5*time.Minute).WithPolling(2*time.Second).Should(BeEmpty(), "drill %s's namespaces gone", drill)
}
