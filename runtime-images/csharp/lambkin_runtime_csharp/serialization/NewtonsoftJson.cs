// Amazon.Lambda.Serialization.Json (AWS's Json.NET serializer), as AWS's names it: property
// names as declared, matched ignoring case when reading; null members written, as Json.NET's
// defaults do.
using System.IO;
using Amazon.Lambda.Core;
using Lambkin.Json;

namespace Amazon.Lambda.Serialization.Json
{
    public class JsonSerializer : ILambdaSerializer
    {
        private readonly JsonOptions options = new JsonOptions(true, false);

        public T Deserialize<T>(Stream requestStream)
        {
            return JsonCodec.Deserialize<T>(requestStream);
        }

        public void Serialize<T>(T response, Stream responseStream)
        {
            JsonCodec.Serialize(response, responseStream, options);
        }
    }
}
