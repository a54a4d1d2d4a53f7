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
            Logger = new Logger();
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
                return TimeSpan.FromMilliseconds(deadlineMs - now);  // as AWS's: past the deadline, negative
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

        // As AWS's: never null; without the header, an identity whose members are null.
        private static ICognitoIdentity ParseIdentity(string text)
        {
            Dictionary<string, object> map = ParseObject(text);
            if (map == null) return new CognitoIdentity();
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

        // As AWS's: never null; without the header, a client context whose members are null.
        private static IClientContext ParseClientContext(string text)
        {
            Dictionary<string, object> map = ParseObject(text);
            if (map == null) return new ClientContext();
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
}
