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
}
