package main

// The control server: the control plane's side of the agent (docs/architecture.md).
//
// Every request, on any route, must carry the instance's token (Lambkin-Token), compared in
// constant time; without it the answer is 401, the connection is closed and nothing else
// happens. Then: GET /health, POST /invoke (one at a time, 409 otherwise), POST /shutdown.
// The control plane keeps one keep-alive connection per instance, so nothing else here
// closes a connection on its own.

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"sync/atomic"
	"unicode/utf8"
)

const (
	tokenHeader           = "Lambkin-Token"
	clientContextHeader   = "Lambkin-Client-Context-B64"
	cognitoIdentityHeader = "Lambkin-Cognito-Identity-B64"
)

type controlServer struct {
	token           []byte
	sandbox         *sandbox
	accepted        int64
	requestShutdown func()
}

func (c *controlServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	offered := []byte(headerValue(r.Header, tokenHeader))
	if subtle.ConstantTimeCompare(offered, c.token) != 1 {
		w.Header().Set("Connection", "close")
		replyError(w, 401, "Unauthorized", "missing or wrong "+tokenHeader+": this agent answers only its own control plane")
		return
	}
	path := latin1(r.RequestURI)
	switch r.Method {
	case http.MethodGet:
		if path != "/health" {
			replyError(w, 404, "NotFound", "no route for GET "+path)
			return
		}
		body := fmt.Sprintf(`{"runtime": %s, "connections_accepted": %d, "invocations": %d, "max_memory_mb": %d}`,
			pyString(string(c.sandbox.state())), atomic.LoadInt64(&c.accepted), c.sandbox.invocationCount(), c.sandbox.maxMemoryMB())
		reply(w, 200, "application/json", []byte(body), nil)
	case http.MethodPost:
		payload, _ := io.ReadAll(r.Body)
		switch path {
		case "/invoke":
			c.invoke(w, r, payload)
		case "/shutdown":
			reply(w, 200, "application/json", []byte(`{"status": "stopping"}`), nil)
			if f, ok := w.(http.Flusher); ok {
				f.Flush()
			}
			c.requestShutdown()
		default:
			replyError(w, 404, "NotFound", "no route for POST "+path)
		}
	default:
		replyError(w, 501, "NotImplemented", "unsupported method "+r.Method)
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
		return "", fmt.Errorf("%s must be base64 of a UTF-8 JSON object", name)
	}
	text, err := runtimeJSONHeader(string(raw))
	if err != nil {
		return "", fmt.Errorf("%s must be base64 of a UTF-8 JSON object: %v", name, err)
	}
	return text, nil
}

var base64Re = regexp.MustCompile(`^[A-Za-z0-9+/]*={0,2}$`)

// strictBase64 is base64.b64decode(validate=True): the standard alphabet and correct padding
// only (Go's decoder would also skip CR and LF, which Python refuses).
func strictBase64(s string) ([]byte, error) {
	if !base64Re.MatchString(s) {
		return nil, errors.New("non-base64 digit found")
	}
	return base64.StdEncoding.DecodeString(s)
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

func (c *controlServer) invoke(w http.ResponseWriter, r *http.Request, payload []byte) {
	requestID := latin1(headerValue(r.Header, "Lambkin-Request-Id"))
	timeoutText := headerValue(r.Header, "Lambkin-Timeout-Ms")
	timeoutMs, err := strconv.ParseInt(timeoutText, 10, 64)
	if requestID == "" || !allDigits(timeoutText) || err != nil || timeoutMs <= 0 {
		replyError(w, 400, "InvalidRequest", "Lambkin-Request-Id and a positive integer Lambkin-Timeout-Ms are required")
		return
	}
	clientContext, err := jsonFromBase64(clientContextHeader, headerValue(r.Header, clientContextHeader))
	if err != nil {
		replyError(w, 400, "InvalidRequest", err.Error())
		return
	}
	cognitoIdentity, err := jsonFromBase64(cognitoIdentityHeader, headerValue(r.Header, cognitoIdentityHeader))
	if err != nil {
		replyError(w, 400, "InvalidRequest", err.Error())
		return
	}
	contentType := headerValue(r.Header, "Content-Type")
	if contentType == "" {
		contentType = defaultContentType
	}
	result, err := c.sandbox.invoke(invokeRequest{
		requestID:       requestID,
		timeoutMs:       timeoutMs,
		payload:         payload,
		contentType:     contentType,
		functionArn:     headerValue(r.Header, "Lambkin-Function-Arn"),
		traceID:         headerValue(r.Header, "Lambkin-Trace-Id"),
		clientContext:   clientContext,
		cognitoIdentity: cognitoIdentity,
	})
	var refused *apiError
	if errors.As(err, &refused) {
		replyError(w, refused.status, refused.errorType, refused.message)
		return
	}
	reply(w, 200, result.contentType, result.body, resultHeaders(result))
}
