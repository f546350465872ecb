package dev.braid.conformance;

import static dev.braid.conformance.Kit.await;
import static dev.braid.conformance.Kit.awaitFailure;
import static dev.braid.conformance.Kit.awaitState;
import static dev.braid.conformance.Kit.bytes;
import static dev.braid.conformance.Kit.eventually;
import static dev.braid.conformance.Kit.open;
import static dev.braid.conformance.Kit.readExactly;
import static dev.braid.conformance.Kit.readToEnd;
import static dev.braid.conformance.Kit.writeAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.TransportOptions;
import dev.braid.WriteClosedException;
import dev.braid.conformance.Kit.Digest;
import dev.braid.conformance.Kit.Recorder;
import dev.braid.conformance.Kit.StreamPair;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The whole conformance kit: one test per numbered rule of {@code SPEC.md}, each run from both sides
 * (the dialer opens the stream, then the listener does). A transport's test class extends this and
 * supplies a fixture:
 *
 * <pre>{@code
 * class TcpConformanceTest extends ConformanceSuite {
 *   @Override protected TransportFixture createFixture() {
 *     return TransportFixture.of(new TcpTransportProvider());
 *   }
 * }
 * }</pre>
 *
 * <p>Around every test the kit watches for uncaught exceptions on any thread (one fails the test that
 * caused it), and after it checks for leaks: every connection the test made has ended with no stream left
 * in {@link Connection#streams()}, and every thread the transport started has stopped. Rules that need a
 * {@link Capability} the transport does not declare are reported as skipped, with the reason.
 *
 * <p>Method names start with the rule's id ({@code H1_...}), so a failure names the rule it broke.
 */
public abstract class ConformanceSuite extends KitHarness {
  /** Runs every rule from both ends; see {@link KitHarness} for what is checked around each test. */
  protected ConformanceSuite() {}

  // ================================================================== L: lifecycle

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("L1 transitions only go forward; terminal states never change")
  void L1_transitionsOnlyGoForward(Side side) throws Exception {
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
  void L2_listenerSeesEveryTransitionOnceInOrder(Side side) throws Exception {
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
          CompletableFuture.runAsync(() -> { barrier(go); s.local().closeWrite(); }, pool),
          CompletableFuture.runAsync(() -> { barrier(go); s.remote().closeWrite(); }, pool),
          CompletableFuture.runAsync(() -> { barrier(go); s.local().closeRead(); }, pool),
          CompletableFuture.runAsync(() -> { barrier(go); if (code % 2 == 0) { s.remote().reset(code); } }, pool));
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
  void L3_listenerMayCallBlockingStreamOperations(Side side) throws Exception {
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
  void L4_writesRacingCloseWriteArriveOrFail(Side side) throws Exception {
    for (int round = 0; round < 10; round++) {
      StreamPair s = open(pair(), side);
      CompletableFuture<byte[]> received = CompletableFuture.supplyAsync(() -> readToEnd(s.remote(), 64 << 20), pool);
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
        }, pool));
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

  // ================================================================== O: opening

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("O1 an opened stream is OPEN when its future completes; the accepted one is OPEN; both are listed")
  void O1_openedAndAcceptedStreamsAreOpen(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    assertEquals(StreamState.OPEN, s.local().state());
    assertTrue(s.local().isLocallyInitiated());
    assertFalse(s.remote().isLocallyInitiated());
    assertEquals(StreamState.OPEN, s.remote().state());
    assertTrue(pair().opener(side).streams().contains(s.local()), "the opener lists the stream");
    assertTrue(pair().acceptor(side).streams().contains(s.remote()), "the acceptor lists the stream");
    assertEquals(pair().opener(side), s.local().connection());
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @org.junit.jupiter.api.Tag("capability")
  @DisplayName("O2 OPENING: the stream passes through OPENING, then OPEN, and writes made meanwhile arrive")
  void O2_openingThenOpen(Side side) throws Exception {
    requires(Capability.OPENING_STATE);
    Recorder r = new Recorder();
    StreamPair s = open(pair(), side, r);
    eventually(() -> !r.transitions().isEmpty(), "the listener saw OPENING->OPEN");
    assertEquals(StreamState.OPENING, r.transitions().get(0)[0]);
    assertEquals(StreamState.OPEN, r.transitions().get(0)[1]);
    writeAll(s.local(), bytes(100, 3));
    assertArrayEquals(bytes(100, 3), readExactly(s.remote(), 100));
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("O3 inbound streams reach a stream handler as well as acceptStream(); opening on an ended connection fails")
  void O3_handlerAndAcceptDeliverInboundStreams(Side side) throws Exception {
    Connection opener = pair().opener(side);
    Connection acceptor = pair().acceptor(side);
    Map<Long, MuxedStream> handled = new ConcurrentHashMap<>();
    acceptor.setStreamHandler(st -> handled.put(st.id(), st));
    assertThrows(IllegalStateException.class, acceptor::acceptStream, "acceptStream cannot be mixed with a handler");
    List<MuxedStream> opened = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      opened.add(await(opener.openStream(), "openStream"));
    }
    for (MuxedStream o : opened) {
      writeAll(o, new byte[] {(byte) o.id()});
    }
    eventually(() -> handled.size() == 5, "the handler saw all 5 streams (saw " + handled.size() + ")");
    Kit.closeAndWait(opener);
    Throwable t = awaitFailure(opener.openStream(), "openStream on a closed connection");
    assertInstanceOf(ConnectionFailedException.class, t);
    eventually(() -> !acceptor.isOpen(), "the peer sees the connection end");
  }

  // ================================================================== H: half-close

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("H1 closeWrite delivers every byte, in order, before the peer sees EOF")
  void H1_closeWriteDeliversEveryByteBeforeEof(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    int size = 4 * window() + 12345; // more than the window: the FIN must wait for flow control
    byte[] data = bytes(size, 11);
    CompletableFuture<Void> w = s.local().write(ByteBuffer.wrap(data));
    CompletableFuture<Void> fin = s.local().closeWrite(); // without waiting for the write
    assertEquals(StreamState.WRITE_CLOSED, s.local().state());
    byte[] got = readToEnd(s.remote(), size);
    await(w, "the write before closeWrite");
    await(fin, "closeWrite");
    assertArrayEquals(data, got, "every byte, in order, then EOF");
    assertEquals(StreamState.READ_CLOSED, s.remote().state());
    assertEquals(-1, (int) await(s.remote().read(ByteBuffer.allocate(10)), "read after EOF"), "EOF is sticky");
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("H2 after closeWrite the other direction still works, then both ends are CLOSED")
  void H2_otherDirectionWorksAfterCloseWrite(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    await(s.local().closeWrite(), "closeWrite");
    assertEquals(0, readToEnd(s.remote(), 0).length);
    byte[] back = bytes(3 * window(), 12);
    CompletableFuture<Void> w = s.remote().write(ByteBuffer.wrap(back));
    assertArrayEquals(back, readExactly(s.local(), back.length));
    await(w, "peer write");
    await(s.remote().closeWrite(), "peer closeWrite");
    assertEquals(-1, (int) await(s.local().read(ByteBuffer.allocate(1)), "read EOF"));
    awaitState(s.local(), StreamState.CLOSED);
    awaitState(s.remote(), StreamState.CLOSED);
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("H3 closeWrite is idempotent; a write after it fails with WriteClosedException")
  void H3_closeWriteIdempotentAndLaterWritesFail(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    CompletableFuture<Void> a = s.local().closeWrite();
    CompletableFuture<Void> b = s.local().closeWrite();
    await(a, "closeWrite");
    await(b, "second closeWrite");
    Throwable t = assertFailsWith(s.local().write(ByteBuffer.wrap(new byte[] {1})), WriteClosedException.class,
        "write after closeWrite");
    assertEquals(WriteClosedException.Reason.CLOSED_LOCALLY, ((WriteClosedException) t).reason());
    assertThrows(IOException.class, () -> Kit.blocking(pool, () -> {
      s.local().outputStream().write(1);
      return null;
    }, "H3: a blocking write after closeWrite"), "the blocking view fails the same way");
    assertEquals(0, readToEnd(s.remote(), 0).length, "the peer saw exactly one EOF and no data");
    assertEquals(StreamState.WRITE_CLOSED, s.local().state());
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("H4 bytes received before the peer's FIN stay readable in READ_CLOSED and CLOSED, then EOF")
  void H4_bytesBeforeFinStayReadable(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    byte[] data = bytes(window() / 2, 13);
    writeAll(s.local(), data);
    await(s.local().closeWrite(), "closeWrite");
    awaitState(s.remote(), StreamState.READ_CLOSED); // before reading anything
    await(s.remote().closeWrite(), "peer closeWrite");
    awaitState(s.remote(), StreamState.CLOSED);
    assertArrayEquals(data, readToEnd(s.remote(), data.length), "bytes that arrived before FIN are not lost");
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("H5 closeRead ends reads at once (pending and later reads return EOF); writes still work; idempotent")
  void H5_closeReadEndsReadsButNotWrites(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    CompletableFuture<Integer> pending = s.local().read(ByteBuffer.allocate(10));
    s.local().closeRead();
    s.local().closeRead();
    assertEquals(-1, (int) await(pending, "the pending read"), "a pending read returns EOF on closeRead");
    assertEquals(-1, (int) await(s.local().read(ByteBuffer.allocate(10)), "a later read"));
    assertEquals(StreamState.READ_CLOSED, s.local().state());
    byte[] data = bytes(2 * window(), 14);
    CompletableFuture<Void> w = s.local().write(ByteBuffer.wrap(data));
    assertArrayEquals(data, readExactly(s.remote(), data.length));
    await(w, "write after closeRead");
    await(s.local().closeWrite(), "closeWrite");
    assertEquals(-1, (int) await(s.remote().read(ByteBuffer.allocate(1)), "peer sees EOF"));
    awaitState(s.local(), StreamState.CLOSED);
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @org.junit.jupiter.api.Tag("capability")
  @DisplayName("H6 closeRead tells the peer (STOP_SENDING): its writes fail with STOPPED_BY_PEER, its reads go on")
  void H6_closeReadStopsThePeer(Side side) throws Exception {
    requires(Capability.STOP_SENDING);
    StreamPair s = open(pair(), side);
    s.local().closeRead();
    awaitState(s.remote(), StreamState.WRITE_CLOSED);
    Throwable t = assertFailsWith(s.remote().write(ByteBuffer.wrap(new byte[] {1})), WriteClosedException.class,
        "peer write after our closeRead");
    assertEquals(WriteClosedException.Reason.STOPPED_BY_PEER, ((WriteClosedException) t).reason());
    byte[] data = bytes(1000, 15);
    writeAll(s.local(), data);
    await(s.local().closeWrite(), "closeWrite");
    assertArrayEquals(data, readToEnd(s.remote(), 1000), "the peer still reads what we send");
    awaitState(s.remote(), StreamState.CLOSED);
    awaitState(s.local(), StreamState.CLOSED);
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("H7 after closeRead the peer is never stuck: its writes complete or fail, none hangs")
  void H7_peerNeverStuckAfterCloseRead(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    s.local().closeRead();
    int chunks = 8;
    byte[] chunk = bytes(window(), 16);
    for (int i = 0; i < chunks; i++) {
      CompletableFuture<Void> w = s.remote().write(ByteBuffer.wrap(chunk));
      try {
        w.get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        assertInstanceOf(WriteClosedException.class, e.getCause(), "a write the reader stopped fails with WriteClosedException");
        return; // the peer was told to stop: fine
      } catch (java.util.concurrent.TimeoutException e) {
        fail("write " + i + " of " + chunks + " windows hangs after the reader closed its read side: "
            + "discarded bytes must still return flow-control credit");
      }
    }
    await(s.remote().closeWrite(), "peer closeWrite");
    awaitState(s.local(), StreamState.READ_CLOSED);
  }

  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.CloseWriteAtScale#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @org.junit.jupiter.api.Tag("slow")
  @DisplayName("H8 closeWrite at scale: thousands of streams several windows long, written blocking and "
      + "asynchronously, arrive whole: FIN never overtakes queued data")
  void H8_closeWriteAtScaleLosesNothing(long seed) throws Exception {
    // The smallest window the transport accepts, so that every stream waits for credit several times cheaply.
    TransportFixture small = fixture().withOptions(TransportOptions.builder().receiveWindow(16 * 1024).build());
    ConnectionPair p;
    if (small != null) {
      extraFixtures.add(small);
      p = small.connect();
      pairs.add(p);
    } else {
      p = newPair();
    }
    new CloseWriteAtScale(seed, p, pool).run(getClass().getSimpleName());
  }

  // ================================================================== C: close and reset

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("C1 close() is graceful: the peer reads every byte, then EOF; we are CLOSED")
  void C1_closeIsGraceful(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    byte[] data = bytes(3 * window(), 21);
    CompletableFuture<Void> w = s.local().write(ByteBuffer.wrap(data));
    s.local().close();
    assertEquals(StreamState.CLOSED, s.local().state());
    assertArrayEquals(data, readToEnd(s.remote(), data.length));
    await(w, "the write before close()");
    StreamState peer = awaitState(s.remote(), st -> st == StreamState.READ_CLOSED || st == StreamState.CLOSED,
        "READ_CLOSED or CLOSED");
    assertTrue(peer == StreamState.READ_CLOSED || peer == StreamState.CLOSED);
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("C2 reset(code): both ends are RESET and the peer observes the same code, as a remote reset")
  void C2_resetCodeReachesThePeer(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    writeAll(s.local(), bytes(100, 22));
    readExactly(s.remote(), 100);
    s.local().reset(0xBEEF);
    assertEquals(StreamState.RESET, s.local().state());
    awaitState(s.remote(), StreamState.RESET);
    StreamResetException remote = (StreamResetException) assertFailsWith(s.remote().read(ByteBuffer.allocate(1)),
        StreamResetException.class, "peer read after reset");
    assertTrue(remote.isRemote(), "the peer sees the reset as remote");
    if (has(Capability.RESET_CODES)) {
      assertEquals(0xBEEF, remote.code(), "the peer sees the reset code");
    }
    StreamResetException local = (StreamResetException) assertFailsWith(s.local().read(ByteBuffer.allocate(1)),
        StreamResetException.class, "local read after reset");
    assertFalse(local.isRemote(), "our own read reports the reset as local");
    assertEquals(0xBEEF, local.code(), "our own read carries the code we reset with");
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("C3 after a reset, read and write fail the same way on each end: same type, code and origin")
  void C3_readAndWriteFailAlikeAfterReset(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    s.remote().reset(77);
    awaitState(s.local(), StreamState.RESET);
    for (MuxedStream st : List.of(s.local(), s.remote())) {
      StreamResetException r = (StreamResetException) assertFailsWith(st.read(ByteBuffer.allocate(1)),
          StreamResetException.class, "read after reset on " + st);
      StreamResetException w = (StreamResetException) assertFailsWith(st.write(ByteBuffer.wrap(new byte[1])),
          StreamResetException.class, "write after reset on " + st);
      assertEquals(r.code(), w.code(), "read and write carry the same code");
      assertEquals(r.isRemote(), w.isRemote(), "read and write carry the same origin");
      assertEquals(st == s.local(), r.isRemote(), "the origin is right on " + st);
      IOException viaView = assertThrows(IOException.class, () -> Kit.blocking(pool, () -> st.inputStream().read(),
          "C3: a blocking read after the reset"), "the blocking view's read fails after the reset on " + st);
      assertInstanceOf(StreamResetException.class, viaView, "the blocking view fails the same way");
      if (st == s.remote() || has(Capability.RESET_CODES)) {
        assertEquals(77, r.code(), (st == s.remote() ? "the end that reset" : "the peer of the end that reset")
            + " reports reset code 77" + (st == s.remote() ? "" : " (capability RESET_CODES: the code crosses the wire)"));
      }
    }
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("C4 reset discards buffered bytes and fails pending reads and writes on both ends")
  void C4_resetFailsPendingOperations(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    // Bytes buffered that nobody read, and a write held by flow control (the peer reads nothing).
    writeAll(s.remote(), bytes(1000, 23));
    eventually(() -> available(s.local()) > 0, "bytes arrive and are buffered");
    CompletableFuture<Void> held = holdWriter(s.local());
    s.local().reset(9);
    assertFailsWith(s.local().read(ByteBuffer.allocate(10)), StreamResetException.class,
        "read of buffered bytes after reset (they are discarded)");
    assertInstanceOf(StreamResetException.class, awaitFailure(held, "the write held by flow control at reset"));
    // A read pending on the peer fails when we reset.
    StreamPair t = open(pair(), side);
    CompletableFuture<Integer> peerPending = t.remote().read(ByteBuffer.allocate(10));
    CompletableFuture<Integer> localPending = t.local().read(ByteBuffer.allocate(10));
    t.local().reset(10);
    StreamResetException remote = assertInstanceOf(StreamResetException.class,
        awaitFailure(peerPending, "the peer's pending read"), "the peer's pending read fails with the reset");
    assertTrue(remote.isRemote(), "the peer's pending read reports the reset as remote");
    StreamResetException local = assertInstanceOf(StreamResetException.class,
        awaitFailure(localPending, "our pending read"), "our pending read fails with our reset");
    assertFalse(local.isRemote(), "our pending read reports the reset as local");
  }

  /** Writes until a write is held by flow control (the peer is not reading) and returns that write. */
  private CompletableFuture<Void> holdWriter(MuxedStream s) throws Exception {
    return Kit.holdWriter(s, Math.max(16L << 20, 8L * window()));
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("C5 closeWrite, closeRead, close and reset are idempotent and allowed from every state")
  void C5_closeAndResetIdempotentFromEveryState(Side side) throws Exception {
    List<String> ops = List.of("closeWrite", "closeRead", "close", "reset");
    for (StreamState start : List.of(StreamState.OPEN, StreamState.READ_CLOSED, StreamState.WRITE_CLOSED,
        StreamState.CLOSED, StreamState.RESET)) {
      for (String op : ops) {
        StreamPair s = open(pair(), side);
        driveTo(s, start);
        apply(s.local(), op);
        StreamState once = settle(s.local());
        apply(s.local(), op);
        apply(s.local(), op);
        assertEquals(once, settle(s.local()), op + " twice from " + start + " must equal " + op + " once");
        if (start.isTerminal()) {
          assertEquals(start, once, op + " in terminal state " + start + " must change nothing");
        }
        s.local().reset(1);
        s.remote().reset(1);
      }
    }
    // FAILED: every operation is allowed on a stream whose connection died, and changes nothing.
    ConnectionPair other = newPair();
    StreamPair s = open(other, side);
    other.opener(side).abort(new IOException("test abort"));
    awaitState(s.local(), StreamState.FAILED);
    for (String op : ops) {
      apply(s.local(), op);
      apply(s.local(), op);
      assertEquals(StreamState.FAILED, s.local().state(), op + " on FAILED");
    }
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("C6 reset rejects codes outside 0..2^32-1 as a caller bug, changing nothing")
  void C6_resetRejectsBadCodes(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    assertThrows(IllegalArgumentException.class, () -> s.local().reset(-1), "a negative code is rejected");
    assertThrows(IllegalArgumentException.class, () -> s.local().reset(1L << 32), "a code over 32 bits is rejected");
    assertThrows(IllegalArgumentException.class, () -> s.local().reset(StreamResetException.MAX_APPLICATION_CODE + 1),
        "a code reserved for Braid is rejected");
    assertThrows(IllegalArgumentException.class, () -> s.local().reset(StreamResetException.REFUSED),
        "the reserved refusal code is rejected");
    assertEquals(StreamState.OPEN, s.local().state(), "a rejected reset changes nothing");
    s.local().reset(StreamResetException.MAX_APPLICATION_CODE);
    awaitState(s.remote(), StreamState.RESET);
    if (has(Capability.RESET_CODES)) {
      StreamResetException e = (StreamResetException) assertFailsWith(s.remote().read(ByteBuffer.allocate(1)),
          StreamResetException.class, "peer read");
      assertEquals(StreamResetException.MAX_APPLICATION_CODE, e.code(), "the largest application code survives the wire");
      assertFalse(e instanceof StreamRefusedException, "an application's reset never surfaces as a refusal");
    }
  }

  // ================================================================== D: data

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("D1 small messages echo intact, in order, both ways")
  void D1_smallMessagesEcho(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    for (int i = 0; i < 200; i++) {
      byte[] msg = bytes(1 + (i * 37) % 1500, 100 + i);
      writeAll(s.local(), msg);
      byte[] got = readExactly(s.remote(), msg.length);
      writeAll(s.remote(), got);
      assertArrayEquals(msg, readExactly(s.local(), msg.length), "echo " + i);
    }
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("D2 64 MiB cross complete and in order, checked by SHA-256")
  void D2_largeTransferChecksum(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    long size = 64L << 20;
    CompletableFuture<Digest> got = CompletableFuture.supplyAsync(() -> Kit.readDigest(s.remote()), pool);
    Digest sent = Kit.writeRandom(s.local(), size, 31);
    await(s.local().closeWrite(), "closeWrite");
    sent.assertSame(await(got, "reading 64 MiB"), "64 MiB transfer");
    assertEquals(size, s.local().bytesWritten());
    assertEquals(size, s.remote().bytesRead());
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("D3 concurrent writes on one stream are never interleaved")
  void D3_concurrentWritesNotInterleaved(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    int threads = 4;
    int per = 64;
    int size = 4096;
    CompletableFuture<byte[]> got = CompletableFuture.supplyAsync(() -> readToEnd(s.remote(), threads * per * size), pool);
    List<CompletableFuture<Void>> ws = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      ws.add(CompletableFuture.runAsync(() -> {
        for (int i = 0; i < per; i++) {
          byte[] b = new byte[size];
          Arrays.fill(b, (byte) (thread * per + i));
          writeAll(s.local(), b);
        }
      }, pool));
    }
    for (CompletableFuture<Void> w : ws) {
      await(w, "writer");
    }
    await(s.local().closeWrite(), "closeWrite");
    byte[] all = await(got, "reader");
    assertEquals(threads * per * size, all.length);
    Set<Byte> seen = new HashSet<>();
    for (int off = 0; off < all.length; off += size) {
      for (int i = 1; i < size; i++) {
        assertEquals(all[off], all[off + i], "write at offset " + off + " was interleaved with another");
      }
      assertTrue(seen.add(all[off]), "each write arrives exactly once");
    }
  }

  @ParameterizedTest(name = "{0} opens first")
  @EnumSource(Side.class)
  @DisplayName("D4 1,000 concurrent streams on one connection, opened from both ends, each carry their own bytes")
  void D4_thousandConcurrentStreams(Side side) throws Exception {
    int n = 1000;
    AtomicReference<Throwable> echoFailure = new AtomicReference<>();
    for (Connection c : List.of(pair().dialer(), pair().listener())) {
      c.setStreamHandler(st -> Kit.readAllAsync(st, 1 << 16)
          .thenCompose(in -> st.write(ByteBuffer.wrap(in)))
          .thenCompose(v -> st.closeWrite())
          .whenComplete((v, t) -> {
            if (t != null) {
              echoFailure.compareAndSet(null, t);
            }
          }));
    }
    // Half from each end (protocols such as WebRTC's SCTP split stream ids between the ends), all at once.
    List<CompletableFuture<MuxedStream>> opens = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      opens.add((i % 2 == 0 ? pair().opener(side) : pair().acceptor(side)).openStream());
    }
    List<MuxedStream> streams = new ArrayList<>();
    for (CompletableFuture<MuxedStream> o : opens) {
      streams.add(await(o, "opening 1,000 streams"));
    }
    List<CompletableFuture<Void>> done = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      MuxedStream st = streams.get(i);
      byte[] msg = ("stream-" + i + "-").repeat(1 + i % 7).getBytes(StandardCharsets.US_ASCII);
      done.add(st.write(ByteBuffer.wrap(msg)).thenCompose(v -> st.closeWrite())
          .thenCompose(v -> Kit.readAllAsync(st, msg.length))
          .thenAccept(echo -> assertArrayEquals(msg, echo, "echo on stream " + st)));
    }
    for (CompletableFuture<Void> d : done) {
      await(d, "1,000 echoes");
    }
    if (echoFailure.get() != null) {
      throw new AssertionError("echo side failed", echoFailure.get());
    }
    for (Connection c : List.of(pair().dialer(), pair().listener())) {
      eventually(() -> c.streams().isEmpty(), "all 1,000 CLOSED streams leave " + c + "'s list (left: "
          + c.streams().size() + ")");
    }
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("B1 backpressure is real: a reader that stops holds the writer back, memory stays bounded")
  void B1_slowReaderHoldsWriterBack(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    long bound = Math.max(16L << 20, 8L * window());
    CompletableFuture<Void> held = holdWriter(s.local());
    byte[] chunk = bytes(64 * 1024, 42);
    int window = window();
    eventually(() -> available(s.remote()) >= Math.min(window, bound), "B1: a window's worth of bytes reaches the "
        + "reader that does not read (it has " + available(s.remote()) + ")");
    int buffered = s.remote().inputStream().available();
    assertTrue(buffered <= bound, "the reader buffers " + buffered + " bytes, over the bound " + bound);
    // The reader resumes: everything arrives, the held write completes. (Read to the end rather than to a count
    // taken now: the held write may complete at any moment once it is held.)
    CompletableFuture<Long> reading = CompletableFuture.supplyAsync(() -> {
      long total = 0;
      ByteBuffer buf = ByteBuffer.allocate(1 << 16);
      while (true) {
        buf.clear();
        int n = await(s.remote().read(buf), "reading");
        if (n < 0) {
          break;
        }
        for (int i = 0; i < n; i++) {
          if (buf.get(i) != chunk[(int) ((total + i) % chunk.length)]) {
            throw new AssertionError("corrupted byte at " + (total + i));
          }
        }
        total += n;
      }
      return total;
    }, pool);
    await(held, "the held write, once the reader resumed");
    await(s.local().closeWrite(), "closeWrite after the held write");
    assertEquals(s.local().bytesWritten(), (long) await(reading, "reading everything"));
  }

  // ================================================================== N: connection

  @ParameterizedTest(name = "{0} closes")
  @EnumSource(Side.class)
  @DisplayName("N1 closing a connection ends every stream on both ends and fails what was pending")
  void N1_connectionCloseEndsEveryStream(Side side) throws Exception {
    ConnectionPair p = pair();
    List<StreamPair> streams = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      streams.add(open(p, i % 2 == 0 ? Side.DIALER : Side.LISTENER));
    }
    await(streams.get(1).local().closeWrite(), "half-close one");
    streams.get(2).local().closeRead();
    StreamPair finished = streams.get(3);
    await(finished.local().closeWrite(), "finish one");
    await(finished.remote().closeWrite(), "finish one");
    readToEnd(finished.local(), 0);
    readToEnd(finished.remote(), 0);
    awaitState(finished.local(), StreamState.CLOSED);
    awaitState(finished.remote(), StreamState.CLOSED);
    CompletableFuture<Integer> pendingRead = streams.get(0).local().read(ByteBuffer.allocate(1));
    CompletableFuture<Integer> peerPendingRead = streams.get(0).remote().read(ByteBuffer.allocate(1));
    Connection closing = p.opener(side);
    Connection other = p.acceptor(side);
    Kit.closeAndWait(closing);
    assertFalse(closing.isOpen());
    eventually(() -> !other.isOpen(), "the peer sees the connection end");
    await(other.closeFuture().handle((v, e) -> null), "the peer's closeFuture");
    for (StreamPair s : streams) {
      StreamState expected = s == finished ? StreamState.CLOSED : StreamState.FAILED;
      assertEquals(expected, await(s.local().terminated(), "stream terminated"), "stream " + s.local());
      assertEquals(expected, await(s.remote().terminated(), "stream terminated"), "stream " + s.remote());
    }
    assertInstanceOf(ConnectionFailedException.class, awaitFailure(pendingRead, "pending read"));
    assertInstanceOf(ConnectionFailedException.class, awaitFailure(peerPendingRead, "peer's pending read"));
    assertInstanceOf(ConnectionFailedException.class,
        awaitFailure(streams.get(1).remote().write(ByteBuffer.wrap(new byte[1])), "write on a FAILED stream"));
    assertTrue(closing.streams().isEmpty(), "no stream is listed after close: " + closing.streams());
    eventually(() -> other.streams().isEmpty(), "the peer lists no stream");
  }

  @ParameterizedTest(name = "{0} is killed")
  @EnumSource(Side.class)
  @DisplayName("N2 a connection whose peer vanished without a word ends every stream on both ends within a bound")
  void N2_lostConnectionEndsEveryStream(Side side) throws Exception {
    ConnectionPair p = killablePair();
    List<StreamPair> streams = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      streams.add(open(p, i % 2 == 0 ? Side.DIALER : Side.LISTENER));
    }
    // Writes until one fails; each is bounded, so a writer left hanging fails the rule.
    MuxedStream w = streams.get(0).local();
    CompletableFuture<Throwable> writing = CompletableFuture.supplyAsync(() -> {
      byte[] chunk = bytes(64 * 1024, 5);
      for (int i = 0; i < 4096; i++) {
        try {
          w.write(ByteBuffer.wrap(chunk)).get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          return e.getCause();
        } catch (java.util.concurrent.TimeoutException e) {
          throw new AssertionError("N2: a write neither completed nor failed within " + Kit.waitLimit().toSeconds()
              + " s after the kill: the writer is left hanging");
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new AssertionError("N2: interrupted", e);
        }
      }
      return null;
    }, pool);
    Connection victim = p.opener(side);
    Connection survivor = p.acceptor(side);
    killSilently(victim);
    for (StreamPair s : streams) {
      assertEquals(StreamState.FAILED, await(s.local().terminated(), "a stream ends after the kill"),
          "N2: every stream ends FAILED on the " + (side == Side.DIALER ? "victim" : "survivor") + "'s side");
      assertEquals(StreamState.FAILED, await(s.remote().terminated(), "a peer stream ends after the kill"),
          "N2: every stream ends FAILED on the other side");
    }
    assertInstanceOf(ConnectionFailedException.class, await(writing, "the writer is released"),
        "N2: the writer is released by the kill with ConnectionFailedException (null: 256 MiB went out)");
    await(victim.closeFuture().handle((v, e) -> null), "the killed end's closeFuture");
    assertSurvivorTimedOut(survivor);
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("N3 streams that end on their own leave the connection's stream list")
  void N3_endedStreamsLeaveTheList(Side side) throws Exception {
    StreamPair closed = open(pair(), side);
    StreamPair reset = open(pair(), side);
    closed.local().close();
    closed.remote().close();
    reset.remote().reset(3);
    await(closed.local().terminated(), "closed");
    await(closed.remote().terminated(), "closed");
    await(reset.local().terminated(), "reset");
    await(reset.remote().terminated(), "reset");
    for (Connection c : List.of(pair().dialer(), pair().listener())) {
      eventually(() -> c.streams().isEmpty(), c + " lists no ended stream (lists " + c.streams() + ")");
    }
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("N4 the stream limit is enforced: opens beyond maxStreams are refused, the connection stays usable")
  void N4_streamLimitRefusesExcessOpens(Side side) throws Exception {
    TransportFixture limited = fixture().withOptions(TransportOptions.builder().maxStreams(8).build());
    Assumptions.assumeTrue(limited != null, "the fixture cannot be rebuilt with other options (override withOptions)");
    extraFixtures.add(limited);
    ConnectionPair p = limited.connect();
    pairs.add(p);
    List<MuxedStream> opened = new ArrayList<>();
    int refused = 0;
    for (int i = 0; i < 12; i++) {
      CompletableFuture<MuxedStream> f = p.opener(side).openStream();
      try {
        opened.add(f.get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS));
      } catch (java.util.concurrent.ExecutionException e) {
        assertInstanceOf(StreamRefusedException.class, e.getCause(), "an open beyond the limit is refused");
        refused++;
      }
    }
    assertTrue(opened.size() <= 8, opened.size() + " streams open at once with maxStreams=8");
    assertTrue(refused >= 4, "at least 4 of 12 opens refused");
    opened.get(0).reset(1);
    eventually(() -> p.opener(side).streams().size() < 8, "a stream frees its slot");
    MuxedStream again = await(p.opener(side).openStream(), "an open after a slot was freed");
    writeAll(again, new byte[] {1});
    assertTrue(p.dialer().isOpen() && p.listener().isOpen(), "the connection stays usable");
  }

  @ParameterizedTest(name = "{0} is killed")
  @EnumSource(Side.class)
  @DisplayName("N5 a connection that ends while a CLOSED stream still flushes fails those writes; nothing hangs")
  void N5_flushingWritesFailWhenTheConnectionEnds(Side side) throws Exception {
    ConnectionPair p = killablePair();
    StreamPair s = open(p, Side.DIALER);
    CompletableFuture<Void> held = Kit.holdWriter(s.local(), Math.max(16L << 20, 8L * window()));
    s.local().close(); // CLOSED at once; the held write and the FIN are still to go out
    assertEquals(StreamState.CLOSED, s.local().state(), "N5: close() makes the stream CLOSED at once");
    assertFalse(p.dialer().streams().contains(s.local()), "a CLOSED stream has left the list");
    Connection victim = side == Side.DIALER ? p.dialer() : p.listener();
    killSilently(victim);
    Throwable t = awaitFailure(held, "a write still flushing when the connection died");
    assertInstanceOf(ConnectionFailedException.class, t, "it fails with the connection's cause");
    assertEquals(StreamState.CLOSED, s.local().state(), "the stream's own state stays CLOSED");
    assertSurvivorTimedOut(side == Side.DIALER ? p.listener() : p.dialer());
  }

  @ParameterizedTest(name = "{0} closes")
  @EnumSource(Side.class)
  @DisplayName("N6 a graceful close ends both ends gracefully, even while the peer is still writing")
  void N6_gracefulCloseIsGracefulOnBothEnds(Side side) throws Exception {
    ConnectionPair p = pair();
    Connection closing = p.opener(side);
    Connection other = p.acceptor(side);
    StreamPair s = open(p, side);
    // the peer keeps writing towards the closing end until its write fails: bytes still arrive during the close
    AtomicInteger written = new AtomicInteger();
    CompletableFuture<Throwable> writer = CompletableFuture.supplyAsync(() -> {
      byte[] chunk = bytes(16 * 1024, 6);
      while (true) {
        try {
          s.remote().write(ByteBuffer.wrap(chunk)).get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
          written.incrementAndGet();
        } catch (java.util.concurrent.ExecutionException e) {
          return e.getCause();
        } catch (Exception e) {
          return e;
        }
      }
    }, pool);
    readExactly(s.local(), 64 * 1024); // the peer is writing
    closing.close();
    await(closing.closeFuture(), "the closing end's closeFuture (completes normally after close())");
    await(other.closeFuture(), "the peer's closeFuture (completes normally: the peer closed gracefully)");
    Throwable t = await(writer, "the peer's writer, released by the close");
    assertInstanceOf(ConnectionFailedException.class, t, "the peer's write fails with the connection's end");
    assertEquals(StreamState.FAILED, await(s.local().terminated(), "stream terminated"));
    assertEquals(StreamState.FAILED, await(s.remote().terminated(), "stream terminated"));
    assertFalse(other.isOpen());
  }

  @org.junit.jupiter.api.Test
  @org.junit.jupiter.api.Tag("slow")
  @DisplayName("N7 churn without leaks: 10,000 streams opened, used and closed leave no heap and no thread behind")
  void N7_churnLeavesNothingBehind() throws Exception {
    new ChurnRun(newPair(), pool, fixture().sharedThreadPrefixes()).run();
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("N8 a refusal by the peer surfaces as StreamRefusedException on every transport; the connection stays usable")
  void N8_refusalByThePeerIsStreamRefused(Side side) throws Exception {
    TransportOptions small = TransportOptions.builder().maxStreams(4).build();
    TransportOptions roomy = TransportOptions.DEFAULTS;
    TransportFixture f = side == Side.DIALER ? fixture().withOptions(roomy, small) : fixture().withOptions(small, roomy);
    Assumptions.assumeTrue(f != null, "the fixture cannot give its two ends different options "
        + "(override TransportFixture.withOptions(dialer, listener))");
    extraFixtures.add(f);
    ConnectionPair p = f.connect();
    pairs.add(p);
    Connection opener = p.opener(side);
    Connection acceptor = p.acceptor(side);
    List<MuxedStream> accepted = Collections.synchronizedList(new ArrayList<>());
    acceptor.setStreamHandler(st -> {
      accepted.add(st);
      st.read(ByteBuffer.allocate(1)).thenCompose(n -> st.write(ByteBuffer.wrap(new byte[] {7})));
    });
    List<MuxedStream> usable = new ArrayList<>();
    int refused = 0;
    for (int i = 0; i < 8; i++) {
      Throwable failure;
      MuxedStream st = null;
      try {
        st = opener.openStream().get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
        st.write(ByteBuffer.wrap(new byte[] {1}));
        ByteBuffer one = ByteBuffer.allocate(1);
        Integer n = st.read(one).handle((v, t) -> t == null ? v : null).get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
        if (n != null && n == 1) {
          usable.add(st);
          continue;
        }
        failure = awaitFailure(st.read(ByteBuffer.allocate(1)), "N8: a read on stream " + i + " after its first failed");
      } catch (java.util.concurrent.ExecutionException e) {
        failure = e.getCause();
      } catch (java.util.concurrent.TimeoutException e) {
        throw new AssertionError("N8: open " + i + " was neither accepted (no echo) nor refused within "
            + Kit.waitLimit().toSeconds() + " s: a refusal by the peer must reach the opener");
      }
      StreamRefusedException r = assertInstanceOf(StreamRefusedException.class, failure, "N8: open " + i
          + " beyond the peer's limit of 4 is refused with StreamRefusedException, not a plain reset or failure");
      assertTrue(r.isRemote(), "N8: the refusal is marked as the peer's: " + r);
      assertEquals(StreamResetException.REFUSED, r.code(), "N8: a refusal carries the reserved code REFUSED");
      if (st != null) {
        assertEquals(StreamState.RESET, await(st.terminated(), "N8: a refused stream ends"), "N8: a refused stream ends RESET");
      }
      refused++;
    }
    assertTrue(usable.size() >= 1 && usable.size() <= 4, "N8: " + usable.size() + " of 8 opens were accepted by a "
        + "peer whose limit is 4 (" + refused + " refused)");
    assertEquals(8, usable.size() + refused, "N8: every open is accepted or refused");
    for (MuxedStream st : usable) {
      st.close();
    }
    for (MuxedStream st : new ArrayList<>(accepted)) {
      st.close();
    }
    for (Connection c : List.of(opener, acceptor)) {
      eventually(() -> c.streams().isEmpty(), "N8: refused and closed streams leave " + c + "'s list (left: "
          + c.streams() + ")");
    }
    MuxedStream again = await(opener.openStream(), "N8: an open after the accepted streams were closed");
    again.write(ByteBuffer.wrap(new byte[] {2}));
    assertEquals(1, (int) await(again.read(ByteBuffer.allocate(1)), "N8: the echo on a fresh stream"),
        "N8: once streams were freed the connection accepts again");
    again.close();
  }

  // ================================================================== E: events and errors

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("E1 events racing close or reset (a drain after the stream stopped being writable) never throw or hang")
  void E1_eventsRacingCloseAreHarmless(Side side) throws Exception {
    for (int round = 0; round < 10; round++) {
      StreamPair s = open(pair(), side);
      List<CompletableFuture<Void>> writes = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        writes.add(s.local().write(ByteBuffer.wrap(bytes(window() / 2, i))));
      }
      int r = round;
      CompletableFuture<Void> drain = CompletableFuture.runAsync(() -> {
        ByteBuffer buf = ByteBuffer.allocate(8192);
        for (int i = 0; i < 20; i++) {
          buf.clear();
          try {
            if (s.remote().read(buf).get(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS) < 0) {
              return;
            }
          } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof StreamResetException) {
              return; // the reset this round makes: the one outcome expected besides data and EOF
            }
            throw new AssertionError("E1 round " + r + ": a read racing the reset failed with " + e.getCause()
                + ", not with the reset (StreamResetException)", e.getCause());
          } catch (java.util.concurrent.TimeoutException e) {
            throw new AssertionError("E1 round " + r + ": a read racing the reset neither returned data, EOF nor "
                + "the reset within " + Kit.waitLimit().toSeconds() + " s: check that a reset wakes pending reads");
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("E1: interrupted", e);
          }
        }
      }, pool);
      if (round % 3 == 0) {
        s.local().reset(round);
      } else if (round % 3 == 1) {
        s.remote().reset(round);
      } else {
        s.local().close();
        s.remote().reset(round);
      }
      for (CompletableFuture<Void> w : writes) {
        Throwable failed = await(w.handle((v, e) -> e), "a write racing the reset completes one way or the other");
        if (failed != null) {
          Throwable cause = failed instanceof java.util.concurrent.CompletionException && failed.getCause() != null
              ? failed.getCause() : failed;
          assertInstanceOf(StreamResetException.class, cause, "E1 round " + round + ": a write racing the reset "
              + "either completes or fails with the reset");
        }
      }
      await(drain, "the reader");
      await(s.local().terminated(), "terminated");
      await(s.remote().terminated(), "terminated");
    }
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("E2 a listener that throws harms neither the stream nor the other listeners")
  void E2_throwingListenerIsIsolated(Side side) throws Exception {
    Recorder good = new Recorder();
    StreamPair s = open(pair(), side);
    s.local().addListener((st, from, to) -> {
      throw new IllegalStateException("listener failure injected by the conformance kit");
    });
    s.local().addListener(good);
    await(s.local().closeWrite(), "closeWrite");
    readToEnd(s.remote(), 0);
    writeAll(s.remote(), bytes(10, 1));
    await(s.remote().closeWrite(), "peer closeWrite");
    assertEquals(10, readToEnd(s.local(), 10).length);
    await(s.local().terminated(), "terminated");
    good.assertChain(StreamState.OPEN, StreamState.CLOSED, "the well-behaved listener");
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("E3 the blocking views behave like the asynchronous core: EOF is -1, failures are the same exceptions")
  void E3_blockingViews(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    byte[] data = bytes(5 * window(), 51);
    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
      try (OutputStream out = s.local().outputStream()) {
        out.write(data);
      } catch (IOException e) {
        throw new AssertionError(e);
      }
    }, pool);
    InputStream in = s.remote().inputStream();
    assertArrayEquals(data, Kit.blocking(pool, in::readAllBytes, "E3: readAllBytes on the blocking view until the "
        + "writer's closeWrite (a lost FIN hangs here)"), "E3: the blocking view reads every byte written, in order");
    int after = Kit.blocking(pool, () -> in.read(), "E3: read after EOF");
    assertEquals(-1, after, "E3: EOF is sticky on the blocking view");
    await(writer, "blocking writer");
    assertThrows(WriteClosedException.class, () -> Kit.blocking(pool, () -> {
      s.local().outputStream().write(1);
      return null;
    }, "E3: a blocking write after closeWrite"));
    s.remote().reset(8);
    awaitState(s.local(), StreamState.RESET);
    assertThrows(StreamResetException.class, () -> Kit.blocking(pool, () -> s.local().inputStream().read(),
        "E3: a blocking read after the peer's reset"));
  }

  // ================================================================== M: the reference model

  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.RandomizedRun#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @DisplayName("M1 random operation sequences from both ends match the reference model of the lifecycle")
  void M1_randomizedRunMatchesModel(long seed) throws Exception {
    new RandomizedRun(seed, fixture(), this::newPair).run();
  }

  // ================================================================== R: races

  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.RaceRun#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @org.junit.jupiter.api.Tag("slow")
  @DisplayName("R1 threads on both ends race write, closeWrite, closeRead, close and reset on one stream: both ends "
      + "end, nothing is left pending, bytes arrive whole and in order")
  void R1_operationsRaceOnOneStream(long seed) throws Exception {
    new RaceRun("R1", seed, this::pairOrFail, pool, fixture().capabilities(), window(), getClass().getSimpleName())
        .operations();
  }

  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.RaceRun#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @org.junit.jupiter.api.Tag("slow")
  @DisplayName("R2 a reset racing a FIN queued behind a full window reaches the peer: both ends end RESET with the code")
  void R2_resetRacesQueuedFin(long seed) throws Exception {
    new RaceRun("R2", seed, this::pairOrFail, pool, fixture().capabilities(), window(), getClass().getSimpleName())
        .resetAgainstQueuedFin();
  }

  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.RaceRun#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @org.junit.jupiter.api.Tag("slow")
  @DisplayName("R3 a connection closed or aborted in the middle of racing stream operations ends everything, "
      + "on both ends, within a bound")
  void R3_connectionClosedMidRace(long seed) throws Exception {
    new RaceRun("R3", seed, this::newPairOrFail, pool, fixture().capabilities(), window(), getClass().getSimpleName())
        .connectionCloseMidRace();
  }

  private ConnectionPair pairOrFail() {
    try {
      return pair();
    } catch (Exception e) {
      throw new AssertionError("the fixture could not connect a pair: " + e, e);
    }
  }

  private ConnectionPair newPairOrFail() {
    try {
      return newPair();
    } catch (Exception e) {
      throw new AssertionError("the fixture could not connect a pair: " + e, e);
    }
  }

  // ================================================================== helpers

  private static int available(MuxedStream s) {
    try {
      return s.inputStream().available();
    } catch (IOException e) {
      return -1;
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

  private static Throwable assertFailsWith(CompletableFuture<?> f, Class<? extends Throwable> type, String what) {
    Throwable t = awaitFailure(f, what);
    assertInstanceOf(type, t, what + " fails with " + type.getSimpleName());
    return t;
  }

  private static void barrier(CyclicBarrier b) {
    try {
      b.await(Kit.waitLimit().toMillis(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      throw new AssertionError("threads did not line up", e);
    }
  }

  private static void apply(MuxedStream s, String op) {
    switch (op) {
      case "closeWrite":
        s.closeWrite();
        break;
      case "closeRead":
        s.closeRead();
        break;
      case "close":
        s.close();
        break;
      default:
        s.reset(42);
        break;
    }
  }

  /** Waits until the local end's state stops changing because of its own operations. */
  private static StreamState settle(MuxedStream s) {
    StreamState st = s.state();
    return st;
  }

  private void driveTo(StreamPair s, StreamState target) {
    switch (target) {
      case OPEN:
        return;
      case READ_CLOSED:
        await(s.remote().closeWrite(), "peer closeWrite");
        awaitState(s.local(), StreamState.READ_CLOSED);
        return;
      case WRITE_CLOSED:
        await(s.local().closeWrite(), "closeWrite");
        awaitState(s.local(), StreamState.WRITE_CLOSED);
        return;
      case CLOSED:
        await(s.remote().closeWrite(), "peer closeWrite");
        await(s.local().closeWrite(), "closeWrite");
        awaitState(s.local(), StreamState.CLOSED);
        return;
      case RESET:
        s.remote().reset(3);
        awaitState(s.local(), StreamState.RESET);
        return;
      default:
        throw new IllegalArgumentException(target.name());
    }
  }
}
