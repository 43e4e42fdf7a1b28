package scenarios

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// position is where a field is written in its file, 1-based.
type position struct{ line, column int }

// decoder decodes a yaml.Node tree into Go values strictly, collecting every
// problem instead of stopping at the first: unknown or duplicate fields at
// any depth, null values, values of the wrong type, unparsable durations. It
// records the position of every field it decodes, by path, so that the
// checks made after decoding can point at the line.
//
// It knows the types of this package: structs with yaml tags, pointers,
// strings, bools, ints, time.Duration, []T, map[string]T, and the types that
// implement nodeDecoder.
type decoder struct {
	errs ErrorList
	pos  map[string]position
	// nodes counts the nodes visited, aliases expanded, up to maxNodes.
	nodes int
	// alias is the outermost alias being expanded, at aliasPath.
	alias     *yaml.Node
	aliasPath string
}

// maxNodes bounds the YAML nodes (keys and values) one file is decoded
// through, an alias counting as the nodes it stands for: a few aliases to
// aliases make a small file billions of nodes (the "billion laughs"). A
// drill has tens.
const maxNodes = 100_000

// visit counts one more node, and reports whether decoding may go on. The
// node that exceeds maxNodes is an error, reported at the alias being
// expanded if there is one, and decoding stops there.
func (d *decoder) visit(n *yaml.Node, path string) bool {
	d.nodes++
	if d.nodes == maxNodes+1 {
		if d.alias != nil {
			d.fail(d.alias, d.aliasPath, "the drill has more than %d keys and values once its aliases are expanded (a drill has tens): not decoded further", maxNodes)
		} else {
			d.fail(n, path, "the drill has more than %d keys and values (a drill has tens): not decoded further", maxNodes)
		}
	}
	return d.nodes <= maxNodes
}

// exhausted reports whether the file had more nodes than maxNodes.
func (d *decoder) exhausted() bool { return d.nodes > maxNodes }

// nodeDecoder is implemented by types that decode themselves (Fault, whose
// params' type depends on its type).
type nodeDecoder interface {
	decodeNode(d *decoder, n *yaml.Node, path string)
}

var durationType = reflect.TypeFor[time.Duration]()

func newDecoder() *decoder {
	return &decoder{pos: map[string]position{}}
}

func (d *decoder) fail(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{Line: n.Line, Column: n.Column, Path: path, Reason: fmt.Sprintf(format, args...)})
}

// decode decodes n into v, which is addressable; path names v in errors.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string) {
	if !d.visit(n, path) {
		return
	}
	if n.Kind == yaml.AliasNode {
		if d.alias == nil {
			d.alias, d.aliasPath = n, path
			defer func() { d.alias = nil }()
		}
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		d.fail(n, path, "has no value")
		return
	}
	if nd, ok := v.Addr().Interface().(nodeDecoder); ok {
		nd.decodeNode(d, n, path)
		return
	}
	if v.Type() == durationType {
		d.decodeDuration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		e := reflect.New(v.Type().Elem())
		d.decode(n, e.Elem(), path)
		v.Set(e)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Map:
		d.decodeMap(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path)
	case reflect.String:
		if d.scalar(n, path, "!!str", "a string") {
			v.SetString(n.Value)
		}
	case reflect.Bool:
		var b bool
		if d.scalar(n, path, "!!bool", "true or false") && d.value(n, path, &b) {
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		d.decodeInt(n, v, path)
	case reflect.Float64:
		d.decodeFloat(n, v, path)
	default:
		panic(fmt.Sprintf("scenarios: cannot decode into %s", v.Type()))
	}
}

// scalar checks that n is a scalar with tag; want describes it.
func (d *decoder) scalar(n *yaml.Node, path, tag, want string) bool {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != tag {
		d.fail(n, path, "want %s, got %s", want, describe(n))
		return false
	}
	return true
}

