package idmops.lab.am;

import jakarta.servlet.ServletContext;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The AM configuration shared by the servers of a site ({@code am.config.dir}, {@code /opt/am/site/config}):
 * an Amster-export-like tree whose version is {@code global/version.json} {@code {"version": "X.Y.Z"}},
 * and {@code .am.lock}, the PID of a running AM of the site.
 */
public final class SiteConfig {
    static final String LOCK = ".am.lock";
    private static final Pattern VERSION = Pattern.compile("\"version\"\\s*:\\s*\"([^\"]*)\"");
    private static final Pattern MAJOR_MINOR = Pattern.compile("(\\d+)\\.(\\d+)(?:\\.\\d+)?");

    private final Path dir;

    private SiteConfig(Path dir) {
        this.dir = dir;
    }

    public static SiteConfig of(ServletContext context) {
        return new SiteConfig(Path.of(setting(context, "am.config.dir")));
    }

    /** A system property wins over the context-param of the same name. */
    public static String setting(ServletContext context, String name) {
        String value = System.getProperty(name, context.getInitParameter(name));
        return Objects.requireNonNull(value, name + " is not set");
    }

    public Path dir() {
        return dir;
    }

    public Path versionFile() {
        return dir.resolve("global").resolve("version.json");
    }

    Path lockFile() {
        return dir.resolve(LOCK);
    }

    /** The configuration's version; IOException when the file is missing or has none. */
    public String version() throws IOException {
        Matcher m = VERSION.matcher(Files.readString(versionFile(), StandardCharsets.UTF_8));
        if (!m.find()) {
            throw new IOException(versionFile() + " has no \"version\"");
        }
        return m.group(1);
    }

    /** Sets the version in global/version.json, keeping the rest of the file; atomic. */
    public void setVersion(String version) throws IOException {
        Path file = versionFile();
        String text = Files.readString(file, StandardCharsets.UTF_8);
        Matcher m = VERSION.matcher(text);
        if (!m.find()) {
            throw new IOException(file + " has no \"version\"");
        }
        writeAtomic(file, text.substring(0, m.start(1)) + version + text.substring(m.end(1)));
    }

    /** {major, minor} of a version like 8.1.0, or null. */
    public static int[] majorMinor(String version) {
        Matcher m = MAJOR_MINOR.matcher(version == null ? "" : version);
        return m.matches() ? new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))} : null;
    }

    /** The PID in the lock, or -1 when there is none (missing, empty, not a number). */
    long lockHolder() {
        try {
            return Long.parseLong(Files.readString(lockFile(), StandardCharsets.UTF_8).strip());
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    void writeLock(long pid) throws IOException {
        writeAtomic(lockFile(), pid + "\n");
    }

    static void writeAtomic(Path file, String content) throws IOException {
        Path tmp = Files.createTempFile(file.getParent(), "." + file.getFileName() + ".", ".tmp");
        try {
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
