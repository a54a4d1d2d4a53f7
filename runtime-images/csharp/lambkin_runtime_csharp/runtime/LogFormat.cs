// How a log message is written, as Amazon.Lambda.RuntimeSupport writes it (Helpers/Logging/):
// message templates ("{name}", "{0}", "{count:000}", "{@product}") filled from the arguments,
// then either the text form "<UTC time>\t<request id>\t<level label>\t<message>" (no prefix when
// the format is Unformatted) or one JSON record per message:
// {"timestamp","level","requestId","traceId","message", one field per template parameter,
//  and for an exception "errorType" (its full name), "errorMessage", "stackTrace": [lines]}.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using Lambkin.Json;

namespace Lambkin.Runtime
{
    // AWS's RuntimeSupport levels (LogLevelLoggerWriter.LogLevel).
    internal enum Level { Trace = 0, Debug = 1, Information = 2, Warning = 3, Error = 4, Critical = 5 }

    internal enum LogFormatType { Default, Unformatted, Json }

    // What one log call says, and about which invocation.
    internal sealed class LogEntry
    {
        public DateTime Time;
        public Level? Level;
        public string RequestId;
        public string TraceId;
        public string Template;
        public object[] Args;
        public Exception Exception;
    }

    // One "{...}" of a template: an optional "@" (serialise the value as JSON), a name, and an
    // optional ":format".
    internal sealed class TemplateProperty
    {
        public readonly string Token;  // "{name:format}" as written, for values left unformatted
        public readonly string Name;
        public readonly string Format;
        public readonly bool Serialize;

        public TemplateProperty(string inner)
        {
            Token = "{" + inner + "}";
            if (inner.StartsWith("@", StringComparison.Ordinal)) { Serialize = true; inner = inner.Substring(1); }
            int colon = inner.IndexOf(':');
            Name = (colon < 0 ? inner : inner.Substring(0, colon)).Trim();
            Format = colon < 0 ? null : inner.Substring(colon + 1).Trim();
            if (Format == "") Format = null;
        }

        public const string DateFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";

        // The value as the message shows it.
        public string ForMessage(object value)
        {
            var bytes = value as byte[];
            if (bytes != null) return Hex(bytes);
            if (value == null || value is IList || value is IDictionary) return Token;
            if (Format != null) return Formatted(value, Format);
            if (value is DateTime) return ((DateTime)value).ToString(DateFormat, CultureInfo.InvariantCulture);
            if (value is DateTimeOffset) return ((DateTimeOffset)value).ToString(DateFormat, CultureInfo.InvariantCulture);
            return value.ToString();
        }

        public static string Formatted(object value, string format)
        {
            try { return string.Format("{0:" + format + "}", value); }
            catch (FormatException) { return value.ToString(); }
        }

        // Serilog's way, as AWS's: the first 16 bytes in hex, then the count.
        public static string Hex(byte[] bytes)
        {
            var sb = new StringBuilder();
            for (int i = 0; i < bytes.Length; i++)
            {
                if (i == 16) { sb.Append("... (").Append(bytes.Length).Append(" bytes)"); break; }
                sb.Append(bytes[i].ToString("X2", CultureInfo.InvariantCulture));
            }
            return sb.ToString();
        }
    }

    internal static class Template
    {
        private enum State { InMessage, PossibleOpen, InParameter }

        public static List<TemplateProperty> Parse(string template)
        {
            var properties = new List<TemplateProperty>();
            var state = State.InMessage;
            int start = -1;
            for (int i = 0; i < template.Length; i++)
            {
                char c = template[i];
                if (c == '{')
                    state = state == State.InMessage ? State.PossibleOpen
                        : state == State.PossibleOpen ? State.InMessage : state;  // "{{": escaped
                else if (c == '}')
                {
                    if (state != State.InMessage && start != -1)
                        properties.Add(new TemplateProperty(template.Substring(start, i - start)));
                    if (state != State.InMessage) { state = State.InMessage; start = -1; }
                }
                else if (state == State.PossibleOpen) { start = i; state = State.InParameter; }
            }
            return properties;
        }

