package probeapp

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Environment variables the app reads. Flags, where there is one, win.
const (
	EnvPort            = "PROBE_APP_LISTEN_PORT"
	EnvDataDir         = "PROBE_APP_DATA_DIR"
	EnvShutdownTimeout = "PROBE_APP_SHUTDOWN_TIMEOUT"
	// EnvCrash set to CrashExit makes the process exit 1 right after it
	// starts: a Deployment whose template sets it crash-loops.
	EnvCrash = "PROBE_APP_CRASH"
	// EnvPodName, EnvNodeName and EnvZone say where the app runs; the
	// manifest fills them from the downward API. Without EnvPodName the
	// hostname is the pod name.
	EnvPodName  = "POD_NAME"
	EnvNodeName = "NODE_NAME"
	EnvZone     = "ZONE"
)

// CrashExit is the value of EnvCrash that makes the app exit 1 at start.
const CrashExit = "exit"

// Defaults.
const (
	DefaultPort            = 8080
	DefaultDataDir         = "/data"
	DefaultShutdownTimeout = 5 * time.Second
)

// Config is how the app runs.
type Config struct {
	// Addr is the address to listen on (":8080").
	Addr string
	// DataDir holds the record store.
	DataDir string
	// ShutdownTimeout bounds the drain of in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration
	// Crash is EnvCrash's value: "" or CrashExit.
	Crash string
	// Identity is where the app runs.
	Identity Identity
}

// Identity says which pod answered, as GET / returns it.
type Identity struct {
	Pod  string `json:"pod"`
	Node string `json:"node,omitempty"`
	Zone string `json:"zone,omitempty"`
}

// ParseConfig reads the flags (--port, --data-dir, --shutdown-timeout) and
// the environment. Usage and errors go to out.
func ParseConfig(args []string, getenv func(string) string, out io.Writer) (Config, error) {
	port, err := envInt(getenv, EnvPort, DefaultPort)
	if err != nil {
		return Config{}, err
	}
	shutdown, err := envDuration(getenv, EnvShutdownTimeout, DefaultShutdownTimeout)
	if err != nil {
		return Config{}, err
	}
	dataDir := DefaultDataDir
	if v := getenv(EnvDataDir); v != "" {
		dataDir = v
	}

	fs := flag.NewFlagSet("probe-app", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&port, "port", port, "HTTP port (env "+EnvPort+")")
	fs.StringVar(&dataDir, "data-dir", dataDir, "directory of the record store (env "+EnvDataDir+")")
	fs.DurationVar(&shutdown, "shutdown-timeout", shutdown, "how long SIGTERM waits for in-flight requests (env "+EnvShutdownTimeout+")")
	if err := fs.Parse(args); err != nil {
		return Config{}, err
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if port < 1 || port > 65535 {
		return Config{}, fmt.Errorf("port %d: not between 1 and 65535", port)
	}
	if dataDir == "" {
		return Config{}, fmt.Errorf("data dir is empty")
	}
	if shutdown <= 0 {
		return Config{}, fmt.Errorf("shutdown timeout %s: must be positive", shutdown)
	}
	crash := getenv(EnvCrash)
	if crash != "" && crash != CrashExit {
		return Config{}, fmt.Errorf("%s=%q: the only value is %q", EnvCrash, crash, CrashExit)
	}

	id := Identity{Pod: getenv(EnvPodName), Node: getenv(EnvNodeName), Zone: getenv(EnvZone)}
	if id.Pod == "" {
		if id.Pod, err = os.Hostname(); err != nil {
			return Config{}, fmt.Errorf("no %s and no hostname: %w", EnvPodName, err)
		}
	}
	return Config{
		Addr:            ":" + strconv.Itoa(port),
		DataDir:         dataDir,
		ShutdownTimeout: shutdown,
		Crash:           crash,
		Identity:        id,
	}, nil
}

func envInt(getenv func(string) string, name string, def int) (int, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not an integer", name, v)
	}
	return n, nil
}

func envDuration(getenv func(string) string, name string, def time.Duration) (time.Duration, error) {
	v := getenv(name)
	if v == "" {
		return def, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: not a duration", name, v)
	}
	return d, nil
}
