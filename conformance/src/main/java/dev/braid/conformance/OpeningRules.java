package dev.braid.conformance;

import static dev.braid.conformance.Kit.await;
import static dev.braid.conformance.Kit.awaitFailure;
import static dev.braid.conformance.Kit.bytes;
import static dev.braid.conformance.Kit.eventually;
import static dev.braid.conformance.Kit.open;
import static dev.braid.conformance.Kit.readExactly;
import static dev.braid.conformance.Kit.writeAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.braid.Capability;
import dev.braid.Connection;
import dev.braid.ConnectionFailedException;
import dev.braid.MuxedStream;
import dev.braid.StreamState;
import dev.braid.conformance.Kit.Recorder;
import dev.braid.conformance.Kit.StreamPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The opening rules, section "O: opening and accepting" of {@code SPEC.md} (O1-O3): an opened and an
 * accepted stream are OPEN and listed, a stream may pass through OPENING (capability OPENING_STATE), and inbound
 * streams reach a stream handler as well as {@code acceptStream()}.
 */
interface OpeningRules extends KitAccess {
  @ParameterizedTest(name = "{0} opens")
  @EnumSource(Side.class)
  @DisplayName("O1 an opened stream is OPEN when its future completes; the accepted one is OPEN; both are listed")
  default void O1_openedAndAcceptedStreamsAreOpen(Side side) throws Exception {
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
  default void O2_openingThenOpen(Side side) throws Exception {
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
  default void O3_handlerAndAcceptDeliverInboundStreams(Side side) throws Exception {
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
}