        // "{0} of {1}" with every position from 0 up, each once: the arguments by position.
        public static bool Positional(List<TemplateProperty> properties)
        {
            var positions = new HashSet<int>();
            int max = -1;
            foreach (TemplateProperty property in properties)
            {
                int position;
                if (!int.TryParse(property.Name, NumberStyles.Integer, CultureInfo.InvariantCulture, out position)) return false;
                positions.Add(position);
                max = Math.Max(max, position);
            }
            return positions.Count == max + 1 && positions.Contains(0);
        }

        // The argument for the i-th property (null when there is none).
        public static object Argument(List<TemplateProperty> properties, bool positional, int i, object[] args)
        {
            int index = positional ? int.Parse(properties[i].Name, CultureInfo.InvariantCulture) : i;
            return index < args.Length ? args[index] : null;
        }

        public static string Apply(string template, List<TemplateProperty> properties, object[] args)
        {
            if (properties.Count == 0 || args == null || args.Length == 0) return template;
            bool positional = Positional(properties);
            var message = new StringBuilder(template.Length + 16);
            var pending = new StringBuilder();
            var state = State.InMessage;
            int next = 0;
            for (int i = 0; i < template.Length; i++)
            {
                char c = template[i];
                if (!positional && (properties.Count <= next || args.Length <= next)) { message.Append(c); continue; }
                if (c == '{')
                {
                    if (state == State.InMessage) { pending.Append(c); state = State.PossibleOpen; }
                    else if (state == State.PossibleOpen)
                    {
                        message.Append(pending).Append(c);
                        pending.Clear();
                        state = State.InMessage;
                    }
                    else pending.Append(c);
                }
                else if (c == '}')
                {
                    if (state == State.InMessage) { message.Append(c); continue; }
                    if (next < properties.Count)
                        message.Append(properties[next].ForMessage(Argument(properties, positional, next, args)));
                    next++;
                    pending.Clear();
                    state = State.InMessage;
                }
                else if (state == State.InMessage) message.Append(c);
                else if (state == State.PossibleOpen) { pending.Append(c); state = State.InParameter; }
            }
            return message.ToString();
        }
    }

    internal static class LogFormatter
    {
        private static readonly string[] Labels = { "trce", "dbug", "info", "warn", "fail", "crit" };
        private static readonly JsonOptions SerializeOptions = new JsonOptions(false, false);

        public static string Format(LogFormatType format, LogEntry entry)
        {
            string template = entry.Template ?? "";
            bool templated = entry.Args != null && entry.Args.Length > 0;
            List<TemplateProperty> properties = templated ? Template.Parse(template) : new List<TemplateProperty>();
            string message = templated ? Template.Apply(template, properties, entry.Args) : template;
            return format == LogFormatType.Json
                ? Json(entry, message, properties)
                : Text(entry, message, format != LogFormatType.Unformatted);
        }

        private static string Time(LogEntry entry)
        {
            return entry.Time.ToString(TemplateProperty.DateFormat, CultureInfo.InvariantCulture);
        }

        private static string Text(LogEntry entry, string message, bool prefix)
        {
            var sb = new StringBuilder();
            if (prefix)
            {
                sb.Append(Time(entry)).Append('\t').Append(entry.RequestId);
                if (entry.Level != null) sb.Append('\t').Append(Labels[(int)entry.Level.Value]);
                sb.Append('\t');
            }
            sb.Append(message);
            if (entry.Exception != null)
            {
                if (message.Length > 0) sb.Append('\n');
                sb.Append(entry.Exception);
            }
            return sb.ToString();
        }

