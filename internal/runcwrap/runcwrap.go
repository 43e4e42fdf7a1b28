// Package runcwrap holds the logic of the drill-runc wrapper: which
// capabilities this host cannot grant, and how to remove them from the OCI
// documents that runc is about to act on.
package runcwrap

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// capNames lists Linux capabilities by bit number (linux/capability.h).
var capNames = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP",
	"CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
}

// MissingCaps reads the CapBnd line of a /proc/<pid>/status file and returns
// the names of the capabilities the bounding set lacks. Capabilities newer
// than the kernel (beyond cap_last_cap) are not reported: runc already skips
// those.
func MissingCaps(statusPath string) (map[string]bool, error) {
	f, err := os.Open(statusPath)
	if err != nil {
		return nil, fmt.Errorf("read capability bounding set: %w", err)
	}
	defer f.Close()
	var bnd uint64
	found := false
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "CapBnd:"); ok {
			bnd, err = strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				return nil, fmt.Errorf("parse CapBnd in %s: %w", statusPath, err)
			}
			found = true
		}
	}
	if !found {
		return nil, fmt.Errorf("%s has no CapBnd line", statusPath)
	}
	last := len(capNames) - 1
	if b, err := os.ReadFile("/proc/sys/kernel/cap_last_cap"); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n < last {
			last = n
		}
	}
	return missingFrom(bnd, last), nil
}

func missingFrom(bnd uint64, last int) map[string]bool {
	missing := map[string]bool{}
	for bit := 0; bit <= last && bit < len(capNames); bit++ {
		if bnd&(1<<uint(bit)) == 0 {
			missing[capNames[bit]] = true
		}
	}
	return missing
}

// RealRunc returns the runc binary the wrapper hands over to: override if it
// is set, else the first runc found in the usual places.
func RealRunc(override string) (string, error) {
	if override != "" {
		return override, nil
	}
	for _, p := range []string{"/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc.real", "/usr/local/bin/runc.real"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no real runc found in /usr/sbin, /usr/bin (set DRILL_REAL_RUNC)")
}

// globalFlagsWithValue are runc's global flags that take a separate value.
var globalFlagsWithValue = map[string]bool{
	"--log": true, "--log-format": true, "--root": true, "--criu": true, "--rootless": true,
}

// Rewrite finds the OCI document that a runc invocation will read and removes
// the missing capabilities from it: the bundle's config.json for create and
// run, the --process file for exec. Other commands are left alone.
func Rewrite(args []string, missing map[string]bool) error {
	if len(missing) == 0 {
		return nil
	}
	i := 0
	for i < len(args) && strings.HasPrefix(args[i], "-") {
		if globalFlagsWithValue[args[i]] {
			i++
		}
		i++
	}
	if i >= len(args) {
		return nil
	}
	cmd, rest := args[i], args[i+1:]
	switch cmd {
	case "create", "run":
		bundle := flagValue(rest, "--bundle", "-b")
		if bundle == "" {
			bundle = "."
		}
		return rewriteFile(filepath.Join(bundle, "config.json"), missing, "process", "capabilities")
	case "exec":
		if p := flagValue(rest, "--process", "-p"); p != "" {
			return rewriteFile(p, missing, "capabilities")
		}
	}
	return nil
}

// flagValue returns the value of a flag given as "--name v", "--name=v",
// "-n v" or "-n=v", stopping at "--".
func flagValue(args []string, long, short string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return ""
		}
		for _, name := range []string{long, short} {
			if a == name && i+1 < len(args) {
				return args[i+1]
			}
			if v, ok := strings.CutPrefix(a, name+"="); ok {
				return v
			}
		}
	}
	return ""
}

// rewriteFile drops the missing capabilities from the capability sets found
// under path (e.g. "process", "capabilities") in a JSON file. Every other
// byte of meaning is kept: untouched members stay raw JSON.
func rewriteFile(file string, missing map[string]bool, path ...string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	out, changed, err := dropCaps(data, missing, path)
	if err != nil {
		return fmt.Errorf("rewrite %s: %w", file, err)
	}
	if !changed {
		return nil
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	tmp := file + ".drill-runc"
	if err := os.WriteFile(tmp, out, st.Mode().Perm()); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	return os.Rename(tmp, file)
}

func dropCaps(data []byte, missing map[string]bool, path []string) ([]byte, bool, error) {
	if len(path) == 0 {
		var sets map[string]json.RawMessage
		if err := json.Unmarshal(data, &sets); err != nil {
			return nil, false, err
		}
		changed := false
		for name, raw := range sets {
			var caps []string
			if err := json.Unmarshal(raw, &caps); err != nil {
				return nil, false, fmt.Errorf("capability set %q: %w", name, err)
			}
			kept := caps[:0]
			for _, c := range caps {
				if !missing[c] {
					kept = append(kept, c)
				}
			}
			if len(kept) != len(caps) {
				changed = true
				b, _ := json.Marshal(kept)
				sets[name] = b
			}
		}
		if !changed {
			return data, false, nil
		}
		out, err := json.Marshal(sets)
		return out, true, err
	}
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil {
		return nil, false, err
	}
	inner, ok := obj[path[0]]
	if !ok || string(inner) == "null" {
		return data, false, nil
	}
	rewritten, changed, err := dropCaps(inner, missing, path[1:])
	if err != nil || !changed {
		return data, false, err
	}
	obj[path[0]] = rewritten
	out, err := json.Marshal(obj)
	return out, true, err
}
