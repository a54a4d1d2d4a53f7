package example.util;

/** Compiled into lib/util.jar: the Lambda zip layout puts lib/*.jar on the classpath. */
public class Counter {
    private int value;

    public void increment() {
        value++;
    }

    public int value() {
        return value;
    }
}
