package demo.lib;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * Tiny "library" class shipped in its own jar (lib/demo-greeting.jar) so that
 * tests can check that library jars are deployed alongside the application jar.
 */
public final class Greeting {
    private Greeting() {
    }

    /** Version of this library, read from classpath resource demo-lib.properties. */
    public static String version() {
        Properties props = new Properties();
        ClassLoader cl = Greeting.class.getClassLoader();
        try (InputStream in = cl == null ? null : cl.getResourceAsStream("demo-lib.properties")) {
            if (in != null) {
                props.load(in);
            }
        } catch (IOException e) {
            // fall through to the default
        }
        return props.getProperty("version", "unknown").trim();
    }
}
