package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPEvent;
import com.amazonaws.services.lambda.runtime.events.APIGatewayV2HTTPResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.events.ScheduledEvent;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Handlers typed with AWS's aws-lambda-java-events classes (tests/integration/test_java_events.py):
 * each returns what it read, so the test sees how the runtime deserialised the event.
 */
public class Events {
    /** API Gateway HTTP API (payload 2.0) in, its response type out. */
    public static class Http implements RequestHandler<APIGatewayV2HTTPEvent, APIGatewayV2HTTPResponse> {
        @Override
        public APIGatewayV2HTTPResponse handleRequest(APIGatewayV2HTTPEvent event, Context context) {
            String body = event.getRequestContext().getHttp().getMethod() + " " + event.getRawPath()
                    + " name=" + event.getQueryStringParameters().get("name")
                    + " agent=" + event.getHeaders().get("user-agent")
                    + " cookies=" + event.getCookies()
                    + " base64=" + event.getIsBase64Encoded();
            return APIGatewayV2HTTPResponse.builder()
                    .withStatusCode(201)
                    .withHeaders(Map.of("content-type", "text/plain"))
                    .withBody(body)
                    .build();
        }
    }

    /** SQS batch in (eventSourceARN and the attributes need the library's mixins). */
    public List<Map<String, Object>> sqs(SQSEvent event) {
        List<Map<String, Object>> seen = new ArrayList<>();
        for (SQSEvent.SQSMessage message : event.getRecords()) {
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("messageId", message.getMessageId());
            fields.put("body", message.getBody());
            fields.put("eventSourceArn", message.getEventSourceArn());
            fields.put("awsRegion", message.getAwsRegion());
            fields.put("approximateReceiveCount", message.getAttributes().get("ApproximateReceiveCount"));
            fields.put("colour", message.getMessageAttributes().get("colour").getStringValue());
            seen.add(fields);
        }
        return seen;
    }

    /** EventBridge scheduled event in ("detail-type", a Joda DateTime), plus the JVM's heap flag. */
    public Map<String, Object> scheduled(ScheduledEvent event, Context context) {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("detailType", event.getDetailType());
        fields.put("source", event.getSource());
        fields.put("timeMillis", event.getTime().getMillis());
        fields.put("resources", event.getResources());
        fields.put("detail", event.getDetail());
        fields.put("maxMemory", Runtime.getRuntime().maxMemory());
        fields.put("jvmArguments", ManagementFactory.getRuntimeMXBean().getInputArguments());
        fields.put("memoryLimitInMB", context.getMemoryLimitInMB());
        return fields;
    }
}
