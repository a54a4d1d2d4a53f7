package dev.lambkin.runtime;

import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import com.amazonaws.services.lambda.runtime.logging.LogFormat;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.factories.GsonFactory;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;

/**
 * The function's {@link LambdaLogger} ({@code context.getLogger()}, {@code LambdaRuntime.getLogger()}),
 * honouring Lambda's advanced logging controls as AWS's Java runtime client (2.10.1) does:
 *
 * <ul>
 *   <li>AWS_LAMBDA_LOG_LEVEL (default UNDEFINED: everything) drops records below it; a record
 *       without a level ({@code log(String)}, UNDEFINED) always passes.
 *   <li>AWS_LAMBDA_LOG_FORMAT=JSON makes each {@code log(String[, level])} one line
 *       {@code {"timestamp","message","level","AWSRequestId"}} (null fields left out, newlines in
 *       the message escaped), serialised by aws-lambda-java-serialization's Gson as AWS's is; the
 *       timestamp is the local clock as {@code yyyy-MM-dd'T'HH:mm:ss.SSS'Z'} (TZ is UTC here).
 *   <li>TEXT (the default): the message as it is, after {@code "[LEVEL] "} when it has a level; no
 *       newline is added.
 *   <li>{@code log(byte[][, level])} is filtered but never formatted. System.out and System.err
 *       are left as they are, in either format.
 * </ul>
 */
public final class ContextLogger implements LambdaLogger {
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'");

    /** One JSON record; Gson writes the fields in this order and leaves out the null ones. */
    static final class Record {
        public String timestamp;
        public String message;
        public LogLevel level;
        public String AWSRequestId;
    }

    private final OutputStream sink;
    private final LogLevel minimum;
    private final LogFormat format;
    private final PojoSerializer<Record> serializer;
    private volatile String requestId;

    public ContextLogger(OutputStream sink, LogLevel minimum, LogFormat format) {
        this.sink = sink;
        this.minimum = minimum;
        this.format = format;
        this.serializer = format == LogFormat.JSON ? GsonFactory.getInstance().getSerializer(Record.class) : null;
    }

    /** The logger the environment asks for, writing to System.out. */
    static ContextLogger fromEnvironment() {
        return new ContextLogger(
                System.out,
                LogLevel.fromString(System.getenv().getOrDefault("AWS_LAMBDA_LOG_LEVEL", "UNDEFINED")),
                LogFormat.fromString(System.getenv().getOrDefault("AWS_LAMBDA_LOG_FORMAT", "TEXT")));
    }

    /** Makes this the logger {@code LambdaRuntime.getLogger()} returns, as AWS's runtime does. */
    void install() throws ReflectiveOperationException {
        java.lang.reflect.Field field = LambdaRuntime.class.getDeclaredField("logger");
        field.setAccessible(true);
        field.set(null, this);
    }

    public LogFormat getLogFormat() {
        return format;
    }

    /** The request id later JSON records carry (the invocation's; it stays until the next one). */
    public void setRequestId(String requestId) {
        this.requestId = requestId;
    }

    @Override
    public void log(String message, LogLevel level) {
        if (enabled(level)) {
            write(format(message, level).getBytes(StandardCharsets.UTF_8));
        }
    }

    @Override
    public void log(byte[] message, LogLevel level) {
        if (enabled(level)) {
            write(message == null ? "null".getBytes(StandardCharsets.UTF_8) : message);
        }
    }

    @Override
    public void log(String message) {
        log(message, LogLevel.UNDEFINED);
    }

    @Override
    public void log(byte[] message) {
        log(message, LogLevel.UNDEFINED);
    }

    /**
     * The runtime's own report of a function error, as AWS's prints it: {@code "<message>: <class>\n<stack
     * trace>\n"} (the class name when there is no message), at ERROR in JSON, without a level in TEXT.
     */
    public void logError(Throwable error) {
        // The runtime's own frames are not the function's (AWS's client drops its own likewise).
        error.setStackTrace(java.util.Arrays.stream(error.getStackTrace())
                .filter(frame -> !Errors.isRuntimeFrame(frame.getClassName()))
                .toArray(StackTraceElement[]::new));
        StringWriter trace = new StringWriter();
        error.printStackTrace(new PrintWriter(trace));
        String type = error.getClass().getName();
        String message = error.getLocalizedMessage() == null ? type : error.getLocalizedMessage();
        String report = String.format("%s: %s\n%s\n", message, type, trace);
        log(report, format == LogFormat.JSON ? LogLevel.ERROR : LogLevel.UNDEFINED);
    }

    private boolean enabled(LogLevel level) {
        return level == LogLevel.UNDEFINED || level.ordinal() >= minimum.ordinal();
    }

    private String format(String message, LogLevel level) {
        if (format == LogFormat.JSON) {
            Record record = new Record();
            record.timestamp = TIMESTAMP.format(LocalDateTime.now());
            record.message = message;
            record.level = level;
            record.AWSRequestId = requestId;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            serializer.toJson(record, out);
            out.write('\n');
            return out.toString(StandardCharsets.UTF_8);
        }
        return level == LogLevel.UNDEFINED ? message : "[" + level + "] " + message;
    }

    private void write(byte[] bytes) {
        try {
            sink.write(bytes);
            sink.flush();
        } catch (IOException e) {
            e.printStackTrace();
        }
    }
}
