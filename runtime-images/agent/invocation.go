package main

// The one in-flight invocation: accepted, then delivered to the runtime, then finished once
// with an outcome. Also the error bodies the agent writes itself, worded as AWS words them.

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	maxResponseBytes   = 6291556
	defaultContentType = "application/json"
)

type outcome string

const (
	outcomeSuccess       outcome = "success"
	outcomeFunctionError outcome = "function_error"
	outcomeInitError     outcome = "init_error"
	outcomeTimeout       outcome = "timeout"
	outcomeExit          outcome = "exit"
	outcomeTooLarge      outcome = "response_too_large"
)

type invokeRequest struct {
	requestID       string // as Python reads header bytes (Latin-1), so text and JSON match
	timeoutMs       int64
	payload         []byte
	contentType     string // raw header bytes, passed through
	functionArn     string
	traceID         string
	clientContext   string // compact ASCII JSON, "" when absent
	cognitoIdentity string
	streaming       bool // the control plane reads a streamed response as it comes
}

// ending is how an invocation ended, before durations, memory and the log tail are known.
type ending struct {
	outcome     outcome
	body        []byte
	contentType string
	errorType   string // "" on success
	notice      []byte // a log line Lambda itself would print (e.g. "... Task timed out ...")
}

type invokeResult struct {
	outcome        outcome
	body           []byte
	contentType    string
	errorType      string
	durationMs     float64
	initDurationMs *float64
	maxMemoryMB    int64
	logTail        []byte
}

type header struct{ name, value string }

type invocation struct {
	request        invokeRequest
	acceptedAt     time.Time
	delivered      bool
	deliveredAt    time.Time
	deadlineAt     time.Time
	initDurationMs *float64 // set when this is the first invocation after an init
	nextHeaders    []header
	stream         *responseStream // set when the runtime began a streamed response (streaming only)
	result         *invokeResult
	done           chan struct{} // closed once result is set
}

// deliver: the runtime receives the event, and the function timeout starts now.
func (inv *invocation) deliver(now time.Time, initDurationMs *float64) {
	r := inv.request
	inv.delivered = true
	inv.deliveredAt = now
	inv.deadlineAt = now.Add(time.Duration(r.timeoutMs) * time.Millisecond)
	inv.initDurationMs = initDurationMs
	inv.nextHeaders = nextHeaders(r, now.UnixMilli())
}

// nextHeaders are the /next response headers; empty ones are omitted. The deadline is an
// int64 of epoch milliseconds (aws-lambda-go refuses anything else).
func nextHeaders(r invokeRequest, nowEpochMs int64) []header {
	all := []header{
		{"Lambda-Runtime-Aws-Request-Id", toLatin1(r.requestID)},
		{"Lambda-Runtime-Deadline-Ms", strconv.FormatInt(nowEpochMs+r.timeoutMs, 10)},
		{"Lambda-Runtime-Invoked-Function-Arn", r.functionArn},
		{"Lambda-Runtime-Trace-Id", r.traceID},
		{"Lambda-Runtime-Client-Context", r.clientContext},
		{"Lambda-Runtime-Cognito-Identity", r.cognitoIdentity},
	}
	out := all[:0]
	for _, h := range all {
		if h.value != "" {
			out = append(out, h)
		}
	}
	return out
}

// errorTypeOf: errorType from a posted error body, else the Lambda-Runtime-Function-Error-Type
// header when it matches (Runtime|Function)\.[A-Z][a-zA-Z]+, else Runtime.Unknown.
//
// One difference from invocation.py on purpose: a body errorType that is not printable ASCII
// is skipped (Python put it into the Lambkin-Error-Type reply header, found CR/LF or a
// non-Latin-1 character there, and dropped the control connection without a reply).
func errorTypeOf(body []byte, headerValue string) string {
	if v, ok := bodyErrorType(body); ok {
		return v
	}
	if isErrorTypeHeader(headerValue) {
		return headerValue
	}
	return "Runtime.Unknown"
}

