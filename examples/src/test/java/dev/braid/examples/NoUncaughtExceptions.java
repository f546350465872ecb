package dev.braid.examples;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** Fails a test during which any thread (a transport's, Braid's, an example's) died of an uncaught exception. */
final class NoUncaughtExceptions implements BeforeEachCallback, AfterEachCallback {
  private final List<String> seen = new ArrayList<>(); // guarded by itself
  private Thread.UncaughtExceptionHandler previous;

  @Override
  public void beforeEach(ExtensionContext context) {
    previous = Thread.getDefaultUncaughtExceptionHandler();
    Thread.setDefaultUncaughtExceptionHandler((thread, e) -> {
      synchronized (seen) {
        seen.add(thread.getName() + ": " + e);
      }
      e.printStackTrace();
    });
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Thread.setDefaultUncaughtExceptionHandler(previous);
    synchronized (seen) {
      if (!seen.isEmpty()) {
        List<String> copy = new ArrayList<>(seen);
        seen.clear();
        throw new AssertionError("uncaught exceptions on other threads during the test: " + copy);
      }
    }
  }
}
