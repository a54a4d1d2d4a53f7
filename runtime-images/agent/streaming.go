package main

// Streamed responses: a runtime POSTs /response with Lambda-Runtime-Function-Response-Mode:
// streaming and a chunked body; when the control plane asked for a streamed invocation
// (Lambkin-Response-Mode: streaming on /invoke), each piece of the body goes on to it as it
// arrives. The Runtime API's handler produces (send), the control server's consumes (one chunk
// at a time, acknowledged once written, so one buffer serves and back-pressure reaches the
// runtime); either side stops when the invocation ends (its done channel), whatever ended it:
// the stream's own end, a timeout, the runtime's exit, a shutdown.

import (
	"encoding/base64"
	"io"
	"strconv"
)

const (
	// maxStreamedBytes is AWS's limit on a streamed response (200 MiB); past it the stream ends
	// with Function.ResponseSizeTooLarge.
	maxStreamedBytes = 200 << 20
	streamChunkBytes = 32 << 10
	responseModeHdr  = "Lambda-Runtime-Function-Response-Mode"
	streamingMode    = "streaming"
	// controlModeHdr on /invoke: the control plane reads a streamed response as chunks.
	controlModeHdr = "Lambkin-Response-Mode"
)

// streamLimit is maxStreamedBytes, a variable only so that unit tests can lower it.
var streamLimit int64 = maxStreamedBytes

type responseStream struct {
	inv         *invocation
	contentType string
	chunks      chan []byte   // producer -> consumer, unbuffered
	acks        chan struct{} // consumer -> producer: the chunk is written, its buffer free
}

func newResponseStream(inv *invocation, contentType string) *responseStream {
	if contentType == "" {
		contentType = "application/octet-stream" // what aws-lambda-ric declares by default
	}
	return &responseStream{inv: inv, contentType: contentType, chunks: make(chan []byte), acks: make(chan struct{})}
}

// send hands p to the consumer and waits until it is written; false once the invocation ended.
func (s *responseStream) send(p []byte) bool {
	select {
	case s.chunks <- p:
	case <-s.inv.done:
		return false
	}
	select {
	case <-s.acks:
		return true
	case <-s.inv.done:
		return false
	}
}

// ack frees the producer's buffer after the consumer wrote a chunk.
func (s *responseStream) ack() {
	select {
	case s.acks <- struct{}{}:
	case <-s.inv.done:
	}
}

// isStreamingResponse: the runtime's POST declares a streamed response (no allocation).
func isStreamingResponse(h fields) bool {
	for _, f := range h {
		if asciiEqualFold(f.name, responseModeHdr) {
			return asciiEqualFold(trimBlanks(f.value), streamingMode)
		}
	}
	return false
}

// readStream reads a streamed body to its end, sending each piece as it comes; the ending is
// the stream's outcome (success, the error its trailers carry, too large, truncated) and
// ok=false when the invocation ended first (timeout, exit: nothing left to post).
func readStream(body io.Reader, trailers func() fields, send func([]byte) bool, contentType string) (e ending, status int, ok bool) {
	buf := make([]byte, streamChunkBytes)
	var total int64
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if total += int64(n); total > streamLimit {
				return streamTooLargeEnding(), 413, true
			}
			if !send(buf[:n]) {
				return ending{}, 0, false
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return truncatedEnding(err), 400, true
		}
	}
	t := trailers()
	if errorType := trailerValue(t, errorTypeHeader); errorType != "" {
		return postedError(outcomeFunctionError, lenientBase64(trailerValue(t, errorBodyHeader)), errorType), 202, true
	}
	return ending{outcome: outcomeSuccess, contentType: contentType}, 202, true
}

func streamTooLargeEnding() ending {
	message := "Response payload size exceeded maximum allowed payload size (" + strconv.Itoa(maxStreamedBytes) + " bytes)."
	return agentError(outcomeTooLarge, "Function.ResponseSizeTooLarge", message, nil)
}

// truncatedEnding: the runtime's body broke off or was malformed (RIE: Runtime.TruncatedResponse).
func truncatedEnding(err error) ending {
	return agentError(outcomeFunctionError, "Runtime.TruncatedResponse", "Response stream was truncated: "+err.Error(), nil)
}

// streamTrailers: the final record of a streamed /invoke reply (resultHeaders, and the error
// body, base64, when the outcome is not success).
func streamTrailers(res *invokeResult) []header {
	t := resultHeaders(res)
	if res.outcome != outcomeSuccess && len(res.body) > 0 {
		t = append(t, header{"Lambkin-Error-Body", base64.StdEncoding.EncodeToString(res.body)})
	}
	return t
}

const streamTrailerNames = "Lambkin-Outcome, Lambkin-Error-Type, Lambkin-Error-Body, Lambkin-Duration-Ms, " +
	"Lambkin-Init-Duration-Ms, Lambkin-Max-Memory-Mb, Lambkin-Log-Tail"
