package dev.braid.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AsyncLoopTest {

  @Test
  void aMillionStepsThatCompleteAtOnceDoNotRecurse() throws Exception {
    AtomicInteger steps = new AtomicInteger();
    CompletableFuture<Void> done = AsyncLoop.run(() -> CompletableFuture.completedFuture(steps.incrementAndGet() < 1_000_000));
    done.get(10, TimeUnit.SECONDS);
    assertEquals(1_000_000, steps.get());
  }

  @Test
  void pendingStepsResumeFromTheirContinuationAndAFailureEndsTheLoop() throws Exception {
    AtomicInteger steps = new AtomicInteger();
    IllegalStateException boom = new IllegalStateException("boom");
    CompletableFuture<Void> done = AsyncLoop.run(() -> {
      int n = steps.incrementAndGet();
      if (n == 50) {
        return CompletableFuture.failedFuture(boom);
      }
      return CompletableFuture.supplyAsync(() -> true, CompletableFuture.delayedExecutor(1, TimeUnit.MILLISECONDS));
    });
    ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> done.get(30, TimeUnit.SECONDS));
    assertSame(boom, e.getCause());
    assertEquals(50, steps.get());
  }
}
