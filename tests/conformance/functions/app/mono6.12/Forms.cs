// The .NET handler forms (tests/conformance/variants.py, mono6.12's forms): a POCO in and out,
// a Stream in and out, an async Task<T>, a private method, and overloads (refused).
using System.Collections.Generic;
using System.IO;
using System.Text;
using System.Threading.Tasks;
using Amazon.Lambda.Core;

namespace Conformance
{
    public class GreetRequest
    {
        public string Name { get; set; }
        public int Times { get; set; }
    }

    public class Greeting
    {
        public string Message { get; set; }
        public string RequestId { get; set; }
    }

    public class Greeter
    {
        public Greeting Greet(GreetRequest request, ILambdaContext context)
        {
            var message = new StringBuilder("Hello, " + request.Name);
            message.Append('!', request.Times);
            return new Greeting { Message = message.ToString(), RequestId = context.AwsRequestId };
        }
    }

    public static class Shouter
    {
        // the raw event, upper-cased: no serializer in between
        public static Stream Shout(Stream input)
        {
            string text = new StreamReader(input, Encoding.UTF8).ReadToEnd();
            return new MemoryStream(Encoding.UTF8.GetBytes(text.ToUpperInvariant()));
        }
    }

    public class Later
    {
        public async Task<Dictionary<string, object>> Echo(Dictionary<string, object> input, ILambdaContext context)
        {
            await Task.Delay(10);
            input["awaited"] = true;
            return input;
        }
    }

    public class Hidden
    {
        // RuntimeSupport looks among non-public methods too
        private Dictionary<string, object> Secret(Dictionary<string, object> input)
        {
            input["private"] = true;
            return input;
        }
    }

    public class Overloaded
    {
        public string Run(string input) { return input; }
        public string Run(string input, ILambdaContext context) { return input; }
    }
}
