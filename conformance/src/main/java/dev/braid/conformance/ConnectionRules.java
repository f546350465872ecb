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
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamRefusedException;
import dev.braid.StreamResetException;
import dev.braid.StreamState;
import dev.braid.TransportOptions;
import dev.braid.conformance.Kit.StreamPair;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The connection rules, section "N: connections" of {@code SPEC.md} (N1-N8): closing or losing a connection
 * ends every stream on both ends, ended streams leave the stream list, the stream limit is enforced and a refusal
 * by the peer is a {@code StreamRefusedException}, a graceful close is graceful on both ends, and churn leaves
 * nothing behind.
 */
interface ConnectionRules extends KitAccess {
  @ParameterizedTest(name = "{0} closes")
  @EnumSource(Side.class)
  @DisplayName("N1 closing a connection ends every stream on both ends and fails what was pending")
  default void N1_connectionCloseEndsEveryStream(Side side) throws Exception {
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
  default void N2_lostConnectionEndsEveryStream(Side side) throws Exception {
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
    }, pool());
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
  default void N3_endedStreamsLeaveTheList(Side side) throws Exception {
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
  default void N4_streamLimitRefusesExcessOpens(Side side) throws Exception {
    TransportFixture limited = fixture().withOptions(TransportOptions.builder().maxStreams(8).build());
    Assumptions.assumeTrue(limited != null, "the fixture cannot be rebuilt with other options (override withOptions)");
    ConnectionPair p = pairOn(limited);
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
  default void N5_flushingWritesFailWhenTheConnectionEnds(Side side) throws Exception {
    ConnectionPair p = killablePair();
    StreamPair s = open(p, Side.DIALER);
    CompletableFuture<Void> held = holdWriter(s.local());
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
  default void N6_gracefulCloseIsGracefulOnBothEnds(Side side) throws Exception {
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
    }, pool());
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
  default void N7_churnLeavesNothingBehind() throws Exception {
    new ChurnRun(newPair(), pool(), fixture().sharedThreadPrefixes()).run();
  }

  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("N8 a refusal by the peer surfaces as StreamRefusedException on every transport; the connection stays usable")
  default void N8_refusalByThePeerIsStreamRefused(Side side) throws Exception {
    TransportOptions small = TransportOptions.builder().maxStreams(4).build();
    TransportOptions roomy = TransportOptions.DEFAULTS;
    TransportFixture f = side == Side.DIALER ? fixture().withOptions(roomy, small) : fixture().withOptions(small, roomy);
    Assumptions.assumeTrue(f != null, "the fixture cannot give its two ends different options "
        + "(override TransportFixture.withOptions(dialer, listener))");
    ConnectionPair p = pairOn(f);
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
}
