import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.logging.LogFormat;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;

/**
 * Drives one Java runtime client's function logger through the same calls, on stdout:
 *   java -cp HARNESS:JARS LogHarness ric|lambkin FORMAT LEVEL
 * ric: AWS's LambdaContextLogger over its StdOutLogSink, its function-error line from UserFault;
 * lambkin: our dev.lambkin.runtime.ContextLogger. Reached by reflection, so this compiles against
 * aws-lambda-java-core alone. The test compares the two outputs.
 */
public final class LogHarness {
    interface Impl {
        LambdaLogger logger();
        void setRequestId(String id) throws Exception;
        void logError(Throwable error) throws Exception;
    }

    public static void main(String[] args) throws Exception {
        LogLevel level = LogLevel.fromString(args[2]);
        LogFormat format = LogFormat.fromString(args[1]);
        Impl impl = args[0].equals("ric") ? ric(level, format) : lambkin(level, format);
        LambdaLogger log = impl.logger();
        log.log("before any invocation\n", LogLevel.INFO);
        impl.setRequestId("request-1");
        log.log("no level");
        log.log("\n");
        for (LogLevel each : LogLevel.values()) {
            log.log("at " + each + "\n", each);
        }
        log.log("line one\nline two\r\n\ttabbed", LogLevel.WARN);
        log.log("quote \" backslash \\ <html> & 'apos' = ünïcødé € \u0001 \u2028", LogLevel.ERROR);
        log.log("", LogLevel.FATAL);
        log.log("bytes at warn\n".getBytes(StandardCharsets.UTF_8), LogLevel.WARN);
        log.log("bytes at debug\n".getBytes(StandardCharsets.UTF_8), LogLevel.DEBUG);
        log.log("bytes without level\n".getBytes(StandardCharsets.UTF_8));
        System.out.println("plain System.out line");
        System.out.flush();
        impl.setRequestId("request-2");
        log.log("second invocation\n", LogLevel.FATAL);
        impl.logError(new IllegalStateException("it broke\nbadly", new RuntimeException("the cause")));
        impl.logError(new RuntimeException());
        System.out.flush();
    }

    static Impl ric(LogLevel level, LogFormat format) throws Exception {
        String pkg = "com.amazonaws.services.lambda.runtime.api.client.";
        Class<?> sinkType = Class.forName(pkg + "logging.LogSink");
        Object sink = Class.forName(pkg + "logging.StdOutLogSink").getConstructor().newInstance();
        Class<?> loggerType = Class.forName(pkg + "logging.LambdaContextLogger");
        LambdaLogger logger = (LambdaLogger) loggerType
                .getConstructor(sinkType, LogLevel.class, LogFormat.class).newInstance(sink, level, format);
        Class<?> contextType = Class.forName(pkg + "api.LambdaContext");
        Constructor<?> contextNew = contextType.getConstructor(int.class, long.class, String.class, String.class,
                String.class, String.class, com.amazonaws.services.lambda.runtime.CognitoIdentity.class, String.class,
                String.class, String.class, String.class, com.amazonaws.services.lambda.runtime.ClientContext.class);
        Method setContext = loggerType.getMethod("setLambdaContext", contextType);
        Class<?> faultType = Class.forName(pkg + "UserFault");
        return new Impl() {
            public LambdaLogger logger() {
                return logger;
            }

            public void setRequestId(String id) throws Exception {
                Object[] values = new Object[contextNew.getParameterCount()];
                Class<?>[] types = contextNew.getParameterTypes();
                for (int i = 0; i < values.length; i++) {
                    values[i] = types[i] == int.class ? (Object) 128 : types[i] == long.class ? (Object) 0L : null;
                }
                values[2] = id; // (memoryLimit, deadlineMs, requestId, ...; tenantId null)
                setContext.invoke(logger, contextNew.newInstance(values));
            }

            public void logError(Throwable error) throws Exception {
                faultType.getMethod("filterStackTrace", Throwable.class).invoke(null, error);
                Object fault = faultType.getMethod("makeUserFault", Throwable.class).invoke(null, error);
                String report = (String) faultType.getMethod("reportableError").invoke(fault);
                logger.log(report, format == LogFormat.JSON ? LogLevel.ERROR : LogLevel.UNDEFINED);
            }
        };
    }

    static Impl lambkin(LogLevel level, LogFormat format) throws Exception {
        Class<?> type = Class.forName("dev.lambkin.runtime.ContextLogger");
        Object logger = type.getConstructor(java.io.OutputStream.class, LogLevel.class, LogFormat.class)
                .newInstance(System.out, level, format);
        return new Impl() {
            public LambdaLogger logger() {
                return (LambdaLogger) logger;
            }

            public void setRequestId(String id) throws Exception {
                type.getMethod("setRequestId", String.class).invoke(logger, id);
            }

            public void logError(Throwable error) throws Exception {
                type.getMethod("logError", Throwable.class).invoke(logger, error);
            }
        };
    }
}
