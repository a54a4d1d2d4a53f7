package dev.lambkin.runtime;

import com.amazonaws.lambda.thirdparty.com.fasterxml.jackson.databind.ObjectMapper;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.amazonaws.services.lambda.runtime.serialization.factories.GsonFactory;
import com.amazonaws.services.lambda.runtime.serialization.factories.JacksonFactory;
import java.lang.reflect.Type;

/**
 * (De)serialisation as AWS's Java runtime does it, with AWS's aws-lambda-java-serialization: an
 * event class of aws-lambda-java-events (APIGatewayV2HTTPEvent, SQSEvent, ScheduledEvent, ...)
 * gets that library's mixins, loaded through the function's class loader (the function bundles
 * aws-lambda-java-events); anything else gets its JacksonFactory, or Gson for a client context
 * whose platform is Android. The runtime's own documents (errors, context headers) use the
 * library's shaded Jackson, so the function's own Jackson, if it bundles one, is never shadowed.
 */
final class Serialisation {
    private Serialisation() {
    }

    static ObjectMapper mapper() {
        return new ObjectMapper();
    }

    @SuppressWarnings("unchecked")
    static PojoSerializer<Object> serializer(Type type, ClassLoader loader, boolean android) {
        if (type instanceof Class && LambdaEventSerializers.isLambdaSupportedEvent(((Class<?>) type).getName())) {
            return LambdaEventSerializers.serializerFor((Class<Object>) type, loader);
        }
        return android ? GsonFactory.getInstance().getSerializer(type) : JacksonFactory.getInstance().getSerializer(type);
    }
}
