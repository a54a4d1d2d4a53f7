// A small JSON reader and writer with a binder to .NET types, compiled (internal) into each
// assembly that needs it: Mono has neither System.Text.Json nor Newtonsoft, and AWS's serializers
// are thin options over those. What it binds: null, bool, strings, every numeric type, enums
// (numbers or names), DateTime/DateTimeOffset (ISO 8601), Guid, arrays, List<T> and the
// collection interfaces, Dictionary<string, T>, Nullable<T>, object (dictionaries, lists and
// primitives), and POCOs through their public properties and fields, names matched ignoring case.
using System;
using System.Collections;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Reflection;
using System.Text;

namespace Lambkin.Json
{
    internal sealed class JsonException : Exception
    {
        public JsonException(string message) : base(message) { }
    }

    internal sealed class JsonOptions
    {
        public readonly bool WriteNulls;
        public readonly bool CamelCase;

        public JsonOptions(bool writeNulls, bool camelCase)
        {
            WriteNulls = writeNulls;
            CamelCase = camelCase;
        }
    }

    internal static class JsonCodec
    {
        // ---- reading: text -> tree (Dictionary<string, object>, List<object>, string, bool,
        // null, and numbers kept as their text, converted once the target type is known) ----

        internal sealed class Number
        {
            public readonly string Text;
            public Number(string text) { Text = text; }
            public override string ToString() { return Text; }
        }

        public static object Parse(string text)
        {
            var reader = new Reader(text);
            reader.SkipSpace();
            object value = reader.ReadValue(0);
            reader.SkipSpace();
            if (!reader.AtEnd)
                throw reader.Error("unexpected text after the JSON value");
            return value;
        }

        private sealed class Reader
        {
            private readonly string s;
            private int i;
            public Reader(string text) { s = text; }
            public bool AtEnd { get { return i >= s.Length; } }

            public JsonException Error(string what)
            {
                return new JsonException(string.Format("{0} at position {1}", what, i));
            }