// value decodes the scalar n with yaml's own rules.
func (d *decoder) value(n *yaml.Node, path string, v any) bool {
	if err := n.Decode(v); err != nil {
		d.fail(n, path, "%s: %s", quote(n.Value), clip(err.Error()))
		return false
	}
	return true
}

// plain reports whether n is a scalar written without quotes, whose type
// YAML infers from its text.
func plain(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0
}

// decodeInt decodes an integer into v, an int of any size. YAML reads an
// integer too large for 64 bits as a float or a string: it is out of
// range, not of the wrong type.
func (d *decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) {
	if plain(n) {
		b, ok := new(big.Int).SetString(strings.ReplaceAll(n.Value, "_", ""), 0)
		if ok && (!b.IsInt64() || v.OverflowInt(b.Int64())) {
			bits := v.Type().Bits()
			lo := new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), uint(bits-1)))
			hi := new(big.Int).Sub(new(big.Int).Neg(lo), big.NewInt(1))
			d.fail(n, path, "%s is out of range: want an integer from %s to %s", clip(n.Value), lo, hi)
			return
		}
	}
	var i int64
	if d.scalar(n, path, "!!int", "an integer") && d.value(n, path, &i) {
		v.SetInt(i)
	}
}

// yamlFloat is how YAML writes a number (go.yaml.in/yaml/v3's
// yamlStyleFloat).
var yamlFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// decodeFloat decodes a finite number into v, a float64. An integer is a
// number too ("used: 1" is refused by range, not type). YAML reads a number
// too large for 64 bits as a string: it is out of range, not of the wrong
// type.
func (d *decoder) decodeFloat(n *yaml.Node, v reflect.Value, path string) {
	if plain(n) && n.ShortTag() == "!!str" {
		if s := strings.ReplaceAll(n.Value, "_", ""); yamlFloat.MatchString(s) {
			if _, err := strconv.ParseFloat(s, 64); errors.Is(err, strconv.ErrRange) {
				d.fail(n, path, "%s is out of range: want a number between -%g and %g", clip(n.Value), math.MaxFloat64, math.MaxFloat64)
				return
			}
		}
	}
	var f float64
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!int" || d.scalar(n, path, "!!float", "a number") {
		if !d.value(n, path, &f) {
			return
		}
		switch {
		case math.IsNaN(f):
			d.fail(n, path, "%s is not a number (NaN): want a finite number", n.Value)
		case math.IsInf(f, 0):
			d.fail(n, path, "%s is infinite: want a finite number", n.Value)
		default:
			v.SetFloat(f)
		}
	}
}

// durationSyntax is how time.ParseDuration writes a duration: a duration it
// refuses that has this syntax is out of range.
var durationSyntax = regexp.MustCompile(`^[-+]?(([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|μs|ms|s|m|h))+$`)

func (d *decoder) decodeDuration(n *yaml.Node, v reflect.Value, path string) {
	if !d.scalar(n, path, "!!str", `a duration such as "30s" or "1m30s"`) {
		return
	}
	dur, err := time.ParseDuration(n.Value)
	switch {
	case err != nil && durationSyntax.MatchString(n.Value):
		d.fail(n, path, "%s is out of range: a duration is at most %s (292 years)", quote(n.Value), time.Duration(math.MaxInt64))
	case err != nil:
		d.fail(n, path, `%s is not a duration (want e.g. "30s" or "1m30s")`, quote(n.Value))
	default:
		v.SetInt(int64(dur))
	}
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", describe(n))
		return
	}
	names, index := fieldsOf(v.Type())
	d.eachKey(n, path, func(key string, k, val *yaml.Node, p string) {
		i, ok := index[key]
		if !ok {
			d.fail(k, p, "unknown field%s", suggest(key, names))
			return
		}
		d.decode(val, v.Field(i), p)
	})
}

func (d *decoder) decodeMap(n *yaml.Node, v reflect.Value, path string) {
	if v.Type().Key().Kind() != reflect.String {
		panic(fmt.Sprintf("scenarios: cannot decode into %s", v.Type()))
	}
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	d.eachKey(n, path, func(key string, _, val *yaml.Node, p string) {
		e := reflect.New(v.Type().Elem()).Elem()
		d.decode(val, e, p)
		m.SetMapIndex(reflect.ValueOf(key).Convert(v.Type().Key()), e)
	})
	v.Set(m)
}

