package dev.braid.transport.quic.netty.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Netty's QUIC internals that Braid uses are all there, with the meanings Braid relies on. After an upgrade of Netty
 * this is the test that fails first, naming the member (the provider would report itself unavailable with it).
 */
class NettyInternalsTest {
  @Test
  void everyInternalIsThere() {
    assertNull(NettyInternals.failure(), () -> "missing: " + NettyInternals.failure());
    assertNull(NativeSupport.unavailabilityCause(), () -> "unavailable: " + NativeSupport.unavailabilityCause());
  }

  @Test
  void quichesConstantsAreTheOnesBraidExpects() {
    // quiche's C API: QUICHE_ERR_DONE -1, QUICHE_ERR_INVALID_STREAM_STATE -7, QUICHE_ERR_STREAM_STOPPED -15;
    // QUICHE_SHUTDOWN_READ 0, QUICHE_SHUTDOWN_WRITE 1
    assertEquals(-1, NettyInternals.ERR_DONE);
    assertEquals(-7, NettyInternals.ERR_INVALID_STREAM_STATE);
    assertEquals(-15, NettyInternals.ERR_STREAM_STOPPED);
    assertEquals(0, NettyInternals.SHUTDOWN_READ);
    assertEquals(1, NettyInternals.SHUTDOWN_WRITE);
  }

  @Test
  void codesBeyond62BitsAreRefusedBeforeQuicheSeesThem() {
    // quiche panics (the JVM dies) serialising a code of 2^62 or more: the guard must stop it first
    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> NettyInternals.shutdown(null, 0, NettyInternals.SHUTDOWN_WRITE, 1L << 62));
    assertTrue(e.getMessage().contains("62-bit"));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> NettyInternals.shutdown(null, 0, NettyInternals.SHUTDOWN_WRITE, -1));
  }
}