            public void SkipSpace()
            {
                while (i < s.Length && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
                    i++;
            }

            public object ReadValue(int depth)
            {
                if (depth > 512) throw Error("JSON nested too deeply");
                if (AtEnd) throw Error("unexpected end of JSON");
                char c = s[i];
                switch (c)
                {
                    case '{': return ReadObject(depth);
                    case '[': return ReadArray(depth);
                    case '"': return ReadString();
                    case 't': Expect("true"); return true;
                    case 'f': Expect("false"); return false;
                    case 'n': Expect("null"); return null;
                }
                if (c == '-' || (c >= '0' && c <= '9')) return ReadNumber();
                throw Error(string.Format("unexpected character '{0}'", c));
            }

            private void Expect(string word)
            {
                if (string.CompareOrdinal(s, i, word, 0, word.Length) != 0) throw Error("invalid literal");
                i += word.Length;
            }

            private Dictionary<string, object> ReadObject(int depth)
            {
                var result = new Dictionary<string, object>();
                i++;
                SkipSpace();
                if (i < s.Length && s[i] == '}') { i++; return result; }
                while (true)
                {
                    SkipSpace();
                    if (AtEnd || s[i] != '"') throw Error("expected a property name");
                    string name = ReadString();
                    SkipSpace();
                    if (AtEnd || s[i] != ':') throw Error("expected ':'");
                    i++;
                    SkipSpace();
                    result[name] = ReadValue(depth + 1);
                    SkipSpace();
                    if (AtEnd) throw Error("unexpected end of JSON");
                    if (s[i] == ',') { i++; continue; }
                    if (s[i] == '}') { i++; return result; }
                    throw Error("expected ',' or '}'");
                }
            }

            private List<object> ReadArray(int depth)
            {
                var result = new List<object>();
                i++;
                SkipSpace();
                if (i < s.Length && s[i] == ']') { i++; return result; }
                while (true)
                {
                    SkipSpace();
                    result.Add(ReadValue(depth + 1));
                    SkipSpace();
                    if (AtEnd) throw Error("unexpected end of JSON");
                    if (s[i] == ',') { i++; continue; }
                    if (s[i] == ']') { i++; return result; }
                    throw Error("expected ',' or ']'");
                }
            }

            private string ReadString()
            {
                i++;
                var sb = new StringBuilder();
                while (true)
                {
                    if (AtEnd) throw Error("unterminated string");
                    char c = s[i++];
                    if (c == '"') return sb.ToString();
                    if (c < ' ') throw Error("control character in string");
                    if (c != '\\') { sb.Append(c); continue; }
                    if (AtEnd) throw Error("unterminated string");
                    char e = s[i++];
                    switch (e)
                    {
                        case '"': sb.Append('"'); break;
                        case '\\': sb.Append('\\'); break;
                        case '/': sb.Append('/'); break;
                        case 'b': sb.Append('\b'); break;
                        case 'f': sb.Append('\f'); break;
                        case 'n': sb.Append('\n'); break;
                        case 'r': sb.Append('\r'); break;
                        case 't': sb.Append('\t'); break;
                        case 'u':
                            if (i + 4 > s.Length) throw Error("bad \\u escape");
                            sb.Append((char)int.Parse(s.Substring(i, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                            i += 4;
                            break;
                        default: throw Error("bad escape");
                    }
                }
            }

            private Number ReadNumber()
            {
                int start = i;
                if (s[i] == '-') i++;
                while (i < s.Length && ((s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == 'e'
                       || s[i] == 'E' || s[i] == '+' || s[i] == '-'))
                    i++;
                string text = s.Substring(start, i - start);
                double check;
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out check))
                    throw Error("invalid number");
                return new Number(text);
            }
        }

        // ---- binding: tree -> a .NET type ----

        public static object Bind(object node, Type type)
        {
            if (type == typeof(object)) return Plain(node);
            Type underlying = Nullable.GetUnderlyingType(type);
            if (node == null)
            {
                if (!type.IsValueType || underlying != null) return null;
                throw new JsonException("null cannot be converted to " + type.Name);
            }
            if (underlying != null) type = underlying;
            if (type == typeof(string))
            {
                if (node is string) return node;
                if (node is Number) return ((Number)node).Text;
                if (node is bool) return (bool)node ? "true" : "false";
                throw Mismatch(node, type);
            }
            if (type == typeof(bool))
            {
                if (node is bool) return node;
                throw Mismatch(node, type);
            }
            if (type.IsEnum)
            {
                if (node is string) return Enum.Parse(type, (string)node, true);
                if (node is Number) return Enum.ToObject(type, long.Parse(((Number)node).Text, CultureInfo.InvariantCulture));
                throw Mismatch(node, type);
            }
            if (type.IsPrimitive || type == typeof(decimal))
            {
                var number = node as Number;
                if (number == null) throw Mismatch(node, type);
                if (type == typeof(char)) throw Mismatch(node, type);
                if (type == typeof(decimal))
                    return decimal.Parse(number.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (type == typeof(double) || type == typeof(float))
                    return Convert.ChangeType(double.Parse(number.Text, NumberStyles.Float, CultureInfo.InvariantCulture), type, CultureInfo.InvariantCulture);
                decimal whole = decimal.Parse(number.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
                if (whole != decimal.Truncate(whole)) throw Mismatch(node, type);
                return Convert.ChangeType(whole, type, CultureInfo.InvariantCulture);
            }
            if (type == typeof(DateTime) && node is string)
                return DateTime.Parse((string)node, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            if (type == typeof(DateTimeOffset) && node is string)
                return DateTimeOffset.Parse((string)node, CultureInfo.InvariantCulture);
            if (type == typeof(Guid) && node is string) return new Guid((string)node);
            if (type == typeof(TimeSpan) && node is string) return TimeSpan.Parse((string)node, CultureInfo.InvariantCulture);
            if (type == typeof(byte[]) && node is string) return Convert.FromBase64String((string)node);

            var list = node as List<object>;
            var map = node as Dictionary<string, object>;
            if (type.IsArray)
            {
                if (list == null) throw Mismatch(node, type);
                Type element = type.GetElementType();
                Array array = Array.CreateInstance(element, list.Count);
                for (int k = 0; k < list.Count; k++) array.SetValue(Bind(list[k], element), k);
                return array;
            }
            Type dictionaryValue = DictionaryValueType(type);
            if (dictionaryValue != null)
            {
                if (map == null) throw Mismatch(node, type);
                Type concrete = type.IsInterface ? typeof(Dictionary<,>).MakeGenericType(typeof(string), dictionaryValue) : type;
                var result = (IDictionary)Activator.CreateInstance(concrete);
                foreach (var pair in map) result[pair.Key] = Bind(pair.Value, dictionaryValue);
                return result;
            }
            Type listElement = ListElementType(type);
            if (listElement != null)
            {
                if (list == null) throw Mismatch(node, type);
                Type concrete = type.IsInterface ? typeof(List<>).MakeGenericType(listElement) : type;
                var result = (IList)Activator.CreateInstance(concrete);
                foreach (var item in list) result.Add(Bind(item, listElement));
                return result;
            }
            if (map == null) throw Mismatch(node, type);
            return BindObject(map, type);
        }

        private static object BindObject(Dictionary<string, object> map, Type type)
        {
            object target = Activator.CreateInstance(type);
            foreach (var pair in map)
            {
                MemberInfo member = FindMember(type, pair.Key);
                if (member == null) continue;  // unknown properties are ignored, as AWS's do
                var property = member as PropertyInfo;
                if (property != null)
                    property.SetValue(target, Bind(pair.Value, property.PropertyType), null);
                else
                {
                    var field = (FieldInfo)member;
                    field.SetValue(target, Bind(pair.Value, field.FieldType));
                }
            }
            return target;
        }

        private static MemberInfo FindMember(Type type, string name)
        {
            const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase;
            PropertyInfo property = null;
            try { property = type.GetProperty(name, flags); }
            catch (AmbiguousMatchException) { property = type.GetProperty(name, BindingFlags.Public | BindingFlags.Instance); }
            if (property != null && property.CanWrite && property.GetIndexParameters().Length == 0) return property;
            FieldInfo field = type.GetField(name, flags);
            if (field != null && !field.IsInitOnly) return field;
            return null;
        }

        private static Type DictionaryValueType(Type type)
        {
            foreach (Type candidate in Implemented(type))
            {
                if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IDictionary<,>)
                    && candidate.GetGenericArguments()[0] == typeof(string))
                    return candidate.GetGenericArguments()[1];
            }
            return null;
        }

        private static Type ListElementType(Type type)
        {
            if (type.IsGenericType)
            {
                Type definition = type.GetGenericTypeDefinition();
                if (definition == typeof(IEnumerable<>) || definition == typeof(ICollection<>)
                    || definition == typeof(IList<>) || definition == typeof(IReadOnlyList<>)
                    || definition == typeof(IReadOnlyCollection<>))
                    return type.GetGenericArguments()[0];
            }
            if (type.IsInterface) return null;
            foreach (Type candidate in Implemented(type))
            {
                if (candidate.IsGenericType && candidate.GetGenericTypeDefinition() == typeof(IList<>))
                    return candidate.GetGenericArguments()[0];
            }
            return null;
        }

        private static IEnumerable<Type> Implemented(Type type)
        {
            if (type.IsInterface) yield return type;
            foreach (Type candidate in type.GetInterfaces()) yield return candidate;
        }

        private static object Plain(object node)
        {
            var number = node as Number;
            if (number == null) return node;
            long whole;
            if (long.TryParse(number.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out whole)) return whole;
            return double.Parse(number.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        private static JsonException Mismatch(object node, Type type)
        {
            string kind = node is string ? "a string" : node is Number ? "a number" : node is bool ? "a boolean"
                : node is List<object> ? "an array" : "an object";
            return new JsonException(string.Format("The JSON value ({0}) could not be converted to {1}.", kind, type.FullName));
        }

        // ---- writing ----

        public static string Write(object value, JsonOptions options)
        {
            var sb = new StringBuilder();
            WriteValue(sb, value, options, 0);
            return sb.ToString();
        }

        private static void WriteValue(StringBuilder sb, object value, JsonOptions options, int depth)
        {
            if (depth > 64) throw new JsonException("A possible object cycle was detected (depth over 64).");
            if (value == null) { sb.Append("null"); return; }
            Type type = value.GetType();
            if (value is string) { WriteString(sb, (string)value); return; }
            if (value is bool) { sb.Append((bool)value ? "true" : "false"); return; }
            if (value is char) { WriteString(sb, value.ToString()); return; }
            if (type.IsEnum) { sb.Append(Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString(CultureInfo.InvariantCulture)); return; }
            if (value is double) { WriteFloat(sb, (double)value, "R"); return; }
            if (value is float) { WriteFloat(sb, (float)value, "R"); return; }
            if (value is decimal) { sb.Append(((decimal)value).ToString(CultureInfo.InvariantCulture)); return; }
            if (type.IsPrimitive) { sb.Append(Convert.ToString(value, CultureInfo.InvariantCulture)); return; }
            if (value is Number) { sb.Append(((Number)value).Text); return; }
            if (value is DateTime) { WriteString(sb, Iso8601(((DateTime)value).ToString(RoundTrip + "K", CultureInfo.InvariantCulture))); return; }
            if (value is DateTimeOffset) { WriteString(sb, Iso8601(((DateTimeOffset)value).ToString(RoundTrip + "zzz", CultureInfo.InvariantCulture))); return; }
            if (value is Guid || value is TimeSpan || value is Uri) { WriteString(sb, Convert.ToString(value, CultureInfo.InvariantCulture)); return; }
            if (value is byte[]) { WriteString(sb, Convert.ToBase64String((byte[])value)); return; }
            var dictionary = value as IDictionary;
            if (dictionary != null)
            {
                sb.Append('{');
                bool first = true;
                // Null entries are written either way: AWS's options leave out null members
                // of objects, never a dictionary's null values.
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteString(sb, Convert.ToString(entry.Key, CultureInfo.InvariantCulture));
                    sb.Append(':');
                    WriteValue(sb, entry.Value, options, depth + 1);
                }
                sb.Append('}');
                return;
            }
            var sequence = value as IEnumerable;
            if (sequence != null)
            {
                sb.Append('[');
                bool first = true;
                foreach (object item in sequence)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    WriteValue(sb, item, options, depth + 1);
                }
                sb.Append(']');
                return;
            }
            WriteObject(sb, value, type, options, depth);
        }

        private static void WriteObject(StringBuilder sb, object value, Type type, JsonOptions options, int depth)
        {
            sb.Append('{');
            bool first = true;
            foreach (MemberInfo member in type.GetMembers(BindingFlags.Public | BindingFlags.Instance))
            {
                object memberValue;
                var property = member as PropertyInfo;
                var field = member as FieldInfo;
                if (property != null && property.CanRead && property.GetIndexParameters().Length == 0)
                    memberValue = property.GetValue(value, null);
                else if (field != null)
                    memberValue = field.GetValue(value);
                else
                    continue;
                if (memberValue == null && !options.WriteNulls) continue;
                if (!first) sb.Append(',');
                first = false;
                string name = member.Name;
                if (options.CamelCase && name.Length > 0) name = char.ToLowerInvariant(name[0]) + name.Substring(1);
                WriteString(sb, name);
                sb.Append(':');
                WriteValue(sb, memberValue, options, depth + 1);
            }
            sb.Append('}');
        }

        private const string RoundTrip = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff";

        // System.Text.Json's dates: the round-trip form with the fraction's trailing zeros cut,
        // and no fraction at all when it is zero ("1970-01-01T00:00:00Z").
        private static string Iso8601(string roundTrip)
        {
            int dot = roundTrip.IndexOf('.');
            int end = dot + 1;
            while (end < roundTrip.Length && char.IsDigit(roundTrip[end])) end++;
            int keep = end;
            while (keep > dot + 1 && roundTrip[keep - 1] == '0') keep--;
            if (keep == dot + 1) keep = dot;
            return roundTrip.Substring(0, keep) + roundTrip.Substring(end);
        }

        private static void WriteFloat(StringBuilder sb, double value, string format)
        {
            if (double.IsNaN(value) || double.IsInfinity(value))
                throw new JsonException(".NET number values such as positive and negative infinity cannot be written as valid JSON.");
            sb.Append(value.ToString(format, CultureInfo.InvariantCulture));
        }

        public static void WriteString(StringBuilder sb, string text)
        {
            sb.Append('"');
            foreach (char c in text)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    case '\b': sb.Append("\\b"); break;
                    case '\f': sb.Append("\\f"); break;
                    default:
                        if (c < ' ') sb.AppendFormat(CultureInfo.InvariantCulture, "\\u{0:x4}", (int)c);
                        else sb.Append(c);
                        break;
                }
            }
            sb.Append('"');
        }

        // ---- streams, for the serializers ----

        public static T Deserialize<T>(Stream stream)
        {
            string text = new StreamReader(stream, new UTF8Encoding(false)).ReadToEnd();
            return (T)Bind(Parse(text), typeof(T));
        }

        public static void Serialize<T>(T value, Stream stream, JsonOptions options)
        {
            byte[] bytes = new UTF8Encoding(false).GetBytes(Write(value, options));
            stream.Write(bytes, 0, bytes.Length);
        }
    }
}
