// A handler whose construction fails: the runtime makes its instance during init.
using System;
using System.Collections.Generic;
using Amazon.Lambda.Core;

[assembly: LambdaSerializer(typeof(Amazon.Lambda.Serialization.SystemTextJson.CamelCaseLambdaJsonSerializer))]

namespace Conformance
{
    public class App
    {
        public App()
        {
            throw new InvalidOperationException("configuration missing at construction");
        }

        public string Handle(Dictionary<string, object> input, ILambdaContext context)
        {
            return "never";
        }
    }
}
