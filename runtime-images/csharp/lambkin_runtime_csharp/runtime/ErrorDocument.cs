// A failed invocation's (or init's) error document, in the shape of Amazon.Lambda.RuntimeSupport's
// LambdaJsonExceptionWriter: {"errorType": the exception's short type name, "errorMessage",
// "stackTrace": [frames] (left out when there are none), "cause": the inner exception's document,
// "causes": [an AggregateException's inner exceptions]}; a document over 256 KB is replaced by
// {"errorMessage": "Exception exceeded maximum payload size of 256KB."}, as AWS's is.
using System;
using System.Collections.Generic;
using System.Text;
using Lambkin.Json;

namespace Lambkin.Runtime
{
    internal static class ErrorDocument
    {
        public const int MaxBytes = 256 * 1024;
        public const string Truncated = "{\"errorMessage\": \"Exception exceeded maximum payload size of 256KB.\"}";
        private const int MaxDepth = 32;  // a cycle of inner exceptions is not followed forever

        public static string ErrorType(Exception exc)
        {
            return exc.GetType().Name;
        }

        public static string For(Exception exc)
        {
            return Write(exc, 0, MaxBytes) ?? Truncated;
        }

        private static int Bytes(StringBuilder sb) { return Encoding.UTF8.GetByteCount(sb.ToString()); }

        // The document of `exc` in under `room` bytes, or null; as AWS's writer, an inner
        // exception that does not fit in what is left is replaced by the truncation notice.
        private static string Write(Exception exc, int depth, int room)
        {
            if (room <= 0) return null;
            var sb = new StringBuilder("{\"errorType\":");
            JsonCodec.WriteString(sb, ErrorType(exc));
            if (exc.Message != null)
            {
                sb.Append(",\"errorMessage\":");
                JsonCodec.WriteString(sb, exc.Message);
            }
            List<string> frames = Frames(exc);
            if (frames.Count > 0)
            {
                sb.Append(",\"stackTrace\":[");
                for (int i = 0; i < frames.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    JsonCodec.WriteString(sb, frames[i]);
                }
                sb.Append(']');
            }
            if (depth < MaxDepth)
            {
                if (exc.InnerException != null)
                {
                    sb.Append(",\"cause\":");
                    Inner(sb, exc.InnerException, depth, room);
                }
                var aggregate = exc as AggregateException;
                if (aggregate != null && aggregate.InnerExceptions.Count > 0)
                {
                    sb.Append(",\"causes\":[");
                    for (int i = 0; i < aggregate.InnerExceptions.Count; i++)
                    {
                        if (i > 0) sb.Append(',');
                        if (!Inner(sb, aggregate.InnerExceptions[i], depth, room)) break;
                    }
                    sb.Append(']');
                }
            }
            sb.Append('}');
            return Bytes(sb) < room ? sb.ToString() : null;
        }

        private static bool Inner(StringBuilder sb, Exception inner, int depth, int room)
        {
            int used = Bytes(sb);
            string document = Write(inner, depth + 1, room - used);
            bool fits = document != null && used + Encoding.UTF8.GetByteCount(document) < room;
            sb.Append(fits ? document : Truncated);
            return fits;
        }

        // The function's frames, one line each: those of the runtime's reflection call and below
        // (Lambkin's own frames, where AWS's document shows RuntimeSupport's) are left out, unless
        // the exception is the runtime's own (a handler that cannot be loaded): then all of them.
        private static List<string> Frames(Exception exc)
        {
            var all = new List<string>();
            int function = -1;  // how many frames are the function's
            if (exc.StackTrace == null) return all;
            foreach (string line in exc.StackTrace.Split('\n'))
            {
                string frame = line.Trim();
                if (frame.Length == 0 || frame.StartsWith("--- End of stack trace", StringComparison.Ordinal)) continue;
                if (function < 0 && (frame.StartsWith("at (wrapper managed-to-native) System.Reflection.", StringComparison.Ordinal)
                    || frame.StartsWith("at Lambkin.Runtime.", StringComparison.Ordinal)
                    || frame.StartsWith("at System.Reflection.", StringComparison.Ordinal)))
                    function = all.Count;
                all.Add(frame);
            }
            if (function > 0) all.RemoveRange(function, all.Count - function);
            return all;
        }
    }
}
