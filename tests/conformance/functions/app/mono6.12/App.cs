// The conformance app: one operation per event "op" (see tests/conformance/test_runtimes.py),
// compiled with the mono6.12 image's mcs against its Amazon.Lambda.* assemblies.
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Threading;
using Amazon.Lambda.Core;

[assembly: LambdaSerializer(typeof(Amazon.Lambda.Serialization.SystemTextJson.CamelCaseLambdaJsonSerializer))]

namespace Conformance
{
    public class App
    {
        private static readonly double StartedAt =
            (DateTime.UtcNow - new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc)).TotalSeconds;
        private int invocations;

        public object Handle(Dictionary<string, object> input, ILambdaContext context)
        {
            invocations++;
            object op;
            if (input == null || !input.TryGetValue("op", out op)) op = null;
            switch (op as string)
            {
                case "types":
                    // what System.Text.Json makes of .NET's own types
                    return new object[]
                    {
                        1.50m, 'c', new DateTime(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc),
                        new DateTimeOffset(1970, 1, 1, 0, 0, 0, 120, TimeSpan.FromHours(2)),
                        new byte[] { 104, 105 }, null, 7L, DayOfWeek.Monday, TimeSpan.FromSeconds(90),
                    };
                case "context":
                    return new Dictionary<string, object>
                    {
                        { "awsRequestId", context.AwsRequestId },
                        { "functionName", context.FunctionName },
                        { "functionVersion", context.FunctionVersion },
                        { "memoryLimitInMB", context.MemoryLimitInMB.ToString() },
                        { "invokedFunctionArn", context.InvokedFunctionArn },
                        { "logGroupName", context.LogGroupName },
                        { "logStreamName", context.LogStreamName },
                        { "remainingMs", (long)context.RemainingTime.TotalMilliseconds },
                    };
                case "env":
                {
                    var values = new Dictionary<string, object>();
                    foreach (object name in (List<object>)input["names"])
                        values[(string)name] = Environment.GetEnvironmentVariable((string)name);
                    return values;
                }
                case "tmp":
                {
                    string path = Path.Combine("/tmp", (string)input["name"]);
                    File.WriteAllText(path, (string)input["text"], new UTF8Encoding(false));
                    string text = File.ReadAllText(path, Encoding.UTF8);
                    File.Delete(path);
                    return new Dictionary<string, object> { { "text", text } };
                }
                case "count":
                    return new Dictionary<string, object>
                    {
                        { "invocations", invocations },
                        { "pid", Process.GetCurrentProcess().Id },
                        { "startedAt", StartedAt },
                    };
                case "fail":
                    throw new ArgumentException((string)input["message"]);
                case "sleep":
                    Thread.Sleep((int)(Convert.ToDouble(input["seconds"]) * 1000));
                    return "woke up";
                case "exit":
                    Environment.Exit(3);
                    return null;
                case "log":
                    Console.WriteLine("to stdout " + input["marker"]);
                    Console.Error.WriteLine("to stderr " + input["marker"]);
                    return "logged";
                default:
                    return input;
            }
        }
    }
}
