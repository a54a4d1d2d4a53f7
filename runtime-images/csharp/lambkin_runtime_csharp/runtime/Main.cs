// Lambkin's .NET runtime client on Mono: `mono /var/runtime/build/LambkinRuntime.exe`, the
// handler from _HANDLER (or the first argument). It loads the handler once (an error there goes
// to /init/error and ends the process), then takes invocations one at a time from the Runtime
// API. Errors are documented as AWS's .NET runtime documents them (ErrorDocument.cs) and logged
// as it logs them: a record at Error with the exception (Logging.cs).
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
            Logs.Install();
            var api = new RuntimeApi(address);

            Handler handler;
            try
            {
                handler = new Handler(taskRoot, handlerName);
            }
            catch (Exception exc)
            {
                Logs.Line("Error", exc, null, null);
                api.PostInitError(ErrorDocument.For(exc), ErrorDocument.ErrorType(exc));
                return 1;
            }

            while (true)
            {
                Invocation invocation = api.Next();
                string trace = invocation.Header("Lambda-Runtime-Trace-Id");
                Environment.SetEnvironmentVariable("_X_AMZN_TRACE_ID", trace);
                Logs.Writer.Begin(invocation.RequestId, trace);
                byte[] result;
                try
                {
                    result = handler.Invoke(invocation.Body, new LambdaContext(invocation));
                }
                catch (Exception exc)
                {
                    Logs.Line("Error", exc, null, null);
                    api.PostError(invocation.RequestId, ErrorDocument.For(exc), ErrorDocument.ErrorType(exc));
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
    }
}
