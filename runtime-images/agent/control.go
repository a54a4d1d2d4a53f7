package main

// The control server: the control plane's side of the agent (docs/architecture.md).
//
// Every request, on any route, must carry the instance's token (Lambkin-Token), compared in
// constant time; without it the answer is 401, the connection is closed and nothing else
// happens. Then: GET /health, GET /logs (logserve.go), PUT /files/<root> (files.go), POST /specialise (a vacant instance's function, once), POST /invoke
// (one at a time, 409 otherwise), POST /shutdown.
// The control plane keeps one keep-alive connection per instance, so nothing else here
// closes a connection on its own.

import (
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

const (
	tokenHeader           = "Lambkin-Token"
	clientContextHeader   = "Lambkin-Client-Context-B64"
	cognitoIdentityHeader = "Lambkin-Cognito-Identity-B64"
)

type controlServer struct {
	token           []byte
	fileRoots       map[string]string // PUT /files/<name> (files.go); none: no such route
	logPath         string            // GET /logs (logserve.go); "": no such route
	sandbox         *sandbox
	accepted        int64
	requestShutdown func()
}

func (c *controlServer) serve(w *response, r *request) {
	offered := []byte(headerValue(r.header, tokenHeader))
	if !constantTimeEqual(offered, c.token) {
		w.set("Connection", "close")
		replyError(w, 401, "Unauthorized", "missing or wrong "+tokenHeader+": this agent answers only its own control plane")
		return
	}
	path := latin1(r.requestURI)
	switch r.method {
	case "PUT":
		c.putFiles(w, r, path)
	case "GET":
		if strings.HasPrefix(path, "/logs") && c.logPath != "" {
			c.serveLogs(w, r, path)
			return
		}
		if path != "/health" {
			replyError(w, 404, "NotFound", "no route for GET "+path)
			return
		}
		body := `{"runtime": ` + pyString(string(c.sandbox.state())) +
			`, "connections_accepted": ` + strconv.FormatInt(atomic.LoadInt64(&c.accepted), 10) +
			`, "invocations": ` + strconv.FormatInt(c.sandbox.invocationCount(), 10) +
			`, "max_memory_mb": ` + strconv.FormatInt(c.sandbox.maxMemoryMB(), 10) + `}`
		reply(w, 200, "application/json", []byte(body), nil)
	case "POST":
		payload, _ := io.ReadAll(r.body)
		switch path {
		case "/invoke":
			c.invoke(w, r, payload)
		case "/specialise":
			f, err := parseSpecialisation(payload)
			if err != nil {
				replyError(w, 400, "InvalidRequest", err.Error())
				return
			}
			var refused *apiError
			if err := c.sandbox.specialise(f); errors.As(err, &refused) {
				replyError(w, refused.status, refused.errorType, refused.message)
				return
			}
			reply(w, 200, "application/json", []byte(`{"runtime": "initializing"}`), nil)
		case "/shutdown":
			// reply writes it all at once (net/http needed a Flush): the reply is on the wire
			// before the shutdown begins.
			reply(w, 200, "application/json", []byte(`{"status": "stopping"}`), nil)
			c.requestShutdown()
		default:
			replyError(w, 404, "NotFound", "no route for POST "+path)
		}
	default:
		replyError(w, 501, "NotImplemented", "unsupported method "+r.method)
	}
}

// jsonFromBase64: the JSON object a `...-B64` header carries, as the runtime gets it ("" when
// absent); an error unless it is base64 of a UTF-8 JSON object.
func jsonFromBase64(name, value string) (string, error) {
	if value == "" {
		return "", nil
	}
	raw, err := strictBase64(value)
	if err != nil || !utf8.Valid(raw) {
		return "", errors.New(name + " must be base64 of a UTF-8 JSON object")
	}
	text, err := runtimeJSONHeader(string(raw))
	if err != nil {
		return "", errors.New(name + " must be base64 of a UTF-8 JSON object: " + err.Error())
	}
	return text, nil
}

// strictBase64 is base64.b64decode(validate=True): the standard alphabet and correct padding
// only (Go's decoder would also skip CR and LF, which Python refuses): ^[A-Za-z0-9+/]*={0,2}$
func strictBase64(s string) ([]byte, error) {
	digits := strings.TrimRight(s, "=")
	if len(s)-len(digits) > 2 || strings.IndexFunc(digits, func(c rune) bool { return !isBase64Digit(c) }) >= 0 {
		return nil, errors.New("non-base64 digit found")
	}
	return base64.StdEncoding.DecodeString(s)
}

func isBase64Digit(c rune) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

func resultHeaders(res *invokeResult) []header {
	headers := []header{
		{"Lambkin-Outcome", string(res.outcome)},
		{"Lambkin-Duration-Ms", pyFixed(res.durationMs, 3)},
		{"Lambkin-Max-Memory-Mb", strconv.FormatInt(res.maxMemoryMB, 10)},
		{"Lambkin-Log-Tail", base64.StdEncoding.EncodeToString(res.logTail)},
	}
	if res.outcome != outcomeSuccess && res.errorType != "" {
		headers = append(headers, header{"Lambkin-Error-Type", res.errorType})
	}
	if res.initDurationMs != nil {
		headers = append(headers, header{"Lambkin-Init-Duration-Ms", pyFixed(*res.initDurationMs, 3)})
	}
	return headers
}

func (c *controlServer) invoke(w *response, r *request, payload []byte) {
	requestID := latin1(headerValue(r.header, "Lambkin-Request-Id"))
	timeoutText := headerValue(r.header, "Lambkin-Timeout-Ms")
	timeoutMs, err := strconv.ParseInt(timeoutText, 10, 64)
	if requestID == "" || !allDigits(timeoutText) || err != nil || timeoutMs <= 0 {
		replyError(w, 400, "InvalidRequest", "Lambkin-Request-Id and a positive integer Lambkin-Timeout-Ms are required")
		return
	}
	clientContext, err := jsonFromBase64(clientContextHeader, headerValue(r.header, clientContextHeader))
	if err != nil {
		replyError(w, 400, "InvalidRequest", err.Error())
		return
	}
	cognitoIdentity, err := jsonFromBase64(cognitoIdentityHeader, headerValue(r.header, cognitoIdentityHeader))
	if err != nil {
		replyError(w, 400, "InvalidRequest", err.Error())
		return
	}
	contentType := headerValue(r.header, "Content-Type")
	if contentType == "" {
		contentType = defaultContentType
	}
	result, stream, err := c.sandbox.invoke(invokeRequest{
		requestID:       requestID,
		timeoutMs:       timeoutMs,
		payload:         payload,
		contentType:     contentType,
		functionArn:     headerValue(r.header, "Lambkin-Function-Arn"),
		traceID:         headerValue(r.header, "Lambkin-Trace-Id"),
		clientContext:   clientContext,
		cognitoIdentity: cognitoIdentity,
		streaming:       asciiEqualFold(headerValue(r.header, controlModeHdr), streamingMode),
	})
	var refused *apiError
	if errors.As(err, &refused) {
		replyError(w, refused.status, refused.errorType, refused.message)
		return
	}
	if stream != nil {
		c.relay(w, stream)
		return
	}
	reply(w, 200, result.contentType, result.body, resultHeaders(result))
}

// relay answers a streamed invocation: the head at once, each chunk as the runtime sends it,
// then the outcome as trailers once the invocation ended (docs/architecture.md). A control
// plane that went away stops nothing: the chunks are drained until the invocation ends.
func (c *controlServer) relay(w *response, stream *responseStream) {
	inv := stream.inv
	w.set("Content-Type", stream.contentType)
	w.set(controlModeHdr, streamingMode)
	w.set("Trailer", streamTrailerNames)
	w.startChunked(200)
	deadline := time.NewTimer(c.sandbox.debugWait(time.Until(inv.deadlineAt)))
	defer deadline.Stop()
	for {
		select {
		case p := <-stream.chunks:
			w.writeChunk(p)
			stream.ack()
		case <-inv.done:
			w.endChunked(streamTrailers(inv.result))
			return
		case <-deadline.C:
			if again, ended := c.sandbox.expire(inv); !ended {
				deadline.Reset(again)
			}
		}
	}
}
