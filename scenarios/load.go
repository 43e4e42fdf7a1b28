package scenarios

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"

	"github.com/drill-sre/drill/internal/textfile"
)

// Parse decodes and checks one drill file. name is the file's name, used in
// errors; data is its content. The drill's defaults are filled in.
//
// The file must be one YAML document whose fields are those of Scenario, at
// every depth, with values of their types; fault.params are those of
// fault.type. After decoding, the drill is validated as a whole (see
// Validate). On failure the error is an ErrorList of every problem found,
// each with the file, line, column, field path and reason.
func Parse(name string, data []byte) (*Scenario, error) {
	s, _, errs := parse(name, data)
	if len(errs) > 0 {
		return nil, errs.capped(name)
	}
	return s, nil
}

// Load reads and parses the drill file at path.
func Load(path string) (*Scenario, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, ErrorList{readError(path, err)}
	}
	return Parse(path, data)
}

// MaxFileSize is the largest drill file the loaders accept, 1 MiB. The
// shipped drills are under 3 KiB; a file a thousand times that is not a
// drill, and decoding it whole would take seconds and gigabytes.
const MaxFileSize = 1 << 20

// MaxErrors is how many errors of one file the loaders report, in line
// order; the others are counted in one more error that says how many.
const MaxErrors = 20

// readFile reads the drill file at name, and no more than MaxFileSize+1
// bytes of it: a bigger file (or /dev/zero) is refused before it is read
// whole.
func readFile(name string) ([]byte, error) {
	return textfile.Read(name, MaxFileSize, "drill file")
}

// LoadFS loads every drill file (*.yaml, *.yml) at the top of fsys, in name
// order, and checks that their names are unique. Files are named by their
// path in fsys.
//
// Like every loader that takes several files, it returns the drills that are
// valid even when others are not, with an ErrorList of every problem.
func LoadFS(fsys fs.FS) ([]*Scenario, error) {
	return loadFS(fsys, "")
}

// LoadDir loads every drill file at the top of dir, like LoadFS; files are
// named dir/file.
func LoadDir(dir string) ([]*Scenario, error) {
	return LoadPaths(dir)
}

// LoadPaths loads drill files and the drill files at the top of directories,
// in the order given (a directory's in name order), and checks that their
// names are unique across all of them.
func LoadPaths(paths ...string) ([]*Scenario, error) {
	var srcs []source
	seen := map[string]bool{}
	add := func(name string) {
		if clean := filepath.Clean(name); !seen[clean] {
			seen[clean] = true
			data, err := readFile(name)
			srcs = append(srcs, source{name: name, data: data, err: err})
		}
	}
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil || !info.IsDir() {
			add(p)
			continue
		}
		entries, err := os.ReadDir(p)
		if err != nil {
			srcs = append(srcs, source{name: p, err: err})
			continue
		}
		n := 0
		for _, e := range entries {
			if !e.IsDir() && isDrillFile(e.Name()) {
				add(filepath.Join(p, e.Name()))
				n++
			}
		}
		if n == 0 {
			srcs = append(srcs, source{name: p, err: errors.New("no drill files (*.yaml) in this directory")})
		}
	}
	return loadAll(srcs)
}

// loadFS loads the drill files at the top of fsys, naming them prefix+path.
func loadFS(fsys fs.FS, prefix string) ([]*Scenario, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, ErrorList{readError(prefix+".", err)}
	}
	var srcs []source
	for _, e := range entries {
		if e.IsDir() || !isDrillFile(e.Name()) {
			continue
		}
		data, err := fs.ReadFile(fsys, e.Name())
		srcs = append(srcs, source{name: prefix + e.Name(), data: data, err: err})
	}
	return loadAll(srcs)
}

