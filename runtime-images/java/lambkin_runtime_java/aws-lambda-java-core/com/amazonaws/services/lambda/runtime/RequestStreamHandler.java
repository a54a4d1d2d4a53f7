// Lambkin: source-compatible with the same-named type of AWS's aws-lambda-java-core (written
// from its public API; no AWS code). Handler source written against AWS's jar compiles unchanged.
package com.amazonaws.services.lambda.runtime;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

/** A handler that reads the raw event and writes the raw response itself. */
public interface RequestStreamHandler {
    void handleRequest(InputStream input, OutputStream output, Context context) throws IOException;
}
