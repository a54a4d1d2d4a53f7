package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import example.util.Counter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The conformance app: one operation per event "op" (see tests/conformance/test_runtimes.py). */
public class App implements RequestHandler<Object, Object> {
    private static final double STARTED_AT = System.currentTimeMillis() / 1000.0;
    private final Counter invocations = new Counter(); // from lib/util.jar: the zip's lib/*.jar

    @Override
    @SuppressWarnings("unchecked")
    public Object handleRequest(Object input, Context context) {
        invocations.increment();
        Map<String, Object> event = input instanceof Map ? (Map<String, Object>) input : Map.of();
        String op = String.valueOf(event.get("op"));
        switch (op) {
            case "types":
                return Arrays.asList(new BigDecimal("1.50"), 'c', Optional.empty().orElse(null), new int[] {1, 2}, 7L);
            case "context": {
                Map<String, Object> fields = new LinkedHashMap<>();
                fields.put("awsRequestId", context.getAwsRequestId());
                fields.put("functionName", context.getFunctionName());
                fields.put("functionVersion", context.getFunctionVersion());
                fields.put("memoryLimitInMB", String.valueOf(context.getMemoryLimitInMB()));
                fields.put("invokedFunctionArn", context.getInvokedFunctionArn());
                fields.put("logGroupName", context.getLogGroupName());
                fields.put("logStreamName", context.getLogStreamName());
                fields.put("remainingMs", context.getRemainingTimeInMillis());
                return fields;
            }
            case "env": {
                Map<String, Object> values = new LinkedHashMap<>();
                for (Object name : (List<Object>) event.get("names")) {
                    values.put((String) name, System.getenv((String) name));
                }
                return values;
            }
            case "tmp":
                try {
                    Path path = Path.of("/tmp", (String) event.get("name"));
                    Files.writeString(path, (String) event.get("text"), StandardCharsets.UTF_8);
                    String text = Files.readString(path, StandardCharsets.UTF_8);
                    Files.delete(path);
                    return Map.of("text", text);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            case "count":
                return Map.of("invocations", invocations.value(), "pid", ProcessHandle.current().pid(), "startedAt", STARTED_AT);
            case "fail":
                throw new IllegalArgumentException((String) event.get("message"));
            case "sleep":
                try {
                    Thread.sleep((long) (((Number) event.get("seconds")).doubleValue() * 1000));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return "woke up";
            case "exit":
                System.exit(3);
                return null;
            case "log":
                System.out.println("to stdout " + event.get("marker"));
                System.err.println("to stderr " + event.get("marker"));
                return "logged";
            default:
                return input;
        }
    }
}
