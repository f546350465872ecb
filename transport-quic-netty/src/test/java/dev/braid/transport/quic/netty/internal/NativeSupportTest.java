package dev.braid.transport.quic.netty.internal;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The native QUIC library's version check: before 4.2.18 quiche never re-sends a lost STOP_SENDING. */
class NativeSupportTest {
  @Test
  void refusesANativeQuicOlderThan4218WithTheReason() {
    Throwable why = NativeSupport.tooOld("4.2.17.Final");
    assertNotNull(why);
    assertTrue(why.getMessage().contains("STOP_SENDING") && why.getMessage().contains("4.2.18"), why.getMessage());
    assertNotNull(NativeSupport.tooOld("4.1.130.Final"));
    assertNotNull(NativeSupport.tooOld("3.9.99"));
  }

  @Test
  void takes4218AndNewerAndDoesNotGuessAtWhatItCannotParse() {
    assertNull(NativeSupport.tooOld("4.2.18.Final"));
    assertNull(NativeSupport.tooOld("4.2.21.Final"));
    assertNull(NativeSupport.tooOld("4.3.0.Final"));
    assertNull(NativeSupport.tooOld("5.0.0.Alpha2"));
    assertNull(NativeSupport.tooOld("unknown"));
    assertNull(NativeSupport.tooOld(null));
  }

  @Test
  void theBuildsNettyIsAccepted() {
    assertNull(NativeSupport.unavailabilityCause(), "this build's Netty QUIC runs here");
  }
}
