// One record per level through ILambdaLogger, a message template, an exception, and a line of
// Console.WriteLine (tests/integration/test_logging_config_runtimes.py).
using System;
using System.Collections.Generic;
using Amazon.Lambda.Core;

[assembly: LambdaSerializer(typeof(Amazon.Lambda.Serialization.SystemTextJson.DefaultLambdaJsonSerializer))]

namespace Logging
{
    public class Levels
    {
        public string Handle(Dictionary<string, object> input, ILambdaContext context)
        {
            context.Logger.LogTrace("trace record");
            context.Logger.LogDebug("debug record");
            context.Logger.LogInformation("info record");
            context.Logger.LogWarning("warn {what} x{count}", "record", 2);
            context.Logger.LogError(new InvalidOperationException("the fence is down"), "error record");
            context.Logger.LogCritical("critical record");
            Console.WriteLine("printed line");
            return "done";
        }
    }

    public class Product
    {
        public string Name { get; set; }
        public int Inventory { get; set; }
    }

    // Message templates as RuntimeSupport's AbstractLogMessageFormatter reads them.
    public class Templates
    {
        public string Handle(Dictionary<string, object> input, ILambdaContext context)
        {
            var widget = new Product { Name = "Widget", Inventory = 100 };
            context.Logger.LogInformation("positional {1} then {0}", "a", "b");
            context.Logger.LogInformation("count {n:000}", 7);
            context.Logger.LogInformation("bytes {b}", new byte[] { 1, 171 });
            context.Logger.LogInformation("list {items}", new List<int> { 1, 2 });
            context.Logger.LogInformation("product {@product}", widget);
            context.Logger.LogInformation("plain {product}", "Widget 100");
            context.Logger.LogInformation("escaped {{braces}} and {name}", "x");
            context.Logger.LogInformation("fewer {one} {two}", "1");
            context.Logger.Log("Custom", "an unknown level");
            LambdaLogger.Log("static logger");
            context.Logger.Log("written as it is\n");
            return "done";
        }
    }
}
