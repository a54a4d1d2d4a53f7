package dev.lambkin.runtime;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;

/** The Context handed to the handler for one invocation. */
final class LambdaContext implements Context {
    private final String requestId;
    private final String invokedFunctionArn;
    private final long deadlineMs;
    private final CognitoIdentity identity;
    private final ClientContext clientContext;
    private final String traceId;

    LambdaContext(String requestId, String invokedFunctionArn, long deadlineMs,
                  CognitoIdentity identity, ClientContext clientContext, String traceId) {
        this.traceId = traceId;
        this.requestId = requestId;
        this.invokedFunctionArn = invokedFunctionArn;
        this.deadlineMs = deadlineMs;
        this.identity = identity;
        this.clientContext = clientContext;
    }

    @Override
    public String getAwsRequestId() {
        return requestId;
    }

    @Override
    public String getLogGroupName() {
        return System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
    }

    @Override
    public String getLogStreamName() {
        return System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
    }

    @Override
    public String getFunctionName() {
        return System.getenv("AWS_LAMBDA_FUNCTION_NAME");
    }

    @Override
    public String getFunctionVersion() {
        return System.getenv("AWS_LAMBDA_FUNCTION_VERSION");
    }

    @Override
    public String getInvokedFunctionArn() {
        return invokedFunctionArn;
    }

    @Override
    public CognitoIdentity getIdentity() {
        return identity;
    }

    @Override
    public ClientContext getClientContext() {
        return clientContext;
    }

    @Override
    public int getRemainingTimeInMillis() {
        return (int) Math.max(deadlineMs - System.currentTimeMillis(), 0);
    }

    @Override
    public int getMemoryLimitInMB() {
        try {
            return Integer.parseInt(System.getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"));
        } catch (NumberFormatException | NullPointerException e) {
            return 0;
        }
    }

    @Override
    public String getXrayTraceId() {
        return traceId;
    }

    @Override
    public LambdaLogger getLogger() {
        return LambdaRuntime.getLogger();
    }
}
