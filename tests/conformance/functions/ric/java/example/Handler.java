package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The RIC contract handler (see tests/support/function_images.py), for AWS's Java client. */
public class Handler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
    private int count = 0;

    @Override
    public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
        count += 1;
        Object action = event == null ? null : event.get("action");
        if ("error".equals(action)) {
            throw new RuntimeException(String.valueOf(event.get("message")));
        }
        if ("sleep".equals(action)) {
            Number seconds = (Number) event.get("seconds");
            try {
                Thread.sleep((long) (seconds.doubleValue() * 1000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Map.of("slept", seconds);
        }
        System.out.println("hello from java");
        Map<String, Object> ctx = new LinkedHashMap<>();
        ctx.put("function_name", context.getFunctionName());
        ctx.put("function_version", context.getFunctionVersion());
        ctx.put("memory_limit_in_mb", context.getMemoryLimitInMB());
        ctx.put("aws_request_id", context.getAwsRequestId());
        ctx.put("invoked_function_arn", context.getInvokedFunctionArn());
        ctx.put("log_group_name", context.getLogGroupName());
        ctx.put("log_stream_name", context.getLogStreamName());
        ctx.put("remaining_time_ms", context.getRemainingTimeInMillis());
        Map<String, Object> env = new LinkedHashMap<>();
        for (String name : new String[] {"AWS_LAMBDA_FUNCTION_NAME", "AWS_REGION", "LAMBDA_TASK_ROOT"}) {
            env.put(name, System.getenv(name));
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("event", event);
        result.put("count", count);
        result.put("uid", uid());
        result.put("context", ctx);
        result.put("env", env);
        return result;
    }

    /** The real uid, from /proc (Java has no portable getuid). */
    private static long uid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.split("\\s+")[1]);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return -1;
    }
}
