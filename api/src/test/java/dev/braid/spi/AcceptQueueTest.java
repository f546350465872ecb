package dev.braid.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AcceptQueueTest {

  private final List<String> discarded = new CopyOnWriteArrayList<>();

  private AcceptQueue<String> queue(int capacity) {
    return new AcceptQueue<>(capacity, discarded::add);
  }

  private static IllegalStateException closedCause() {
    return new IllegalStateException("listener closed");
  }

  private static Throwable failureOf(CompletableFuture<?> f) {
    CompletionException e = assertThrows(CompletionException.class, f::join);
    return e.getCause();
  }

  @Test
  void anOfferedItemWaitsForTheNextAccept() {
    AcceptQueue<String> q = queue(4);
    assertTrue(q.offer("a"));
    assertTrue(q.offer("b"));
    assertEquals(2, q.queued());
    assertEquals("a", q.accept().join());
    assertEquals("b", q.accept().join());
    assertEquals(0, q.queued());
  }

  @Test
  void aRemovedItemIsNeverAcceptedNorDiscarded() {
    AcceptQueue<String> q = queue(4);
    q.offer("a");
    q.offer("b");
    assertTrue(q.remove("a"));
    assertFalse(q.remove("a"), "only once");
    assertEquals("b", q.accept().join());
    assertFalse(q.accept().isDone());
    q.close(AcceptQueueTest::closedCause);
    assertEquals(List.of(), discarded);
  }

  @Test
  void aPendingAcceptGetsTheNextOfferInOrder() {
    AcceptQueue<String> q = queue(4);
    CompletableFuture<String> first = q.accept();
    CompletableFuture<String> second = q.accept();
    assertFalse(first.isDone());
    assertEquals(2, q.waiting());
    assertTrue(q.offer("a"));
    assertTrue(q.offer("b"));
    assertEquals("a", first.join());
    assertEquals("b", second.join());
    assertEquals(0, q.waiting());
    assertEquals(0, q.queued());
  }

  @Test
  void beyondTheCapacityAnOfferIsRejectedAndDiscarded() {
    AcceptQueue<String> q = queue(2);
    assertTrue(q.offer("a"));
    assertTrue(q.offer("b"));
    assertFalse(q.offer("c"));
    assertEquals(List.of("c"), discarded);
    assertEquals(2, q.queued());
    assertEquals("a", q.accept().join());
    assertTrue(q.offer("d"), "accepting made room again");
  }

  @Test
  void theCapacityBoundsOnlyQueuedItemsNotHandOversToWaitingAccepts() {
    AcceptQueue<String> q = queue(0);
    CompletableFuture<String> f = q.accept();
    assertTrue(q.offer("a"));
    assertEquals("a", f.join());
    assertFalse(q.offer("b"));
    assertEquals(List.of("b"), discarded);
  }

  @Test
  void closeFailsPendingAcceptsWithTheCauseAndDiscardsQueuedItems() {
    AcceptQueue<String> q = queue(4);
    CompletableFuture<String> f1 = q.accept();
    CompletableFuture<String> f2 = q.accept();
    assertTrue(q.close(AcceptQueueTest::closedCause));
    assertEquals("listener closed", failureOf(f1).getMessage());
    assertNotSame(failureOf(f1), failureOf(f2), "each future gets its own exception");

    AcceptQueue<String> r = queue(4);
    r.offer("a");
    r.offer("b");
    assertTrue(r.close(AcceptQueueTest::closedCause));
    assertEquals(List.of("a", "b"), discarded);
    assertEquals(0, r.queued());
  }

  @Test
  void afterCloseAcceptFailsAndOffersAreDiscarded() {
    AcceptQueue<String> q = queue(4);
    q.offer("queued");
    q.close(AcceptQueueTest::closedCause);
    assertTrue(q.isClosed());
    Throwable e = failureOf(q.accept());
    assertTrue(e instanceof IllegalStateException, e.toString());
    assertFalse(q.offer("late"));
    assertEquals(List.of("queued", "late"), discarded);
    assertEquals(0, q.queued());
  }

  @Test
  void closeIsIdempotent() {
    AcceptQueue<String> q = queue(4);
    AtomicInteger causes = new AtomicInteger();
    CompletableFuture<String> f = q.accept();
    assertTrue(q.close(() -> {
      causes.incrementAndGet();
      return closedCause();
    }));
    assertFalse(q.close(() -> new IllegalArgumentException("second close")));
    assertEquals(1, causes.get());
    assertTrue(failureOf(f) instanceof IllegalStateException);
    assertTrue(failureOf(q.accept()) instanceof IllegalStateException, "the first close's cause stays");
  }

  @Test
  void theCloseHookRunsOnceAfterClosingAndBeforeAnyoneIsTold() {
    AcceptQueue<String> q = queue(4);
    q.offer("queued");
    AcceptQueue<String> r = queue(4);
    CompletableFuture<String> pending = r.accept();
    AtomicInteger hooks = new AtomicInteger();
    assertTrue(r.close(AcceptQueueTest::closedCause, () -> {
      hooks.incrementAndGet();
      assertTrue(r.isClosed());
      assertTrue(r.accept().isCompletedExceptionally(), "accept fails as soon as close began");
      assertFalse(pending.isDone(), "waiting accepts are told only after the hook");
    }));
    assertTrue(failureOf(pending) instanceof IllegalStateException);
    assertFalse(r.close(AcceptQueueTest::closedCause, hooks::incrementAndGet));
    assertEquals(1, hooks.get());

    assertTrue(q.close(AcceptQueueTest::closedCause, () -> {
      assertTrue(discarded.isEmpty(), "queued items are discarded only after the hook");
      assertFalse(q.offer("late"));
      assertEquals(List.of("late"), discarded);
    }));
    assertEquals(List.of("late", "queued"), discarded);
  }

  @Test
  void aThrowingCloseHookStillFailsAcceptsAndDiscardsItems() {
    AcceptQueue<String> q = queue(4);
    CompletableFuture<String> pending = q.accept();
    AcceptQueue<String> r = queue(4);
    r.offer("queued");
    assertThrows(IllegalStateException.class, () -> q.close(AcceptQueueTest::closedCause, () -> {
      throw new IllegalStateException("port did not close");
    }));
    assertTrue(failureOf(pending) instanceof IllegalStateException);
    assertThrows(IllegalStateException.class, () -> r.close(AcceptQueueTest::closedCause, () -> {
      throw new IllegalStateException("port did not close");
    }));
    assertEquals(List.of("queued"), discarded);
  }

  @Test
  void anOfferSkipsAcceptsThatWereCancelledOrTimedOutAndIsNotLost() {
    AcceptQueue<String> q = queue(4);
    CompletableFuture<String> cancelled = q.accept();
    CompletableFuture<String> timedOut = q.accept();
    CompletableFuture<String> live = q.accept();
    cancelled.cancel(false);
    timedOut.completeExceptionally(new java.util.concurrent.TimeoutException());
    assertEquals(1, q.waiting(), "futures that ended on their own leave the queue");
    assertTrue(q.offer("a"));
    assertEquals("a", live.join());

    CompletableFuture<String> gone = q.accept();
    gone.cancel(true);
    assertTrue(q.offer("b"));
    assertEquals(1, q.queued(), "with no live accept the item is queued, not lost");
    assertEquals("b", q.accept().join());
    assertTrue(discarded.isEmpty());
  }

  @Test
  void aFailingDiscardDoesNotStopTheOthers() {
    List<String> seen = new ArrayList<>();
    AcceptQueue<String> q = new AcceptQueue<>(4, s -> {
      seen.add(s);
      throw new IllegalStateException("cannot close " + s);
    });
    q.offer("a");
    q.offer("b");
    assertTrue(q.close(AcceptQueueTest::closedCause));
    assertEquals(List.of("a", "b"), seen);
    assertTrue(q.isClosed());
    assertFalse(q.offer("c"), "a throwing discard on reject is contained too");
    assertEquals(List.of("a", "b", "c"), seen);
  }

  @Test
  void argumentsAreChecked() {
    assertThrows(IllegalArgumentException.class, () -> new AcceptQueue<String>(-1, s -> { }));
    assertThrows(NullPointerException.class, () -> new AcceptQueue<String>(1, null));
    AcceptQueue<String> q = queue(1);
    assertThrows(NullPointerException.class, () -> q.offer(null));
    assertThrows(NullPointerException.class, () -> q.close(null));
  }

  @Test
  void theCompletingThreadHoldsNoLockOfTheQueue() throws Exception {
    AcceptQueue<String> q = queue(4);
    CompletableFuture<String> f = q.accept();
    CompletableFuture<Boolean> reentrant = f.thenApply(s -> {
      // A dependent that calls back into the queue from another thread must not block.
      CompletableFuture<Integer> other = CompletableFuture.supplyAsync(q::waiting);
      return other.join() == 0 && q.offer("again");
    });
    q.offer("a");
    assertTrue(reentrant.join());
    assertSame("again", q.accept().join());
  }

  /**
   * Offers, accepts, cancellations and one close race from several threads. Whatever the interleaving:
   * every offered item ends exactly once, either handed to an accept future or discarded; every accept
   * future ends (with an item, the close cause, or its own cancellation); nothing stays queued or waiting.
   */
  @Test
  void offerAcceptCancelAndCloseRacesLoseNothingAndDuplicateNothing() throws Exception {
    for (int round = 0; round < 300; round++) {
      Set<String> gone = ConcurrentHashMap.newKeySet();
      List<String> thrownAway = Collections.synchronizedList(new ArrayList<>());
      AcceptQueue<String> q = new AcceptQueue<>(8, s -> {
        thrownAway.add(s);
        assertTrue(gone.add(s), "discarded twice or after delivery: " + s);
      });
      int offerers = 3;
      int perOfferer = 40;
      int acceptors = 3;
      int perAcceptor = 40;
      List<CompletableFuture<String>> futures = new CopyOnWriteArrayList<>();
      List<Thread> threads = new ArrayList<>();
      CountDownLatch start = new CountDownLatch(1);
      List<Throwable> errors = new CopyOnWriteArrayList<>();
      for (int o = 0; o < offerers; o++) {
        int id = o;
        threads.add(new Thread(() -> {
          await(start);
          for (int i = 0; i < perOfferer; i++) {
            q.offer(id + ":" + i);
          }
        }));
      }
      for (int a = 0; a < acceptors; a++) {
        threads.add(new Thread(() -> {
          await(start);
          for (int i = 0; i < perAcceptor; i++) {
            CompletableFuture<String> f = q.accept();
            futures.add(f);
            if (ThreadLocalRandom.current().nextInt(4) == 0) {
              f.cancel(false);
            }
          }
        }));
      }
      int closeAfter = ThreadLocalRandom.current().nextInt(200);
      threads.add(new Thread(() -> {
        await(start);
        for (int i = 0; i < closeAfter; i++) {
          Thread.onSpinWait();
        }
        q.close(AcceptQueueTest::closedCause);
      }));
      for (Thread t : threads) {
        t.setUncaughtExceptionHandler((th, e) -> errors.add(e));
        t.start();
      }
      start.countDown();
      for (Thread t : threads) {
        t.join();
      }
      assertTrue(errors.isEmpty(), errors.toString());
      assertTrue(q.isClosed());
      assertEquals(0, q.queued());
      assertEquals(0, q.waiting());

      Set<String> delivered = new HashSet<>();
      for (CompletableFuture<String> f : futures) {
        assertTrue(f.isDone(), "an accept future was left pending after close");
        if (!f.isCompletedExceptionally()) {
          String s = f.join();
          assertTrue(delivered.add(s), "delivered twice: " + s);
          assertFalse(gone.contains(s), "delivered and discarded: " + s);
        } else if (!f.isCancelled()) {
          assertTrue(failureOf(f) instanceof IllegalStateException);
        }
      }
      assertEquals(offerers * perOfferer, delivered.size() + thrownAway.size(),
          "every offered item is either delivered or discarded (round " + round + ")");
    }
  }

  private static void await(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
