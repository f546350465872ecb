package dev.braid.conformance;

import static dev.braid.conformance.Kit.await;
import static dev.braid.conformance.Kit.awaitState;
import static dev.braid.conformance.Kit.bytes;
import static dev.braid.conformance.Kit.open;
import static dev.braid.conformance.Kit.readExactly;
import static dev.braid.conformance.Kit.readToEnd;
import static dev.braid.conformance.Kit.writeAll;
import static dev.braid.conformance.KitHarness.assertFailsWith;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.braid.Capability;
import dev.braid.StreamState;
import dev.braid.TransportOptions;
import dev.braid.WriteClosedException;
import dev.braid.conformance.Kit.StreamPair;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The half-close rules, section "H: half-close" of {@code SPEC.md} (H1-H9): closeWrite delivers every byte
 * before EOF and leaves the other direction working, closeRead ends reads and tells the peer (capability
 * STOP_SENDING) without leaving it stuck, closeWrite at scale never lets a FIN overtake queued data, and a
 * responder's FIN written after its answer left the transport still arrives.
 */
interface HalfCloseRules extends KitAccess {
  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("H1 closeWrite delivers every byte, in order, before the peer sees EOF")
  default void H1_closeWriteDeliversEveryByteBeforeEof(Side side) throws Exception {
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
  default void H2_otherDirectionWorksAfterCloseWrite(Side side) throws Exception {
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
  default void H3_closeWriteIdempotentAndLaterWritesFail(Side side) throws Exception {
    StreamPair s = open(pair(), side);
    CompletableFuture<Void> a = s.local().closeWrite();
    CompletableFuture<Void> b = s.local().closeWrite();
    await(a, "closeWrite");
    await(b, "second closeWrite");
    Throwable t = assertFailsWith(s.local().write(ByteBuffer.wrap(new byte[] {1})), WriteClosedException.class,
        "write after closeWrite");
    assertEquals(WriteClosedException.Reason.CLOSED_LOCALLY, ((WriteClosedException) t).reason());
    assertThrows(IOException.class, () -> Kit.blocking(pool(), () -> {
      s.local().outputStream().write(1);
      return null;
    }, "H3: a blocking write after closeWrite"), "the blocking view fails the same way");
    assertEquals(0, readToEnd(s.remote(), 0).length, "the peer saw exactly one EOF and no data");
    assertEquals(StreamState.WRITE_CLOSED, s.local().state());
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("H4 bytes received before the peer's FIN stay readable in READ_CLOSED and CLOSED, then EOF")
  default void H4_bytesBeforeFinStayReadable(Side side) throws Exception {
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
  default void H5_closeReadEndsReadsButNotWrites(Side side) throws Exception {
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
  default void H6_closeReadStopsThePeer(Side side) throws Exception {
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
  default void H7_peerNeverStuckAfterCloseRead(Side side) throws Exception {
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
  default void H8_closeWriteAtScaleLosesNothing(long seed) throws Exception {
    // The smallest window the transport accepts, so that every stream waits for credit several times cheaply.
    TransportFixture small = fixture().withOptions(TransportOptions.builder().receiveWindow(16 * 1024).build());
    ConnectionPair p;
    if (small != null) {
      p = pairOn(small);
    } else {
      p = newPair();
    }
    new CloseWriteAtScale(seed, p, pool()).run(getClass().getSimpleName());
  }

  @ParameterizedTest(name = "seed {0}")
  @org.junit.jupiter.params.provider.MethodSource("dev.braid.conformance.CloseWriteAtScale#seeds")
  @org.junit.jupiter.api.Tag("stochastic")
  @DisplayName("H9 the answer's end: 64 streams at once echo their request and half-close when it ends; every "
      + "answer arrives whole, then its end")
  default void H9_answerEndsAfterItsBytesLeft(long seed) throws Exception {
    new EchoAtScale(seed, newPair()).run(getClass().getSimpleName());
  }
}
