// Package cli is drill's command line: the root command, its verbs, and the
// one place where errors are printed.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"sigs.k8s.io/kind/pkg/cmd"
	"sigs.k8s.io/kind/pkg/exec"
	"sigs.k8s.io/kind/pkg/log"

	cleanupcli "github.com/drill-sre/drill/internal/cli/cleanup"
	"github.com/drill-sre/drill/internal/cli/cluster"
	"github.com/drill-sre/drill/internal/cli/probe"
	publishcli "github.com/drill-sre/drill/internal/cli/publish"
	rbaccli "github.com/drill-sre/drill/internal/cli/rbac"
	recovercli "github.com/drill-sre/drill/internal/cli/recover"
	"github.com/drill-sre/drill/internal/cli/report"
	"github.com/drill-sre/drill/internal/cli/rules"
	"github.com/drill-sre/drill/internal/cli/run"
	runscli "github.com/drill-sre/drill/internal/cli/runs"
	"github.com/drill-sre/drill/internal/cli/validate"
	"github.com/drill-sre/drill/internal/journal"
	"github.com/drill-sre/drill/internal/redact"
)

// stopSignals stop drill: an interrupt (Ctrl-C), SIGTERM, and SIGHUP (a
// dropped SSH session), all alike.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP}

// Main runs drill with the process's arguments and returns its exit code.
// A first stop signal cancels the running command's context, which lets
// the drill in progress revert its fault. A second one does not wait: it
// says which faults are left in place, leaves their journals open for
// drill recover, and exits.
func Main() int {
	ctx, cancel := context.WithCancelCause(context.Background())
	// A dropped SSH session closes the terminal: a write to it must fail,
	// not kill drill before the revert (SIGPIPE).
	signal.Ignore(syscall.SIGPIPE)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	go func() {
		s := <-sigs
		cancel(fmt.Errorf("%s: stopping; the fault in progress is being reverted (signal again to stop without waiting)", s))
		s = <-sigs
		os.Exit(abandon(os.Stderr, s))
	}()
	// Every message drill prints goes through the redacting logger; kind's
	// status lines get kind's logger underneath (cluster.KindWithLogger).
	if err := Run(ctx, redact.Logger(cmd.NewLogger()), cmd.StandardIOStreams(), os.Args[1:]); err != nil {
		return 1
	}
	return 0
}

// abandon tells, on a second stop signal, exactly what is left in place,
// and returns the exit code.
func abandon(w io.Writer, s os.Signal) int {
	open := journal.InProcess()
	if len(open) == 0 {
		fmt.Fprintf(w, "%s again: stopping now; no fault is in effect\n", s)
		return 130
	}
	fmt.Fprintf(w, "%s again: stopping now WITHOUT reverting. Left in place:\n", s)
	for _, e := range open {
		fmt.Fprintf(w, "  - drill %s: fault %s on %s, at step %q; journal %s kept open\n", e.Drill, e.Fault, e.Target, e.Step, e.ID)
	}
	fmt.Fprintf(w, "Run `drill recover` (or the next drill run) to revert them.\n")
	return 130
}

// Run runs drill with args. Progress goes to logger, results to streams.Out.
// A failure is printed once, here, and returned.
func Run(ctx context.Context, logger log.Logger, streams cmd.IOStreams, args []string) error {
	c := NewCommand(logger, streams)
	c.SetArgs(args)
	if err := c.ExecuteContext(ctx); err != nil {
		logger.Errorf("ERROR: %v", err)
		// kind carries the output of a failed command inside its error.
		if runErr := exec.RunErrorForError(err); runErr != nil && len(runErr.Output) > 0 {
			logger.Errorf("Command output:\n%s", runErr.Output)
		}
		return err
	}
	return nil
}

// NewCommand returns drill's root command.
func NewCommand(logger log.Logger, streams cmd.IOStreams) *cobra.Command {
	c := &cobra.Command{
		Use:           "drill",
		Short:         "drill runs chaos and disaster-recovery drills against Kubernetes",
		Args:          cobra.NoArgs,
		SilenceErrors: true, // Run prints errors once
		SilenceUsage:  true,
	}
	c.SetIn(streams.In)
	c.SetOut(streams.Out)
	c.SetErr(streams.ErrOut)
	c.AddCommand(cluster.NewCommand(logger, streams))
	c.AddCommand(validate.NewCommand(logger, streams))
	c.AddCommand(probe.NewCommand(logger, streams))
	c.AddCommand(run.NewCommand(logger, streams))
	c.AddCommand(recovercli.NewCommand(logger, streams))
	c.AddCommand(cleanupcli.NewCommand(logger, streams))
	c.AddCommand(runscli.NewCommand(logger, streams))
	c.AddCommand(report.NewCommand(logger, streams))
	c.AddCommand(publishcli.NewCommand(logger, streams))
	c.AddCommand(rules.NewCommand(logger, streams))
	c.AddCommand(rbaccli.NewCommand(logger, streams))
	c.InitDefaultCompletionCmd() // now, so that it is walked below too
	refuseUnknownSubcommands(c)
	c.SetHelpCommand(helpCommand())
	return c
}

// helpCommand replaces cobra's help command, which prints "Unknown help
// topic" and the usage and succeeds on a topic it does not know, so that
// `drill help vaildate` fails as `drill vaildate` does, with the same
// message.
func helpCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help provides help for any command in the application.\nSimply type drill help [path to command] for full details.",
		RunE: func(c *cobra.Command, args []string) error {
			topic := c.Root()
			for _, a := range args {
				next := subcommand(topic, a)
				if next == nil {
					return unknownSubcommand(topic, []string{a})
				}
				topic = next
			}
			topic.InitDefaultHelpFlag()
			return topic.Help()
		},
	}
}

// subcommand returns c's subcommand named (or aliased) name, or nil.
func subcommand(c *cobra.Command, name string) *cobra.Command {
	for _, sub := range c.Commands() {
		if sub.Name() == name || sub.HasAlias(name) {
			return sub
		}
	}
	return nil
}

// refuseUnknownSubcommands makes each command of the tree that only groups
// others (drill, drill cluster, drill runs...) fail on an argument that
// names none of them, with the closest names. Cobra prints such a command's
// help and succeeds instead, so that a CI step with a typo (drill vaildate)
// would pass. Without arguments such a command still prints its help.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if !c.HasSubCommands() || c.Runnable() {
		return
	}
	c.Args = unknownSubcommand
	c.RunE = func(c *cobra.Command, _ []string) error { return c.Help() }
}

// unknownSubcommand is the Args of a command that only groups others: any
// argument is a command it does not have.
func unknownSubcommand(c *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2 // cobra's default
	}
	hint := ""
	if s := c.SuggestionsFor(args[0]); len(s) > 0 {
		hint = fmt.Sprintf(" (did you mean %s?)", strings.Join(s, " or "))
	}
	return fmt.Errorf("unknown command %q for %q%s; see '%s --help'", args[0], c.CommandPath(), hint, c.CommandPath())
}
