// The function's handler, "Assembly::Namespace.Class::Method" as Lambda's .NET runtimes take
// it: /var/task/<Assembly>.dll is loaded, the class made once (unless the method is static), and
// the method called with (input, ILambdaContext), (input) or no arguments; the input and the
// result are a Stream as they are, or converted by the LambdaSerializer the assembly or the
// method names. A Task or Task<T> is waited for.
using System;
using System.IO;
using System.Reflection;
using System.Threading.Tasks;
using Amazon.Lambda.Core;

namespace Lambkin.Runtime
{
    // A failure of the handler's set-up rather than of the function's code: AWS's runtime reports
    // these as LambdaValidationException.
    internal sealed class LambdaValidationException : Exception
    {
        public LambdaValidationException(string message) : base(message) { }
    }

    internal sealed class Handler
    {
        private readonly MethodInfo method;
        private readonly object target;
        private readonly Type inputType;
        private readonly bool takesContext;
        private readonly Type outputType;  // null: nothing to send (void, Task)
        private readonly bool awaits;
        private readonly ILambdaSerializer serializer;

        public Handler(string taskRoot, string handler)
        {
            string[] parts = Parts(handler);
            Assembly assembly = LoadAssembly(taskRoot, parts[0]);
            Type type = assembly.GetType(parts[1], false);
            if (type == null)
                throw new LambdaValidationException(string.Format(
                    "Unable to load type '{0}' from assembly '{1}'.", parts[1], parts[0]));
            method = FindMethod(type, parts[2]);
            if (method == null)
                throw new LambdaValidationException(string.Format(
                    "Unable to find method '{0}' in type '{1}' from assembly '{2}': Found no methods matching method name '{0}'.",
                    parts[2], parts[1], parts[0]));

            ParameterInfo[] parameters = method.GetParameters();
            if (parameters.Length > 2)
                throw new LambdaValidationException(string.Format(
                    "Method '{0}' of type '{1}' is not supported: the method has more than 2 parameters.", method.Name, parts[1]));
            if (parameters.Length == 2 && parameters[1].ParameterType != typeof(ILambdaContext))
                throw new LambdaValidationException(string.Format(
                    "Method '{0}' of type '{1}' is not supported: the method has 2 parameters, but the second parameter is not of type '{2}'.",
                    method.Name, parts[1], typeof(ILambdaContext).FullName));
            if (parameters.Length >= 1)
            {
                if (parameters[0].ParameterType == typeof(ILambdaContext) && parameters.Length == 1)
                    takesContext = true;
                else
                    inputType = parameters[0].ParameterType;
            }
            takesContext = takesContext || parameters.Length == 2;

            Type returns = method.ReturnType;
            if (returns == typeof(Task)) { awaits = true; }
            else if (returns.IsGenericType && returns.GetGenericTypeDefinition() == typeof(Task<>))
            {
                awaits = true;
                outputType = returns.GetGenericArguments()[0];
            }
            else if (returns != typeof(void)) outputType = returns;

            bool needsSerializer = (inputType != null && inputType != typeof(Stream))
                || (outputType != null && !typeof(Stream).IsAssignableFrom(outputType));
            serializer = FindSerializer(assembly, method);
            if (serializer == null && needsSerializer)
            {
                bool input = inputType != null && inputType != typeof(Stream);
                throw new LambdaValidationException(string.Format(
                    "Could not find the LambdaSerializerAttribute on the assembly '{0}' or method '{1}' while attempting to {2} data of type '{3}'. To use types other than System.IO.Stream as input/output parameters, the assembly or Lambda function should be annotated with {4}.",
                    parts[0], parts[2], input ? "deserialize input" : "serialize output",
                    (input ? inputType : outputType).FullName, typeof(LambdaSerializerAttribute).FullName));
            }

            if (!method.IsStatic)
            {
                if (type.IsAbstract || type.GetConstructor(Type.EmptyTypes) == null)
                    throw new LambdaValidationException(string.Format(
                        "Unable to create an instance of type '{0}': it must have a public parameterless constructor.", parts[1]));
                // As RuntimeSupport's: the constructor's failure is reported as reflection throws
                // it, a TargetInvocationException whose cause is the function's exception.
                target = Activator.CreateInstance(type);
            }
            else
            {
                // A static handler's class initialiser runs now, in init, as AWS's runtime runs it
                // (a failure: TypeInitializationException, the cause inside).
                System.Runtime.CompilerServices.RuntimeHelpers.RunClassConstructor(type.TypeHandle);
            }
        }

        // "ASSEMBLY::TYPE::METHOD", refused with RuntimeSupport's HandlerInfo messages.
        private static string[] Parts(string handler)
        {
            const string format = "The valid format is 'ASSEMBLY::TYPE::METHOD'.";
            if (string.IsNullOrEmpty(handler))
                throw new LambdaValidationException("Empty lambda function handler. " + format);
            string[] parts = handler.Split(new[] { "::" }, 3, StringSplitOptions.None);
            if (parts.Length != 3)
                throw new LambdaValidationException(string.Format("Invalid lambda function handler: '{0}'. {1}", handler, format));
            string[] missing = { "assembly", "type", "method" };
            for (int i = 0; i < 3; i++)
                if (string.IsNullOrWhiteSpace(parts[i]))
                    throw new LambdaValidationException(string.Format(
                        "Invalid lambda function handler: '{0}', the {1} is missing. {2}", handler, missing[i], format));
            return parts;
        }

