package dev.braid.conformance;

import java.lang.reflect.Method;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.InvocationInterceptor;
import org.junit.jupiter.api.extension.ReflectiveInvocationContext;

/**
 * The kit's own bound on every rule, so that "never a hang" holds wherever the kit runs, not only under
 * Braid's parent POM (which sets a JUnit default timeout an outside project does not inherit). Each rule
 * runs on a thread of its own; one that has not finished after {@link #limit()} is interrupted and fails,
 * with the stack of the stuck thread in the message, and the build goes on.
 *
 * <p>Every single wait inside a rule is bounded too ({@link Kit#waitLimit()}); this is the backstop for a
 * blocking step a rule could not bound itself. Set {@code -Dbraid.kit.ruleTimeoutSeconds=N} on slow
 * machines (default 600).
 */
public final class RuleTimeout implements InvocationInterceptor {
  /** System property: the most any one rule may take, in seconds (default 600). */
  public static final String PROPERTY = "braid.kit.ruleTimeoutSeconds";

  /** Used by JUnit through {@code @ExtendWith} on the kit's suites. */
  public RuleTimeout() {}

  /** The most any one rule may take. */
  public static Duration limit() {
    return Duration.ofSeconds(Long.getLong(PROPERTY, 600));
  }

  @Override
  public void interceptTestMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
      ExtensionContext extension) throws Throwable {
    bounded(invocation, extension);
  }

  @Override
  public void interceptTestTemplateMethod(Invocation<Void> invocation, ReflectiveInvocationContext<Method> context,
      ExtensionContext extension) throws Throwable {
    bounded(invocation, extension);
  }

  private static void bounded(Invocation<Void> invocation, ExtensionContext extension) throws Throwable {
    FutureTask<Void> task = new FutureTask<>(() -> {
      try {
        invocation.proceed();
      } catch (Exception | Error e) {
        throw e;
      } catch (Throwable t) {
        throw new ExecutionException(t);
      }
      return null;
    });
    Thread runner = new Thread(task, "braid-kit-rule");
    runner.setDaemon(true);
    runner.start();
    Duration limit = limit();
    try {
      task.get(limit.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof ExecutionException && cause.getCause() != null ? cause.getCause() : cause;
    } catch (TimeoutException e) {
      StringBuilder stack = new StringBuilder();
      for (StackTraceElement el : runner.getStackTrace()) {
        stack.append("\n    at ").append(el);
      }
      runner.interrupt();
      throw new AssertionError(extension.getDisplayName() + ": the rule did not finish within " + limit.toSeconds()
          + " s (-D" + PROPERTY + "), so the kit stopped it. A blocking call that never returns is the first thing "
          + "to check; the rule's thread was here:" + stack);
    }
  }
}
