// Lambkin: source-compatible with the same-named type of AWS's aws-lambda-java-core (written
// from its public API; no AWS code). Handler source written against AWS's jar compiles unchanged.
package com.amazonaws.services.lambda.runtime;

public interface CognitoIdentity {
    String getIdentityId();

    String getIdentityPoolId();
}
