// Lambkin: source-compatible with the same-named type of AWS's aws-lambda-java-core (written
// from its public API; no AWS code). Handler source written against AWS's jar compiles unchanged.
package com.amazonaws.services.lambda.runtime;

/** A handler whose input and output are (de)serialised from and to JSON by the runtime. */
public interface RequestHandler<I, O> {
    O handleRequest(I input, Context context);
}
