// Handlers as a Lambda .NET project writes them, compiled unchanged with mcs against
// Amazon.Lambda.Core and Amazon.Lambda.Serialization.SystemTextJson
// (tests/integration/test_mono_runtime.py).
using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Text;
using System.Threading.Tasks;
using Amazon.Lambda.Core;

[assembly: LambdaSerializer(typeof(Amazon.Lambda.Serialization.SystemTextJson.DefaultLambdaJsonSerializer))]

namespace Example
{
    public class Address
    {
        public string City { get; set; }
        public int Zip { get; set; }
    }

    public class GreetRequest
    {
        public string Name { get; set; }
        public int Times { get; set; }
        public double Score { get; set; }
        public bool Loud { get; set; }
        public List<string> Tags { get; set; }
        public int[] Numbers { get; set; }
        public Dictionary<string, int> Counts { get; set; }
        public Address Home { get; set; }
        public string Missing { get; set; }
        public long? Maybe;
    }

    public class GreetResponse
    {
        public string Message { get; set; }
        public string RequestId { get; set; }
        public string FunctionName { get; set; }
        public int MemoryLimitInMB { get; set; }
        public double RemainingMs { get; set; }
        public string LogGroupName { get; set; }
        public List<string> Tags { get; set; }
        public int Sum { get; set; }
        public Dictionary<string, int> Counts { get; set; }
        public Address Home { get; set; }
        public string Nothing { get; set; }
        public bool MaybeWasNull;
        public double Score;
    }

    public class Function
    {
        private int invocations;

        public GreetResponse Greet(GreetRequest input, ILambdaContext context)
        {
            invocations++;
            context.Logger.LogLine("greeting " + input.Name + " from the logger");
            context.Logger.LogInformation("leveled {count} time(s)", invocations);
            LambdaLogger.Log("static logger line\n");
            string message = string.Concat(Enumerable.Repeat("Hello, " + input.Name + "!", input.Times));
            return new GreetResponse
            {
                Message = input.Loud ? message.ToUpperInvariant() : message,
                RequestId = context.AwsRequestId,
                FunctionName = context.FunctionName,
                MemoryLimitInMB = context.MemoryLimitInMB,
                RemainingMs = context.RemainingTime.TotalMilliseconds,
                LogGroupName = context.LogGroupName,
                Tags = input.Tags.Select(t => t + "!").ToList(),
                Sum = input.Numbers.Sum(),
                Counts = input.Counts,
                Home = input.Home,
                MaybeWasNull = input.Maybe == null && input.Missing == null,
                Score = input.Score * 2,
            };
        }
    }

    public static class Unready
    {
        private static readonly string Setting = Load();

        private static string Load() { throw new InvalidOperationException("no setting"); }

        public static string Handle(string input) { return Setting + input; }
    }

    public class Contexts
    {
        // What the context says of the caller: the client context (mobile SDKs') and identity.
        public Dictionary<string, string> Describe(Dictionary<string, object> input, ILambdaContext context)
        {
            IClientContext client = context.ClientContext;
            return new Dictionary<string, string>
            {
                { "identityId", context.Identity.IdentityId },
                { "appTitle", client.Client == null ? null : client.Client.AppTitle },
                { "custom", client.Custom == null ? null : string.Join(",", client.Custom.Select(p => p.Key + "=" + p.Value)) },
                { "env", client.Environment == null ? null : string.Join(",", client.Environment.Select(p => p.Key + "=" + p.Value)) },
            };
        }
    }

    public static class Strings
    {
        public static string Shout(string input)
        {
            return input.ToUpperInvariant() + " (" + input.Length + ")";
        }

        public static string Ping()
        {
            return "pong";
        }
    }

    public class Streams
    {
        public Stream Reverse(Stream input, ILambdaContext context)
        {
            var buffer = new MemoryStream();
            input.CopyTo(buffer);
            byte[] bytes = buffer.ToArray();
            Array.Reverse(bytes);
            return new MemoryStream(bytes);
        }
    }

    public class SumRequest
    {
        public List<double> Values { get; set; }
    }

    public class SumResult
    {
        public double Total { get; set; }
        public int Count { get; set; }
    }

    public class Async
    {
        public async Task<SumResult> Sum(SumRequest input, ILambdaContext context)
        {
            await Task.Delay(20);
            return new SumResult { Total = input.Values.Sum(), Count = input.Values.Count };
        }

        public async Task Nothing(Dictionary<string, object> input)
        {
            await Task.Delay(1);
        }

        // Task.WhenAll faults with both exceptions; AWS's runtime reports the first, as await does.
        public Task BothFail(string input)
        {
            return Task.WhenAll(
                Task.Run(() => { throw new ArgumentException("first: " + input); }),
                Task.Delay(20).ContinueWith(t => { throw new FormatException("second: " + input); }));
        }

        public async Task<string> FailLater(string input)
        {
            await Task.Delay(5);
            throw new ArgumentException("async failure: " + input);
        }
    }

    public class Thrower
    {
        public string Fail(Dictionary<string, object> input, ILambdaContext context)
        {
            try
            {
                throw new FormatException("the inner cause");
            }
            catch (FormatException inner)
            {
                throw new InvalidOperationException("the fence is down: " + input["why"], inner);
            }
        }

        // An error document over 256 KB: the inner one first gives way, then the whole.
        public string Huge(int kilobytes)
        {
            var inner = new FormatException(new string('i', kilobytes * 1024));
            throw new InvalidOperationException("outer " + kilobytes, inner);
        }

        public string HugeOuter(int kilobytes)
        {
            throw new InvalidOperationException(new string('o', kilobytes * 1024));
        }

        public string Many(string input)
        {
            var errors = new List<Exception>();
            foreach (string why in new[] { "left", "right" })
            {
                try { throw new KeyNotFoundException(why + " " + input); }
                catch (KeyNotFoundException e) { errors.Add(e); }
            }
            throw new AggregateException("both sides", errors);
        }
    }
}
