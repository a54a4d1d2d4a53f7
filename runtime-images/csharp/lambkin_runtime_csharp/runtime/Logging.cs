// Where the function's log lines go, as Amazon.Lambda.RuntimeSupport sends them
// (Helpers/ConsoleLoggerWriter.cs, LogLevelLoggerWriter): one writer for the context's logger,
// the static LambdaLogger and the console. Console.WriteLine is a log record too, at Information
// (on stdout) or Error (on stderr), filtered and formatted like the logger's; Console.Write is
// written as it is. The minimum level comes from AWS_LAMBDA_HANDLER_LOG_LEVEL or
// AWS_LAMBDA_LOG_LEVEL (Lambda's FATAL is Critical, WARN Warning; Information by default), the
// format from AWS_LAMBDA_HANDLER_LOG_FORMAT or AWS_LAMBDA_LOG_FORMAT (Default, Unformatted or
// Json). A level that is not one of the six is never filtered.
using System;
using System.IO;
using System.Reflection;
using System.Text;
using Amazon.Lambda.Core;

namespace Lambkin.Runtime
{
    internal sealed class LogWriter
    {
        private readonly object gate = new object();
        private readonly Level minimum;
        private readonly LogFormatType format;
        private volatile string requestId;
        private volatile string traceId;

        public LogWriter(Func<string, string> environment)
        {
            minimum = MinimumLevel(Setting(environment, "AWS_LAMBDA_HANDLER_LOG_LEVEL", "AWS_LAMBDA_LOG_LEVEL"));
            LogFormatType parsed;
            string formatName = Setting(environment, "AWS_LAMBDA_HANDLER_LOG_FORMAT", "AWS_LAMBDA_LOG_FORMAT");
            format = formatName != null && Enum.TryParse(formatName, true, out parsed) ? parsed : LogFormatType.Default;
        }

        private static string Setting(Func<string, string> environment, string name, string fallback)
        {
            string value = environment(name);
            return string.IsNullOrEmpty(value) ? environment(fallback) : value;
        }

        public static Level MinimumLevel(string name)
        {
            if (string.IsNullOrEmpty(name)) return Level.Information;
            if (string.Equals(name, "fatal", StringComparison.OrdinalIgnoreCase)) return Level.Critical;
            if (string.Equals(name, "warn", StringComparison.OrdinalIgnoreCase)) return Level.Warning;
            Level level;
            return Enum.TryParse(name, true, out level) ? level : Level.Information;  // INFO too
        }

        // The invocation whose request id (and trace id) the lines carry from now on.
        public void Begin(string awsRequestId, string awsTraceId)
        {
            requestId = awsRequestId;
            traceId = awsTraceId;
        }

        public void WriteLine(TextWriter output, string level, Exception exception, string template, object[] args)
        {
            Level parsed;
            // AWS's: a level that does not parse (null too) reads as Trace, and is not filtered
            if (!Enum.TryParse(level ?? "", true, out parsed)) parsed = Level.Trace;
            else if (parsed < minimum) return;
            var entry = new LogEntry
            {
                Time = DateTime.UtcNow,
                Level = parsed,
                RequestId = requestId,
                TraceId = traceId,
                Template = template ?? "",
                Args = args,
                Exception = exception,
            };
            string line = LogFormatter.Format(format, entry);
            lock (gate)
            {
                output.WriteLine(line);
                output.Flush();
            }
        }

        public void Write(TextWriter output, string text)
        {
            lock (gate)
            {
                output.Write(text);
                output.Flush();
            }
        }
    }

    // The console, once the runtime takes it over: each WriteLine a log record at the stream's
    // level, everything else written through.
    internal sealed class ConsoleRedirect : TextWriter
    {
        private readonly LogWriter writer;
        private readonly TextWriter inner;
        private readonly string level;

        public ConsoleRedirect(LogWriter writer, TextWriter inner, string level)
        {
            this.writer = writer;
            this.inner = inner;
            this.level = level;
        }

        public TextWriter Inner { get { return inner; } }
        public override Encoding Encoding { get { return inner.Encoding; } }
        public override IFormatProvider FormatProvider { get { return inner.FormatProvider; } }
        public override void Flush() { inner.Flush(); }

        private void Line(string text) { writer.WriteLine(inner, level, null, text, null); }

        public override void Write(char value) { writer.Write(inner, value.ToString()); }
        public override void Write(string value) { writer.Write(inner, value); }
        public override void Write(char[] buffer, int index, int count) { writer.Write(inner, new string(buffer, index, count)); }

