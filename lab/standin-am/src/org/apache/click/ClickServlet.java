package org.apache.click;

import idmops.lab.am.Build;
import idmops.lab.am.SiteConfig;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Stand-in for the upgrade wizard's servlet, NOT Apache Click: it has the class name AM's web.xml
 * declares for {@code click-servlet} and lives in the lab's {@code WEB-INF/lib/click-nodeps-2.3.0.jar},
 * so removing the wizard libraries and the servlet (as the AM 8.1 runbook asks) behaves as in AM.
 *
 * <p>One page: {@code GET /config/upgrade/upgrade.htm?actionLink=doUpgrade&actionLink=saveReport&acceptLicense=true}
 * (exactly these parameters, both actionLink values) sets the site configuration's version to this
 * war's and answers {@code true} (text/plain), like AM's "upgrade over REST". Other parameters: 400.
 * Other pages: 404. A configuration newer than the war: 409.
 */
public final class ClickServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    static final String UPGRADE_PAGE = "/config/upgrade/upgrade.htm";
    private static final Set<String> PARAMETERS = Set.of("actionLink", "acceptLicense");
    private static final List<String> ACTIONS = List.of("doUpgrade", "saveReport");

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        if (!UPGRADE_PAGE.equals(req.getServletPath())) {
            text(resp, HttpServletResponse.SC_NOT_FOUND, "no page " + req.getServletPath());
            return;
        }
        Map<String, String[]> params = req.getParameterMap();
        String[] actions = params.getOrDefault("actionLink", new String[0]).clone();
        Arrays.sort(actions);
        if (!params.keySet().equals(PARAMETERS) || !Arrays.asList(actions).equals(ACTIONS)
                || !Arrays.equals(params.get("acceptLicense"), new String[] {"true"})) {
            text(resp, HttpServletResponse.SC_BAD_REQUEST,
                    "expected exactly actionLink=doUpgrade&actionLink=saveReport&acceptLicense=true");
            return;
        }
        SiteConfig config = SiteConfig.of(getServletContext());
        String target = Build.version();
        try {
            String current = config.version();
            int[] have = SiteConfig.majorMinor(current);
            int[] want = SiteConfig.majorMinor(target);
            if (have != null && want != null && Arrays.compare(have, want) > 0) {
                text(resp, HttpServletResponse.SC_CONFLICT,
                        "configuration version " + current + " is newer than this AM (" + target + ")");
                return;
            }
            if (!target.equals(current)) {
                config.setVersion(target);
                log("configuration upgraded from " + current + " to " + target);
            }
        } catch (IOException e) {
            log("configuration upgrade failed", e);
            text(resp, HttpServletResponse.SC_INTERNAL_SERVER_ERROR, "upgrade failed: " + e);
            return;
        }
        text(resp, HttpServletResponse.SC_OK, "true");
    }

    private static void text(HttpServletResponse resp, int status, String body) throws IOException {
        resp.setStatus(status);
        resp.setContentType("text/plain");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.getWriter().write(body);
    }
}
