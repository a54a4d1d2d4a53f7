package example;

import com.amazonaws.services.lambda.runtime.Context;

/** example.Greeter::greet: a POJO in, a POJO out, (de)serialised with Jackson. */
public class Greeter {
    public static class Request {
        private String name;
        private int times;

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }

        public int getTimes() {
            return times;
        }

        public void setTimes(int times) {
            this.times = times;
        }
    }

    public static class Greeting {
        public String message;
        public String requestId;

        public Greeting(String message, String requestId) {
            this.message = message;
            this.requestId = requestId;
        }
    }

    public Greeting greet(Request request, Context context) {
        return new Greeting("Hello, " + request.getName() + "!".repeat(request.getTimes()), context.getAwsRequestId());
    }
}
