// Lambkin: source-compatible with the same-named type of AWS's aws-lambda-java-core (written
// from its public API; no AWS code). Handler source written against AWS's jar compiles unchanged.
package com.amazonaws.services.lambda.runtime;

import java.nio.charset.StandardCharsets;

/** The logger outside a handler (e.g. in static initialisers). */
public final class LambdaRuntime {
    private static volatile LambdaLogger logger = new LambdaLogger() {
        @Override
        public void log(String message) {
            System.out.print(message);
            System.out.flush();
        }

        @Override
        public void log(byte[] message) {
            log(new String(message, StandardCharsets.UTF_8));
        }
    };

    private LambdaRuntime() {
    }

    public static LambdaLogger getLogger() {
        return logger;
    }
}
