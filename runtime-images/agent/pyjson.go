package main

// JSON exactly as Python's json module reads and writes it (the contract was first written
// by the Python agent, and the control plane still checks client contexts with Python):
// json.loads (strict strings, NaN/Infinity as options, duplicate keys keep the first
// position and the last value, ints of any size up to 4300 digits) and json.dumps with
// ensure_ascii (non-ASCII as \uXXXX escapes, floats as Python's shortest repr).
// encoding/json differs on every one of those points, so it is not used for these.

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// maxJSONDepth is where Python's recursive parser gives up (RecursionError) when called from
// the top of a thread's stack; called from deeper (as the control plane does), it gives up
// a little earlier, so whatever the control plane accepted, the agent accepts too.
const maxJSONDepth = 995

// pyMaxIntDigits is Python's int_max_str_digits: a longer integer literal is a ValueError.
const pyMaxIntDigits = 4300

var errNotJSON = errors.New("not JSON")

type jsonOptions struct {
	allowConstants bool // NaN, Infinity, -Infinity (json.loads' default)
	allowInfinite  bool // 1e400 parses to inf (float(); the client-context check refuses it)
}

// jsonValue is one parsed value, already re-serialised compact and ASCII-only.
type jsonValue struct {
	text    string
	isStr   bool
	str     []rune // the decoded string (lone surrogates kept), when isStr
	members []jsonMember
	isObj   bool
	items   []jsonValue // an array's items, when isArr
	isArr   bool
}

type jsonMember struct {
	key   string // the key serialised, which is also its identity
	value jsonValue
	name  []rune // the key decoded
}

type jsonParser struct {
	s     string
	i     int
	depth int
	opt   jsonOptions
}

// parsePyJSON parses a whole document as json.loads(text) would, or fails.
func parsePyJSON(text string, opt jsonOptions) (jsonValue, error) {
	p := &jsonParser{s: text, opt: opt}
	p.skipSpace()
	v, err := p.value()
	if err != nil {
		return jsonValue{}, err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return jsonValue{}, errors.New("extra data")
	}
	return v, nil
}

// runtimeJSONHeader is invocation.runtime_json_header: the JSON object a client context or
// cognito identity carries, compact and ASCII-only, or an error.
func runtimeJSONHeader(text string) (string, error) {
	v, err := parsePyJSON(text, jsonOptions{})
	if err != nil {
		return "", err
	}
	if !v.isObj {
		return "", errors.New("not a JSON object")
	}
	return v.text, nil
}

func (p *jsonParser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) value() (jsonValue, error) {
	if p.i >= len(p.s) {
		return jsonValue{}, errNotJSON
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object()
	case c == '[':
		return p.array()
	case c == '"':
		p.i++
		runes, err := p.str()
		if err != nil {
			return jsonValue{}, err
		}
		return jsonValue{text: string(appendPyRunes(nil, runes)), isStr: true, str: runes}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	}
	for _, word := range []string{"true", "false", "null"} {
		if strings.HasPrefix(p.s[p.i:], word) {
			p.i += len(word)
			return jsonValue{text: word}, nil
		}
	}
	if p.opt.allowConstants {
		for word, text := range map[string]string{"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity"} {
			if strings.HasPrefix(p.s[p.i:], word) {
				p.i += len(word)
				return jsonValue{text: text}, nil
			}
		}
	}
	return jsonValue{}, errNotJSON
}

// items parses the items of an object or array after its opening bracket, up to and
// including the closing one, calling item for each; depth is bounded as Python's is.
func (p *jsonParser) items(closing byte, item func() error) error {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxJSONDepth {
		return errors.New("JSON nested too deeply")
	}
	p.i++ // the opening bracket
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == closing {
		p.i++
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return errNotJSON
		}
		if p.s[p.i] == closing {
			p.i++
			return nil
		}
		if p.s[p.i] != ',' {
			return errNotJSON
		}
		p.i++
		p.skipSpace()
	}
}

func (p *jsonParser) object() (jsonValue, error) {
	var members []jsonMember
	index := map[string]int{}
	err := p.items('}', func() error {
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return errNotJSON
		}
		p.i++
		runes, err := p.str()
		if err != nil {
			return err
		}
		key := string(appendPyRunes(nil, runes))
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return errNotJSON
		}
		p.i++
		p.skipSpace()
		v, err := p.value()
		if err != nil {
			return err
		}
		if at, seen := index[key]; seen {
			members[at].value = v // a dict keeps the first position, the last value
		} else {
			index[key] = len(members)
			members = append(members, jsonMember{key, v, runes})
		}
		return nil
	})
	if err != nil {
		return jsonValue{}, err
	}
	parts := make([]string, len(members))
	for n, m := range members {
		parts[n] = m.key + ":" + m.value.text
	}
	return jsonValue{text: "{" + strings.Join(parts, ",") + "}", isObj: true, members: members}, nil
}

func (p *jsonParser) array() (jsonValue, error) {
	var parts []string
	var items []jsonValue
	err := p.items(']', func() error {
		v, err := p.value()
		parts = append(parts, v.text)
		items = append(items, v)
		return err
	})
	if err != nil {
		return jsonValue{}, err
	}
	return jsonValue{text: "[" + strings.Join(parts, ",") + "]", isArr: true, items: items}, nil
}