        public override void WriteLine() { Line(""); }
        public override void WriteLine(string value) { Line(value); }
        public override void WriteLine(object value) { Line(value == null ? "" : value.ToString()); }
        public override void WriteLine(char[] buffer) { Line(buffer == null ? "" : new string(buffer)); }
        public override void WriteLine(char[] buffer, int index, int count) { Line(new string(buffer, index, count)); }
        public override void WriteLine(char value) { Line(value.ToString()); }
        public override void WriteLine(bool value) { Line(value.ToString()); }
        public override void WriteLine(int value) { Line(value.ToString(FormatProvider)); }
        public override void WriteLine(uint value) { Line(value.ToString(FormatProvider)); }
        public override void WriteLine(long value) { Line(value.ToString(FormatProvider)); }
        public override void WriteLine(ulong value) { Line(value.ToString(FormatProvider)); }
        public override void WriteLine(float value) { Line(value.ToString(FormatProvider)); }
        public override void WriteLine(double value) { Line(value.ToString(FormatProvider)); }
        public override void WriteLine(decimal value) { Line(value.ToString(FormatProvider)); }
        public override void WriteLine(string format, object arg0) { Line(string.Format(format, arg0)); }
        public override void WriteLine(string format, object arg0, object arg1) { Line(string.Format(format, arg0, arg1)); }
        public override void WriteLine(string format, object arg0, object arg1, object arg2) { Line(string.Format(format, arg0, arg1, arg2)); }
        public override void WriteLine(string format, params object[] arg) { Line(string.Format(format, arg)); }
    }

    internal static class Logs
    {
        public static LogWriter Writer { get; private set; }
        private static TextWriter stdout;

        // Takes over the console and Amazon.Lambda.Core's static LambdaLogger.
        public static void Install()
        {
            Writer = new LogWriter(Environment.GetEnvironmentVariable);
            stdout = Console.Out;
            Console.SetOut(new ConsoleRedirect(Writer, stdout, "Information"));
            Console.SetError(new ConsoleRedirect(Writer, Console.Error, "Error"));
            Set("_loggingAction", new Action<string>(message => Line(null, null, message, null)));
            Set("_loggingWithLevelAction", new Action<string, string, object[]>((level, message, args) => Line(level, null, message, args)));
            Set("_loggingWithLevelAndExceptionAction", new Action<string, Exception, string, object[]>(Line));
        }

        private static void Set(string field, object action)
        {
            FieldInfo info = typeof(LambdaLogger).GetField(field, BindingFlags.NonPublic | BindingFlags.Static);
            if (info != null) info.SetValue(null, action);
        }

        public static void Line(string level, Exception exception, string template, object[] args)
        {
            Writer.WriteLine(stdout, level, exception, template, args);
        }

        public static void Write(string text)
        {
            Writer.Write(stdout, text);
        }
    }

    // The context's ILambdaLogger, as RuntimeSupport's LambdaConsoleLogger: Log(message) is
    // Console.Write, LogLine a record at Information, the rest records at their level.
    internal sealed class Logger : ILambdaLogger
    {
        public void Log(string message) { Logs.Write(message); }
        public void LogLine(string message) { Logs.Line("Information", null, message, null); }
        public void Log(string level, string message) { Logs.Line(level, null, message, null); }
        public void Log(LogLevel level, string message) { Log(level.ToString(), message); }
        public void Log(string level, string message, params object[] args) { Logs.Line(level, null, message, args); }
        public void Log(LogLevel level, string message, params object[] args) { Log(level.ToString(), message, args); }
        public void Log(string level, Exception exception, string message, params object[] args) { Logs.Line(level, exception, message, args); }
        public void Log(LogLevel level, Exception exception, string message, params object[] args) { Log(level.ToString(), exception, message, args); }

        public void LogTrace(string message) { Log(LogLevel.Trace, message); }
        public void LogDebug(string message) { Log(LogLevel.Debug, message); }
        public void LogInformation(string message) { Log(LogLevel.Information, message); }
        public void LogWarning(string message) { Log(LogLevel.Warning, message); }
        public void LogError(string message) { Log(LogLevel.Error, message); }
        public void LogCritical(string message) { Log(LogLevel.Critical, message); }
        public void LogTrace(string message, params object[] args) { Log(LogLevel.Trace, message, args); }
        public void LogDebug(string message, params object[] args) { Log(LogLevel.Debug, message, args); }
        public void LogInformation(string message, params object[] args) { Log(LogLevel.Information, message, args); }
        public void LogWarning(string message, params object[] args) { Log(LogLevel.Warning, message, args); }
        public void LogError(string message, params object[] args) { Log(LogLevel.Error, message, args); }
        public void LogCritical(string message, params object[] args) { Log(LogLevel.Critical, message, args); }
        public void LogTrace(Exception e, string message, params object[] args) { Log(LogLevel.Trace, e, message, args); }
        public void LogDebug(Exception e, string message, params object[] args) { Log(LogLevel.Debug, e, message, args); }
        public void LogInformation(Exception e, string message, params object[] args) { Log(LogLevel.Information, e, message, args); }
        public void LogWarning(Exception e, string message, params object[] args) { Log(LogLevel.Warning, e, message, args); }
        public void LogError(Exception e, string message, params object[] args) { Log(LogLevel.Error, e, message, args); }
        public void LogCritical(Exception e, string message, params object[] args) { Log(LogLevel.Critical, e, message, args); }
    }
}
