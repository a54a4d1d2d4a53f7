package example;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import java.util.Map;

/** A handler whose class initialisation fails. */
public class App implements RequestHandler<Map<String, Object>, String> {
    static {
        if (true) {
            throw new IllegalStateException("configuration missing at import");
        }
    }

    @Override
    public String handleRequest(Map<String, Object> input, Context context) {
        return "never";
    }
}
