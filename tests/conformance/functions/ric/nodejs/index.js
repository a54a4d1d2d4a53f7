// The RIC contract handler (see tests/support/function_images.py), for AWS's aws-lambda-ric.
let count = 0;

exports.handler = async (event, context) => {
  count += 1;
  const action = event && event.action;
  if (action === "error") {
    throw new Error(event.message);
  }
  if (action === "sleep") {
    await new Promise((resolve) => setTimeout(resolve, event.seconds * 1000));
    return { slept: event.seconds };
  }
  console.log("hello from nodejs");
  const env = {};
  for (const name of ["AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "LAMBDA_TASK_ROOT"]) {
    env[name] = process.env[name] ?? null;
  }
  return {
    event,
    count,
    uid: process.getuid(),
    context: {
      function_name: context.functionName,
      function_version: context.functionVersion,
      memory_limit_in_mb: Number(context.memoryLimitInMB),
      aws_request_id: context.awsRequestId,
      invoked_function_arn: context.invokedFunctionArn,
      log_group_name: context.logGroupName,
      log_stream_name: context.logStreamName,
      remaining_time_ms: context.getRemainingTimeInMillis(),
    },
    env,
  };
};
