package validate

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drill-sre/drill/internal/cli/clitest"
	"github.com/drill-sre/drill/scenarios"
)

// run executes `validate <args>` and returns what it printed and its error.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	return clitest.Run(t, NewCommand, args...)
}

func TestShipped(t *testing.T) {
	out, err := run(t)
	if err != nil {
		t.Fatalf("shipped drills: %v", err)
	}
	for _, want := range []string{
		"ok  scenarios/crashloop-pods.yaml                  crashloop-pods (crashloop-pods)\n",
		"ok  scenarios/kill-control-plane-etcd-leader.yaml  kill-control-plane-etcd-leader (kill-control-plane)\n",
		"ok  scenarios/drain-zone-blocked.yaml              drain-zone-blocked (drain-zone)\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	shipped, err := scenarios.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "\n"); n != len(shipped) {
		t.Errorf("%d lines, want one per shipped drill (%d):\n%s", n, len(shipped), out)
	}
}

func TestFilesAndDirs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("good.yaml", `name: good
description: A valid drill.
fault:
  type: remove-etcd-member
  params: {member: follower, readdTimeout: 3m}
objectives:
  rto: {api: 20s}
`)
	bad := write("bad.yaml", `name: bad
description: An unknown parameter.
fault:
  type: drain-zone
  params:
    zonee: zone-a
    timeout: 1m
workload: {fixture: probe-app}
objectives:
  rto: {app: "-3s"}
`)

	out, err := run(t, good)
	if err != nil || out != "ok  "+good+"  good (remove-etcd-member)\n" {
		t.Errorf("one valid file: output %q, error %v", out, err)
	}

	out, err = run(t, dir)
	if want := "ok  " + good + "  good (remove-etcd-member)\n"; out != want {
		t.Errorf("got output %q, want %q", out, want)
	}
	want := "2 of 3 drill files invalid:\n" +
		bad + ":5:3: fault.params.zone: missing; want a topology.kubernetes.io/zone value such as zone-a\n" +
		bad + ":6:5: fault.params.zonee: unknown field (did you mean zone?)\n" +
		bad + `:10:9: objectives.rto.app: "-3s" is negative` + "\n" +
		filepath.Join(dir, "nope.yaml") + ": no such file or directory"
	_, err = run(t, dir, filepath.Join(dir, "nope.yaml"))
	if err == nil || err.Error() != want {
		t.Errorf("got error\n%v\nwant\n%s", err, want)
	}
}