func (d *decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "want a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, e := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		d.pos[p] = position{e.Line, e.Column}
		d.decode(e, s.Index(i), p)
	}
	v.Set(s)
}

// eachKey calls f for each key of the mapping n with the key's path, after
// recording its position. Keys that are not plain strings, merge keys and
// duplicates are errors, and skipped.
func (d *decoder) eachKey(n *yaml.Node, path string, f func(key string, k, v *yaml.Node, p string)) {
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !d.visit(k, path) {
			return
		}
		p := path
		if k.Kind == yaml.ScalarNode {
			p = join(path, clip(k.Value))
		}
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			d.fail(k, p, "unsupported key %s: want a field name", describe(k))
			continue
		}
		if first, ok := seen[k.Value]; ok {
			d.fail(k, p, "duplicate field (first at line %d)", first.Line)
			continue
		}
		seen[k.Value] = k
		d.pos[p] = position{k.Line, k.Column}
		f(k.Value, k, v, p)
	}
}

// decodeNode implements nodeDecoder: the params' struct is chosen by the
// type. An unknown or missing type leaves the params undecoded; validation
// reports it.
func (f *Fault) decodeNode(d *decoder, n *yaml.Node, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, path, "want a mapping with type and params, got %s", describe(n))
		return
	}
	var typ, params *yaml.Node
	d.eachKey(n, path, func(key string, k, v *yaml.Node, p string) {
		switch key {
		case "type":
			typ = v
		case "params":
			params = v
		default:
			d.fail(k, p, "unknown field%s", suggest(key, []string{"type", "params"}))
		}
	})
	if typ == nil {
		return
	}
	var t string
	d.decode(typ, reflect.ValueOf(&t).Elem(), join(path, "type"))
	f.Type = FaultType(t)
	k, ok := lookupKind(f.Type)
	if !ok || params == nil {
		return
	}
	p := k.NewParams()
	d.decode(params, reflect.ValueOf(p).Elem(), join(path, "params"))
	f.Params = p
}

// fieldsOf returns the yaml names of t's fields, in order, and their index.
func fieldsOf(t reflect.Type) ([]string, map[string]int) {
	var names []string
	index := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}

// describe names a node's kind and value for a "want X, got Y" message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		return "an alias"
	}
	switch t := n.ShortTag(); t {
	case "!!str":
		return "string " + quote(n.Value)
	case "!!int":
		return "integer " + clip(n.Value)
	case "!!float":
		return "number " + clip(n.Value)
	case "!!bool":
		return "boolean " + clip(n.Value)
	case "!!null":
		return "null"
	default:
		return fmt.Sprintf("%s %s", clip(t), quote(n.Value))
	}
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// parent returns the path that contains path: a.b[2].c → a.b[2] → a.b → a → "".
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}

// suggest returns " (did you mean X?)" for the known name closest to name, or
// " (want one of: ...)" when none is close.
func suggest(name string, known []string) string {
	if c, ok := closest(name, known); ok {
		return fmt.Sprintf(" (did you mean %s?)", c)
	}
	return fmt.Sprintf(" (want one of: %s)", strings.Join(known, ", "))
}

// closest returns the known name closest to name, ignoring case, if it is
// close enough to be a typo.
func closest(name string, known []string) (string, bool) {
	best, bestDist := "", 0
	for _, k := range known {
		if d := len(name) - len(k); max(d, -d) > max(1, len(k)/3) {
			continue // no closer than the lengths differ: no typo (and a long value costs nothing)
		}
		dist := levenshtein(strings.ToLower(name), strings.ToLower(k))
		if best == "" || dist < bestDist {
			best, bestDist = k, dist
		}
	}
	return best, best != "" && bestDist <= max(1, len(best)/3)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
