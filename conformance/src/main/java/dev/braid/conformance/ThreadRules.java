package dev.braid.conformance;

import static dev.braid.conformance.Kit.await;
import static dev.braid.conformance.Kit.awaitState;
import static dev.braid.conformance.Kit.bytes;
import static dev.braid.conformance.Kit.open;
import static dev.braid.conformance.Kit.readExactly;
import static dev.braid.conformance.Kit.writeAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.StreamState;
import dev.braid.conformance.Kit.StreamPair;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The thread rules, section "T: threads" of {@code SPEC.md} (T1, T2; the contract itself is SPEC.md §7 and
 * {@code docs/threads.md}): an application continuation never runs where it could stall the transport, and no
 * Braid or transport code runs under a lock the application can take.
 */
interface ThreadRules extends KitAccess {
  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("T1 a continuation may block: one waiting on another stream of the same connection does not stall the transport")
  default void T1_blockingContinuation(Side side) throws Exception {
    ConnectionPair p = pair();
    StreamPair a = open(p, side);
    StreamPair b = open(p, side);
    for (int round = 0; round < 2; round++) {
      // Receiving end: the continuation of a's read blocks until b's byte arrives over the same connection. Were
      // it run on the thread that delivered a's byte (a transport I/O thread), b's byte could never be delivered.
      CompletableFuture<Integer> chained = a.remote().read(ByteBuffer.allocate(1))
          .thenApply(n -> b.remote().read(ByteBuffer.allocate(1)).join());
      writeAll(a.local(), new byte[] {1});
      writeAll(b.local(), new byte[] {2});
      assertEquals(1, await(chained, "a read continuation that waits for another stream's read (receiving end)"));

      // Sending end: the continuation of a's write blocks on a read of b, which the peer answers only after it
      // received a's byte. The peer's part runs on a worker, so that a continuation run inline cannot stall the test.
      CompletableFuture<Void> peer = CompletableFuture.runAsync(() -> {
        readExactly(a.remote(), 1);
        writeAll(b.remote(), new byte[] {3});
      }, pool());
      CompletableFuture<Integer> afterWrite = a.local().write(ByteBuffer.wrap(new byte[] {4}))
          .thenApply(v -> b.local().read(ByteBuffer.allocate(1)).join());
      assertEquals(1, await(afterWrite, "a write continuation that waits for another stream's read (sending end)"));
      await(peer, "the peer's answer");

      // A composed future: thenCompose's result completes when the future its function returned does, here a read
      // the transport completes. The continuation attached to that result must not run there either.
      CountDownLatch issued = new CountDownLatch(1);
      StreamPair c = open(p, side);
      CompletableFuture<Integer> composed = a.remote().read(ByteBuffer.allocate(1))
          .thenCompose(n -> {
            CompletableFuture<Integer> inner = c.remote().read(ByteBuffer.allocate(1));
            issued.countDown();
            return inner;
          })
          .thenApply(n -> b.remote().read(ByteBuffer.allocate(1)).join());
      writeAll(a.local(), new byte[] {5});
      assertTrue(issued.await(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS),
          "the function given to thenCompose never ran after the read completed");
      writeAll(c.local(), new byte[] {6}); // completes the inner read on the transport's thread
      writeAll(b.local(), new byte[] {7});
      assertEquals(1, await(composed, "a continuation of thenCompose's result that waits for another stream's read"));
      c.local().close();
    }
    // The connection still carries data both ways afterwards.
    byte[] msg = bytes(4096, 7);
    writeAll(a.local(), msg);
    assertArrayEquals(msg, readExactly(a.remote(), msg.length));
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("T2 no Braid or transport code runs under a lock the application can observe: traffic flows while it holds every monitor")
  default void T2_noObservableLocks(Side side) throws Exception {
    ConnectionPair p = pair();
    StreamPair s = open(p, side);
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> holder = CompletableFuture.runAsync(() -> {
      synchronized (s.local()) {
        synchronized (s.remote()) {
          synchronized (p.dialer()) {
            synchronized (p.listener()) {
              held.countDown();
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while holding the monitors", e);
              }
            }
          }
        }
      }
    }, pool());
    try {
      assertTrue(held.await(60, TimeUnit.SECONDS), "the holder took every monitor within 60 s");
      int size = 4 * window();
      byte[] there = bytes(size, 11);
      byte[] back = bytes(size, 12);
      CompletableFuture<byte[]> readThere = CompletableFuture.supplyAsync(() -> readExactly(s.remote(), size), pool());
      CompletableFuture<byte[]> readBack = CompletableFuture.supplyAsync(() -> readExactly(s.local(), size), pool());
      writeAll(s.local(), there);
      writeAll(s.remote(), back);
      assertArrayEquals(there, await(readThere, "bytes one way while the monitors are held"));
      assertArrayEquals(back, await(readBack, "bytes the other way while the monitors are held"));
      await(s.local().closeWrite(), "closeWrite");
      await(s.remote().closeWrite(), "the peer's closeWrite");
      assertEquals(-1, await(s.remote().read(ByteBuffer.allocate(1)), "EOF"));
      assertEquals(-1, await(s.local().read(ByteBuffer.allocate(1)), "the peer's EOF"));
      awaitState(s.local(), StreamState.CLOSED);
      awaitState(s.remote(), StreamState.CLOSED);
      StreamPair t = open(p, side);
      t.local().reset(5);
      awaitState(t.remote(), StreamState.RESET);
    } finally {
      release.countDown();
    }
    await(holder, "the holder let go");
  }
}
