package dev.braid.conformance;

import static dev.braid.conformance.Kit.await;
import static dev.braid.conformance.Kit.bytes;
import static dev.braid.conformance.Kit.open;
import static dev.braid.conformance.Kit.readToEnd;
import static dev.braid.conformance.Kit.writeAll;
import static dev.braid.conformance.KitHarness.assertFailsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.braid.Capability;
import dev.braid.StreamState;
import dev.braid.WriteClosedException;
import dev.braid.conformance.Kit.Recorder;
import dev.braid.conformance.Kit.StreamPair;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The lifecycle rules, section "L: lifecycle" of {@code SPEC.md} (L1-L4): transitions only go forward and
 * terminal states never change, a listener sees every transition once and in order, listeners run outside every
 * lock, and checking the state and acting on it is atomic.
 */
interface LifecycleRules extends KitAccess {
  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("L1 transitions only go forward; terminal states never change")
  default void L1_transitionsOnlyGoForward(Side side) throws Exception {
    Recorder lr = new Recorder();
    Recorder rr = new Recorder();
    StreamPair s = open(pair(), side, lr);
    s.remote().addListener(rr);
    writeAll(s.local(), bytes(1000, 1));
    await(s.local().closeWrite(), "closeWrite");
    assertEquals(1000, readToEnd(s.remote(), 1000).length);
    writeAll(s.remote(), bytes(10, 2));
    await(s.remote().closeWrite(), "peer closeWrite");
    assertEquals(10, readToEnd(s.local(), 10).length);
    assertEquals(StreamState.CLOSED, await(s.local().terminated(), "local terminated"));
    assertEquals(StreamState.CLOSED, await(s.remote().terminated(), "remote terminated"));
    assertNoUndeclaredOpening(lr);
    lr.assertChain(has(Capability.OPENING_STATE) ? lr.transitions().get(0)[0] : StreamState.OPEN, StreamState.CLOSED,
        "opener's listener");
    // A terminal state never changes, whatever is called afterwards.
    s.local().reset(5);
    s.local().closeRead();
    s.remote().reset(6);
    assertEquals(StreamState.CLOSED, s.local().state());
    assertEquals(StreamState.CLOSED, s.remote().state());
    assertFailsWith(s.local().write(ByteBuffer.wrap(new byte[1])), WriteClosedException.class, "write in CLOSED");
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("L2 a listener sees every transition exactly once, in order, never concurrently")
  default void L2_listenerSeesEveryTransitionOnceInOrder(Side side) throws Exception {
    for (int round = 0; round < 20; round++) {
      Recorder lr = new Recorder();
      StreamPair s = open(pair(), side, lr);
      Recorder rr = new Recorder();
      s.remote().addListener(rr);
      StreamState rStart = s.remote().state();
      // Both ends race closes, half-closes and resets from several threads at once.
      CyclicBarrier go = new CyclicBarrier(4);
      long code = 100 + round;
      List<CompletableFuture<?>> tasks = List.of(
          CompletableFuture.runAsync(() -> { barrier(go); s.local().closeWrite(); }, pool()),
          CompletableFuture.runAsync(() -> { barrier(go); s.remote().closeWrite(); }, pool()),
          CompletableFuture.runAsync(() -> { barrier(go); s.local().closeRead(); }, pool()),
          CompletableFuture.runAsync(() -> { barrier(go); if (code % 2 == 0) { s.remote().reset(code); } }, pool()));
      for (CompletableFuture<?> t : tasks) {
        await(t, "racing close operations");
      }
      StreamState lEnd = await(s.local().terminated(), "opener reaches a terminal state");
      StreamState rEnd = await(s.remote().terminated(), "acceptor reaches a terminal state");
      assertNoUndeclaredOpening(lr);
      StreamState lStart = lr.transitions().isEmpty() ? null : lr.transitions().get(0)[0];
      assertTrue(lStart == StreamState.OPEN || (lStart == StreamState.OPENING && has(Capability.OPENING_STATE)),
          "the opener's first transition starts at OPEN (or OPENING): " + lr.describe());
      lr.assertChain(lStart, lEnd, "opener, round " + round);
      if (rStart != rEnd) {
        rr.assertChain(rStart, rEnd, "acceptor, round " + round);
      }
    }
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("L3 listeners run outside every lock: a listener may block on the stream it observes")
  default void L3_listenerMayCallBlockingStreamOperations(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    AtomicReference<Throwable> problem = new AtomicReference<>();
    CountDownLatch answered = new CountDownLatch(1);
    s.remote().addListener((stream, from, to) -> {
      if (to == StreamState.READ_CLOSED) {
        try {
          // Blocking calls on the observed stream from inside the callback: deadlocks if a lock is held.
          byte[] got = new byte[5];
          int n = stream.inputStream().readNBytes(got, 0, 5);
          OutputStream out = stream.outputStream();
          out.write(("ack:" + n).getBytes(StandardCharsets.US_ASCII));
          out.close();
        } catch (Throwable t) {
          problem.set(t);
        } finally {
          answered.countDown();
        }
      }
    });
    writeAll(s.local(), "hello".getBytes(StandardCharsets.US_ASCII));
    await(s.local().closeWrite(), "closeWrite");
    assertTrue(answered.await(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS),
        "the listener did not finish its blocking calls: a lock is held around listener callbacks");
    if (problem.get() != null) {
      throw new AssertionError("blocking calls from a listener failed", problem.get());
    }
    assertEquals("ack:5", new String(readToEnd(s.local(), 100), StandardCharsets.US_ASCII));
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("L4 check and act are atomic: writes racing closeWrite either arrive or fail, never vanish")
  default void L4_writesRacingCloseWriteArriveOrFail(Side side) throws Exception {
    for (int round = 0; round < 10; round++) {
      StreamPair s = open(pair(), side);
      CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> readToEnd(s.remote(), 64 << 20), pool());
      int writers = 6;
      int chunk = 512;
      CyclicBarrier go = new CyclicBarrier(writers + 1);
      AtomicLong accepted = new AtomicLong();
      AtomicInteger refused = new AtomicInteger();
      List<CompletableFuture<Void>> all = new ArrayList<>();
      for (int w = 0; w < writers; w++) {
        int writer = w;
        all.add(CompletableFuture.runAsync(() -> {
          barrier(go);
          for (int i = 0; i < 40; i++) {
            byte[] b = new byte[chunk];
            Arrays.fill(b, (byte) (writer * 40 + i));
            try {
              s.local().write(ByteBuffer.wrap(b)).get(Kit.waitLimit().toSeconds(), TimeUnit.SECONDS);
              accepted.addAndGet(chunk);
            } catch (java.util.concurrent.ExecutionException e) {
              assertInstanceOf(WriteClosedException.class, e.getCause(), "a write racing closeWrite fails with WriteClosedException");
              refused.incrementAndGet();
            } catch (Exception e) {
              throw new AssertionError(e);
            }
          }
        }, pool()));
      }
      barrier(go);
      Thread.yield();
      await(s.local().closeWrite(), "closeWrite racing writes");
      for (CompletableFuture<Void> f : all) {
        await(f, "racing writers");
      }
      byte[] got = await(received, "peer reads to EOF");
      assertEquals(accepted.get(), got.length,
          "round " + round + ": bytes the peer received must equal bytes whose write succeeded (" + refused + " refused)");
      for (int off = 0; off < got.length; off += chunk) {
        for (int i = 1; i < chunk; i++) {
          assertEquals(got[off], got[off + i], "a write's bytes arrive contiguously (round " + round + ")");
        }
      }
    }
  }

  /** A stream that passes through OPENING must come from a transport that declares OPENING_STATE. */
  private void assertNoUndeclaredOpening(Recorder r) {
    List<StreamState[]> ts = r.transitions();
    if (!ts.isEmpty() && ts.get(0)[0] == StreamState.OPENING && !has(Capability.OPENING_STATE)) {
      fail("the stream passed through OPENING (" + r.describe() + "), but transport '" + fixture().transportId()
          + "' does not declare capability OPENING_STATE: add it to its TransportProvider.capabilities()");
    }
  }

  private static void barrier(CyclicBarrier b) {
    try {
      b.await(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("threads did not line up", e);
    }
  }
}
