// The context and logger a handler receives, filled from the invocation's headers and the
// sandbox's environment as AWS's .NET runtime fills them.
using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Amazon.Lambda.Core;
using Lambkin.Json;

namespace Lambkin.Runtime
{
    internal sealed class CognitoIdentity : ICognitoIdentity
    {
        public string IdentityId { get; set; }
        public string IdentityPoolId { get; set; }
    }

    internal sealed class ClientApplication : IClientApplication
    {
        public string AppPackageName { get; set; }
        public string AppTitle { get; set; }
        public string AppVersionCode { get; set; }
        public string AppVersionName { get; set; }
        public string InstallationId { get; set; }
    }

    internal sealed class ClientContext : IClientContext
    {
        public IDictionary<string, string> Environment { get; set; }
        public IClientApplication Client { get; set; }
        public IDictionary<string, string> Custom { get; set; }
    }

    internal sealed class LambdaContext : ILambdaContext
    {
        private readonly long deadlineMs;

        public LambdaContext(Invocation invocation)
        {
            AwsRequestId = invocation.RequestId;
            InvokedFunctionArn = invocation.Header("Lambda-Runtime-Invoked-Function-Arn");
            long.TryParse(invocation.Header("Lambda-Runtime-Deadline-Ms"), NumberStyles.Integer,
                CultureInfo.InvariantCulture, out deadlineMs);
            FunctionName = System.Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_NAME");
            FunctionVersion = System.Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_VERSION");
            LogGroupName = System.Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_GROUP_NAME");
            LogStreamName = System.Environment.GetEnvironmentVariable("AWS_LAMBDA_LOG_STREAM_NAME");
            int memory;
            int.TryParse(System.Environment.GetEnvironmentVariable("AWS_LAMBDA_FUNCTION_MEMORY_SIZE"),
                NumberStyles.Integer, CultureInfo.InvariantCulture, out memory);
            MemoryLimitInMB = memory;
            Identity = ParseIdentity(invocation.Header("Lambda-Runtime-Cognito-Identity"));
            ClientContext = ParseClientContext(invocation.Header("Lambda-Runtime-Client-Context"));
            Logger = new Logger(AwsRequestId);
        }

        public string AwsRequestId { get; private set; }
        public IClientContext ClientContext { get; private set; }
        public string FunctionName { get; private set; }
        public string FunctionVersion { get; private set; }
        public ICognitoIdentity Identity { get; private set; }
        public string InvokedFunctionArn { get; private set; }
        public ILambdaLogger Logger { get; private set; }
        public string LogGroupName { get; private set; }
        public string LogStreamName { get; private set; }
        public int MemoryLimitInMB { get; private set; }

        public TimeSpan RemainingTime
        {
            get
            {
                long now = (long)(DateTime.UtcNow - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalMilliseconds;
                return TimeSpan.FromMilliseconds(Math.Max(deadlineMs - now, 0));
            }
        }

        private static Dictionary<string, object> ParseObject(string text)
        {
            if (text == null) return null;
            try { return JsonCodec.Parse(text) as Dictionary<string, object>; }
            catch (JsonException) { return null; }
        }

        private static string Text(Dictionary<string, object> map, string name)
        {
            object value;
            return map != null && map.TryGetValue(name, out value) && value != null ? value.ToString() : null;
        }

        private static ICognitoIdentity ParseIdentity(string text)
        {
            Dictionary<string, object> map = ParseObject(text);
            if (map == null) return null;
            return new CognitoIdentity
            {
                IdentityId = Text(map, "cognitoIdentityId") ?? Text(map, "identityId"),
                IdentityPoolId = Text(map, "cognitoIdentityPoolId") ?? Text(map, "identityPoolId"),
            };
        }

        private static IDictionary<string, string> Strings(Dictionary<string, object> map, string name)
        {
            object value;
            var inner = map.TryGetValue(name, out value) ? value as Dictionary<string, object> : null;
            if (inner == null) return null;
            var result = new Dictionary<string, string>();
            foreach (var pair in inner) result[pair.Key] = pair.Value == null ? null : pair.Value.ToString();
            return result;
        }

        private static IClientContext ParseClientContext(string text)
        {
            Dictionary<string, object> map = ParseObject(text);
            if (map == null) return null;
            object client;
            var app = map.TryGetValue("client", out client) ? client as Dictionary<string, object> : null;
            return new ClientContext
            {
                Environment = Strings(map, "env"),
                Custom = Strings(map, "custom"),
                Client = app == null ? null : new ClientApplication
                {
                    AppPackageName = Text(app, "app_package_name"),
                    AppTitle = Text(app, "app_title"),
                    AppVersionCode = Text(app, "app_version_code"),
                    AppVersionName = Text(app, "app_version_name"),
                    InstallationId = Text(app, "installation_id"),
                },
            };
        }
    }

    // Log and LogLine write the message as it is; the leveled methods write AWS's .NET text
    // format, "<UTC time>\t<request id>\t<level>\t<message>", with the template's placeholders
    // ("{0}" or "{name}") filled from the arguments in order.
    internal sealed class Logger : ILambdaLogger
    {
        private static readonly string[] LevelNames = { "trce", "dbug", "info", "warn", "fail", "crit", "none" };
        private readonly string requestId;

        public Logger(string requestId) { this.requestId = requestId; }

        public void Log(string message) { Write(message); }
        public void LogLine(string message) { Write(message + "\n"); }
        public void Log(string level, string message) { Log(level, null, message, new object[0]); }
        public void Log(LogLevel level, string message) { Log(level, null, message, new object[0]); }
        public void Log(string level, string message, params object[] args) { Log(level, null, message, args); }
        public void Log(LogLevel level, string message, params object[] args) { Log(level, null, message, args); }

        public void Log(string level, Exception exception, string message, params object[] args)
        {
            LogLevel parsed;
            if (!Enum.TryParse(level, true, out parsed)) parsed = LogLevel.Information;
            Log(parsed, exception, message, args);
        }

        public void Log(LogLevel level, Exception exception, string message, params object[] args)
        {
            if (level == LogLevel.None) return;
            string text = Format(message, args);
            if (exception != null) text += "\n" + exception;
            string time = DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
            Write(string.Format("{0}\t{1}\t{2}\t{3}\n", time, requestId, LevelNames[(int)level], text));
        }

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

        private static string Format(string message, object[] args)
        {
            if (message == null || args == null || args.Length == 0) return message;
            var sb = new StringBuilder();
            int next = 0;
            for (int i = 0; i < message.Length; i++)
            {
                int close = message[i] == '{' ? message.IndexOf('}', i) : -1;
                if (close < 0 || next >= args.Length) { sb.Append(message[i]); continue; }
                sb.Append(Convert.ToString(args[next++], CultureInfo.InvariantCulture));
                i = close;
            }
            return sb.ToString();
        }

        private static void Write(string text)
        {
            Console.Out.Write(text);
            Console.Out.Flush();
        }
    }
}
