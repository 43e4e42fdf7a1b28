// Package redact takes credentials out of text that leaves drill: reports,
// pages and logs. It is applied where text is written (the report writers,
// the loggers), not where it is made.
//
// What it replaces, always with the word REDACTED:
//   - the user info of a URL: https://user:pass@host/x → https://REDACTED@host/x
//     (the scheme, host and path are kept, so that the report still says
//     where it went);
//   - the credentials of an Authorization header or a bearer token:
//     "Authorization: Bearer abc.def" → "Authorization: REDACTED",
//     "bearer abc123..." → "bearer REDACTED";
//   - AWS access key IDs (AKIA…, ASIA…);
//   - the value of a key whose name says it is secret (password, passwd,
//     secret, token, credentials, key, and names ending so: api_key,
//     aws_secret_access_key, accessKey, secretKey, X-Api-Key...), as a URL
//     query parameter or in free text: "?token=abc&x=1" → "?token=REDACTED&x=1",
//     "password=hunter2" → "password=REDACTED". Written "key: value", with
//     a colon, the value is replaced only when it looks like a credential
//     (it holds a digit, or is quoted, or is 20 characters or more), so that
//     "secret: not found" stays readable.
//
// Near misses are kept: URLs without user info, an "@" outside a URL
// (an e-mail address), "tokens: 3", "the bearer of".
package redact

import (
	"reflect"
	"regexp"
	"strings"
	"unicode"
)

// Mask replaces what is redacted.
const Mask = "REDACTED"

var (
	// userInfo is a URL's scheme and user info.
	userInfo = regexp.MustCompile(`(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#@"'<>]+@`)
	// authorization is an Authorization header and its credentials.
	authorization = regexp.MustCompile(`(?i)\b(authorization"?\s*[:=]\s*"?)(?:(?:bearer|basic|token|digest|negotiate)\s+)?[^\s"',;]+`)
	// bearer is a bearer token outside a header.
	bearer = regexp.MustCompile(`(?i)\b(bearer\s+)([A-Za-z0-9\-._~+/]+=*)`)
	// awsKeyID is an AWS access key ID.
	awsKeyID = regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)
	// pair is a name, = or :, and a value.
	pair = regexp.MustCompile(`([A-Za-z][A-Za-z0-9_.\-]*)("?)(\s*[:=]\s*)("[^"]*"|'[^']*'|[^\s"'&,;<>()\[\]{}]+)`)
)

// String returns s with every credential it holds replaced by Mask.
func String(s string) string {
	if s == "" {
		return s
	}
	s = userInfo.ReplaceAllString(s, "${1}"+Mask+"@")
	s = authorization.ReplaceAllString(s, "${1}"+Mask)
	s = bearer.ReplaceAllStringFunc(s, func(m string) string {
		sub := bearer.FindStringSubmatch(m)
		if sub[2] == Mask || !tokenLike(sub[2]) {
			return m
		}
		return sub[1] + Mask
	})
	s = awsKeyID.ReplaceAllString(s, Mask)
	return replacePairs(s)
}

// tokenLike says whether a word after "bearer" is a token rather than
// prose: 8 characters or more, with a digit or a symbol.
func tokenLike(w string) bool {
	return len(w) >= 8 && strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0
}

// replacePairs replaces the values of secret-named keys. A pair that is
// not a secret's is skipped by its name only, so that what its value
// spans ("https" ":" "//h/x?token=abc") is searched too.
func replacePairs(s string) string {
	var b strings.Builder
	last, pos := 0, 0
	for pos < len(s) {
		m := pair.FindStringSubmatchIndex(s[pos:])
		if m == nil {
			break
		}
		for i := range m {
			m[i] += pos
		}
		name, sep, value := s[m[2]:m[3]], s[m[6]:m[7]], s[m[8]:m[9]]
		if !secretName(name) || !secretValue(sep, value) {
			pos = m[3]
			continue
		}
		b.WriteString(s[last:m[8]])
		switch value[0] {
		case '"', '\'':
			b.WriteString(value[:1] + Mask + value[:1])
		default:
			b.WriteString(Mask)
		}
		last, pos = m[9], m[9]
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

// secretWords end the names of keys that hold secrets
// ("db_password", "authToken", "client-secret").
var secretWords = map[string]bool{"password": true, "passwd": true, "secret": true, "token": true, "credential": true, "credentials": true}

// keyKinds are the words before "key" that make it a credential
// ("api_key", "X-Api-Key", "secretKey"): "sort_key" and "label-key" are not.
var keyKinds = map[string]bool{"api": true, "access": true, "secret": true, "private": true, "ssh": true, "auth": true, "encryption": true, "signing": true, "client": true, "account": true, "master": true, "session": true}

// secretName says whether a key name holds a secret: its last word (words
// split at _ - . and capitals) is one of secretWords, or it is "key" on
// its own or after one of keyKinds, or "access key id".
func secretName(name string) bool {
	w := words(name)
	n := len(w)
	switch {
	case n == 0:
		return false
	case secretWords[w[n-1]]:
		return true
	case w[n-1] == "key":
		return n == 1 || keyKinds[w[n-2]]
	case w[n-1] == "id" && n >= 3:
		return w[n-2] == "key" && w[n-3] == "access"
	}
	return false
}

// words splits a key name into lower-case words at _ - . and before a
// capital that follows a lower-case letter or digit.
func words(name string) []string {
	var out []string
	var cur []rune
	prevLower := false
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for _, r := range name {
		switch {
		case r == '_' || r == '-' || r == '.':
			flush()
			prevLower = false
			continue
		case unicode.IsUpper(r) && prevLower:
			flush()
		}
		cur = append(cur, r)
		prevLower = unicode.IsLower(r) || unicode.IsDigit(r)
	}
	flush()
	return out
}

// secretValue says whether value, after sep, is replaced: always after
// "=", and after ":" when it is quoted or looks like a credential.
func secretValue(sep, value string) bool {
	if value == Mask || strings.Trim(value, `"'`) == Mask {
		return false
	}
	if strings.Contains(sep, "=") {
		return true
	}
	if value[0] == '"' || value[0] == '\'' {
		return len(value) > 2
	}
	return len(value) >= 20 || strings.IndexFunc(value, unicode.IsDigit) >= 0
}

// Value returns a deep copy of v with every string in it (struct fields,
// slices, maps' keys and values, through pointers) passed through String.
// Unexported fields are copied as they are.
func Value[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	out := copyValue(rv)
	return out.Interface().(T)
}

// copyValue returns a redacted deep copy of v.
func copyValue(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.String:
		out := reflect.New(v.Type()).Elem()
		out.SetString(String(v.String()))
		return out
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type().Elem())
		out.Elem().Set(copyValue(v.Elem()))
		return out
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		out := reflect.New(v.Type()).Elem()
		out.Set(copyValue(v.Elem()))
		return out
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			out.Index(i).Set(copyValue(v.Index(i)))
		}
		return out
	case reflect.Array:
		out := reflect.New(v.Type()).Elem()
		for i := range v.Len() {
			out.Index(i).Set(copyValue(v.Index(i)))
		}
		return out
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		out := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			out.SetMapIndex(copyValue(it.Key()), copyValue(it.Value()))
		}
		return out
	case reflect.Struct:
		out := reflect.New(v.Type()).Elem()
		out.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				out.Field(i).Set(copyValue(v.Field(i)))
			}
		}
		return out
	default:
		return v
	}
}
