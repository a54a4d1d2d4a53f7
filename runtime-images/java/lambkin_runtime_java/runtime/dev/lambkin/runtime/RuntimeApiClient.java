package dev.lambkin.runtime;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.util.List;
import java.util.Map;

/**
 * The client of the Lambda Runtime API (2018-06-01). HttpURLConnection keeps the connection alive
 * between calls (every body is read to the end); no read timeout, as /next is a long poll.
 */
final class RuntimeApiClient {
    static final String ERROR_TYPE_HEADER = "Lambda-Runtime-Function-Error-Type";

    /** One event from /next. */
    static final class Invocation {
        final Map<String, List<String>> headers;
        final byte[] body;

        Invocation(Map<String, List<String>> headers, byte[] body) {
            this.headers = headers;
            this.body = body;
        }

        String header(String name) {
            for (Map.Entry<String, List<String>> entry : headers.entrySet()) {
                if (name.equalsIgnoreCase(entry.getKey()) && !entry.getValue().isEmpty()) {
                    return entry.getValue().get(0);
                }
            }
            return null;
        }
    }

    private final String base;

    RuntimeApiClient(String address) {
        this.base = "http://" + address + "/2018-06-01/runtime";
    }

    Invocation next() throws IOException {
        HttpURLConnection connection = open("/invocation/next", "GET");
        int status = connection.getResponseCode();
        byte[] body = readAll(status >= 400 ? connection.getErrorStream() : connection.getInputStream());
        if (status != 200) {
            throw new IOException("GET /invocation/next: status " + status + ": " + new String(body));
        }
        return new Invocation(connection.getHeaderFields(), body);
    }

    void postResponse(String requestId, byte[] body) throws IOException {
        post("/invocation/" + requestId + "/response", body, null);
    }

    void postError(String requestId, byte[] document, String errorType) throws IOException {
        post("/invocation/" + requestId + "/error", document, errorType);
    }

    void postInitError(byte[] document, String errorType) throws IOException {
        post("/init/error", document, errorType);
    }

    private void post(String path, byte[] body, String errorType) throws IOException {
        HttpURLConnection connection = open(path, "POST");
        connection.setDoOutput(true);
        connection.setFixedLengthStreamingMode(body.length);
        connection.setRequestProperty("Content-Type", "application/json");
        if (errorType != null) {
            connection.setRequestProperty(ERROR_TYPE_HEADER, errorType);
        }
        try (OutputStream out = connection.getOutputStream()) {
            out.write(body);
        }
        int status = connection.getResponseCode();
        byte[] answer = readAll(status >= 400 ? connection.getErrorStream() : connection.getInputStream());
        if (status < 200 || status >= 300) {
            System.err.println("[ERROR] Runtime API refused the result: POST " + path + ": " + status + " "
                    + new String(answer, 0, Math.min(answer.length, 300)));
        }
    }

    private HttpURLConnection open(String path, String method) throws IOException {
        HttpURLConnection connection = (HttpURLConnection) new URL(base + path).openConnection();
        connection.setRequestMethod(method);
        connection.setReadTimeout(0);
        connection.setUseCaches(false);
        return connection;
    }

    private static byte[] readAll(InputStream in) throws IOException {
        if (in == null) {
            return new byte[0];
        }
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            in.transferTo(out);
            return out.toByteArray();
        }
    }
}