// str reads a string body after its opening quote, as Python's strict scanner does.
func (p *jsonParser) str() ([]rune, error) {
	var out []rune
	for {
		if p.i >= len(p.s) {
			return nil, errors.New("unterminated string")
		}
		c := p.s[p.i]
		switch {
		case c == '"':
			p.i++
			return out, nil
		case c < 0x20:
			return nil, errors.New("invalid control character in string")
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		default:
			r, size := utf8.DecodeRuneInString(p.s[p.i:])
			out = append(out, r)
			p.i += size
		}
	}
}

func (p *jsonParser) escape() (rune, error) {
	p.i++ // '\\'
	if p.i >= len(p.s) {
		return 0, errNotJSON
	}
	c := p.s[p.i]
	p.i++
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return 0, errors.New("invalid \\uXXXX escape")
		}
		// A high surrogate followed by an escaped low one is one character; alone, either
		// stays a lone surrogate (Python keeps it, and writes it back as the same escape).
		if r >= 0xd800 && r <= 0xdbff && strings.HasPrefix(p.s[p.i:], "\\u") {
			save := p.i
			p.i += 2
			if low, ok := p.hex4(); ok && low >= 0xdc00 && low <= 0xdfff {
				return 0x10000 + (r-0xd800)<<10 + (low - 0xdc00), nil
			}
			p.i = save
		}
		return r, nil
	}
	return 0, errors.New("invalid escape")
}

func (p *jsonParser) hex4() (rune, bool) {
	if p.i+4 > len(p.s) {
		return 0, false
	}
	v, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
	if err != nil || strings.ContainsAny(p.s[p.i:p.i+4], "+-_xX") {
		return 0, false
	}
	p.i += 4
	return rune(v), true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// number follows Python's NUMBER_RE: (-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?
func (p *jsonParser) number() (jsonValue, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
		if p.opt.allowConstants && strings.HasPrefix(p.s[p.i:], "Infinity") {
			p.i += len("Infinity")
			return jsonValue{text: "-Infinity"}, nil
		}
	}
	if p.i >= len(p.s) || !isDigit(p.s[p.i]) {
		return jsonValue{}, errNotJSON
	}
	if p.s[p.i] == '0' {
		p.i++
	} else {
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
	}
	intEnd := p.i
	isFloat := false
	if p.i+1 < len(p.s) && p.s[p.i] == '.' && isDigit(p.s[p.i+1]) {
		p.i += 2
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
		isFloat = true
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		j := p.i + 1
		if j < len(p.s) && (p.s[j] == '+' || p.s[j] == '-') {
			j++
		}
		if j < len(p.s) && isDigit(p.s[j]) {
			for j < len(p.s) && isDigit(p.s[j]) {
				j++
			}
			p.i = j
			isFloat = true
		}
	}
	text := p.s[start:p.i]
	if !isFloat {
		digits := strings.TrimPrefix(text[:intEnd-start], "-")
		if len(digits) > pyMaxIntDigits {
			return jsonValue{}, errors.New("integer too long")
		}
		if digits == "0" {
			return jsonValue{text: "0"}, nil // -0 is the int 0
		}
		return jsonValue{text: text}, nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil && !math.IsInf(f, 0) {
		return jsonValue{}, err
	}
	if math.IsInf(f, 0) {
		if !p.opt.allowInfinite {
			return jsonValue{}, errors.New(text + " is beyond a double's range")
		}
		if f > 0 {
			return jsonValue{text: "Infinity"}, nil
		}
		return jsonValue{text: "-Infinity"}, nil
	}
	return jsonValue{text: pyFloatRepr(f)}, nil
}

// pyFloatRepr is Python's repr(float): the shortest round-tripping digits, positional when
// the decimal exponent is in [-4, 16), else scientific with a signed two-digit exponent.
func pyFloatRepr(f float64) string {
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expText, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expText)
	sign := ""
	if strings.HasPrefix(mant, "-") {
		sign, mant = "-", mant[1:]
	}
	digits := strings.Replace(mant, ".", "", 1)
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		x := strconv.Itoa(exp)
		if len(x) < 2 {
			x = "0" + x
		}
		return sign + m + "e" + es + x
	}
	point := exp + 1 // digits before the decimal point
	switch {
	case point <= 0:
		return sign + "0." + strings.Repeat("0", -point) + digits
	case point >= len(digits):
		return sign + digits + strings.Repeat("0", point-len(digits)) + ".0"
	default:
		return sign + digits[:point] + "." + digits[point:]
	}
}

// appendPyRunes writes a JSON string as json.dumps does with ensure_ascii=True.
func appendPyRunes(b []byte, runes []rune) []byte {
	const hexDigits = "0123456789abcdef"
	u4 := func(b []byte, v rune) []byte {
		return append(b, '\\', 'u', hexDigits[v>>12&15], hexDigits[v>>8&15], hexDigits[v>>4&15], hexDigits[v&15])
	}
	b = append(b, '"')
	for _, r := range runes {
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r >= 0x20 && r <= 0x7e:
			b = append(b, byte(r))
		case r > 0xffff:
			r -= 0x10000
			b = u4(u4(b, 0xd800+(r>>10)), 0xdc00+(r&0x3ff))
		default:
			b = u4(b, r)
		}
	}
	return append(b, '"')
}

// pyString is json.dumps(s) for a Go (UTF-8) string.
func pyString(s string) string {
	return string(appendPyRunes(nil, []rune(s)))
}
