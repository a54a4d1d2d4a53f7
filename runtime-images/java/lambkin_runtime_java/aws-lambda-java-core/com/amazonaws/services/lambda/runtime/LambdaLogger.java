// Lambkin: source-compatible with the same-named type of AWS's aws-lambda-java-core (written
// from its public API; no AWS code). Handler source written against AWS's jar compiles unchanged.
package com.amazonaws.services.lambda.runtime;

/** Writes to the function's log (stdout of the runtime), as is. */
public interface LambdaLogger {
    void log(String message);

    void log(byte[] message);
}