        private static string Json(LogEntry entry, string message, List<TemplateProperty> properties)
        {
            var sb = new StringBuilder("{");
            Field(sb, "timestamp", Time(entry), false);
            Field(sb, "level", (entry.Level ?? Level.Information).ToString(), true);
            if (!string.IsNullOrEmpty(entry.RequestId)) Field(sb, "requestId", entry.RequestId, true);
            if (!string.IsNullOrEmpty(entry.TraceId)) Field(sb, "traceId", entry.TraceId, true);
            Field(sb, "message", message, true);
            bool positional = Template.Positional(properties);
            for (int i = 0; i < properties.Count; i++)
            {
                if (!positional && entry.Args.Length <= i) break;
                object value = Template.Argument(properties, positional, i, entry.Args);
                if (value == null) continue;  // null parameters are left out
                sb.Append(',');
                JsonCodec.WriteString(sb, properties[i].Name);
                sb.Append(':');
                ParameterValue(sb, value, properties[i]);
            }
            if (entry.Exception != null)
            {
                Field(sb, "errorType", entry.Exception.GetType().FullName, true);
                Field(sb, "errorMessage", entry.Exception.Message, true);
                sb.Append(",\"stackTrace\":[");
                string[] lines = entry.Exception.ToString().Split('\n');
                for (int i = 0; i < lines.Length; i++)
                {
                    if (i > 0) sb.Append(',');
                    JsonCodec.WriteString(sb, lines[i].Trim());
                }
                sb.Append(']');
            }
            return sb.Append('}').ToString();
        }

        private static void Field(StringBuilder sb, string name, string value, bool comma)
        {
            if (comma) sb.Append(',');
            JsonCodec.WriteString(sb, name);
            sb.Append(':');
            JsonCodec.WriteString(sb, value ?? "");
        }

        // A parameter's field: lists as arrays, dictionaries as objects, each item as a value.
        private static void ParameterValue(StringBuilder sb, object value, TemplateProperty property)
        {
            var list = value as IList;
            var dictionary = value as IDictionary;
            if (list != null && !(value is byte[]))
            {
                sb.Append('[');
                for (int i = 0; i < list.Count; i++)
                {
                    if (i > 0) sb.Append(',');
                    Value(sb, list[i], property);
                }
                sb.Append(']');
            }
            else if (dictionary != null)
            {
                sb.Append('{');
                bool first = true;
                foreach (DictionaryEntry item in dictionary)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    JsonCodec.WriteString(sb, Convert.ToString(item.Key, CultureInfo.InvariantCulture) ?? "");
                    sb.Append(':');
                    Value(sb, item.Value, property);
                }
                sb.Append('}');
            }
            else Value(sb, value, property);
        }

        private static void Value(StringBuilder sb, object value, TemplateProperty property)
        {
            if (value == null) { sb.Append("null"); return; }
            if (property.Serialize)
            {
                try { sb.Append(JsonCodec.Write(value, SerializeOptions)); }
                catch (Exception) { JsonCodec.WriteString(sb, value.ToString()); }
                return;
            }
            if (property.Format != null) { JsonCodec.WriteString(sb, TemplateProperty.Formatted(value, property.Format)); return; }
            if (value is bool) { sb.Append((bool)value ? "true" : "false"); return; }
            if (value is double || value is float)
            {
                double number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
                if (double.IsNaN(number) || double.IsInfinity(number)) JsonCodec.WriteString(sb, number.ToString(CultureInfo.InvariantCulture));
                else sb.Append(value is float ? ((float)value).ToString("R", CultureInfo.InvariantCulture) : number.ToString("R", CultureInfo.InvariantCulture));
                return;
            }
            if (value is byte || value is sbyte || value is short || value is ushort || value is int || value is uint
                || value is long || value is ulong || value is decimal)
            {
                sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture));
                return;
            }
            if (value is DateTime) { JsonCodec.WriteString(sb, ((DateTime)value).ToString(TemplateProperty.DateFormat, CultureInfo.InvariantCulture)); return; }
            if (value is DateTimeOffset) { JsonCodec.WriteString(sb, ((DateTimeOffset)value).ToString(TemplateProperty.DateFormat, CultureInfo.InvariantCulture)); return; }
            if (value is byte[]) { JsonCodec.WriteString(sb, TemplateProperty.Hex((byte[])value)); return; }
            JsonCodec.WriteString(sb, Convert.ToString(value, CultureInfo.InvariantCulture));
        }
    }
}
