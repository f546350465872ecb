package dev.braid.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A continuation never runs on the thread that completes a {@link BraidFuture} (a transport's I/O thread), also when
 * it depends on that future through another future: the compose and combine plumbing of the JDK.
 */
@Timeout(60)
class BraidFutureTest {
  private static final String IO = "pretend-io-thread";

  /** Completes {@code f} with {@code value} on a thread named like a transport's, after the chain was built. */
  private static <T> void completeOnIo(BraidFuture<T> f, T value) throws InterruptedException {
    Thread t = new Thread(() -> f.complete(value), IO);
    t.start();
    t.join();
  }


  @Test
  void aContinuationOfAPlainFutureComposedWithABraidFutureRunsOnAnEventThread() throws Exception {
    BraidFuture<Integer> inner = new BraidFuture<>();
    CountDownLatch composed = new CountDownLatch(1);
    CompletableFuture<String> where = CompletableFuture.completedFuture(1)
        .thenApplyAsync(x -> x) // a plain future, as any chain of an application has after its first step
        .thenCompose(x -> {
          composed.countDown();
          return inner;
        })
        .thenApply(x -> Thread.currentThread().getName());
    assertTrue(composed.await(10, TimeUnit.SECONDS));
    completeOnIo(inner, 7);
    String thread = where.get(10, TimeUnit.SECONDS);
    assertTrue(thread.startsWith(BraidThreads.EVENT_THREAD_PREFIX), "ran on " + thread);
  }

  @Test
  void aContinuationOfABraidFutureComposedWithABraidFutureRunsOnAnEventThread() throws Exception {
    BraidFuture<Integer> outer = new BraidFuture<>();
    BraidFuture<Integer> inner = new BraidFuture<>();
    CompletableFuture<String> where = outer.thenCompose(x -> inner).thenApply(x -> Thread.currentThread().getName());
    completeOnIo(outer, 1);
    completeOnIo(inner, 2);
    String thread = where.get(10, TimeUnit.SECONDS);
    assertTrue(thread.startsWith(BraidThreads.EVENT_THREAD_PREFIX), "ran on " + thread);
  }

  @Test
  void combiningWithAPendingBraidFutureRunsOnAnEventThread() throws Exception {
    BraidFuture<Integer> other = new BraidFuture<>();
    CompletableFuture<String> where = CompletableFuture.completedFuture(1)
        .thenCombine(other, (a, b) -> Thread.currentThread().getName());
    completeOnIo(other, 2);
    String thread = where.get(10, TimeUnit.SECONDS);
    assertTrue(thread.startsWith(BraidThreads.EVENT_THREAD_PREFIX), "ran on " + thread);
  }

  @Test
  void aFailureCrossesTheCopyUnchanged() throws Exception {
    BraidFuture<Integer> inner = new BraidFuture<>();
    IllegalStateException boom = new IllegalStateException("boom");
    CompletableFuture<Integer> chain = CompletableFuture.completedFuture(1).thenCompose(x -> inner);
    Thread t = new Thread(() -> inner.completeExceptionally(boom), IO);
    t.start();
    t.join();
    ExecutionException e = assertThrows(ExecutionException.class, () -> chain.get(10, TimeUnit.SECONDS));
    assertSame(boom, e.getCause());
  }

  @Test
  void aCompleteFutureIsItsOwnCompletableFuture() {
    BraidFuture<Integer> done = BraidFuture.completed(3);
    assertSame(done, done.toCompletableFuture());
    BraidFuture<Integer> pending = new BraidFuture<>();
    CompletableFuture<Integer> copy = pending.toCompletableFuture();
    assertInstanceOf(CompletableFuture.class, copy);
    pending.complete(4);
    assertEquals(4, copy.join());
  }
}
