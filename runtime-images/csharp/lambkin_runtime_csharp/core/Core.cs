// Amazon.Lambda.Core for Mono: the interfaces and attributes of AWS's Amazon.Lambda.Core package,
// with the same names, so that handler code written for Lambda's .NET runtimes compiles
// unchanged with mcs against this assembly. mcs has no default interface methods (C# 8), so the
// leveled logging methods that AWS's ILambdaLogger gives by default are plain members here,
// implemented by the runtime's logger.
using System;
using System.Collections.Generic;
using System.IO;

namespace Amazon.Lambda.Core
{
    public interface ICognitoIdentity
    {
        string IdentityId { get; }
        string IdentityPoolId { get; }
    }

    public interface IClientApplication
    {
        string AppPackageName { get; }
        string AppTitle { get; }
        string AppVersionCode { get; }
        string AppVersionName { get; }
        string InstallationId { get; }
    }

    public interface IClientContext
    {
        IDictionary<string, string> Environment { get; }
        IClientApplication Client { get; }
        IDictionary<string, string> Custom { get; }
    }

    public enum LogLevel
    {
        Trace = 0,
        Debug = 1,
        Information = 2,
        Warning = 3,
        Error = 4,
        Critical = 5,
    }

    public interface ILambdaLogger
    {
        void Log(string message);
        void LogLine(string message);
        void Log(string level, string message);
        void Log(LogLevel level, string message);
        void Log(string level, string message, params object[] args);
        void Log(LogLevel level, string message, params object[] args);
        void Log(string level, Exception exception, string message, params object[] args);
        void Log(LogLevel level, Exception exception, string message, params object[] args);
        void LogTrace(string message);
        void LogDebug(string message);
        void LogInformation(string message);
        void LogWarning(string message);
        void LogError(string message);
        void LogCritical(string message);
        void LogTrace(string message, params object[] args);
        void LogDebug(string message, params object[] args);
        void LogInformation(string message, params object[] args);
        void LogWarning(string message, params object[] args);
        void LogError(string message, params object[] args);
        void LogCritical(string message, params object[] args);
        void LogTrace(Exception exception, string message, params object[] args);
        void LogDebug(Exception exception, string message, params object[] args);
        void LogInformation(Exception exception, string message, params object[] args);
        void LogWarning(Exception exception, string message, params object[] args);
        void LogError(Exception exception, string message, params object[] args);
        void LogCritical(Exception exception, string message, params object[] args);
    }

    public interface ILambdaContext
    {
        string AwsRequestId { get; }
        IClientContext ClientContext { get; }
        string FunctionName { get; }
        string FunctionVersion { get; }
        ICognitoIdentity Identity { get; }
        string InvokedFunctionArn { get; }
        ILambdaLogger Logger { get; }
        string LogGroupName { get; }
        string LogStreamName { get; }
        int MemoryLimitInMB { get; }
        TimeSpan RemainingTime { get; }
    }

    public interface ILambdaSerializer
    {
        T Deserialize<T>(Stream requestStream);
        void Serialize<T>(T response, Stream responseStream);
    }

    // On the assembly or on the handler method, as AWS's: the runtime makes one instance of
    // SerializerType and converts the event and the result with it.
    [AttributeUsage(AttributeTargets.Assembly | AttributeTargets.Method, AllowMultiple = false)]
    public sealed class LambdaSerializerAttribute : Attribute
    {
        public LambdaSerializerAttribute(Type serializerType)
        {
            SerializerType = serializerType;
        }

        public Type SerializerType { get; set; }
    }

    // Static logging for code without a context, as AWS's: the runtime replaces these private
    // fields (by reflection, as Amazon.Lambda.RuntimeSupport does) with its own log writer, so a
    // message is filtered by AWS_LAMBDA_LOG_LEVEL and formatted (Text or JSON) like the context
    // logger's. Without a runtime (a unit test of the function) they write to the console.
    public static class LambdaLogger
    {
        private static Action<string> _loggingAction = message => Console.WriteLine(message);

        private static Action<string, string, object[]> _loggingWithLevelAction =
            (level, message, args) => Console.WriteLine(level + ": " + message);

        private static Action<string, Exception, string, object[]> _loggingWithLevelAndExceptionAction =
            (level, exception, message, args) =>
            {
                Console.WriteLine(level + ": " + message);
                Console.WriteLine(exception);
            };

        public static void Log(string message)
        {
            _loggingAction(message);
        }

        public static void Log(string level, string message, params object[] args)
        {
            _loggingWithLevelAction(level, message, args);
        }

        public static void Log(LogLevel level, string message, params object[] args)
        {
            Log(level.ToString(), message, args);
        }

        public static void Log(string level, Exception exception, string message, params object[] args)
        {
            _loggingWithLevelAndExceptionAction(level, exception, message, args);
        }

        public static void Log(LogLevel level, Exception exception, string message, params object[] args)
        {
            Log(level.ToString(), exception, message, args);
        }
    }
}
