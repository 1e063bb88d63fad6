package idmops.lab.am;

import jakarta.servlet.ServletContext;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;

import java.io.IOException;
import java.nio.file.Files;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * While the webapp runs, {@code <am.config.dir>/.am.lock} holds the PID of a running AM of the site,
 * which is what {@code amupgrade} checks before it touches the configuration.
 *
 * <p>The servers of a site share the directory, so the file names one of them: each writes its PID at
 * start, takes the lock over (within a second) when it is missing or names a process that is gone, and
 * on a clean shutdown removes it only when it names its own PID.
 */
public final class ConfigLock implements ServletContextListener {
    private static final long PID = ProcessHandle.current().pid();
    private ScheduledExecutorService keeper;
    private SiteConfig config;

    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServletContext context = event.getServletContext();
        config = SiteConfig.of(context);
        if (!Files.isDirectory(config.dir())) {
            context.log("configuration directory " + config.dir() + " missing: no " + SiteConfig.LOCK);
            return;
        }
        write(context);
        keeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "am-config-lock");
            t.setDaemon(true);
            return t;
        });
        keeper.scheduleWithFixedDelay(() -> {
            long holder = config.lockHolder();
            if (holder != PID && (holder < 0 || !ProcessHandle.of(holder).map(ProcessHandle::isAlive).orElse(false))) {
                write(context);
            }
        }, 1, 1, TimeUnit.SECONDS);
    }

    private void write(ServletContext context) {
        try {
            config.writeLock(PID);
        } catch (IOException e) {
            context.log("cannot write " + config.lockFile() + ": " + e);
        }
    }

    @Override
    public void contextDestroyed(ServletContextEvent event) {
        if (keeper == null) {
            return;
        }
        keeper.shutdownNow();
        try {
            keeper.awaitTermination(2, TimeUnit.SECONDS);
            if (config.lockHolder() == PID) {
                Files.deleteIfExists(config.lockFile());
            }
        } catch (IOException e) {
            event.getServletContext().log("cannot remove " + config.lockFile() + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
