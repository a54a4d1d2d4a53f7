package dev.lambkin.runtime;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.lambda.thirdparty.com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lambkin's Java runtime client: {@code java -cp ... dev.lambkin.runtime.Main [handler]}.
 *
 * <p>Speaks the Lambda Runtime API (2018-06-01) at $AWS_LAMBDA_RUNTIME_API like AWS's Java runtime:
 * the handler class is loaded and instantiated once at init (from LAMBDA_TASK_ROOT: classes at the
 * root, jars in lib/), then invoked once per event; errors are posted as
 * {@code {errorMessage, errorType: <exception class>, stackTrace, cause}}.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Exception {
        String address = System.getenv("AWS_LAMBDA_RUNTIME_API");
        if (address == null || address.isEmpty()) {
            System.err.println("lambkin java runtime: AWS_LAMBDA_RUNTIME_API is not set");
            System.exit(2);
        }
        // Line-flushed UTF-8 output: the agent attributes lines to the invocation running when they arrive.
        System.setOut(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.err), true, StandardCharsets.UTF_8));
        ContextLogger logger = ContextLogger.fromEnvironment();
        logger.install();
        RuntimeApiClient api = new RuntimeApiClient(address);
        ObjectMapper mapper = Serialisation.mapper();
        String handlerName = args.length > 0 ? args[0] : System.getenv().getOrDefault("_HANDLER", "");
        String taskRoot = System.getenv().getOrDefault("LAMBDA_TASK_ROOT", System.getProperty("user.dir"));
        Handler handler;
        try {
            handler = Handler.load(taskRoot, handlerName);
        } catch (Throwable error) {
            Throwable reported = error instanceof ExceptionInInitializerError && error.getCause() != null ? error.getCause() : error;
            byte[] document = mapper.writeValueAsBytes(Errors.document(reported));
            report(logger, reported, document);
            api.postInitError(document, null);
            System.exit(1);
            return;
        }
        while (true) {
            RuntimeApiClient.Invocation invocation = api.next();
            String requestId = invocation.header("Lambda-Runtime-Aws-Request-Id");
            String traceId = invocation.header("Lambda-Runtime-Trace-Id");
            logger.setRequestId(requestId);
            if (traceId != null) {
                System.setProperty("com.amazonaws.xray.traceHeader", traceId);
            } else {
                System.clearProperty("com.amazonaws.xray.traceHeader");
            }
            LambdaContext context = new LambdaContext(
                    requestId,
                    invocation.header("Lambda-Runtime-Invoked-Function-Arn"),
                    parseLong(invocation.header("Lambda-Runtime-Deadline-Ms")),
                    identity(mapper, invocation.header("Lambda-Runtime-Cognito-Identity")),
                    clientContext(mapper, invocation.header("Lambda-Runtime-Client-Context")),
                    traceId);
            byte[] response;
            try {
                response = handler.invoke(invocation.body, context);
            } catch (Throwable error) {
                byte[] document = mapper.writeValueAsBytes(Errors.document(error));
                report(logger, error, document);
                flushOutput();
                api.postError(requestId, document, null);
                continue;
            }
            flushOutput(); // a partial line the handler printed belongs to this invocation
            api.postResponse(requestId, response);
        }
    }

    /** A function error's log line: AWS's ERROR record in JSON; the error document on stderr in TEXT. */
    private static void report(ContextLogger logger, Throwable error, byte[] document) {
        if (logger.getLogFormat() == com.amazonaws.services.lambda.runtime.logging.LogFormat.JSON) {
            logger.logError(error);
        } else {
            System.err.println(new String(document, StandardCharsets.UTF_8));
        }
    }

    private static void flushOutput() {
        System.out.flush();
        System.err.flush();
    }

    private static long parseLong(String value) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException | NullPointerException e) {
            return 0;
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> parseObject(ObjectMapper mapper, String json) {
        if (json == null || json.isEmpty()) {
            return null;
        }
        try {
            return mapper.readValue(json, Map.class);
        } catch (Exception e) {
            return null;
        }
    }

    private static CognitoIdentity identity(ObjectMapper mapper, String json) {
        Map<String, Object> fields = parseObject(mapper, json);
        Map<String, Object> values = fields == null ? Map.of() : fields;
        return new CognitoIdentity() {
            @Override
            public String getIdentityId() {
                return (String) values.get("cognitoIdentityId");
            }

            @Override
            public String getIdentityPoolId() {
                return (String) values.get("cognitoIdentityPoolId");
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static ClientContext clientContext(ObjectMapper mapper, String json) {
        Map<String, Object> fields = parseObject(mapper, json);
        if (fields == null) {
            return null;
        }
        Map<String, Object> client = (Map<String, Object>) fields.getOrDefault("client", Map.of());
        return new ClientContext() {
            @Override
            public Client getClient() {
                return new Client() {
                    public String getInstallationId() {
                        return (String) client.get("installation_id");
                    }

                    public String getAppTitle() {
                        return (String) client.get("app_title");
                    }

                    public String getAppVersionName() {
                        return (String) client.get("app_version_name");
                    }

                    public String getAppVersionCode() {
                        return (String) client.get("app_version_code");
                    }

                    public String getAppPackageName() {
                        return (String) client.get("app_package_name");
                    }
                };
            }

            @Override
            public Map<String, String> getCustom() {
                return (Map<String, String>) fields.get("custom");
            }

            @Override
            public Map<String, String> getEnvironment() {
                return (Map<String, String>) fields.get("env");
            }
        };
    }
}

/** Error documents as AWS's Java runtime shapes them. */
final class Errors {
    private Errors() {
    }

    static boolean isRuntimeFrame(String className) {
        return className.startsWith("dev.lambkin.runtime.") || className.startsWith("jdk.internal.reflect.")
                || className.startsWith("java.lang.reflect.");
    }

    static Map<String, Object> document(Throwable error) {
        Map<String, Object> document = new LinkedHashMap<>();
        document.put("errorMessage", error.getMessage());
        document.put("errorType", error.getClass().getName());
        List<String> trace = new ArrayList<>();
        for (StackTraceElement frame : error.getStackTrace()) {
            if (isRuntimeFrame(frame.getClassName())) {
                continue;
            }
            trace.add(frame.toString());
        }
        document.put("stackTrace", trace);
        if (error.getCause() != null && error.getCause() != error) {
            document.put("cause", document(error.getCause()));
        }
        return document;
    }
}