        // As RuntimeSupport's UserCodeLoader: the methods the type itself declares, public or not,
        // then its base types'; by name, else by signature ("System.String Run(System.String)").
        private static MethodInfo FindMethod(Type type, string name)
        {
            const BindingFlags declared = BindingFlags.DeclaredOnly | BindingFlags.NonPublic | BindingFlags.Public
                | BindingFlags.Instance | BindingFlags.Static;
            foreach (bool bySignature in new[] { false, true })
            {
                for (Type t = type; t != null; t = t.BaseType)
                {
                    MethodInfo[] found = Array.FindAll(t.GetMethods(declared),
                        m => bySignature ? m.ToString() == name : m.Name == name);
                    if (found.Length == 1) return found[0];
                    if (found.Length > 1)
                    {
                        MethodInfo[] candidates = Array.FindAll(t.GetMethods(declared), m => m.Name == name || m.ToString() == name);
                        throw new LambdaValidationException(string.Format(
                            "The method '{0}' in type '{1}' appears to have a number of overloads. To call this method please specify a complete method signature. Possible candidates are:\n{2}.",
                            name, t.FullName, string.Join("\n", Array.ConvertAll(candidates, m => m.ToString()))));
                    }
                }
            }
            return null;
        }

        private static Assembly LoadAssembly(string taskRoot, string name)
        {
            string path = Path.Combine(taskRoot, name + ".dll");
            if (!File.Exists(path))
                throw new LambdaValidationException(string.Format(
                    "Could not find the specified handler assembly with the file name '{0}'. The assembly should be located in the root of your uploaded .zip file.",
                    name));
            try { return Assembly.LoadFrom(path); }
            catch (BadImageFormatException exc)
            {
                throw new LambdaValidationException(string.Format(
                    "Unable to load assembly '{0}': {1}", name, exc.Message));
            }
        }

        private static ILambdaSerializer FindSerializer(Assembly assembly, MethodInfo method)
        {
            var attribute = (LambdaSerializerAttribute)Attribute.GetCustomAttribute(method, typeof(LambdaSerializerAttribute))
                ?? (LambdaSerializerAttribute)Attribute.GetCustomAttribute(assembly, typeof(LambdaSerializerAttribute));
            if (attribute == null) return null;
            Type type = attribute.SerializerType;
            if (type == null || !typeof(ILambdaSerializer).IsAssignableFrom(type))
                throw new LambdaValidationException(string.Format(
                    "The type {0} does not implement Amazon.Lambda.Core.ILambdaSerializer.", type));
            return (ILambdaSerializer)Invoker.Unwrapped(() => Activator.CreateInstance(type));
        }

        // One invocation: the event's bytes in, the result's bytes out (null: an empty body).
        public byte[] Invoke(byte[] body, ILambdaContext context)
        {
            object[] args = new object[(inputType != null ? 1 : 0) + (takesContext ? 1 : 0)];
            if (inputType != null) args[0] = Input(body);
            if (takesContext) args[args.Length - 1] = context;
            object result = Invoker.Unwrapped(() => method.Invoke(target, args));
            if (awaits)
            {
                var task = (Task)result;
                if (task == null) throw new InvalidOperationException("The handler returned a null Task.");
                Invoker.Wait(task);
                result = outputType == null ? null : task.GetType().GetProperty("Result").GetValue(task, null);
            }
            if (outputType == null) return null;
            var stream = result as Stream;
            if (stream != null)
            {
                using (stream)
                using (var copy = new MemoryStream())
                {
                    stream.CopyTo(copy);
                    return copy.ToArray();
                }
            }
            using (var output = new MemoryStream())
            {
                MethodInfo serialize = typeof(ILambdaSerializer).GetMethod("Serialize").MakeGenericMethod(outputType);
                Invoker.Unwrapped(() => serialize.Invoke(serializer, new[] { result, output }));
                return output.ToArray();
            }
        }

        private object Input(byte[] body)
        {
            if (inputType == typeof(Stream) || inputType == typeof(MemoryStream))
                return new MemoryStream(body, false);
            MethodInfo deserialize = typeof(ILambdaSerializer).GetMethod("Deserialize").MakeGenericMethod(inputType);
            try
            {
                return Invoker.Unwrapped(() => deserialize.Invoke(serializer, new object[] { new MemoryStream(body, false) }));
            }
            catch (Exception exc)
            {
                throw new JsonSerializerException(
                    "Error converting the Lambda event JSON payload to type " + inputType.FullName + ": " + exc.Message, exc);
            }
        }
    }

    // A bad event, named as AWS's serializers name it (errorType "JsonSerializerException").
    internal sealed class JsonSerializerException : Exception
    {
        public JsonSerializerException(string message, Exception inner) : base(message, inner) { }
    }

    internal static class Invoker
    {
        // Reflection wraps what user code throws; the function's error is the exception inside.
        public static object Unwrapped(Func<object> call)
        {
            try { return call(); }
            catch (TargetInvocationException exc)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(exc.InnerException ?? exc).Throw();
                throw;
            }
        }

        // As AWS's runtime awaits a handler's Task (GetAwaiter().GetResult()): a fault is its
        // first exception, not the AggregateException around them.
        public static void Wait(Task task)
        {
            task.GetAwaiter().GetResult();
        }
    }
}
