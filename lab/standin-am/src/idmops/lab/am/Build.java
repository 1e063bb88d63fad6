package idmops.lab.am;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** What the lab baked into this war: {@code WEB-INF/classes/am-version.properties}. */
public final class Build {
    private static final Properties PROPERTIES = load();

    private Build() {
    }

    private static Properties load() {
        Properties build = new Properties();
        try (InputStream in = Build.class.getResourceAsStream("/am-version.properties")) {
            if (in == null) {
                throw new IllegalStateException("WEB-INF/classes/am-version.properties is missing");
            }
            build.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return build;
    }

    public static String version() {
        return PROPERTIES.getProperty("version");
    }

    public static String revision() {
        return PROPERTIES.getProperty("revision");
    }

    public static String date() {
        return PROPERTIES.getProperty("date");
    }

    /** The fault-injection war ({@code ready=never}) reports its version but never becomes ready. */
    public static boolean neverReady() {
        return "never".equals(PROPERTIES.getProperty("ready"));
    }
}
