// The RIC contract handler (see tests/support/function_images.py), for AWS's aws-lambda-go.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

var count = 0

func env(name string) *string {
	if value, ok := os.LookupEnv(name); ok {
		return &value
	}
	return nil
}

func handler(ctx context.Context, event map[string]any) (map[string]any, error) {
	count++
	switch event["action"] {
	case "error":
		message, _ := event["message"].(string)
		return nil, errors.New(message)
	case "sleep":
		seconds, _ := event["seconds"].(float64)
		time.Sleep(time.Duration(seconds * float64(time.Second)))
		return map[string]any{"slept": event["seconds"]}, nil
	}
	fmt.Println("hello from go")
	lc, _ := lambdacontext.FromContext(ctx)
	deadline, _ := ctx.Deadline()
	return map[string]any{
		"event": event,
		"count": count,
		"uid":   os.Getuid(),
		"context": map[string]any{
			"function_name":        lambdacontext.FunctionName,
			"function_version":     lambdacontext.FunctionVersion,
			"memory_limit_in_mb":   lambdacontext.MemoryLimitInMB,
			"aws_request_id":       lc.AwsRequestID,
			"invoked_function_arn": lc.InvokedFunctionArn,
			"log_group_name":       lambdacontext.LogGroupName,
			"log_stream_name":      lambdacontext.LogStreamName,
			"remaining_time_ms":    time.Until(deadline).Milliseconds(),
		},
		"env": map[string]any{
			"AWS_LAMBDA_FUNCTION_NAME": env("AWS_LAMBDA_FUNCTION_NAME"),
			"AWS_REGION":               env("AWS_REGION"),
			"LAMBDA_TASK_ROOT":         env("LAMBDA_TASK_ROOT"),
		},
	}, nil
}

func main() {
	lambda.Start(handler)
}
