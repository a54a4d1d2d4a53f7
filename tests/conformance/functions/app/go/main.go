// The conformance app as a Go custom runtime (standard library only): the binary is the zip's
// `bootstrap` and talks to the Runtime API itself. One operation per event "op" (see
// tests/conformance/test_runtimes.py). Built at test time: CGO_ENABLED=0 go build -o bootstrap.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

var (
	api         = "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime"
	invocations = 0
	startedAt   = float64(time.Now().UnixNano()) / 1e9
	client      = &http.Client{} // no timeout: /next is a long poll
)

type event struct {
	Op      string   `json:"op"`
	Names   []string `json:"names"`
	Name    string   `json:"name"`
	Text    string   `json:"text"`
	Message string   `json:"message"`
	Seconds float64  `json:"seconds"`
	Marker  string   `json:"marker"`
}

func handle(raw []byte, headers http.Header) (any, error) {
	invocations++
	var ev event
	_ = json.Unmarshal(raw, &ev) // not an object: echo it
	switch ev.Op {
	case "types":
		return struct {
			Duration time.Duration `json:"duration"`
			Bytes    []byte        `json:"bytes"`
			Nothing  *int          `json:"nothing"`
		}{time.Second, []byte("hi"), nil}, nil
	case "context":
		deadline, _ := strconv.ParseInt(headers.Get("Lambda-Runtime-Deadline-Ms"), 10, 64)
		return map[string]any{
			"awsRequestId":       headers.Get("Lambda-Runtime-Aws-Request-Id"),
			"functionName":       os.Getenv("AWS_LAMBDA_FUNCTION_NAME"),
			"functionVersion":    os.Getenv("AWS_LAMBDA_FUNCTION_VERSION"),
			"memoryLimitInMB":    os.Getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
			"invokedFunctionArn": headers.Get("Lambda-Runtime-Invoked-Function-Arn"),
			"logGroupName":       os.Getenv("AWS_LAMBDA_LOG_GROUP_NAME"),
			"logStreamName":      os.Getenv("AWS_LAMBDA_LOG_STREAM_NAME"),
			"remainingMs":        deadline - time.Now().UnixMilli(),
		}, nil
	case "env":
		values := map[string]any{}
		for _, name := range ev.Names {
			if value, ok := os.LookupEnv(name); ok {
				values[name] = value
			} else {
				values[name] = nil
			}
		}
		return values, nil
	case "tmp":
		path := filepath.Join("/tmp", ev.Name)
		if err := os.WriteFile(path, []byte(ev.Text), 0o600); err != nil {
			return nil, err
		}
		text, err := os.ReadFile(path)
		os.Remove(path)
		return map[string]string{"text": string(text)}, err
	case "count":
		return map[string]any{"invocations": invocations, "pid": os.Getpid(), "startedAt": startedAt}, nil
	case "fail":
		return nil, fmt.Errorf("%s", ev.Message)
	case "sleep":
		time.Sleep(time.Duration(ev.Seconds * float64(time.Second)))
		return "woke up", nil
	case "exit":
		os.Exit(3)
	case "log":
		fmt.Println("to stdout " + ev.Marker)
		fmt.Fprintln(os.Stderr, "to stderr "+ev.Marker)
		return "logged", nil
	}
	return json.RawMessage(raw), nil
}

func post(path string, body []byte, errorType string) {
	request, _ := http.NewRequest("POST", api+path, bytes.NewReader(body))
	request.Header.Set("Content-Type", "application/json")
	if errorType != "" {
		request.Header.Set("Lambda-Runtime-Function-Error-Type", errorType)
	}
	response, err := client.Do(request)
	if err != nil {
		fmt.Fprintln(os.Stderr, "posting to the Runtime API failed:", err)
		os.Exit(1)
	}
	io.Copy(io.Discard, response.Body)
	response.Body.Close()
}

func main() {
	if os.Getenv("_HANDLER") == "init_error" {
		doc, _ := json.Marshal(map[string]string{"errorMessage": "configuration missing at init", "errorType": "Runtime.ConfigurationMissing"})
		post("/init/error", doc, "Runtime.ConfigurationMissing")
		os.Exit(1)
	}
	for {
		response, err := client.Get(api + "/invocation/next")
		if err != nil {
			fmt.Fprintln(os.Stderr, "GET /invocation/next failed:", err)
			os.Exit(1)
		}
		raw, _ := io.ReadAll(response.Body)
		response.Body.Close()
		requestID := response.Header.Get("Lambda-Runtime-Aws-Request-Id")
		result, err := handle(raw, response.Header)
		if err != nil {
			doc, _ := json.Marshal(map[string]any{"errorMessage": err.Error(), "errorType": "errorString"})
			post("/invocation/"+requestID+"/error", doc, "")
			continue
		}
		body, err := json.Marshal(result)
		if err != nil {
			body, _ = json.Marshal(map[string]string{"errorMessage": err.Error(), "errorType": "Runtime.MarshalError"})
			post("/invocation/"+requestID+"/error", body, "Runtime.MarshalError")
			continue
		}
		post("/invocation/"+requestID+"/response", body, "")
	}
}
