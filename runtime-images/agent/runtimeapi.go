package main

// The Lambda Runtime API (2018-06-01) the language runtime talks to.
//
// One small handler per route; each validates, then makes exactly one call into the sandbox.
// Status codes as the contract and RIE have them: 200 on /next, 202 on every accepted POST,
// 400 InvalidRequestID, 403 InvalidStateTransition, 413 RequestEntityTooLarge, 404 otherwise.
// Routes are matched on the raw request target, query string included, as Python's agent did.

import (
	"encoding/base64"
	"errors"
	"io"
	"strconv"
	"strings"
)

const (
	rapiPrefix      = "/2018-06-01/runtime"
	rapiNext        = rapiPrefix + "/invocation/next"
	rapiInvocation  = rapiPrefix + "/invocation/"
	rapiInitError   = rapiPrefix + "/init/error"
	errorTypeHeader = "Lambda-Runtime-Function-Error-Type"
	errorBodyHeader = "Lambda-Runtime-Function-Error-Body"
)

var accepted = []byte(`{"status":"OK"}`)

type runtimeAPI struct {
	sandbox *sandbox
}

func (a *runtimeAPI) serve(w *response, r *request) {
	path := latin1(r.requestURI)
	switch r.method {
	case "GET":
		if path != rapiNext {
			replyError(w, 404, "NotFound", "no route for GET "+path)
			return
		}
		a.next(w, r)
	case "POST":
		if strings.HasPrefix(path, rapiInvocation) {
			rest := path[len(rapiInvocation):]
			cut := strings.LastIndexByte(rest, '/')
			if cut > 0 {
				requestID, action := pyUnquote(rest[:cut]), rest[cut+1:]
				if action == "response" {
					a.respond(w, r, requestID)
					return
				}
				if action == "error" {
					a.error(w, r, requestID)
					return
				}
			}
		} else if path == rapiInitError {
			body, _ := io.ReadAll(r.body)
			a.result(w, a.sandbox.postInitError(body, headerValue(r.header, errorTypeHeader)))
			return
		}
		_, _ = io.Copy(io.Discard, r.body)
		replyError(w, 404, "NotFound", "no route for POST "+path)
	default:
		replyError(w, 501, "NotImplemented", "unsupported method "+r.method)
	}
}

func (a *runtimeAPI) next(w *response, r *request) {
	inv := a.sandbox.nextInvocation(r.context())
	if inv == nil {
		dropConnection() // stale runtime, failed init or shutdown
	}
	reply(w, 200, inv.request.contentType, inv.request.payload, inv.nextHeaders)
}

func (a *runtimeAPI) respond(w *response, r *request, requestID string) {
	if isStreamingResponse(r.header) && a.respondStreaming(w, r, requestID) {
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.body, maxResponseBytes+1))
	if err == nil && len(body) > maxResponseBytes {
		_, _ = io.Copy(io.Discard, r.body) // read to the end: the connection stays usable
		if err := a.sandbox.postTooLarge(requestID); err != nil {
			a.result(w, err)
			return
		}
		replyError(w, 413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size (6291556 bytes).")
		return
	}
	// A streamed response that failed midway says so in its trailers.
	if errorType := trailerValue(r.trailer, errorTypeHeader); errorType != "" {
		errorBody := lenientBase64(trailerValue(r.trailer, errorBodyHeader))
		a.result(w, a.sandbox.postError(requestID, errorBody, errorType))
		return
	}
	a.result(w, a.sandbox.postResponse(requestID, body, headerValue(r.header, "Content-Type")))
}

// respondStreaming serves a streamed response to a streaming invocation; false when the
// invocation is a buffered one (respond then reads the body whole, trailers included).
func (a *runtimeAPI) respondStreaming(w *response, r *request, requestID string) bool {
	contentType := headerValue(r.header, "Content-Type")
	stream, err := a.sandbox.beginStream(requestID, contentType)
	if err != nil {
		a.result(w, err)
		return true
	}
	if stream == nil {
		return false
	}
	e, status, ok := readStream(r.body, func() fields { return r.trailer }, stream.send, stream.contentType)
	if !ok { // the invocation ended while the runtime was still sending (timeout, exit)
		w.set("Connection", "close")
		replyError(w, 403, "InvalidStateTransition", "Invocation already completed")
		return true
	}
	posted := a.sandbox.endStream(stream, e)
	switch {
	case posted != nil:
		a.result(w, posted)
	case status == 413:
		w.set("Connection", "close") // the rest of an endless body is not read
		replyError(w, 413, "RequestEntityTooLarge", "Exceeded maximum allowed payload size ("+strconv.Itoa(maxStreamedBytes)+" bytes).")
	case status == 400:
		w.set("Connection", "close")
		replyError(w, 400, "InvalidRequest", "malformed streamed response: "+string(e.body))
	default:
		a.result(w, nil)
	}
	return true
}

func (a *runtimeAPI) error(w *response, r *request, requestID string) {
	body, _ := io.ReadAll(r.body)
	a.result(w, a.sandbox.postError(requestID, body, headerValue(r.header, errorTypeHeader)))
}

func (a *runtimeAPI) result(w *response, err error) {
	var refused *apiError
	if errors.As(err, &refused) {
		replyError(w, refused.status, refused.errorType, refused.message)
		return
	}
	reply(w, 202, "application/json", accepted, nil)
}

// lenientBase64 is base64.b64decode without validation: characters outside the alphabet are
// skipped; undecodable input is empty.
func lenientBase64(s string) []byte {
	var clean strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=' {
			clean.WriteByte(c)
		}
	}
	out, err := base64.StdEncoding.DecodeString(clean.String())
	if err != nil {
		return nil
	}
	return out
}

// pyUnquote is urllib.parse.unquote: %XX sequences as UTF-8 (invalid ones replaced), any
// malformed escape left as it is.
func pyUnquote(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var out strings.Builder
	var pending []byte
	flush := func() {
		if len(pending) > 0 {
			out.WriteString(decodeUTF8Replace(pending))
			pending = nil
		}
	}
	for i := 0; i < len(s); {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			pending = append(pending, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 3
			continue
		}
		flush()
		out.WriteByte(s[i])
		i++
	}
	flush()
	return out.String()
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}
