// Package probeapp is drill's probe application (cmd/probe-app): the small
// HTTP server the probe-app fixture runs, which drills disrupt and measure.
//
// It answers liveness (GET /health) and readiness (GET /ready) probes, says
// which pod answered (GET /), and keeps the RPO writer's records in an
// append-only file that is synced before each write is acknowledged
// (POST /records), then reads them back with their checksums checked
// (GET /records, GET /records/summary). It can be told to misbehave: to
// report not ready (POST /admin/ready?value=false), to crash once
// (POST /admin/crash), or to crash at every start (PROBE_APP_CRASH=exit), so
// that a rollout of that setting crash-loops. Run as `probe-app memhog`, it
// keeps its machine's memory in use at a given fraction instead.
//
// It uses the standard library only, so that it builds as a static binary.
package probeapp

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Main runs the app as the probe-app command does, and returns its exit
// status: 0 after a clean shutdown on SIGTERM or SIGINT, 1 on failure or when
// told to crash, 2 on bad flags or environment.
//
// `probe-app memhog --used F` runs the memory hog instead (see MemHog).
func Main(args []string, getenv func(string) string, stderr io.Writer) int {
	if len(args) > 0 && args[0] == MemHogCommand {
		return memHogMain(args[1:], stderr)
	}
	cfg, err := ParseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "probe-app:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, nil)).With("pod", cfg.Identity.Pod)
	if cfg.Crash == CrashExit {
		log.Error("crashing at start, as told by " + EnvCrash + "=" + CrashExit + ": exit status 1")
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := Run(ctx, cfg, log); err != nil {
		log.Error("probe-app failed", "err", err)
		return 1
	}
	return 0
}

// Run opens the store, listens on cfg.Addr and serves until ctx is done, then
// shuts down gracefully (see Server.Serve).
func Run(ctx context.Context, cfg Config, log *slog.Logger) error {
	s := NewServer(cfg, log)
	s.openStore()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		s.closeStore()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves HTTP on ln until ctx is done or serving fails. Then it stops
// reporting ready, stops accepting connections, waits up to
// cfg.ShutdownTimeout for in-flight requests, and syncs and closes the store.
// It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ConnState:         s.connState,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	s.started.Store(true)
	s.log.Info("listening", "addr", ln.Addr().String(), "dataDir", s.cfg.DataDir,
		"node", s.cfg.Identity.Node, "zone", s.cfg.Identity.Zone)

	var serveErr error
	select {
	case <-ctx.Done():
		s.log.Info("shutting down: draining in-flight requests", "timeout", s.cfg.ShutdownTimeout.String())
	case serveErr = <-served:
		serveErr = fmt.Errorf("serve: %w", serveErr)
	}
	s.stopping.Store(true)
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	if shutdownErr != nil {
		shutdownErr = fmt.Errorf("drain in-flight requests: %w", shutdownErr)
		srv.Close()
	}
	closeErr := s.closeStore()
	if err := errors.Join(serveErr, shutdownErr, closeErr); err != nil {
		return err
	}
	s.log.Info("shut down cleanly")
	return nil
}
