// The client of the Lambda Runtime API (2018-06-01) at $AWS_LAMBDA_RUNTIME_API: no proxy (a
// function's HTTP_PROXY is not for the sandbox's own API), no timeout on the long poll, and no
// "Expect: 100-continue" round trip before each result.
using System;
using System.Collections.Generic;
using System.IO;
using System.Net;
using System.Text;

namespace Lambkin.Runtime
{
    internal sealed class Invocation
    {
        public string RequestId;
        public Dictionary<string, string> Headers;
        public byte[] Body;

        public string Header(string name)
        {
            string value;
            return Headers.TryGetValue(name.ToLowerInvariant(), out value) && value.Length > 0 ? value : null;
        }
    }

    internal sealed class RuntimeApi
    {
        public const string ErrorTypeHeader = "Lambda-Runtime-Function-Error-Type";
        private readonly string prefix;

        public RuntimeApi(string address)
        {
            prefix = "http://" + address + "/2018-06-01/runtime";
            ServicePointManager.Expect100Continue = false;
            ServicePointManager.UseNagleAlgorithm = false;
            ServicePointManager.DefaultConnectionLimit = 4;
        }

        public Invocation Next()
        {
            HttpWebRequest request = Create("/invocation/next", "GET");
            using (var response = (HttpWebResponse)request.GetResponse())
            {
                if ((int)response.StatusCode != 200)
                    throw new InvalidOperationException("GET /invocation/next: status " + (int)response.StatusCode);
                var headers = new Dictionary<string, string>();
                foreach (string name in response.Headers.AllKeys)
                    headers[name.ToLowerInvariant()] = response.Headers[name];
                var invocation = new Invocation { Headers = headers, Body = ReadAll(response.GetResponseStream()) };
                invocation.RequestId = invocation.Header("Lambda-Runtime-Aws-Request-Id");
                return invocation;
            }
        }

        public void PostResponse(string requestId, byte[] body)
        {
            Post("/invocation/" + requestId + "/response", body, null);
        }

        public void PostError(string requestId, string document, string errorType)
        {
            Post("/invocation/" + requestId + "/error", Encoding.UTF8.GetBytes(document), errorType);
        }

        public void PostInitError(string document, string errorType)
        {
            Post("/init/error", Encoding.UTF8.GetBytes(document), errorType);
        }

        private HttpWebRequest Create(string path, string method)
        {
            var request = (HttpWebRequest)WebRequest.Create(prefix + path);
            request.Method = method;
            request.Proxy = null;
            request.KeepAlive = true;
            request.Timeout = System.Threading.Timeout.Infinite;
            request.ReadWriteTimeout = System.Threading.Timeout.Infinite;
            return request;
        }

        private void Post(string path, byte[] body, string errorType)
        {
            HttpWebRequest request = Create(path, "POST");
            request.ContentType = "application/json";
            if (errorType != null) request.Headers[ErrorTypeHeader] = errorType;
            request.ContentLength = body.Length;
            using (Stream stream = request.GetRequestStream())
                stream.Write(body, 0, body.Length);
            try
            {
                using (var response = (HttpWebResponse)request.GetResponse())
                    ReadAll(response.GetResponseStream());
            }
            catch (WebException exc)
            {
                // A refused result (a second response, a body over 6 MB) is the agent's to report;
                // the runtime only says so and goes on to the next invocation.
                var response = exc.Response as HttpWebResponse;
                if (response == null) throw;
                string text = Encoding.UTF8.GetString(ReadAll(response.GetResponseStream()));
                Console.Error.WriteLine("[ERROR] Runtime API refused the result: POST {0}: {1} {2}",
                    path, (int)response.StatusCode, text.Length > 300 ? text.Substring(0, 300) : text);
                response.Close();
            }
        }

        private static byte[] ReadAll(Stream stream)
        {
            using (stream)
            using (var buffer = new MemoryStream())
            {
                stream.CopyTo(buffer);
                return buffer.ToArray();
            }
        }
    }
}
