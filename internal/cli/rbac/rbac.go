// Package rbac implements `drill rbac`: print the Kubernetes RBAC rules
// that drills need, as one ClusterRole, without a cluster.
package rbac

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/log"

	"github.com/drill-sre/drill/internal/faults"
	"github.com/drill-sre/drill/internal/rbac"
	"github.com/drill-sre/drill/scenarios"
)

type flags struct {
	Name string
}

// NewCommand returns the `rbac` command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	f := &flags{}
	c := &cobra.Command{
		Use:   "rbac [DRILL|FILE|DIR]...",
		Short: "Print the RBAC rules drills need, as one ClusterRole",
		Long: `Print, as one ClusterRole, exactly the Kubernetes RBAC rules that the named
drills need to run against a cluster. Each argument names a drill built into
drill (drain-zone), a drill file, or a directory of drill files; without
arguments, every drill built into drill.

Every drill needs the drill-observe and drill-run classes; each fault adds
its own (drill-workload-faults, drill-node-faults, drill-dr). The rules are
those of the classes' ClusterRoles (fixtures/rbac/), merged and sorted, each
after a comment naming the classes that need it. Bind the role with a
ClusterRoleBinding: drills create namespaces named at run time.

drill-node-faults amounts to cluster-admin: it lets drill run a privileged
hostPID pod on a control-plane node, which can read etcd's keys and the
node's credentials.`,
		RunE: func(_ *cobra.Command, args []string) error {
			return runE(logger, streams, f, args)
		},
	}
	c.Flags().StringVar(&f.Name, "name", "drill", "the ClusterRole's name")
	return c
}

func runE(logger log.Logger, streams cmd.IOStreams, f *flags, args []string) error {
	if f.Name == "" {
		return errors.New("--name: the ClusterRole needs a name")
	}
	scs, err := drills(args)
	if err != nil {
		return err
	}
	var (
		access []rbac.Class
		names  []string
	)
	for _, sc := range scs {
		spec, ok := faults.Lookup(sc.Fault.Type)
		if !ok { // the loader refuses unknown faults: a fault without a spec
			return fmt.Errorf("drill %s: fault %q has no access classes", sc.Name, sc.Fault.Type)
		}
		access = append(access, spec.Access...)
		names = append(names, sc.Name)
	}
	classes := rbac.With(access...)
	needs, err := rbac.Needs(classes)
	if err != nil {
		return err
	}
	roles := make([]string, len(classes))
	for i, c := range classes {
		roles[i] = c.RoleName()
	}
	slices.Sort(names)
	names = slices.Compact(names)
	of := "drills "
	if len(names) == 1 {
		of = "drill "
	}
	header := []string{
		fmt.Sprintf("The RBAC rules of %s%s:", of, strings.Join(names, ", ")),
		fmt.Sprintf("the union of %s (fixtures/rbac/).", strings.Join(roles, ", ")),
		"Bind it with a ClusterRoleBinding: drills create namespaces named at run time.",
	}
	if slices.Contains(classes, rbac.NodeFaults) {
		header = append(header, "",
			"drill-node-faults amounts to cluster-admin: a privileged hostPID pod on a",
			"control-plane node can read etcd's keys and the node's credentials.")
	}
	logger.V(1).Infof("drills %s need classes %v", strings.Join(names, ", "), classes)
	return rbac.WriteRole(streams.Out, f.Name, header, rbac.Rules(needs))
}

// drills loads the drills args name: a shipped drill by its name, a drill
// file or a directory; every shipped drill without args.
func drills(args []string) ([]*scenarios.Scenario, error) {
	shipped, err := scenarios.Shipped()
	if err != nil {
		return nil, err
	}
	if len(args) == 0 {
		return shipped, nil
	}
	var out []*scenarios.Scenario
	for _, a := range args {
		if i := slices.IndexFunc(shipped, func(sc *scenarios.Scenario) bool { return sc.Name == a }); i >= 0 {
			out = append(out, shipped[i])
			continue
		}
		if _, err := os.Stat(a); err != nil {
			if isPath(a) {
				return nil, fmt.Errorf("drill file %s: %w", a, err)
			}
			return nil, fmt.Errorf("unknown drill %q: not a drill built into drill (%s), nor a drill file or directory",
				a, strings.Join(shippedNames(shipped), ", "))
		}
		scs, err := scenarios.LoadPaths(a)
		if err != nil {
			return nil, err
		}
		out = append(out, scs...)
	}
	return out, nil
}

// isPath tells whether a looks like a path rather than a drill's name.
func isPath(a string) bool {
	return strings.ContainsRune(a, filepath.Separator) || strings.HasSuffix(a, ".yaml") || strings.HasSuffix(a, ".yml")
}

func shippedNames(scs []*scenarios.Scenario) []string {
	names := make([]string, len(scs))
	for i, sc := range scs {
		names[i] = sc.Name
	}
	slices.Sort(names)
	return names
}
