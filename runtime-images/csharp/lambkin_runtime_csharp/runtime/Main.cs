// Lambkin's .NET runtime client on Mono: `mono /var/runtime/build/LambkinRuntime.exe`, the
// handler from _HANDLER (or the first argument). It loads the handler once (an error there goes
// to /init/error and ends the process), then takes invocations one at a time from the Runtime
// API. Errors are documented as AWS's .NET runtime documents them: {"errorType": the exception's
// short type name, "errorMessage", "stackTrace": [frames], "cause": the inner exception}.
using System;
using System.Collections.Generic;
using System.IO;
using System.Reflection;
using System.Text;
using Amazon.Lambda.Core;
using Lambkin.Json;

namespace Lambkin.Runtime
{
    internal static class Program
    {
        private static int Main(string[] argv)
        {
            string address = Environment.GetEnvironmentVariable("AWS_LAMBDA_RUNTIME_API");
            if (string.IsNullOrEmpty(address))
            {
                Console.Error.WriteLine("LambkinRuntime: AWS_LAMBDA_RUNTIME_API is not set");
                return 2;
            }
            string taskRoot = Environment.GetEnvironmentVariable("LAMBDA_TASK_ROOT") ?? Directory.GetCurrentDirectory();
            string handlerName = argv.Length > 0 ? argv[0] : Environment.GetEnvironmentVariable("_HANDLER") ?? "";
            ResolveFrom(taskRoot, Path.Combine(Environment.GetEnvironmentVariable("LAMBKIN_OPT") ?? "/opt", "lib"));
            var api = new RuntimeApi(address);

            Handler handler;
            try
            {
                handler = new Handler(taskRoot, handlerName);
            }
            catch (Exception exc)
            {
                string document = ErrorDocument(exc);
                Console.WriteLine(document);
                api.PostInitError(document, ShortName(exc));
                return 1;
            }

            while (true)
            {
                Invocation invocation = api.Next();
                string trace = invocation.Header("Lambda-Runtime-Trace-Id");
                Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", trace);
                byte[] result;
                try
                {
                    result = handler.Invoke(invocation.Body, new LambdaContext(invocation));
                }
                catch (Exception exc)
                {
                    string document = ErrorDocument(exc);
                    Console.WriteLine(document);
                    api.PostError(invocation.RequestId, document, ShortName(exc));
                    continue;
                }
                api.PostResponse(invocation.RequestId, result ?? new byte[0]);
            }
        }

        // The function's own libraries beside its assembly, and the layers' (/opt/lib), for
        // references that Mono's loader does not find on its own.
        private static void ResolveFrom(params string[] directories)
        {
            AppDomain.CurrentDomain.AssemblyResolve += (sender, args) =>
            {
                string file = new AssemblyName(args.Name).Name + ".dll";
                foreach (string directory in directories)
                {
                    string path = Path.Combine(directory, file);
                    if (File.Exists(path)) return Assembly.LoadFrom(path);
                }
                return null;
            };
        }

        private static string ShortName(Exception exc)
        {
            return exc.GetType().Name;
        }

        public static string ErrorDocument(Exception exc)
        {
            var sb = new StringBuilder();
            WriteError(sb, exc, 0);
            return sb.ToString();
        }

        private static void WriteError(StringBuilder sb, Exception exc, int depth)
        {
            sb.Append("{\"errorType\":");
            JsonCodec.WriteString(sb, ShortName(exc));
            sb.Append(",\"errorMessage\":");
            JsonCodec.WriteString(sb, exc.Message ?? "");
            sb.Append(",\"stackTrace\":[");
            bool first = true;
            foreach (string frame in Frames(exc))
            {
                if (!first) sb.Append(',');
                first = false;
                JsonCodec.WriteString(sb, frame);
            }
            sb.Append(']');
            if (exc.InnerException != null && depth < 8)
            {
                sb.Append(",\"cause\":");
                WriteError(sb, exc.InnerException, depth + 1);
            }
            sb.Append('}');
        }

        // The function's frames: those of the runtime's reflection call and below are left out.
        private static List<string> Frames(Exception exc)
        {
            var frames = new List<string>();
            if (exc.StackTrace == null) return frames;
            foreach (string line in exc.StackTrace.Split('\n'))
            {
                string frame = line.Trim();
                if (frame.Length == 0) continue;
                if (frame.StartsWith("at (wrapper managed-to-native) System.Reflection.", StringComparison.Ordinal)
                    || frame.StartsWith("at Lambkin.Runtime.", StringComparison.Ordinal)
                    || frame.StartsWith("at System.Reflection.", StringComparison.Ordinal))
                    break;
                if (frame.StartsWith("--- End of stack trace", StringComparison.Ordinal)) continue;
                frames.Add(frame);
            }
            return frames;
        }
    }
}
