package idmops.lab.am;

import jakarta.servlet.ServletException;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The stand-in AM's endpoints under {@code /am/json/*}: AM's paths and answer shapes, nothing more.
 *
 * <ul>
 *   <li>{@code serverinfo/version}: {@code {"version","revision","date"}} baked into the war.</li>
 *   <li>{@code health/live}: 200, empty body.</li>
 *   <li>{@code health/ready}: 200 only if the JCEKS keystore holds an AES-256 secret key with alias
 *       {@code directenctest} (AM will not start without it) and the site's configuration
 *       ({@link SiteConfig}) has this war's major.minor version (AM needs its configuration upgraded
 *       first), else 503; empty body. The lab can turn the configuration check off per node with
 *       {@code config.version.check=false} in {@code am.lab.settings} (default on).</li>
 *   <li>{@code lab/hold?seconds=N}: lab only, answers 200 after N seconds (0..600), to keep a
 *       request open through the load balancer.</li>
 * </ul>
 */
public final class JsonEndpoints extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String KEY_ALIAS = "directenctest";
    static final int AES_256_BYTES = 32;
    static final int MAX_HOLD_SECONDS = 600;
    private static final Pattern RESOURCE_VERSION = Pattern.compile("resource=((\\d+)(?:\\.\\d+)?)");

    private String versionJson;
    private Path keystore;
    private Path storepassFile;
    private Path keypassFile;
    private Path labSettings;
    private SiteConfig config;
    private volatile String lastReadiness = "";
    /** The last key check and the identity (inode, mtime, size) of the files it read. */
    private volatile KeyCheck keyCheck;

    private record KeyCheck(List<String> files, String reason) {
    }

    @Override
    public void init() throws ServletException {
        versionJson = String.format("{\"version\":\"%s\",\"revision\":\"%s\",\"date\":\"%s\"}",
                Build.version(), Build.revision(), Build.date());
        keystore = Path.of(setting("am.keystore.file"));
        storepassFile = Path.of(setting("am.keystore.storepass.file"));
        keypassFile = Path.of(setting("am.keystore.keypass.file"));
        labSettings = Path.of(setting("am.lab.settings"));
        config = SiteConfig.of(getServletContext());
    }

    private String setting(String name) {
        return SiteConfig.setting(getServletContext(), name);
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = Objects.requireNonNullElse(req.getPathInfo(), "");
        switch (path) {
            case "/serverinfo/version" -> version(req, resp);
            case "/health/live" -> resp.setStatus(HttpServletResponse.SC_OK);
            case "/health/ready" -> resp.setStatus(ready() ? HttpServletResponse.SC_OK
                                                           : HttpServletResponse.SC_SERVICE_UNAVAILABLE);
            case "/lab/hold" -> hold(req, resp);
            default -> error(resp, HttpServletResponse.SC_NOT_FOUND, "Not Found", "Resource not found");
        }
    }

    /** Real AM wants {@code Accept-API-Version: resource=1.0}; no header is accepted too. */
    private void version(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String requested = req.getHeader("Accept-API-Version");
        if (requested != null) {
            Matcher m = RESOURCE_VERSION.matcher(requested);
            if (m.find() && !m.group(2).equals("1")) {
                error(resp, HttpServletResponse.SC_BAD_REQUEST, "Bad Request",
                        "Unsupported major version: " + m.group(1));
                return;
            }
        }
        json(resp, HttpServletResponse.SC_OK, versionJson);
    }

    private boolean ready() {
        String reason = notReadyReason();
        if (!reason.equals(lastReadiness)) {
            lastReadiness = reason;
            log(reason.isEmpty() ? "ready" : "not ready: " + reason);
        }
        return reason.isEmpty();
    }

    /** Empty when ready. */
    private String notReadyReason() {
        if (Build.neverReady()) {
            return "this war never becomes ready (the lab's fault-injection build)";
        }
        String reason = keyMissingReason();
        return reason.isEmpty() && configVersionCheck() ? configOutdatedReason() : reason;
    }

    /** AM runs only on a configuration of its own major.minor version: an older one needs upgrading. */
    private String configOutdatedReason() {
        try {
            String version = config.version();
            int[] have = SiteConfig.majorMinor(version);
            int[] want = SiteConfig.majorMinor(Build.version());
            if (have == null || want == null || have[0] != want[0] || have[1] != want[1]) {
                return "configuration version " + version + " in " + config.versionFile() + " is not "
                        + Build.version() + "'s; the configuration needs upgrading";
            }
            return "";
        } catch (IOException e) {
            return "configuration version unknown: " + e;
        }
    }

    /** The lab's per-node switch: {@code config.version.check=false} in am.lab.settings; on by default. */
    private boolean configVersionCheck() {
        Properties settings = new Properties();
        try (Reader in = Files.newBufferedReader(labSettings, StandardCharsets.UTF_8)) {
            settings.load(in);
        } catch (IOException e) {
            return true;
        }
        return !"false".equalsIgnoreCase(settings.getProperty("config.version.check", "true").strip());
    }

    /**
     * Empty when the key is there. Loading a JCEKS key is costly (JDK 17 protects it with 200000 PBE
     * iterations) and HAProxy asks twice a second per backend: the answer is kept until one of the
     * three files changes (another inode, mtime or size).
     */
    private String keyMissingReason() {
        List<String> files = identity(keystore, storepassFile, keypassFile);
        KeyCheck last = keyCheck;
        if (last != null && last.files().equals(files)) {
            return last.reason();
        }
        String reason = loadKeyReason();
        keyCheck = new KeyCheck(files, reason);
        return reason;
    }

    private static List<String> identity(Path... files) {
        List<String> result = new ArrayList<>();
        for (Path file : files) {
            try {
                BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
                result.add(a.fileKey() + " " + a.lastModifiedTime() + " " + a.size());
            } catch (IOException e) {
                result.add("absent");
            }
        }
        return result;
    }

    /** The key password is the keypass file's when that exists, else the store's. */
    private String loadKeyReason() {
        try {
            char[] storepass = firstLine(storepassFile);
            char[] keypass = Files.isRegularFile(keypassFile) ? firstLine(keypassFile) : storepass;
            KeyStore ks = KeyStore.getInstance("JCEKS");
            try (InputStream in = Files.newInputStream(keystore)) {
                ks.load(in, storepass);
            }
            if (!ks.entryInstanceOf(KEY_ALIAS, KeyStore.SecretKeyEntry.class)) {
                return keystore + " has no secret key entry " + KEY_ALIAS;
            }
            Key key = ks.getKey(KEY_ALIAS, keypass);
            byte[] encoded = key.getEncoded();
            if (!"AES".equalsIgnoreCase(key.getAlgorithm()) || encoded == null || encoded.length != AES_256_BYTES) {
                return KEY_ALIAS + " is " + key.getAlgorithm() + " with "
                        + (encoded == null ? "unknown" : encoded.length * 8) + " bits, not AES 256";
            }
            return "";
        } catch (IOException | GeneralSecurityException e) {
            return e.toString();
        }
    }

    /** Like keytool's {@code -storepass:file}: the password is the file's first line. */
    private static char[] firstLine(Path file) throws IOException {
        try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line = reader.readLine();
            return line == null ? new char[0] : line.toCharArray();
        }
    }

    private void hold(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        int seconds;
        try {
            seconds = Integer.parseInt(Objects.requireNonNullElse(req.getParameter("seconds"), "0"));
        } catch (NumberFormatException e) {
            seconds = -1;
        }
        if (seconds < 0 || seconds > MAX_HOLD_SECONDS) {
            error(resp, HttpServletResponse.SC_BAD_REQUEST, "Bad Request",
                    "seconds must be an integer from 0 to " + MAX_HOLD_SECONDS);
            return;
        }
        try {
            Thread.sleep(seconds * 1000L);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            error(resp, HttpServletResponse.SC_SERVICE_UNAVAILABLE, "Service Unavailable", "interrupted");
            return;
        }
        json(resp, HttpServletResponse.SC_OK, "{\"held\":" + seconds + "}");
    }

    /** AM's error shape; the message is always one of ours, so it needs no escaping. */
    private static void error(HttpServletResponse resp, int code, String reason, String message) throws IOException {
        json(resp, code, String.format("{\"code\":%d,\"reason\":\"%s\",\"message\":\"%s\"}", code, reason, message));
    }

    private static void json(HttpServletResponse resp, int status, String body) throws IOException {
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.getWriter().write(body);
    }
}
