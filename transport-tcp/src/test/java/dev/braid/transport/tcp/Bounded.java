package dev.braid.transport.tcp;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.opentest4j.AssertionFailedError;

/**
 * Test helpers for blocking work and waits: blocking calls run on a thread of their own and report their
 * outcome (result or exactly what they threw) through a future the test waits on with a bound, and waits for
 * a condition are bounded and fail naming what they waited for. Nothing here swallows a failure.
 */
final class Bounded {
  private Bounded() {}

  /** A blocking call that returns a value. */
  @FunctionalInterface
  interface Call<V> {
    V call() throws Exception;
  }

  /** A blocking call without a value. */
  @FunctionalInterface
  interface Run {
    void run() throws Exception;
  }

  /**
   * Runs {@code task} on a new daemon thread (never a shared pool, where blocked tasks would wait for each
   * other). The future completes with its result or, exceptionally, with exactly what it threw, unwrapped, so
   * that a test asserts on the type.
   */
  static <V> CompletableFuture<V> call(String name, Call<V> task) {
    CompletableFuture<V> outcome = new CompletableFuture<>();
    Thread t = new Thread(() -> {
      try {
        outcome.complete(task.call());
      } catch (Throwable e) { // recorded, not handled: the test asserts on the outcome (AssertionErrors included)
        outcome.completeExceptionally(e);
      }
    }, name);
    t.setDaemon(true);
    t.start();
    return outcome;
  }

  /** {@link #call} for a task without a value. */
  static CompletableFuture<Void> run(String name, Run task) {
    return call(name, () -> {
      task.run();
      return null;
    });
  }

  /** {@code in.available()} for conditions and messages (a Braid stream's view never throws it; if it did, it propagates). */
  static int available(InputStream in) {
    try {
      return in.available();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Waits at most {@code seconds} until {@code condition} holds; fails with {@code state} (as it is then) if not. */
  static void until(long seconds, BooleanSupplier condition, Supplier<String> state) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        fail("not reached within " + seconds + " s: " + state.get());
      }
      Thread.sleep(2);
    }
  }

  /**
   * Asserts that {@code f} fails within {@code seconds} with a {@code type} (a timeout or a normal completion
   * fails the test); returns that failure.
   */
  static <E extends Throwable> E failsWith(Class<E> type, Future<?> f, long seconds, String what) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> f.get(seconds, TimeUnit.SECONDS),
        what + ": expected to fail with " + type.getSimpleName() + " within " + seconds + " s");
    Throwable cause = e.getCause();
    if (!type.isInstance(cause)) {
      throw new AssertionFailedError(what + ": expected a " + type.getName() + ", failed with " + cause, cause);
    }
    return type.cast(cause);
  }
}
