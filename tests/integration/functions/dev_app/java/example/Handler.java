package example;

import java.util.Map;

/** lambkin dev's compiled Java function: rebuilt in its folder on save (the template's BuildCommand). */
public class Handler {
    public Map<String, String> handleRequest(Map<String, Object> event) {
        return Map.of("says", "java v1");
    }
}
