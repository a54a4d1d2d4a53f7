// The `context` object, as AWS's Node.js runtime builds it.
const env = process.env;

export function makeContext(invocation, callback) {
  const context = {
    callbackWaitsForEmptyEventLoop: true,
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    invokedFunctionArn: invocation.invokedFunctionArn,
    awsRequestId: invocation.requestId,
    clientContext: parseJson(invocation.clientContext),
    identity: parseJson(invocation.cognitoIdentity),
    getRemainingTimeInMillis: () => Math.max(invocation.deadlineMs - Date.now(), 0),
    // The legacy completion methods, still honoured by AWS's runtime.
    done: (error, value) => callback(error, value),
    succeed: (value) => callback(null, value),
    fail: (error) => callback(error ?? "handled"),
  };
  return context;
}

function parseJson(text) {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
