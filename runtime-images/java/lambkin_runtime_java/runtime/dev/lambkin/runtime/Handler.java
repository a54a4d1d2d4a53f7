package dev.lambkin.runtime;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Type;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code package.Class::method} or {@code package.Class} (a RequestHandler or RequestStreamHandler)
 * -> something to invoke with the raw event. The class comes from the task root (classes at its
 * root, jars in lib/), is initialised and instantiated once, at init.
 */
final class Handler {
    private static final byte[] JSON_NULL = {'n', 'u', 'l', 'l'};

    private final Object target;
    private final Method method;
    private final Type inputType; // null: stream handler or no input parameter
    private final Type outputType; // null: stream handler or void
    private final boolean stream;
    private final ClassLoader loader;
    // Serializers by (platform, type), made on first use: AWS's runtime caches them the same way.
    private final Map<String, PojoSerializer<Object>> serializers = new ConcurrentHashMap<>();

    private Handler(Object target, Method method, ClassLoader loader) {
        this.target = target;
        this.method = method;
        this.loader = loader;
        Class<?>[] params = method.getParameterTypes();
        this.stream = params.length >= 2 && InputStream.class.isAssignableFrom(params[0])
                && OutputStream.class.isAssignableFrom(params[1]);
        this.inputType = !stream && params.length >= 1 && !Context.class.isAssignableFrom(params[0])
                ? method.getGenericParameterTypes()[0] : null;
        Type returned = method.getGenericReturnType();
        this.outputType = stream || returned == void.class || returned == Void.class ? null : returned;
        method.setAccessible(true);
        // Made at init, as AWS's runtime does: a type the library cannot handle fails init.
        if (inputType != null) {
            serializer(inputType, false);
        }
        if (outputType != null) {
            serializer(outputType, false);
        }
    }

    private PojoSerializer<Object> serializer(Type type, boolean android) {
        return serializers.computeIfAbsent(
                (android ? "android " : "") + type.getTypeName(),
                key -> Serialisation.serializer(type, loader, android));
    }

    static Handler load(String taskRoot, String handler) throws Exception {
        String className = handler;
        String methodName = null;
        int separator = handler.indexOf("::");
        if (separator >= 0) {
            className = handler.substring(0, separator);
            methodName = handler.substring(separator + 2);
        }
        ClassLoader loader = taskLoader(taskRoot);
        Thread.currentThread().setContextClassLoader(loader);
        Class<?> type;
        try {
            type = Class.forName(className, true, loader);
        } catch (ClassNotFoundException e) {
            throw new ClassNotFoundException("Class not found: " + className, e);
        }
        Method method = methodName == null ? interfaceMethod(type) : namedMethod(type, methodName);
        if (method == null) {
            throw new NoSuchMethodException(methodName == null
                    ? "Class " + className + " does not implement RequestHandler or RequestStreamHandler"
                    : "No public method named " + methodName + " with appropriate method signature found on class " + className);
        }
        Object target = Modifier.isStatic(method.getModifiers()) ? null : type.getDeclaredConstructor().newInstance();
        return new Handler(target, method, loader);
    }

    /** The function's classes and jars, then its layers' jars (/opt/java/lib), as on Lambda. */
    private static ClassLoader taskLoader(String taskRoot) throws Exception {
        List<URL> urls = new ArrayList<>();
        File root = new File(taskRoot);
        urls.add(root.toURI().toURL());
        addJars(urls, new File(root, "lib"));
        addJars(urls, new File(new File(System.getProperty("lambkin.opt", "/opt"), "java"), "lib"));
        return new URLClassLoader(urls.toArray(new URL[0]), Handler.class.getClassLoader());
    }

    private static void addJars(List<URL> urls, File dir) throws Exception {
        File[] jars = dir.listFiles((parent, name) -> name.endsWith(".jar"));
        if (jars != null) {
            Arrays.sort(jars);
            for (File jar : jars) {
                urls.add(jar.toURI().toURL());
            }
        }
    }

    /** handleRequest of RequestHandler / RequestStreamHandler, the concrete (non-bridge) one. */
    private static Method interfaceMethod(Class<?> type) {
        if (!RequestHandler.class.isAssignableFrom(type) && !RequestStreamHandler.class.isAssignableFrom(type)) {
            return null;
        }
        for (Method method : type.getMethods()) {
            if (method.getName().equals("handleRequest") && !method.isBridge()) {
                return method;
            }
        }
        return null;
    }

    /** The public method of that name taking (input[, Context]) or (InputStream, OutputStream[, Context]). */
    private static Method namedMethod(Class<?> type, String name) {
        return Arrays.stream(type.getMethods())
                .filter(m -> m.getName().equals(name) && !m.isBridge() && m.getParameterCount() <= 3)
                .max(Comparator.comparingInt(Method::getParameterCount))
                .orElse(null);
    }

    /** AWS's runtime serialises with Gson for a client context whose env says platform Android. */
    private static boolean isAndroid(Context context) {
        if (context.getClientContext() == null || context.getClientContext().getEnvironment() == null) {
            return false;
        }
        return "Android".equalsIgnoreCase(String.valueOf(context.getClientContext().getEnvironment().get("platform")));
    }

    byte[] invoke(byte[] event, Context context) throws Throwable {
        try {
            if (stream) {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                Object[] args = method.getParameterCount() == 3
                        ? new Object[] {new ByteArrayInputStream(event), out, context}
                        : new Object[] {new ByteArrayInputStream(event), out};
                method.invoke(target, args);
                return out.toByteArray();
            }
            boolean android = isAndroid(context);
            Object input = null;
            if (inputType != null) {
                try {
                    input = serializer(inputType, android).fromJson(new ByteArrayInputStream(event));
                } catch (Throwable e) {
                    throw new RuntimeException("An error occurred during JSON parsing", e);
                }
            }
            Class<?>[] params = method.getParameterTypes();
            Object[] args = new Object[params.length];
            for (int i = 0; i < params.length; i++) {
                if (Context.class.isAssignableFrom(params[i])) {
                    args[i] = context;
                } else if (i == 0) {
                    args[i] = input;
                }
            }
            Object result = method.invoke(target, args);
            if (outputType == null) {
                return JSON_NULL;
            }
            try {
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                serializer(outputType, android).toJson(result, out);
                return out.toByteArray();
            } catch (Throwable e) {
                throw new RuntimeException("An error occurred during JSON serialization of response", e);
            }
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
