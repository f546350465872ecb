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
import static dev.braid.conformance.KitHarness.assertFailsWith;
import static dev.braid.conformance.KitHarness.available;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Capability;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.conformance.Kit.StreamPair;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The close and reset rules, section "C: close and reset" of {@code SPEC.md} (C1-C6): close() is graceful,
 * reset(code) reaches the peer with its code and fails pending operations alike on both ends, closes and resets
 * are idempotent from every state, and codes outside the application's range are rejected.
 */
interface CloseResetRules extends KitAccess {
  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("C1 close() is graceful: the peer reads every byte, then EOF; we are CLOSED")
  default void C1_closeIsGraceful(Side side) throws Exception {
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
  default void C2_resetCodeReachesThePeer(Side side) throws Exception {
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
  default void C3_readAndWriteFailAlikeAfterReset(Side side) throws Exception {
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
      IOException viaView = assertThrows(IOException.class, () -> Kit.blocking(pool(), () -> st.inputStream().read(),
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
  default void C4_resetFailsPendingOperations(Side side) throws Exception {
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


  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("C5 closeWrite, closeRead, close and reset are idempotent and allowed from every state")
  default void C5_closeAndResetIdempotentFromEveryState(Side side) throws Exception {
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
  default void C6_resetRejectsBadCodes(Side side) throws Exception {
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