func isDrillFile(name string) bool {
	ext := path.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// source is one drill file to load: its content, or why it could not be read.
type source struct {
	name string
	data []byte
	err  error
}

// loadAll parses each source and checks that drill names are unique: the
// later file of two with the same name is in error.
func loadAll(srcs []source) ([]*Scenario, error) {
	var (
		scs   []*Scenario
		errs  ErrorList
		names = map[string]string{} // drill name → "file:line" first declaring it
	)
	for _, src := range srcs {
		if src.err != nil {
			errs = append(errs, readError(src.name, src.err))
			continue
		}
		s, pos, fileErrs := parse(src.name, src.data)
		if s != nil && s.Name != "" {
			at := pos["name"]
			if first, ok := names[s.Name]; ok {
				fileErrs = append(fileErrs, &Error{File: src.name, Line: at.line, Column: at.column, Path: "name",
					Reason: fmt.Sprintf("%s is already the name of the drill in %s", quote(s.Name), first)})
			} else {
				names[s.Name] = fmt.Sprintf("%s:%d", src.name, at.line)
			}
		}
		if len(fileErrs) > 0 {
			fileErrs.sortByLine()
			errs = append(errs, fileErrs.capped(src.name)...)
			continue
		}
		scs = append(scs, s)
	}
	return scs, errs.err()
}

// parse decodes, defaults and validates one file. It returns the scenario,
// even a partly decoded one, the positions of its fields, and every error,
// sorted by line.
func parse(name string, data []byte) (*Scenario, map[string]position, ErrorList) {
	fail := func(line, column int, format string, args ...any) (*Scenario, map[string]position, ErrorList) {
		return nil, nil, ErrorList{{File: name, Line: line, Column: column, Reason: fmt.Sprintf(format, args...)}}
	}
	if len(data) > MaxFileSize {
		return nil, nil, ErrorList{{File: name, Reason: textfile.TooBig{Size: int64(len(data)), Max: MaxFileSize, What: "drill file"}.Error()}}
	}
	if p := textfile.NotText(data); p != nil {
		return nil, nil, ErrorList{{File: name, Line: p.Line, Column: p.Column, Reason: p.Reason}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fail(0, 0, "empty file; want a drill")
		}
		return nil, nil, ErrorList{syntaxError(name, data, err)}
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, nil, ErrorList{syntaxError(name, data, err)}
	default:
		return fail(next.Line, next.Column, "a second YAML document; want one drill per file")
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return fail(root.Line, root.Column, "empty file; want a drill")
	}

	d := newDecoder()
	d.pos[""] = position{root.Line, root.Column}
	s := &Scenario{}
	d.decode(root, reflect.ValueOf(s).Elem(), "")
	s.setDefaults(func(p string) bool { _, ok := d.pos[p]; return ok })
	v := &validator{pos: d.pos}
	s.validate(v)

	errs := d.errs
	failed := make(map[string]bool, len(d.errs))
	for _, e := range d.errs {
		failed[e.Path] = true
	}
	for _, e := range v.errs {
		// A field that failed to decode is not also reported as missing or
		// invalid; nor is any when decoding stopped half-way.
		if !d.exhausted() && !failedWithin(failed, e.Path) {
			errs = append(errs, e)
		}
	}
	for _, e := range errs {
		e.File = name
	}
	errs.sortByLine()
	s.File, s.Source = name, string(data)
	return s, d.pos, errs
}

// failedWithin reports whether path, or a field that contains it, is in
// failed.
func failedWithin(failed map[string]bool, path string) bool {
	for p := path; ; p = parent(p) {
		if failed[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntaxError turns a YAML syntax error in data into an Error with its
// line.
func syntaxError(name string, data []byte, err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	}
	if p := textfile.TabIndented(data, line, msg); p != nil {
		return &Error{File: name, Line: p.Line, Column: p.Column, Reason: p.Reason}
	}
	return &Error{File: name, Line: line, Reason: "invalid YAML: " + msg}
}

// readError is an Error for a file that could not be read.
func readError(name string, err error) *Error {
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		err = pathErr.Err
	}
	return &Error{File: name, Reason: err.Error()}
}