// isErrorTypeHeader: ^(?:Runtime|Function)\.[A-Z][a-zA-Z]+$
func isErrorTypeHeader(v string) bool {
	name := strings.TrimPrefix(v, "Runtime.")
	if len(name) == len(v) {
		name = strings.TrimPrefix(v, "Function.")
	}
	if len(name) == len(v) || len(name) < 2 || name[0] < 'A' || name[0] > 'Z' {
		return false
	}
	for i := 1; i < len(name); i++ {
		if c := name[i]; !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func bodyErrorType(body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	text := strings.TrimPrefix(string(body), "\ufeff") // json.loads(bytes) reads UTF-8 with a BOM too
	if !utf8.ValidString(text) {
		return "", false
	}
	parsed, err := parsePyJSON(text, jsonOptions{allowConstants: true, allowInfinite: true})
	if err != nil || !parsed.isObj {
		return "", false
	}
	for _, m := range parsed.members {
		if m.key == `"errorType"` && m.value.isStr && len(m.value.str) > 0 {
			s := string(m.value.str)
			if !isPrintableASCII(s) {
				return "", false
			}
			return s, true
		}
	}
	return "", false
}

// compactJSON renders the agent's own error bodies: Python's json.dumps with (",", ":").
func compactJSON(pairs ...string) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(pyString(pairs[i]))
		b.WriteByte(':')
		b.WriteString(pyString(pairs[i+1]))
	}
	b.WriteByte('}')
	return []byte(b.String())
}

func postedError(o outcome, body []byte, headerValue string) ending {
	errorType := errorTypeOf(body, headerValue)
	if len(body) == 0 {
		body = compactJSON("errorType", errorType, "errorMessage", "")
	}
	return ending{outcome: o, body: body, contentType: defaultContentType, errorType: errorType}
}

func agentError(o outcome, errorType, message string, notice []byte) ending {
	body := compactJSON("errorType", errorType, "errorMessage", message)
	return ending{o, body, defaultContentType, errorType, notice}
}

// pyFixed is Python's f"{x:.Nf}" (round half to even on the binary value, as Go's 'f' does).
func pyFixed(x float64, n int) string {
	return strconv.FormatFloat(x, 'f', n, 64)
}

func timeoutEnding(requestID string, timeoutMs int64) ending {
	message := "Task timed out after " + pyFixed(float64(timeoutMs)/1000, 2) + " seconds"
	full := "RequestId: " + requestID + " Error: " + message
	return agentError(outcomeTimeout, "Sandbox.Timedout", full, timestampedLine(requestID, message, time.Now()))
}

func initTimeoutEnding(requestID string, initTimeoutS float64) ending {
	full := "RequestId: " + requestID + " Error: Init timed out after " + pyFixed(initTimeoutS, 2) + " seconds"
	return agentError(outcomeInitError, "Sandbox.Timedout", full, []byte(full+"\n"))
}

// exitEnding: the runtime exited mid-invoke (exit) or before its first /next (init_error).
func exitEnding(o outcome, requestID, status, errorType string) ending {
	full := "RequestId: " + requestID + " Error: Runtime exited with error: " + status
	return agentError(o, errorType, full, []byte(full+"\n"))
}

// entrypointEnding: the runtime command could not even be executed.
func entrypointEnding(requestID, reason string) ending {
	full := "RequestId: " + requestID + " Error: " + reason
	return agentError(outcomeInitError, "Runtime.InvalidEntrypoint", full, []byte(full+"\n"))
}

func tooLargeEnding() ending {
	message := "Response payload size exceeded maximum allowed payload size (" + strconv.Itoa(maxResponseBytes) + " bytes)."
	return agentError(outcomeTooLarge, "Function.ResponseSizeTooLarge", message, nil)
}

func ceilMs(x float64) int64 { return int64(math.Ceil(x)) }
