package dev.braid.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SerialExecutorTest {
  private final ExecutorService pool = Executors.newFixedThreadPool(4);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  @Test
  void tasksRunOneAtATimeInSubmissionOrder() throws Exception {
    SerialExecutor serial = new SerialExecutor(pool);
    List<Integer> seen = new CopyOnWriteArrayList<>();
    int[] running = {0};
    boolean[] overlapped = {false};
    CountDownLatch done = new CountDownLatch(1000);
    for (int i = 0; i < 1000; i++) {
      int n = i;
      serial.execute(() -> {
        synchronized (running) {
          overlapped[0] |= ++running[0] > 1;
        }
        seen.add(n);
        synchronized (running) {
          running[0]--;
        }
        done.countDown();
      });
    }
    assertTrue(done.await(20, TimeUnit.SECONDS));
    assertFalse(overlapped[0], "two tasks ran at once");
    for (int i = 0; i < 1000; i++) {
      assertEquals(i, seen.get(i));
    }
  }

  @Test
  void aThrowingTaskIsIsolatedAndTheNextRuns() throws Exception {
    SerialExecutor serial = new SerialExecutor(pool);
    CountDownLatch next = new CountDownLatch(1);
    serial.execute(() -> {
      throw new IllegalStateException("task failure (expected by the test)");
    });
    serial.execute(next::countDown);
    assertTrue(next.await(20, TimeUnit.SECONDS));
  }

  /** Libraries (kwik) wake threads with interrupt(): a flag one task leaves must not reach the next task. */
  @Test
  void anInterruptLeftByATaskDoesNotReachTheNext() throws Exception {
    ExecutorService one = Executors.newSingleThreadExecutor(); // the same thread runs both tasks
    try {
      SerialExecutor serial = new SerialExecutor(one);
      boolean[] interruptedAtStart = new boolean[1];
      CountDownLatch done = new CountDownLatch(1);
      serial.execute(() -> Thread.currentThread().interrupt());
      serial.execute(() -> {
        interruptedAtStart[0] = Thread.currentThread().isInterrupted();
        done.countDown();
      });
      assertTrue(done.await(20, TimeUnit.SECONDS));
      assertFalse(interruptedAtStart[0]);
    } finally {
      one.shutdownNow();
    }
  }

  @Test
  void tasksAfterTheDelegateShutDownAreDropped() {
    ExecutorService gone = Executors.newSingleThreadExecutor();
    gone.shutdown();
    SerialExecutor serial = new SerialExecutor(gone);
    boolean[] ran = {false};
    serial.execute(() -> ran[0] = true); // no exception to the caller
    assertFalse(ran[0]);
  }
}
