// Amazon.Lambda.Serialization.SystemTextJson, as AWS's names it: property names as declared
// (camelCase for CamelCaseLambdaJsonSerializer), matched ignoring case when reading, null
// members left out when writing (AWS's options: WhenWritingNull).
using System.IO;
using Amazon.Lambda.Core;
using Lambkin.Json;

namespace Amazon.Lambda.Serialization.SystemTextJson
{
    public class DefaultLambdaJsonSerializer : ILambdaSerializer
    {
        private readonly JsonOptions options;

        public DefaultLambdaJsonSerializer() : this(false) { }

        protected DefaultLambdaJsonSerializer(bool camelCase)
        {
            options = new JsonOptions(false, camelCase);
        }

        public T Deserialize<T>(Stream requestStream)
        {
            return JsonCodec.Deserialize<T>(requestStream);
        }

        public void Serialize<T>(T response, Stream responseStream)
        {
            JsonCodec.Serialize(response, responseStream, options);
        }
    }

    // The older name of the same serializer.
    public class LambdaJsonSerializer : DefaultLambdaJsonSerializer { }

    public class CamelCaseLambdaJsonSerializer : DefaultLambdaJsonSerializer
    {
        public CamelCaseLambdaJsonSerializer() : base(true) { }
    }
}
